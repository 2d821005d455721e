#!/usr/bin/env python3
"""Benchmark: the main job against its floor, the CLI's start-up against Typer's and Rich's, and dualthreat's
event ingest and monthly aggregation against a pandas baseline and a bare DuckDB scan.

    .venv/bin/python bench/run.py [--cases 1500000:0.2:1500000,10000000] [--data bench/data] [--repeat 3]
        [--help-repeat 9] [--no-main-job] [--startup-baseline DIR] [--ingest-baseline DIR]

The main job: ``dualthreat run`` on a fresh store (once; as the console script runs it, noting at exit which
libraries it loaded) against the floor process, which imports the same libraries and reads every table of
data/ with pandas (median of ``--repeat``); and ``dualthreat episodes evaluate`` on a fresh store (once), per
scored episode and per episode date. The start-up: ``dualthreat --help``, ``dualthreat threats --help``,
an argument error and an unknown command, with Typer's Rich output and with ``TYPER_USE_RICH=0`` (click's plain
output), and a Typer app of two commands, each against ``python -c "import typer, rich"`` (dualthreat's bytecode
written first; with ``--startup-baseline DIR`` the same cases on another checkout's code, in the same run).

A case is ``ROWS[:THEATER_SHARE[:ROWS_PER_FILE]]``: SYNTHETIC GDELT 2.0 files generated once by
``bench/generate.py`` (about 0.1% malformed lines; ``THEATER_SHARE`` of the lines events between two different
theater states, default the natural mix, about 1.4%; 250,000 rows per file unless said). The default cases are a
file of 1.5M rows a fifth of which the ingest keeps, and 10M rows in 40 files with the natural mix. In one run,
each timed as whole processes (start-up included):

(a) dualthreat as a user runs it: ``dualthreat ingest gdelt DIR`` into a new store, then
    ``dualthreat events monthly --format json``; GDELT files are read by the compiled scanner;
(a-sql) the same with the reference SQL path (``DUALTHREAT_EVENT_SCANNER=sql``: DuckDB's CSV scanner and
    one query per file), to show what the compiled scanner changes;
(b) a pandas baseline written the way a GDELT user writes it: ``pd.read_csv`` of each file with the GDELT
    header (``on_bad_lines="skip"`` and ``encoding_errors="replace"``, without which pandas stops at the first
    malformed line), the five countries filtered, then a group-by on month and dyad;
(c) a bare DuckDB ``count(*)`` over the same files (all columns text, malformed lines ignored);
(a-base) with ``--ingest-baseline DIR``: (a) on another checkout's code (DIR/src first on PYTHONPATH; its
    compiled modules must be built or copied there), in turn with (a) and (c), so that before and after are
    compared in the same run on a machine whose load changes.

and, once per run: the fixed cost of (a)'s two processes (the same two commands on a file of 26 real lines) and
of (c)'s (on the same small file), and of the first ``events monthly`` with no compiled SQL in its cache (it
imports Ibis to compile it; the (a) runs share a cache of their own, in the run's temporary folder, which the
fixed-cost runs fill first); where the time of (a)'s ingest goes (imports, reading, loading, in one
process; the scanner's parts in CPU seconds of one thread); ``dualthreat --help`` against
``python -c "import typer, rich"`` (median of ``--help-repeat`` runs each).

Reported: wall and CPU time, peak resident memory of each process (for (a) the larger of its two), the ratios,
and the load average (1 minute) before each process: the machine may be shared, so only ratios measured in the
same run are compared. (a) and (c) are the median of ``--repeat`` runs, (a-sql) and (b) run once. The page cache
is warmed first, so all read from memory. Results are printed and written to ``bench/results.json``.
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


def run_reaped(cmd: list[str], stdout_path: Path | None = None, env: dict[str, str] | None = None,
               expect: int = 0, cwd: Path | None = None) -> tuple[float, int, str, float]:
    """Run one process (output to files, so that no pipe can fill up) and reap it with wait4 to get its own
    peak RSS and CPU time; returns wall seconds, peak RSS in bytes, its stdout (unless sent to
    ``stdout_path``) and its CPU seconds (user + system, all threads). Another exit status than ``expect``
    stops the benchmark."""
    with tempfile.TemporaryDirectory() as tmp:
        out_path = stdout_path or Path(tmp) / "out"
        err_path = Path(tmp) / "err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd,
                                    env={**os.environ, "COLUMNS": "120", **(env or {})})
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != expect:
            raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                             f"{err_path.read_text(errors='replace')[-3000:]}")
        captured = "" if stdout_path else out_path.read_text(errors="replace")
    return wall, usage.ru_maxrss * 1024, captured, usage.ru_utime + usage.ru_stime


def load1() -> float | None:
    """The 1-minute load average."""
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return None


def warm(folder: Path) -> None:
    for p in folder.glob("*.CSV"):
        with open(p, "rb") as fh:
            while fh.read(1 << 24):
                pass


def timed(cmd: list[str], stdout_path: Path | None = None, env: dict[str, str] | None = None, status: int = 0,
          cwd: Path | None = None) -> dict:
    """One process: wall and CPU seconds, peak RSS, its output, and the load average before it."""
    load = load1()
    wall, rss, out, cpu = run_reaped(cmd, stdout_path, env, status, cwd)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss": rss, "out": out, "load": load}


def median_run(runs: list[dict], key: str = "total_s") -> dict:
    return sorted(runs, key=lambda r: r[key])[len(runs) // 2]


def time_dualthreat(folder: Path, store: Path, tmp: Path, env: dict[str, str] | None = None) -> dict:
    """One run of (a): ``ingest gdelt`` into a new store, then ``events monthly``, as two processes (with the
    run's own cache of compiled SQL, ``tmp/sql-cache``, unless ``env`` names another)."""
    env = {"DUALTHREAT_CACHE_DIR": str(tmp / "sql-cache"), **(env or {})}
    store.unlink(missing_ok=True)
    ing = timed([DUALTHREAT, "ingest", "gdelt", str(folder), "--store", str(store), "--format", "json"], env=env)
    summary = json.loads(ing["out"][: ing["out"].rfind("}") + 1])
    mon = timed([DUALTHREAT, "events", "monthly", "--store", str(store), "--format", "json"],
                stdout_path=tmp / "monthly.json", env=env)
    monthly = json.loads((tmp / "monthly.json").read_text())
    store.unlink(missing_ok=True)
    return {"ingest_s": ing["wall_s"], "monthly_s": mon["wall_s"], "total_s": ing["wall_s"] + mon["wall_s"],
            "peak_rss": max(ing["peak_rss"], mon["peak_rss"]), "ingest_rss": ing["peak_rss"],
            "monthly_rss": mon["peak_rss"], "ingest_cpu_s": ing["cpu_s"], "monthly_cpu_s": mon["cpu_s"],
            "cpu_s": ing["cpu_s"] + mon["cpu_s"], "load": [ing["load"], mon["load"]],
            "rows_in": summary["rows_in"], "rejected": summary["rejected"],
            "monthly_rows": len(monthly), "theater_events": sum(r["events"] for r in monthly)}


def time_count(folder: Path) -> dict:
    r = timed([PY, "-c", DUCKDB_COUNT, str(folder)])
    return {"total_s": r["wall_s"], "cpu_s": r["cpu_s"], "peak_rss": r["peak_rss"], "load": r["load"],
            "count": int(r["out"].split()[-1])}


# Where the time of (a)'s ingest goes, in one process: what `dualthreat ingest gdelt DIR` does, step by step.
PHASES = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter(); c0 = time.process_time()
import dualthreat.cli, dualthreat.cli.data  # the CLI
from dualthreat import ingest as readers  # what the ingest command imports
from dualthreat.store import Store
t1 = time.perf_counter(); c1 = time.process_time()
result = readers.read("gdelt", Path(sys.argv[1]))
t2 = time.perf_counter(); c2 = time.process_time()
Store(sys.argv[2]).load([result], kind="gdelt")
t3 = time.perf_counter(); c3 = time.process_time()
print(json.dumps({"imports": [t1 - t0, c1 - c0], "read": [t2 - t1, c2 - c1], "load": [t3 - t2, c3 - c2],
                  "pandas_imported": "pandas" in sys.modules}))
"""

# The compiled scanner's parts on one file, in CPU seconds of this one thread (best of three), hashing inline.
PARTS = r"""
import hashlib, json, sys, time
from pathlib import Path
from dualthreat.ingest import _gdeltscan
from dualthreat.ingest.cameo import cameo_countries
from dualthreat.ingest.events import MAX_LINE_BYTES, scanner as sc
from dualthreat.ingest.events.arrow import events_table
from dualthreat.ingest.events.files import chunks, open_bytes, plan_file
from dualthreat.theater import load_theater

plan = plan_file("gdelt", Path(sys.argv[1]))
states = load_theater().states
to_state = {c: iso for c, iso in cameo_countries().items() if iso in states}
isos = sorted(set(to_state.values()))
codes = {c.encode(): isos.index(iso) for c, iso in to_state.items()}
T = time.thread_time
best = None
for _ in range(3):
    scanner = _gdeltscan.Scanner(**sc._scanner_layout(plan.layout), states=codes, skip=plan.skip,
                                 max_line=MAX_LINE_BYTES)
    h, t, batches = hashlib.sha256(), dict.fromkeys(("read", "sha256", "scan", "take"), 0.0), []
    with open_bytes(plan) as fh:
        it = chunks(fh)
        while True:
            a = T(); chunk = next(it, None); b = T(); t["read"] += b - a
            if chunk is None:
                break
            h.update(chunk); c = T(); t["sha256"] += c - b
            scanner.feed(chunk); d = T(); t["scan"] += d - c
            batches += scanner.take(); t["take"] += T() - d
    a = T(); out = scanner.finish(); t["scan"] += T() - a
    a = T(); kept = sc.kept_table(batches + out["batches"], isos); t["arrow"] = T() - a
    a = T(); events_table(kept, kept.column("line"), plan.layout, "x"); t["arrow"] += T() - a
    t["kept"] = kept.num_rows
    best = t if best is None or sum(t[k] for k in ("read", "sha256", "scan")) < sum(best[k] for k in ("read", "sha256", "scan")) else best
print(json.dumps(best))
"""


def parse_case(spec: str) -> dict:
    parts = spec.split(":")
    rows = int(parts[0])
    share = float(parts[1]) if len(parts) > 1 and parts[1] else None
    per_file = int(parts[2]) if len(parts) > 2 else 250_000
    name = f"{rows}" + (f"-{round(share * 100)}pct" if share is not None else "") + f"-{per_file}"
    return {"rows": rows, "theater_share": share, "rows_per_file": per_file, "name": name}


def case_folder(case: dict, data: Path) -> Path:
    folder = data / case["name"]
    marker = folder / "SYNTHETIC.txt"
    want = f"rows={case['rows']} rows_per_file={case['rows_per_file']} "
    share = f"theater_share={case['theater_share']}"
    if not marker.exists() or want not in marker.read_text() or share not in marker.read_text():
        shutil.rmtree(folder, ignore_errors=True)
        cmd = [PY, str(ROOT / "bench" / "generate.py"), "--rows", str(case["rows"]), "--out", str(folder),
               "--rows-per-file", str(case["rows_per_file"])]
        if case["theater_share"] is not None:
            cmd += ["--theater-share", str(case["theater_share"])]
        subprocess.run(cmd, check=True)
    return folder


def bench_case(case: dict, data: Path, repeat: int, tmp: Path, baseline: Path | None = None) -> dict:
    from dualthreat.ingest.events import GDELT2_NAMES

    folder = case_folder(case, data)
    files = sorted(folder.glob("*.CSV"))
    warm(folder)
    rows = case["rows"]
    res: dict = {**case, "files": len(files), "bytes": sum(p.stat().st_size for p in files), "load_before": load1()}

    # (a) and (c) alternately, so that a change of the machine's load touches both alike
    a_runs, c_runs, base_runs = [], [], []
    for i in range(repeat):
        a_runs.append(time_dualthreat(folder, tmp / f"bench-{i}.duckdb", tmp))
        c_runs.append(time_count(folder))
        if baseline is not None:  # its own cache of compiled SQL: the SQL is keyed by the measure's code
            base_runs.append(time_dualthreat(folder, tmp / f"bench-base-{i}.duckdb", tmp,
                                             {"PYTHONPATH": str(baseline / "src"),
                                              "DUALTHREAT_CACHE_DIR": str(tmp / "sql-cache-base")}))
    res["a"], res["c"] = median_run(a_runs), median_run(c_runs)
    res["a_all_s"] = [round(r["total_s"], 2) for r in a_runs]
    res["c_all_s"] = [round(r["total_s"], 2) for r in c_runs]
    if baseline is not None:
        res["a_base"] = median_run(base_runs)
        res["a_base_all_s"] = [round(r["total_s"], 2) for r in base_runs]
        res["a_base"]["commit"] = subprocess.run(["git", "-C", str(baseline), "rev-parse", "--short", "HEAD"],
                                                 capture_output=True, text=True).stdout.strip()
        for k in ("rows_in", "rejected", "monthly_rows", "theater_events"):
            if res["a_base"][k] != res["a"][k]:
                raise SystemExit(f"the baseline disagrees on {k}: {res['a'][k]} against {res['a_base'][k]}")
    # (a-sql) the reference path, once; it must find the same
    res["a_sql"] = time_dualthreat(folder, tmp / "bench-sql.duckdb", tmp, {"DUALTHREAT_EVENT_SCANNER": "sql"})
    for k in ("rows_in", "rejected", "monthly_rows", "theater_events"):
        if res["a_sql"][k] != res["a"][k]:
            raise SystemExit(f"the two scanners disagree on {k}: {res['a'][k]} (c) against {res['a_sql'][k]} (sql)")
    # (b) pandas, once
    b = timed([PY, "-c", PANDAS_BASELINE.format(header=GDELT2_NAMES), str(folder)])
    groups, events = b["out"].split()[:2]
    res["b"] = {"total_s": b["wall_s"], "cpu_s": b["cpu_s"], "peak_rss": b["peak_rss"], "load": b["load"],
                "groups": int(groups), "theater_events": int(events)}
    # where (a)'s ingest time goes
    store = tmp / "phases.duckdb"
    store.unlink(missing_ok=True)
    res["phases"] = json.loads(timed([PY, "-c", PHASES, str(folder), str(store)])["out"])
    store.unlink(missing_ok=True)
    res["parts"] = json.loads(timed([PY, "-c", PARTS, str(files[0])])["out"])
    res["load_after"] = load1()
    for k in ("a", "a_sql", "b", "c"):
        res[k]["rows_per_s"] = rows / res[k]["total_s"]
    res["a_over_b"] = res["a"]["total_s"] / res["b"]["total_s"]
    res["a_over_c"] = res["a"]["total_s"] / res["c"]["total_s"]
    if baseline is not None:
        res["a_base_over_c"] = res["a_base"]["total_s"] / res["c"]["total_s"]
        res["a_over_a_base"] = res["a"]["total_s"] / res["a_base"]["total_s"]
    return res


def bench_fixed(repeat: int, tmp: Path) -> dict:
    """The fixed cost of (a)'s two processes and of (c)'s: the same commands on a file of 26 real GDELT lines."""
    small = tmp / "small"
    small.mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "gdelt" / "gdelt2_translingual.cut.tsv", small / "small.export.CSV")
    # the first `events monthly` after an install or a change of its code: the SQL compiled by Ibis
    cold = time_dualthreat(small, tmp / "fixed-cold.duckdb", tmp, {"DUALTHREAT_CACHE_DIR": str(tmp / "sql-cold")})
    a = [time_dualthreat(small, tmp / f"fixed-{i}.duckdb", tmp) for i in range(repeat)]
    c = [time_count(small) for _ in range(repeat)]
    med = {k: sorted(r[k] for r in a)[len(a) // 2] for k in ("ingest_s", "monthly_s", "total_s", "ingest_cpu_s",
                                                             "monthly_cpu_s")}
    return {"a": med, "a_all_s": [round(r["total_s"], 2) for r in a],
            "monthly_cold": {"wall_s": cold["monthly_s"], "cpu_s": cold["monthly_cpu_s"]},
            "c": median_run(c), "c_all_s": [round(r["total_s"], 2) for r in c]}


# the start-up cases: the command, its exit status, and its environment; "typer_rich" is the floor
PLAIN = {"TYPER_USE_RICH": "0"}  # Typer's own switch: click's plain help and error messages instead of Rich's
STARTUP_CASES = {
    "typer_rich": ([PY, "-c", "import typer, rich"], 0, None),
    "help": ([DUALTHREAT, "--help"], 0, None),
    "command_help": ([DUALTHREAT, "threats", "--help"], 0, None),
    "bad_month": ([DUALTHREAT, "threats", "--from", "2010-13"], 2, None),
    "no_such_command": ([DUALTHREAT, "nosuch"], 2, None),
    "help_plain": ([DUALTHREAT, "--help"], 0, PLAIN),
    "bad_month_plain": ([DUALTHREAT, "threats", "--from", "2010-13"], 2, PLAIN),
    # a Typer app of two commands: what Typer's Rich help costs whatever the app
    "trivial_typer_help": ([PY, "-c", "import typer\napp = typer.Typer(rich_markup_mode='markdown')\n"
                            "app.command()(lambda x: None)\napp.command('b')(lambda: None)\napp()", "--help"], 0,
                           None),
}


# with --startup-baseline DIR, these cases run a second time on another checkout's code (DIR/src first on
# PYTHONPATH; the editable install puts src/ on the path after it), so that before and after are measured in
# the same run against the same floor
BASELINE_CASES = ("help", "command_help", "bad_month", "no_such_command", "help_plain", "bad_month_plain")


def compile_bytecode(*srcs: Path) -> None:
    """Write the bytecode of dualthreat's modules, as their first import normally does: with
    PYTHONDONTWRITEBYTECODE set (as in the environment of these runs) every run would compile them again
    (about 20 ms), while Typer's and Rich's bytecode, the floor's, was written by pip at install."""
    import compileall

    for src in srcs:
        compileall.compile_dir(str(src / "dualthreat"), quiet=1)


def bench_help(repeat: int, baseline: Path | None = None) -> dict:
    """``dualthreat --help`` and argument errors against the floor of any Typer and Rich command: importing them.
    Each case ``repeat`` times, the cases in turn (so that a change of load touches all alike); the median wall
    time, and the median CPU time (less sensitive to a busy machine), each as a ratio to the floor's. With
    ``baseline`` (a checkout of another commit), its cases ``NAME@baseline`` too."""
    cases = dict(STARTUP_CASES)
    if baseline is not None:
        for k in BASELINE_CASES:
            cmd, status, env = STARTUP_CASES[k]
            cases[f"{k}@baseline"] = (cmd, status, {**(env or {}), "PYTHONPATH": str(baseline / "src")})
    compile_bytecode(ROOT / "src", *([baseline / "src"] if baseline is not None else []))
    runs: dict[str, list[dict]] = {k: [] for k in cases}
    for _ in range(repeat):
        for k, (cmd, status, env) in cases.items():
            runs[k].append(timed(cmd, env=env, status=status))
    out: dict = {}
    for k, rs in runs.items():
        m = median_run(rs, "wall_s")
        out[k] = {"wall_s": m["wall_s"], "cpu_s": sorted(r["cpu_s"] for r in rs)[len(rs) // 2],
                  "peak_rss": m["peak_rss"], "all_s": [round(r["wall_s"], 3) for r in rs],
                  "load": [r["load"] for r in rs]}
    floor = out["typer_rich"]
    for k in cases:
        out[k]["ratio"] = out[k]["wall_s"] / floor["wall_s"]
        out[k]["cpu_ratio"] = out[k]["cpu_s"] / floor["cpu_s"]
    out["ratio"] = out["help"]["ratio"]
    if baseline is not None:
        commit = subprocess.run(["git", "-C", str(baseline), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        out["baseline"] = {"path": str(baseline), "commit": commit}
    return out


# The main job as the console script runs it (``dualthreat run``), noting at exit which libraries it loaded.
MAIN_JOB = r"""
import atexit, json, sys
out, store, report = sys.argv[1:4]
def loaded():
    tops = {m.split(".")[0] for m in list(sys.modules)}
    libs = sorted(t for t in tops if t not in sys.stdlib_module_names and not t.startswith("_")
                  and t != "dualthreat")
    open(out, "w").write(json.dumps(libs))
atexit.register(loaded)
from dualthreat.cli import app
app(["run", "--store", store, "--out", report], prog_name="dualthreat")
"""

# The floor of the main job: the same libraries imported, every table of data/ read (Parquet and CSV).
FLOOR = r"""
import importlib, json, sys
from pathlib import Path
libs, failed = json.loads(Path(sys.argv[1]).read_text()), []
for name in libs:
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name)
import pandas as pd
tables = rows = 0
for f in sorted(Path(sys.argv[2]).rglob("*")):
    if f.suffix == ".parquet":
        df = pd.read_parquet(f)
    elif f.suffix == ".csv":
        df = pd.read_csv(f)
    else:
        continue
    tables += 1
    rows += len(df)
print(json.dumps({"libraries": len(libs), "failed": failed, "tables": tables, "rows": rows}))
"""


def bench_main(repeat: int, tmp: Path) -> dict:
    """``dualthreat run`` on a fresh store and an empty cache folder, as on a fresh machine (once), against the
    floor process (``repeat`` times, median)."""
    mods = tmp / "main-libraries.json"
    store = tmp / "main.duckdb"
    store.unlink(missing_ok=True)
    main = timed([PY, "-c", MAIN_JOB, str(mods), str(store), str(tmp / "report.html")], cwd=tmp,
                 env={"DUALTHREAT_CACHE_DIR": str(tmp / "main-cache")})
    store.unlink(missing_ok=True)
    libs = json.loads(mods.read_text())
    floors = [timed([PY, "-c", FLOOR, str(mods), str(ROOT / "data")]) for _ in range(repeat)]
    floor = median_run(floors, "wall_s")
    info = json.loads(floor["out"])
    evaluation = bench_evaluate(tmp)
    return {"main": {k: main[k] for k in ("wall_s", "cpu_s", "peak_rss", "load")},
            "floor": {k: floor[k] for k in ("wall_s", "cpu_s", "peak_rss", "load")},
            "floor_all_s": [round(r["wall_s"], 2) for r in floors], "libraries": libs, "floor_read": info,
            "ratio": main["wall_s"] / floor["wall_s"], "cpu_ratio": main["cpu_s"] / floor["cpu_s"],
            "evaluation": {**evaluation, "ratio": evaluation["wall_s"] / floor["wall_s"]}}


def bench_evaluate(tmp: Path) -> dict:
    """``dualthreat episodes evaluate --format json`` on the calibration episodes, on a fresh default store and an
    empty cache folder (its as-of fits included, on all cores): seconds per scored episode and per as-of fit."""
    store = tmp / "evaluate.duckdb"
    store.unlink(missing_ok=True)
    env = {"DUALTHREAT_CACHE_DIR": str(tmp / "evaluate-cache")}
    timed([DUALTHREAT, "build", "--store", str(store)], env=env)
    run = timed([DUALTHREAT, "episodes", "evaluate", "--store", str(store), "--format", "json"], env=env)
    store.unlink(missing_ok=True)
    result = json.loads(run["out"])
    dates = len({e["date"] for e in result["episodes"]} | {s["date"] for s in result.get("skipped", [])})
    return {**{k: run[k] for k in ("wall_s", "cpu_s", "peak_rss", "load")}, "scored": result["n"],
            "dates": dates, "per_episode_s": run["wall_s"] / max(1, result["n"]),
            "per_date_cpu_s": run["cpu_s"] / max(1, dates)}


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
    import pyarrow

    info.update(duckdb=duckdb.__version__, pandas=pandas.__version__, ibis=ibis.__version__,
                pyarrow=pyarrow.__version__)
    try:
        info["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                        text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def fmt_bytes(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _loads(*rs: dict) -> str:
    vals = [x for r in rs for x in (r["load"] if isinstance(r["load"], list) else [r["load"]]) if x is not None]
    return f"{min(vals):.1f}-{max(vals):.1f}" if vals else "?"


def report_startup(help_: dict, main: dict | None) -> list[str]:
    lines = ["", "| start-up case | wall s (median) | ratio to `import typer, rich` | CPU s | CPU ratio | runs (s) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for k, h in help_.items():
        if not isinstance(h, dict) or "wall_s" not in h:
            continue
        lines.append(f"| {k} | {h['wall_s']:.3f} | {h['ratio']:.2f} | {h['cpu_s']:.3f} | {h['cpu_ratio']:.2f} "
                     f"| {h['all_s']} |")
    if main:
        m, f = main["main"], main["floor"]
        lines += ["", f"main job `dualthreat run` on a fresh store: {m['wall_s']:.1f} s (CPU {m['cpu_s']:.1f} s), "
                      f"peak RSS {fmt_bytes(m['peak_rss'])}; floor (import the same {len(main['libraries'])} "
                      f"libraries, read the {main['floor_read']['tables']} tables of data/, "
                      f"{main['floor_read']['rows']:,} rows): {f['wall_s']:.2f} s (CPU {f['cpu_s']:.2f} s, runs "
                      f"{main['floor_all_s']}), peak RSS {fmt_bytes(f['peak_rss'])}; ratio {main['ratio']:.1f} "
                      f"(CPU {main['cpu_ratio']:.1f}); load before {m['load']} / {f['load']}"]
        e = main.get("evaluation")
        if e:
            lines += ["", f"`dualthreat episodes evaluate` on a fresh store: {e['wall_s']:.1f} s (CPU {e['cpu_s']:.1f} s), "
                          f"{e['scored']} episodes scored: {e['per_episode_s']:.2f} s per episode; {e['dates']} "
                          f"episode dates, {e['per_date_cpu_s']:.2f} CPU-s per date; {e['ratio']:.1f}x the floor; "
                          f"peak RSS {fmt_bytes(e['peak_rss'])}; load before {e['load']}"]
    return lines


def report(results: list[dict], fixed: dict | None, help_: dict, info: dict, main: dict | None = None) -> str:
    lines = [f"machine: {info.get('cpu')} x{info.get('cpus')}, {info.get('ram_gib')} GiB RAM, {info['platform']}, "
             f"Python {info['python']}, DuckDB {info['duckdb']}, pandas {info['pandas']}, pyarrow {info['pyarrow']}; "
             f"commit {info.get('commit')}; load average before: {' '.join(info.get('load_before', []))}, after: "
             f"{' '.join(info.get('load_after', []))}", "",
             "| case | data | (a) dualthreat ingest + monthly | (a-sql) reference path | (b) pandas "
             "| (c) DuckDB count(*) | a/b | a/c | peak memory a / b / c | load (1 min) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        a, b, c, q = r["a"], r["b"], r["c"], r["a_sql"]
        share = f"{r['theater_share']:.0%} theater" if r["theater_share"] is not None else "natural mix"
        lines.append(
            f"| {r['rows']:,} rows, {share} | {r['files']} files, {fmt_bytes(r['bytes'])} "
            f"| {a['total_s']:.2f} s ({a['ingest_s']:.2f} + {a['monthly_s']:.2f}) "
            f"| {q['total_s']:.1f} s ({q['ingest_s']:.1f} + {q['monthly_s']:.1f}) "
            f"| {b['total_s']:.1f} s | {c['total_s']:.2f} s "
            f"| {r['a_over_b']:.3f} ({1 / r['a_over_b']:.1f}x faster) | {r['a_over_c']:.2f} "
            f"| {fmt_bytes(a['peak_rss'])} / {fmt_bytes(b['peak_rss'])} / {fmt_bytes(c['peak_rss'])} "
            f"| {_loads(a, b, c, q)} |")
    lines.append("")
    for r in results:
        a, ph, pt = r["a"], r["phases"], r["parts"]
        lines.append(
            f"{r['name']}: dualthreat read {a['rows_in']:,} lines, rejected {a['rejected']:,}, kept "
            f"{a['theater_events']:,} events ({a['monthly_rows']:,} dyad-month rows); pandas found "
            f"{r['b']['theater_events']:,}; (a) runs {r['a_all_s']} s, (c) runs {r['c_all_s']} s; CPU seconds: "
            f"a {a['cpu_s']:.2f} ({a['ingest_cpu_s']:.2f} + {a['monthly_cpu_s']:.2f}), a-sql {r['a_sql']['cpu_s']:.1f}, "
            f"b {r['b']['cpu_s']:.1f}, c {r['c']['cpu_s']:.2f}. Ingest in one process (wall / CPU s): imports "
            f"{ph['imports'][0]:.2f} / {ph['imports'][1]:.2f}, read {ph['read'][0]:.2f} / {ph['read'][1]:.2f}, "
            f"load {ph['load'][0]:.2f} / {ph['load'][1]:.2f} (pandas imported: {ph['pandas_imported']}). "
            f"Scanner parts, first file, CPU s of one thread: read {pt['read']:.3f}, SHA-256 {pt['sha256']:.3f}, "
            f"scan {pt['scan']:.3f}, take {pt['take']:.3f}, Arrow {pt['arrow']:.3f} ({pt['kept']:,} kept)")
        if "a_base" in r:
            ab = r["a_base"]
            lines.append(
                f"{r['name']}: baseline {ab['commit']} (a-base) {ab['total_s']:.2f} s ({ab['ingest_s']:.2f} + "
                f"{ab['monthly_s']:.2f}; CPU {ab['ingest_cpu_s']:.2f} + {ab['monthly_cpu_s']:.2f}), runs "
                f"{r['a_base_all_s']} s; a-base/c {r['a_base_over_c']:.2f}, a/a-base {r['a_over_a_base']:.2f}")
    if fixed:
        fa, fc, fm = fixed["a"], fixed["c"], fixed["monthly_cold"]
        lines += ["", f"fixed cost, 26 real lines: (a) {fa['total_s']:.2f} s (ingest {fa['ingest_s']:.2f} + monthly "
                  f"{fa['monthly_s']:.2f}; CPU {fa['ingest_cpu_s']:.2f} + {fa['monthly_cpu_s']:.2f}), runs "
                  f"{fixed['a_all_s']}; (c) {fc['total_s']:.2f} s, runs {fixed['c_all_s']}; the first monthly, "
                  f"its SQL compiled: {fm['wall_s']:.2f} s, CPU {fm['cpu_s']:.2f}"]
    lines += report_startup(help_, main)
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="1500000:0.2:1500000,10000000")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--help-repeat", type=int, default=9)
    ap.add_argument("--startup-baseline", type=Path, default=None,
                    help="a checkout of another commit: its start-up cases are timed in the same run (NAME@baseline)")
    ap.add_argument("--ingest-baseline", type=Path, default=None,
                    help="a checkout of another commit: (a) is timed on its code too, in the same run (a-base)")
    ap.add_argument("--main-job", action=argparse.BooleanOptionalAction, default=True,
                    help="time `dualthreat run` on a fresh store against the floor process (about 1.5 minutes)")
    args = ap.parse_args()
    info = machine()
    results = []
    main_job = fixed = None
    with tempfile.TemporaryDirectory(prefix="dualthreat-bench-") as tmp:
        print("start-up: --help and argument errors against importing Typer and Rich ...", flush=True)
        help_ = bench_help(args.help_repeat, args.startup_baseline)
        print(json.dumps(help_, indent=1), flush=True)
        if args.main_job:
            print("main job against the floor process ...", flush=True)
            main_job = bench_main(args.repeat, Path(tmp))
            print(json.dumps(main_job, indent=1), flush=True)
        if args.cases:
            print("fixed cost of the processes ...", flush=True)
            fixed = bench_fixed(max(args.repeat, 5), Path(tmp))
            print(json.dumps(fixed, indent=1), flush=True)
        for case in (parse_case(c) for c in args.cases.split(",") if c):
            print(f"benchmarking {case['name']} ...", flush=True)
            results.append(bench_case(case, args.data, args.repeat, Path(tmp), args.ingest_baseline))
            print(json.dumps(results[-1], indent=1), flush=True)
    try:
        info["load_after"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    text = report(results, fixed, help_, info, main_job)
    print(text)
    (ROOT / "bench" / "results.json").write_text(json.dumps({"machine": info, "help": help_, "main_job": main_job,
                                                             "fixed": fixed, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
