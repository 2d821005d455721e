#!/usr/bin/env python3
"""Benchmark: dualthreat's event ingest and monthly aggregation against a pandas baseline and a bare DuckDB scan.

    .venv/bin/python bench/run.py [--sizes 1000000,10000000] [--data bench/data] [--repeat 3]

For each size, SYNTHETIC GDELT 2.0 files are generated once by ``bench/generate.py`` (about 0.1% malformed
lines) and then, in one run, timed as whole processes (start-up included):

(a) dualthreat as a user runs it: ``dualthreat ingest gdelt DIR`` into a new store, then
    ``dualthreat events monthly --format json``; GDELT files are read by the compiled scanner;
(a-sql) the same with the reference SQL path (``DUALTHREAT_EVENT_SCANNER=sql``: DuckDB's CSV scanner and
    one query per file), to show what the compiled scanner changes;
(b) a pandas baseline written the way a GDELT user writes it: ``pd.read_csv`` of each file with the GDELT
    header (``on_bad_lines="skip"`` and ``encoding_errors="replace"``, without which pandas stops at the first
    malformed line), the five countries filtered, then a group-by on month and dyad;
(c) a bare DuckDB ``count(*)`` over the same files (all columns text, malformed lines ignored).

Reported: wall time, rows per second, peak resident memory of the process (max over (a)'s two processes),
and the ratios. (a) and (c) are the median of ``--repeat`` runs, (a-sql) and (b) run once. The page cache is warmed
first, so all three read from memory. Results are printed and written to ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
PY = sys.executable
DUALTHREAT = str(Path(PY).with_name("dualthreat"))

PANDAS_BASELINE = r'''
import glob, sys
import pandas as pd

HEADER = {header!r}
FIVE = ["USA", "JPN", "KOR", "CHN", "PRK"]
frames = []
for f in sorted(glob.glob(sys.argv[1] + "/*.CSV")):
    df = pd.read_csv(f, sep="\t", header=None, names=HEADER, on_bad_lines="skip", encoding_errors="replace",
                     low_memory=False)
    df = df[df.Actor1CountryCode.isin(FIVE) & df.Actor2CountryCode.isin(FIVE)
            & (df.Actor1CountryCode != df.Actor2CountryCode)]
    frames.append(df)
ev = pd.concat(frames)
ev["GoldsteinScale"] = pd.to_numeric(ev.GoldsteinScale, errors="coerce")
ev["QuadClass"] = pd.to_numeric(ev.QuadClass, errors="coerce")
ev["month"] = ev.MonthYear.astype(str)
out = ev.groupby(["month", "Actor1CountryCode", "Actor2CountryCode"]).agg(
    events=("GLOBALEVENTID", "size"),
    quad1=("QuadClass", lambda q: (q == 1).sum()), quad2=("QuadClass", lambda q: (q == 2).sum()),
    quad3=("QuadClass", lambda q: (q == 3).sum()), quad4=("QuadClass", lambda q: (q == 4).sum()),
    goldstein_sum=("GoldsteinScale", "sum"), goldstein_mean=("GoldsteinScale", "mean"))
print(len(out), int(out.events.sum()))
'''

DUCKDB_COUNT = r'''
import glob, sys
import duckdb
duckdb.execute("SET enable_progress_bar = false")
files = sorted(glob.glob(sys.argv[1] + "/*.CSV"))
print(duckdb.sql(f"SELECT count(*) FROM read_csv({files!r}, delim='\t', header=false, quote='', escape='', "
                 "all_varchar=true, ignore_errors=true)").fetchall()[0][0])
'''


def run_reaped(cmd: list[str], stdout_path: Path | None = None,
               env: dict[str, str] | None = None) -> tuple[float, int, str, float]:
    """Run one process (output to files, so that no pipe can fill up) and reap it with wait4 to get its own
    peak RSS and CPU time; returns wall seconds, peak RSS in bytes, its stdout (unless sent to
    ``stdout_path``) and its CPU seconds (user + system, all threads)."""
    with tempfile.TemporaryDirectory() as tmp:
        out_path = stdout_path or Path(tmp) / "out"
        err_path = Path(tmp) / "err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, "COLUMNS": "120", **(env or {})})
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                             f"{err_path.read_text(errors='replace')[-3000:]}")
        captured = "" if stdout_path else out_path.read_text(errors="replace")
    return wall, usage.ru_maxrss * 1024, captured, usage.ru_utime + usage.ru_stime


def warm(folder: Path) -> None:
    for p in folder.glob("*.CSV"):
        with open(p, "rb") as fh:
            while fh.read(1 << 24):
                pass


def time_dualthreat(folder: Path, store: Path, tmp: Path, env: dict[str, str] | None = None) -> dict:
    """One run of (a): ``ingest gdelt`` into a new store, then ``events monthly``, as two processes."""
    store.unlink(missing_ok=True)
    t_ing, m_ing, out_ing, cpu_ing = run_reaped([DUALTHREAT, "ingest", "gdelt", str(folder), "--store", str(store),
                                                 "--format", "json"], env=env)
    summary = json.loads(out_ing[: out_ing.rfind("}") + 1])
    t_mon, m_mon, _, cpu_mon = run_reaped([DUALTHREAT, "events", "monthly", "--store", str(store), "--format",
                                           "json"], stdout_path=tmp / "monthly.json", env=env)
    monthly = json.loads((tmp / "monthly.json").read_text())
    store.unlink(missing_ok=True)
    return {"ingest_s": t_ing, "monthly_s": t_mon, "total_s": t_ing + t_mon,
            "peak_rss": max(m_ing, m_mon), "ingest_rss": m_ing, "monthly_rss": m_mon,
            "ingest_cpu_s": cpu_ing, "monthly_cpu_s": cpu_mon, "cpu_s": cpu_ing + cpu_mon,
            "rows_in": summary["rows_in"], "rejected": summary["rejected"],
            "monthly_rows": len(monthly), "theater_events": sum(r["events"] for r in monthly)}


def bench_size(rows: int, data: Path, repeat: int, tmp: Path) -> dict:
    from dualthreat.ingest.events import GDELT2_NAMES

    folder = data / f"{rows // 1_000_000}M" if rows >= 1_000_000 else data / f"{rows}"
    marker = folder / "SYNTHETIC.txt"
    if not marker.exists() or f"rows={rows} " not in marker.read_text():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([PY, str(ROOT / "bench" / "generate.py"), "--rows", str(rows), "--out", str(folder)], check=True)
    size = sum(p.stat().st_size for p in folder.glob("*.CSV"))
    warm(folder)
    res: dict = {"rows": rows, "files": len(list(folder.glob("*.CSV"))), "bytes": size}

    # (a) dualthreat, as whole processes
    a_runs = [time_dualthreat(folder, tmp / f"bench-{rows}-{i}.duckdb", tmp) for i in range(repeat)]
    a = sorted(a_runs, key=lambda r: r["total_s"])[len(a_runs) // 2]
    res["a"] = a
    res["a_all_s"] = [round(r["total_s"], 2) for r in a_runs]
    # (a-sql) the reference path, once; it must find the same
    res["a_sql"] = time_dualthreat(folder, tmp / f"bench-{rows}-sql.duckdb", tmp, {"DUALTHREAT_EVENT_SCANNER": "sql"})
    for k in ("rows_in", "rejected", "monthly_rows", "theater_events"):
        if res["a_sql"][k] != a[k]:
            raise SystemExit(f"the two scanners disagree on {k}: {a[k]} (c) against {res['a_sql'][k]} (sql)")

    # (c) bare DuckDB count(*)
    c_runs = []
    for _ in range(repeat):
        t, mem, out, cpu = run_reaped([PY, "-c", DUCKDB_COUNT, str(folder)])
        c_runs.append({"total_s": t, "peak_rss": mem, "cpu_s": cpu, "count": int(out.split()[-1])})
    res["c"] = sorted(c_runs, key=lambda r: r["total_s"])[len(c_runs) // 2]
    res["c_all_s"] = [round(r["total_s"], 2) for r in c_runs]

    # (b) pandas, once
    t, mem, out, cpu = run_reaped([PY, "-c", PANDAS_BASELINE.format(header=GDELT2_NAMES), str(folder)])
    groups, events = out.split()[:2]
    res["b"] = {"total_s": t, "peak_rss": mem, "cpu_s": cpu, "groups": int(groups), "theater_events": int(events)}
    for k in ("a", "a_sql", "b", "c"):
        res[k]["rows_per_s"] = rows / res[k]["total_s"]
    res["a_over_b"] = res["a"]["total_s"] / res["b"]["total_s"]
    res["a_over_c"] = res["a"]["total_s"] / res["c"]["total_s"]
    return res


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["ram_gib"] = round(int(line.split()[1]) / 2**20, 1)
        info["load_before"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    import duckdb
    import ibis
    import pandas

    info.update(duckdb=duckdb.__version__, pandas=pandas.__version__, ibis=ibis.__version__)
    return info


def fmt_bytes(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def report(results: list[dict], info: dict) -> str:
    lines = [f"machine: {info.get('cpu')} x{info.get('cpus')}, {info.get('ram_gib')} GiB RAM, {info['platform']}, "
             f"Python {info['python']}, DuckDB {info['duckdb']}, pandas {info['pandas']}; load before: "
             f"{' '.join(info.get('load_before', []))}, after: {' '.join(info.get('load_after', []))}", "",
             "| rows | data | (a) dualthreat ingest + monthly | (a-sql) reference path | (b) pandas "
             "| (c) DuckDB count(*) | a/b | a/c | peak memory a / b / c |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        a, b, c, q = r["a"], r["b"], r["c"], r["a_sql"]
        lines.append(
            f"| {r['rows']:,} | {r['files']} files, {fmt_bytes(r['bytes'])} "
            f"| {a['total_s']:.1f} s ({a['ingest_s']:.1f} + {a['monthly_s']:.1f}); {a['rows_per_s'] / 1e6:.2f} M rows/s "
            f"| {q['total_s']:.1f} s ({q['ingest_s']:.1f} + {q['monthly_s']:.1f}) "
            f"| {b['total_s']:.1f} s; {b['rows_per_s'] / 1e6:.2f} M rows/s "
            f"| {c['total_s']:.1f} s; {c['rows_per_s'] / 1e6:.2f} M rows/s "
            f"| {r['a_over_b']:.3f} ({1 / r['a_over_b']:.1f}x faster) | {r['a_over_c']:.2f} "
            f"| {fmt_bytes(a['peak_rss'])} / {fmt_bytes(b['peak_rss'])} / {fmt_bytes(c['peak_rss'])} |")
    lines.append("")
    for r in results:
        a = r["a"]
        lines.append(f"{r['rows']:,} rows: dualthreat read {a['rows_in']:,} lines, rejected {a['rejected']:,} "
                     f"malformed ones, kept {a['theater_events']:,} events between the five states "
                     f"({a['monthly_rows']:,} dyad-month rows); pandas found {r['b']['theater_events']:,}; "
                     f"(a) runs {r['a_all_s']} s, (c) runs {r['c_all_s']} s; CPU seconds (user + system): "
                     f"a {a['cpu_s']:.1f} ({a['ingest_cpu_s']:.1f} + {a['monthly_cpu_s']:.1f}), "
                     f"a-sql {r['a_sql']['cpu_s']:.1f}, b {r['b']['cpu_s']:.1f}, c {r['c']['cpu_s']:.1f}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    info = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="dualthreat-bench-") as tmp:
        for rows in (int(s) for s in args.sizes.split(",")):
            print(f"benchmarking {rows:,} rows ...", flush=True)
            results.append(bench_size(rows, args.data, args.repeat, Path(tmp)))
            print(json.dumps(results[-1], indent=1), flush=True)
    try:
        info["load_after"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    text = report(results, info)
    print(text)
    (ROOT / "bench" / "results.json").write_text(json.dumps({"machine": info, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
