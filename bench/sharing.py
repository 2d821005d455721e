"""The sensitivity analysis's refits three ways, side by side in one process.

    .venv/bin/python bench/sharing.py --store dualthreat.duckdb --repeat 3

The specifications are the report's (the baseline, two other reference windows, three other variance bounds)
and two leave-one-out ones. Each round fits all of them

(a) separately, with OpenBLAS's default thread pool (the fits before this round's change);
(b) separately, with one BLAS thread (:func:`dualthreat.stats.one_blas_thread`, what ``fit`` does now);
(c) with one :class:`dualthreat.model.dualthreat.SharedFits` and one BLAS thread (what the sensitivity
    analysis does now),

in turn, the order rotating between rounds, each after clearing the memo of maximum-likelihood estimates, and
checks that (c)'s threat estimates equal (a)'s exactly. Reported: median wall and CPU seconds and the ratios
to (a), with the load average before each round (the machine may be shared). Writes bench/results_sharing.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import time
from pathlib import Path


def run(store_path: str, how: str) -> tuple[float, float, list]:
    from dualthreat.evaluate import sensitivity as S
    from dualthreat.model import dualthreat as D
    from dualthreat.model import threat
    from dualthreat.store import Store

    store = Store(store_path)
    specs = S.specifications(indicators=["prk_cinc_kor", "jasdf_scrambles_chn"])
    threat._ESTIMATES.clear()
    saved = D.one_blas_thread
    if how == "a":
        D.one_blas_thread = contextlib.nullcontext  # type: ignore[assignment]
    try:
        shared = D.SharedFits(store) if how == "c" else None
        wall, cpu = time.perf_counter(), time.process_time()
        models = [s.model().fit(store, shared=shared) for s in specs]
        return time.perf_counter() - wall, time.process_time() - cpu, [m.threats_ for m in models]
    finally:
        D.one_blas_thread = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="dualthreat.duckdb")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).with_name("results_sharing.json")))
    args = ap.parse_args()
    import pandas as pd

    times: dict[str, list[tuple[float, float]]] = {"a": [], "b": [], "c": []}
    loads = []
    for r in range(args.repeat):
        order = ["a", "b", "c"][r % 3:] + ["a", "b", "c"][: r % 3]
        frames = {}
        for how in order:
            loads.append(os.getloadavg()[0])
            wall, cpu, frames[how] = run(args.store, how)
            times[how].append((wall, cpu))
            print(f"round {r + 1} ({how}): {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
        for x, y in zip(frames["a"], frames["c"]):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
    med = {h: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for h, t in times.items()}
    out = {"store": args.store, "repeat": args.repeat, "specifications": 8, "load_average_1min": loads,
           "median_wall_s": {h: round(m[0], 3) for h, m in med.items()},
           "median_cpu_s": {h: round(m[1], 3) for h, m in med.items()},
           "wall_ratio_to_a": {h: round(m[0] / med["a"][0], 3) for h, m in med.items()},
           "cpu_ratio_to_a": {h: round(m[1] / med["a"][1], 3) for h, m in med.items()},
           "identical": True}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
