#!/usr/bin/env python3
"""Load test of the dashboard on loopback: a real ``dualthreat serve`` (uvicorn) and concurrent HTTP clients.

    .venv/bin/python bench/load_web.py [--requests 2000] [--concurrency 50] [--mixed 600] [--store PATH]

Builds a store from the default dataset (``dualthreat build`` into a temporary folder, unless ``--store`` names
one), starts ``dualthreat serve --no-episodes`` on 127.0.0.1 at a free port, waits for ``/api/status``, then
runs, each with ``--concurrency`` clients at once (one ``httpx.AsyncClient`` and one keep-alive connection each,
on one asyncio loop in this process):

1. ``threats``: ``--requests`` GETs of ``/api/threats``, turning through five parameter sets (all components,
   one ally, a month range, smoothed, one component);
2. ``mixed``: ``--mixed`` GETs turning through ``/api/matrix``, ``/api/hypotheses``, ``/api/posture``,
   ``/api/status`` and four bad requests that must be refused with their 4xx (a 400 or 422 with a message).

A request counts as an error when it fails on the wire, answers another status than expected, or answers a body
other than the one the same URL answered before the load (every answer is deterministic: the server answers
from the fitted model). Recorded per phase: throughput, latency percentiles (p50, p95, p99, max; from sending
the request to the last byte read), errors, and the CPU seconds per request of the server (from /proc) and of
the clients; and the server's peak resident memory. The clients run on the same machine and take CPU from the
server: the figures are those of server and clients together. Written to ``bench/results_web.json``; the exit
status is 1 if any request was an error. Needs the ``test`` extra (httpx).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DUALTHREAT = str(Path(PY).with_name("dualthreat"))
HOST = "127.0.0.1"

THREATS = ["/api/threats", "/api/threats?ally=JPN", "/api/threats?ally=KOR&from=2010-01&to=2015-12",
           "/api/threats?smoothed=true", "/api/threats?ally=JPN&level=local&source=CHN"]
MIXED = [("/api/matrix", 200), ("/api/matrix?at=2013-06&smoothed=true", 200), ("/api/hypotheses", 200),
         ("/api/posture?ally=KOR", 200), ("/api/status", 200),
         ("/api/threats?ally=XXX", 400), ("/api/threats?from=2010-13", 422), ("/api/matrix?at=1800-01", 400),
         ("/api/posture?measure=bogus", 400)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_memory(pid: int) -> dict[str, int]:
    """Peak (VmHWM) and current (VmRSS) resident memory of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            key, value = line.split(":")
            out[{"VmHWM": "peak_rss", "VmRSS": "rss"}[key]] = int(value.split()[0]) * 1024
    return out


def load1() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return None


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks (numpy's default method)."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def start_server(store: Path, port: int, log_path: Path, timeout: float) -> tuple[subprocess.Popen, float]:
    """``dualthreat serve`` on HOST:port, waited for until /api/status answers; returns it and its start-up s."""
    log = open(log_path, "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([DUALTHREAT, "serve", "--store", str(store), "--host", HOST, "--port", str(port),
                             "--no-episodes"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, "COLUMNS": "120"})
    url = f"http://{HOST}:{port}/api/status"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"dualthreat serve exited with {proc.returncode}:\n"
                             f"{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.TransportError:
            pass
        if time.perf_counter() - t0 > timeout:
            stop_server(proc)
            raise SystemExit(f"dualthreat serve did not answer within {timeout:.0f} s:\n"
                             f"{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def reference(base: str, urls: list[tuple[str, int]]) -> dict[str, dict]:
    """Each URL's answer before the load: status, size and hash of the body (what every later answer must be)."""
    out = {}
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for url, expected in urls:
            r = await client.get(url)
            if r.status_code != expected:
                raise SystemExit(f"{url}: status {r.status_code}, expected {expected}: {r.text[:300]}")
            if expected >= 400 and "error" not in r.json():
                raise SystemExit(f"{url}: a {expected} without an error message: {r.text[:300]}")
            out[url] = {"status": r.status_code, "bytes": len(r.content), "sha256": digest(r.content)}
    return out


async def phase(base: str, urls: list[tuple[str, int]], n: int, concurrency: int, ref: dict[str, dict],
                server_pid: int) -> dict:
    """``n`` requests turning through ``urls`` from ``concurrency`` clients at once."""
    latencies: list[float] = []
    per_url: dict[str, list[float]] = {u: [] for u, _ in urls}
    errors: list[str] = []
    next_i = 0
    received = 0

    async def client_loop() -> None:
        nonlocal next_i, received
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            while next_i < n:
                url, expected = urls[next_i % len(urls)]
                next_i += 1
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    body = r.content
                except httpx.HTTPError as exc:
                    errors.append(f"{url}: {type(exc).__name__}: {exc}")
                    continue
                dt = time.perf_counter() - t0
                latencies.append(dt)
                per_url[url].append(dt)
                received += len(body)
                if r.status_code != expected:
                    errors.append(f"{url}: status {r.status_code} (expected {expected}): {body[:200]!r}")
                elif len(body) != ref[url]["bytes"] or digest(body) != ref[url]["sha256"]:
                    errors.append(f"{url}: a different body ({len(body)} bytes) from the reference answer")

    cpu0, load0, client0 = proc_cpu_s(server_pid), load1(), time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    cpu = proc_cpu_s(server_pid) - cpu0
    client_cpu = time.process_time() - client0
    lat = sorted(latencies)

    def ms(values: list[float], q: float) -> float:
        return round(1000 * percentile(values, q), 2)

    return {"requests": n, "concurrency": concurrency, "wall_s": round(wall, 3),
            "throughput_rps": round(n / wall, 1), "p50_ms": ms(lat, 50), "p95_ms": ms(lat, 95),
            "p99_ms": ms(lat, 99), "max_ms": round(1000 * lat[-1], 2) if lat else None,
            "errors": len(errors), "error_samples": errors[:10], "received_bytes": received,
            "server_cpu_s": round(cpu, 2), "server_cpu_ms_per_request": round(1000 * cpu / n, 2),
            "client_cpu_s": round(client_cpu, 2), "client_cpu_ms_per_request": round(1000 * client_cpu / n, 2),
            "load_before": load0, "load_after": load1(),
            "per_url": {u: {"n": len(v), "p50_ms": ms(sorted(v), 50), "p95_ms": ms(sorted(v), 95),
                            "bytes": ref[u]["bytes"], "status": ref[u]["status"]} for u, v in per_url.items()}}


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "httpx": httpx.__version__, "date": time.strftime("%Y-%m-%d %H:%M %Z")}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], text=True,
                                        capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        import uvicorn

        info["uvicorn"] = uvicorn.__version__
    except ImportError:
        pass
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000, help="requests to /api/threats")
    ap.add_argument("--mixed", type=int, default=600, help="requests turning through the other routes")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--store", type=Path, help="a built store (default: built from data/ into a temporary folder)")
    ap.add_argument("--startup-timeout", type=float, default=900)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results_web.json")
    args = ap.parse_args()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="dualthreat-load-") as tmp:
        store = args.store
        if store is None:
            store = Path(tmp) / "load.duckdb"
            subprocess.run([DUALTHREAT, "build", "--store", str(store)], check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        print(f"starting dualthreat serve on {HOST}:{port} ...", flush=True)
        server, startup = start_server(store, port, Path(tmp) / "serve.log", args.startup_timeout)
        try:
            base = f"http://{HOST}:{port}"
            threats = [(u, 200) for u in THREATS]
            ref = asyncio.run(reference(base, threats + MIXED))
            results = {"machine": info, "startup_s": round(startup, 1), "reference": ref}
            for name, urls, n in (("threats", threats, args.requests), ("mixed", MIXED, args.mixed)):
                print(f"{name}: {n} requests from {args.concurrency} clients ...", flush=True)
                results[name] = asyncio.run(phase(base, urls, n, args.concurrency, ref, server.pid))
                r = results[name]
                print(f"  {r['throughput_rps']} req/s, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
                      f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms, errors {r['errors']}, server CPU "
                      f"{r['server_cpu_ms_per_request']} ms/request (clients {r['client_cpu_ms_per_request']}), "
                      f"load {r['load_before']}-{r['load_after']}",
                      flush=True)
                for e in r["error_samples"]:
                    print(f"  error: {e}")
            results["server_memory"] = proc_memory(server.pid)
            if server.poll() is not None:
                raise SystemExit(f"the server died under load ({server.returncode})")
        finally:
            stop_server(server)
    mem = results["server_memory"]
    print(f"server: start-up {results['startup_s']} s, peak RSS {mem['peak_rss'] / 2**20:.0f} MiB")
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    errors = results["threats"]["errors"] + results["mixed"]["errors"]
    if errors:
        print(f"FAILED: {errors} errors under load", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
