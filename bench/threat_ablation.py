"""How the threat model's parts change the forecasts and the hypotheses: an ablation on the default dataset.

    .venv/bin/python bench/threat_ablation.py [--out bench/results_ablation.json] [--workers 1]

Builds a fresh store of the default dataset in a temporary folder, then runs four specifications, each on its
own copy of that store file (the store caches the rolling-origin features keyed by the model's parameters; a
fresh copy keeps one specification's cache from answering for another):

``current``
    the default model and theater;
``no_transient``
    the previous dynamics, a random-walk level only: ``phi_bounds=(0, 1e-9)``, ``k_bounds=(1e-8, 2e-8)``. The
    rolling-origin evaluation builds its own ``DualThreatModel`` per episode date
    (:func:`dualthreat.evaluate.episodes._features_as_of`), so those bounds are made the constructor's defaults
    in this process while the specification runs, and its evaluation always runs in this process (workers=1);
``icews_one_way``
    the ICEWS dyad-month indicators read one way only, from actor to target (``directed=True``), as before
    they were read as the pair;
``no_event_aggregates``
    the theater without its ``icews_dyad_month``, ``icews_dyad_year`` and ``gdelt_pairs`` indicators (threat
    components and China's backing of North Korea).

For each: the framework's fit (``DualThreatModel(...).fit``), the hypotheses
(:func:`dualthreat.evaluate.hypotheses.evaluate_hypotheses`: every verdict, estimate, interval and n, and the
verdict counts), the rolling-origin evaluation (:func:`dualthreat.evaluate.episodes.evaluate` without the
permutation null: Brier, log loss and RPS of the framework and the two baselines, and the paired comparisons
with their 90% intervals and p-values), and the milestones that ``tests/test_model_real_data.py`` checks in the
filtered estimates, with each inequality's outcome. A stage that raises is recorded as an error and the run
goes on. Writes bench/results_ablation.json (with the commit, whether the working tree was clean, the machine
and the wall time of every specification); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SPECS = ("current", "no_transient", "icews_one_way", "no_event_aggregates")
NO_TRANSIENT = {"phi_bounds": (0.0, 1e-9), "k_bounds": (1e-8, 2e-8)}
ICEWS_MONTH = "icews_dyad_month"
EVENT_AGGREGATES = ("icews_dyad_month", "icews_dyad_year", "gdelt_pairs")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def clean(x: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, non-finite numbers as None, timestamps as ISO strings."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer, int)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, (pd.Timestamp, pd.Period)):
        return str(x)
    if x is None or isinstance(x, str):
        return x
    return str(x)


def git(*args: str) -> str:
    """A read-only git query in the repository."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()


def machine() -> dict[str, Any]:
    from dualthreat.model import threat

    sys.path.insert(0, str(Path(__file__).parent))
    from run import machine as machine_facts  # bench/run.py: python, platform, cpus, cpu, RAM, load average

    info: dict[str, Any] = {**machine_facts(), "c_extension": threat._kalman is not None}
    for name in ("numpy", "pandas", "scipy", "duckdb"):
        info[name] = __import__(name).__version__
    return info


def load_average() -> list[float] | None:
    try:
        return [float(x) for x in open("/proc/loadavg").read().split()[:3]]
    except OSError:
        return None


# ------------------------------------------------------------------------------------------------------------
# the specifications


def theater_for(spec: str) -> tuple[Any, list[str]]:
    """The theater of a specification and a line per indicator it changes or drops."""
    from dualthreat.theater import load_theater

    th = load_theater()
    if spec == "icews_one_way":
        changed = [i.id for i in th.indicators if i.table == ICEWS_MONTH and not i.directed]
        inds = tuple(dataclasses.replace(i, directed=True) if i.table == ICEWS_MONTH else i for i in th.indicators)
        return dataclasses.replace(th, indicators=inds), [f"{c}: directed=True" for c in changed]
    if spec == "no_event_aggregates":
        dropped = [i.id for i in (*th.indicators, *th.backing) if i.table in EVENT_AGGREGATES]
        return (dataclasses.replace(th, indicators=tuple(i for i in th.indicators if i.table not in EVENT_AGGREGATES),
                                    backing=tuple(i for i in th.backing if i.table not in EVENT_AGGREGATES)),
                [f"{d}: dropped" for d in dropped])
    return th, []


@contextlib.contextmanager
def model_defaults(bounds: dict[str, tuple[float, float]]) -> Iterator[list[dict[str, Any]]]:
    """Make ``bounds`` the defaults of ``DualThreatModel(...)`` in this process (an explicit argument still
    wins); yields the list of the bounds every model built meanwhile was given (the check that the patch
    reached the evaluation's own models)."""
    from dualthreat.model import DualThreatModel

    original = DualThreatModel.__init__
    built: list[dict[str, Any]] = []

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        for name, value in bounds.items():
            kwargs.setdefault(name, value)
        original(self, *args, **kwargs)
        built.append({name: getattr(self, name) for name in bounds} | {"as_of": self.as_of})

    DualThreatModel.__init__ = init  # type: ignore[method-assign]
    try:
        yield built
    finally:
        DualThreatModel.__init__ = original  # type: ignore[method-assign]


def staged(out: dict[str, Any], name: str, run: Callable[[], Any]) -> Any:
    """``run()``, its wall time in ``out['seconds'][name]``; an exception is recorded in ``out['errors']``."""
    t0 = time.perf_counter()
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - one failing stage must not stop the ablation
        out.setdefault("errors", {})[name] = "".join(traceback.format_exception(exc))
        log(f"  {name} FAILED: {type(exc).__name__}: {exc}")
        return None
    finally:
        out.setdefault("seconds", {})[name] = round(time.perf_counter() - t0, 2)


# ------------------------------------------------------------------------------------------------------------
# what is recorded


def parameters(model: Any) -> dict[str, dict[str, float] | None]:
    """Each component's (and the backing's) estimated q, phi and k."""
    fits = {".".join(k): f for k, f in model.components_.items()} | {"backing": model.backing_fit_}
    out = {}
    for key, fit in fits.items():
        p = fit.parameters() if fit.params is not None else None
        out[key] = {k: p[k] for k in ("q", "phi", "k")} if p else None
    return out


def filtered_mean(model: Any, ally: str, level: str, source: str, start: str, end: str) -> dict[str, Any]:
    t = model.threats(ally=ally)
    t = t[(t.level == level) & (t.source == source) & (t.month >= start) & (t.month <= end)]
    return {"mean": float(t["mean"].mean()), "months": len(t), "missing": int(t["mean"].isna().sum())}


def milestones(model: Any, store: Any) -> dict[str, Any]:
    """The inequalities of tests/test_model_real_data.py on the filtered estimates: ``holds`` is whether the
    first value exceeds the second."""
    def compare(name: str, a: tuple, b: tuple) -> dict[str, Any]:
        x, y = filtered_mean(model, *a), filtered_mean(model, *b)
        return {"name": name, "value": x["mean"], "against": y["mean"], "holds": bool(x["mean"] > y["mean"]),
                "missing": x["missing"] + y["missing"]}

    rows = [
        compare("JPN local CHN: Sep-Oct 2010 > Jan-Aug 2010",
                ("JPN", "local", "CHN", "2010-09", "2010-10"), ("JPN", "local", "CHN", "2010-01", "2010-08")),
        compare("JPN local CHN: 2013 > 2008",
                ("JPN", "local", "CHN", "2013-01", "2013-12"), ("JPN", "local", "CHN", "2008-01", "2008-12")),
        compare("KOR local PRK: 2010 > 2009",
                ("KOR", "local", "PRK", "2010-01", "2010-12"), ("KOR", "local", "PRK", "2009-01", "2009-12")),
        compare("KOR local PRK: Jan-Feb 2016 > 2015",
                ("KOR", "local", "PRK", "2016-01", "2016-02"), ("KOR", "local", "PRK", "2015-01", "2015-12")),
        compare("KOR local PRK: Jan 2016 > Dec 2015",
                ("KOR", "local", "PRK", "2016-01", "2016-01"), ("KOR", "local", "PRK", "2015-12", "2015-12")),
    ]
    t = model.threats(ally="KOR")
    kp = t[(t.level == "local") & (t.source == "PRK")].set_index("month")
    jan, dec = float(kp.loc["2016-01", "transient"]), float(kp.loc["2015-12", "transient"])
    rows.append({"name": "KOR local PRK transient: Jan 2016 > Dec 2015", "value": jan, "against": dec,
                 "holds": bool(jan > dec), "missing": int(np.isnan(jan) + np.isnan(dec))})
    tests = store.query("SELECT DISTINCT strftime(start_date, '%Y-%m') AS month FROM indicators "
                        "WHERE series = 'dprk_nuclear_test' ORDER BY 1").to_pandas()["month"].tolist()
    for ally in ("JPN", "KOR"):
        for m in tests:
            before = pd.Period(m, "M")
            rows.append(compare(f"{ally} local PRK: nuclear test {m} > mean of the 12 months before",
                                (ally, "local", "PRK", m, m), (ally, "local", "PRK", str(before - 12), str(before - 1))))
    wide = model.threats_[model.threats_.estimate == "filtered"].pivot_table(
        index="month", columns=["ally", "level", "source"], values="mean")
    both = pd.concat([wide[("JPN", "systemic", "CHN")], wide[("KOR", "systemic", "CHN")]], axis=1).dropna()
    systemic = {"correlation": float(both.iloc[:, 0].corr(both.iloc[:, 1])), "months": len(both),
                "max_abs_difference": float((both.iloc[:, 0] - both.iloc[:, 1]).abs().max())}
    systemic["max_abs_difference_above_0.1"] = bool(systemic["max_abs_difference"] > 0.1)
    return {"inequalities": rows, "failed": [r["name"] for r in rows if not r["holds"]],
            "nuclear_test_months": tests, "systemic_china_jpn_kor": systemic}


def hypotheses(table: Any) -> dict[str, Any]:
    keep = ("kind", "verdict", "estimate", "lower", "upper", "p_value", "q_value", "n")
    rows = {r["id"]: {k: r[k] for k in keep} | {"periods": [[p["period"], p["verdict"], p["estimate"]]
                                                            for p in r.get("periods") or []]}
            for r in table.to_records()}
    return {"counts": table.counts(), "rows": rows}


def forecasts(ev: Any) -> dict[str, Any]:
    d = ev.as_dict()
    summary = {"n": ev.n, "framework": ev.framework, "baselines": ev.baselines, "comparison": ev.comparison,
               "skill": ev.skill, "fallback": ev.fallback, "sensitivity": ev.sensitivity, "varying": ev.varying,
               "by_actor": ev.by_actor, "parameters": ev.parameters, "skipped": len(ev.skipped)}
    summary["episodes"] = [{"id": e["id"], "date": e["date"], "observed": e["observed"],
                            "predicted_direction": e["predicted_direction"], "predicted": e["predicted"],
                            "features": e["features"]} for e in d["episodes"]]
    return summary


def feature_difference(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """How far the episode features of ``b`` are from those of ``a`` (same episodes, same feature names)."""
    if not a or not b:
        return None
    fa = {e["id"]: e["features"] for e in a["episodes"]}
    diffs, changed, total = [], 0, 0
    for e in b["episodes"]:
        for k, v in e["features"].items():
            w = fa.get(e["id"], {}).get(k)
            if k.endswith("_sd") or v is None or w is None:
                continue
            total += 1
            diffs.append(abs(v - w))
            changed += abs(v - w) > 1e-4
    return {"features_compared": total, "features_changed": changed,
            "max_abs_difference": max(diffs) if diffs else None,
            "mean_abs_difference": float(np.mean(diffs)) if diffs else None}


# ------------------------------------------------------------------------------------------------------------


def run_spec(spec: str, store_path: Path, workers: int) -> dict[str, Any]:
    from dualthreat.evaluate.episodes import evaluate
    from dualthreat.evaluate.hypotheses import evaluate_hypotheses
    from dualthreat.model import DualThreatModel, threat
    from dualthreat.store import Store

    threat._ESTIMATES.clear()  # the in-process memo of estimates: each specification estimates anew
    theater, changes = theater_for(spec)
    out: dict[str, Any] = {"theater_changes": changes, "load_before": load_average()}
    bounds = NO_TRANSIENT if spec == "no_transient" else {}
    spec_workers = 1 if bounds else workers
    out["workers"] = spec_workers
    store = Store(store_path)
    t0 = time.perf_counter()
    with model_defaults(bounds) as built:
        log(f"{spec}: fitting the framework")
        model = staged(out, "fit", lambda: DualThreatModel(theater, **bounds).fit(store))
        if model is not None:
            out["parameters"] = parameters(model)
            out["indicators_used"] = {r.indicator: int(r.observations_used or 0)
                                      for r in model.indicators_.itertuples()}
            out["backing_indicators_used"] = {r.indicator: int(r.observations_used or 0)
                                              for r in model.backing_indicators_.itertuples()}
            t = model.threats_[model.threats_.estimate == "filtered"]
            out["coverage_months"] = {f"{a}.{lv}.{s}": g.coverage.value_counts().to_dict()
                                      for (a, lv, s), g in t.groupby(["ally", "level", "source"])}
            log(f"{spec}: milestones")
            out["milestones"] = staged(out, "milestones", lambda: milestones(model, store))
            log(f"{spec}: hypotheses")
            out["hypotheses"] = staged(out, "hypotheses",
                                       lambda: hypotheses(evaluate_hypotheses(store, model=model)))
        log(f"{spec}: rolling-origin evaluation (workers={spec_workers})")
        n_before = len(built)

        def progress(done: int) -> None:
            log(f"{spec}:   episode date {done} fitted")

        ev = staged(out, "episodes", lambda: evaluate(store, theater=theater, workers=spec_workers,
                                                      permutation_shifts=0, progress=progress))
        out["forecasts"] = forecasts(ev) if ev is not None else None
        if bounds:
            inside = built[n_before:]
            out["patch_check"] = {
                "models_built_in_evaluation": len(inside),
                "fits_as_of_a_date_with_the_bounds": sum(b["as_of"] is not None and all(
                    tuple(b[k]) == tuple(v) for k, v in bounds.items()) for b in inside),
                "fit_phi_max": max(p["phi"] for p in out.get("parameters", {}).values() if p) if model else None,
                "fit_k_max": max(p["k"] for p in out.get("parameters", {}).values() if p) if model else None}
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    out["load_after"] = load_average()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).with_name("results_ablation.json")))
    ap.add_argument("--workers", type=int, default=1,
                    help="processes of the rolling-origin evaluation (no_transient always runs with 1)")
    ap.add_argument("--only", nargs="*", choices=SPECS, default=list(SPECS), help="run only these specifications")
    a = ap.parse_args()
    from dualthreat.model.cache import code_digest
    from dualthreat.store import Store
    from dualthreat.store.defaults import build, default_data_dir

    started = time.perf_counter()
    result: dict[str, Any] = {
        "commit": git("rev-parse", "HEAD"), "working_tree_changes": git("status", "--porcelain").splitlines(),
        "code_digest_start": code_digest(), "machine": machine(), "load_before": load_average(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "workers": a.workers,
        "specifications": {
            "current": "the default model and theater",
            "no_transient": f"random-walk level only: DualThreatModel({NO_TRANSIENT}), also in the evaluation's "
                            "own fits (constructor defaults patched in-process, workers=1)",
            "icews_one_way": f"every {ICEWS_MONTH} indicator with directed=True (actor to target only)",
            "no_event_aggregates": f"no indicator (threat or backing) of the tables {', '.join(EVENT_AGGREGATES)}"},
        "results": {}}
    with tempfile.TemporaryDirectory(prefix="dualthreat-ablation-") as tmp:
        base = Path(tmp) / "base.duckdb"
        log(f"building the default store in {base}")
        build(Store(base))
        result["data_dir"] = str(default_data_dir())
        for i, spec in enumerate(a.only, 1):
            path = Path(tmp) / f"{spec}.duckdb"
            shutil.copyfile(base, path)
            log(f"[{i}/{len(a.only)}] {spec}")
            result["results"][spec] = run_spec(spec, path, a.workers)
            log(f"{spec}: done in {result['results'][spec]['wall_s']} s")
            path.unlink()
            Path(a.out).write_text(json.dumps(clean(result), indent=1) + "\n")  # what is done so far
    current = (result["results"].get("current") or {}).get("forecasts")
    for spec, r in result["results"].items():
        if spec != "current":
            r["features_vs_current"] = feature_difference(current, r.get("forecasts"))
    check = result["results"].get("no_transient", {})
    if check.get("patch_check"):
        diff = check.get("features_vs_current") or {}
        check["patch_check"]["took_effect"] = bool(
            check["patch_check"]["fits_as_of_a_date_with_the_bounds"] > 0 and (diff.get("features_changed") or 0) > 0)
    result["code_digest_end"] = code_digest.__wrapped__()
    result["code_changed_during_run"] = result["code_digest_end"] != result["code_digest_start"]
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["load_after"] = load_average()
    Path(a.out).write_text(json.dumps(clean(result), indent=1) + "\n")
    log(f"wrote {a.out} ({result['wall_s']} s)")


if __name__ == "__main__":
    main()
