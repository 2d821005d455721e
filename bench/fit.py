"""The framework's fit with and without the compiled log-likelihood, side by side in one process.

    .venv/bin/python bench/fit.py --store dualthreat.duckdb --as-of 2010-06-01 --repeat 3

Each round fits ``DualThreatModel(as_of=...)`` twice on the same store, once with the C extension
(:mod:`dualthreat.model._kalman`) and once with the Python loop it replaces, alternating which goes first, and
reports the ratio of the medians (wall and CPU seconds) and the largest difference between the two fits' threat
estimates and parameters (the two must agree: the extension does the same operations in the same order).
An as-of fit is what the rolling-origin evaluation repeats at every episode date. Writes bench/results_fit.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def fit(store_path: str, as_of: str | None, compiled: bool) -> tuple[float, float, object]:
    from dualthreat.model import DualThreatModel, threat
    from dualthreat.store import Store

    saved = threat._kalman
    threat._ESTIMATES.clear()  # the in-process memo of maximum-likelihood estimates: every round estimates anew
    if not compiled:
        threat._kalman = None
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        model = DualThreatModel(as_of=as_of).fit(Store(store_path))
        return time.perf_counter() - wall, time.process_time() - cpu, model
    finally:
        threat._kalman = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="dualthreat.duckdb")
    ap.add_argument("--as-of", default="2010-06-01")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).with_name("results_fit.json")))
    a = ap.parse_args()
    from dualthreat.model import threat

    if threat._kalman is None:
        raise SystemExit("the C extension is not built: pip install -e . with a C compiler, then run again")
    fit(a.store, a.as_of, True)  # warm-up: imports, the store's first reads
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    models = {}
    for i in range(a.repeat):
        for compiled in ((True, False) if i % 2 == 0 else (False, True)):
            w, c, m = fit(a.store, a.as_of, compiled)
            times[compiled].append((w, c))
            models[compiled] = m
            print(f"round {i + 1}: {'C' if compiled else 'Python'} {w:.2f} s wall, {c:.2f} s CPU", flush=True)
    fast, slow = models[True], models[False]
    est = ["mean", "lower", "upper"]
    diff_threats = float(np.nanmax(np.abs(fast.threats_[est].to_numpy(float) - slow.threats_[est].to_numpy(float))))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    out = {"as_of": a.as_of, "repeat": a.repeat,
           "compiled_s": {"wall": med[True][0], "cpu": med[True][1]},
           "python_s": {"wall": med[False][0], "cpu": med[False][1]},
           "speed_up_wall": med[False][0] / med[True][0], "speed_up_cpu": med[False][1] / med[True][1],
           "max_abs_difference_threats": diff_threats}
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
