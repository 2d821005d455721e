"""How much each verdict depends on choices of measurement: the hypotheses rerun across specifications.

Specifications (:func:`specifications`):

* ``baseline``: the model as the hypotheses table fits it;
* ``leave_one_out``: the theater minus one indicator, for every indicator that has data (the theater is
  rebuilt without it, :func:`dataclasses.replace`; nothing is patched);
* ``reference``: other reference windows for standardisation and parameter estimation (1996-2010,
  2001-2015 by default, against 1996-2015);
* ``variance_bounds``: other bounds for the threat model's state and observation variances (``Q_BOUNDS``,
  ``R_BOUNDS`` of :mod:`dualthreat.model.threat`). They run only when :class:`DualThreatModel` takes them as
  parameters (``q_bounds``, ``r_bounds``); otherwise the row says so and is not run.

For each specification the model is refitted (without the posture measures, which no specification
changes) and every test that reads the threat model is rerun; the others keep the baseline's findings, but
every table is assembled afresh, since the multiple-testing correction covers the whole family. A
hypothesis whose verdict is not the same in every specification that ran is **fragile**.

Cost: one model fit per specification, sharing with the others what does not change
(:class:`dualthreat.model.dualthreat.SharedFits`: every indicator's observations are read once; leaving out an
indicator refits only its component; another window or other bounds re-scale or refit, but read nothing
again). Each specification's table of verdicts (not its model) goes to the store's fit cache, so that a
second call on the same data (``dualthreat report`` after ``dualthreat run``) answers without refitting. Measured times are
in ``docs/hypotheses.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dualthreat.evaluate.evidence import Evidence
from dualthreat.evaluate.hypotheses import PERIODS, REGISTRY, Hypothesis, collect_findings, tabulate
from dualthreat.model import DualThreatModel
from dualthreat.model.cache import cache_key, fit_cached
from dualthreat.model.dualthreat import SharedFits
from dualthreat.store import Store
from dualthreat.store import cache as store_cache
from dualthreat.theater import Theater, load_theater

BASELINE_REFERENCE = ("1996-01", "2015-12")
REFERENCE_WINDOWS: tuple[tuple[str, str], ...] = (("1996-01", "2010-12"), ("2001-01", "2015-12"))
# other variance bounds: a lower floor for the state variance (less smoothing), a higher floor (more
# movement), and a higher floor for the observation variances (indicators trusted less)
VARIANCE_BOUNDS: tuple[dict[str, tuple[float, float]], ...] = (
    {"q_bounds": (1e-4, 0.5)}, {"q_bounds": (1e-2, 0.5)}, {"r_bounds": (0.1, 4.0)})


@dataclass(frozen=True)
class Specification:
    """One way of fitting the threat model: a name, its kind and the model's parameters."""

    name: str
    kind: str  # baseline, leave_one_out, reference, variance_bounds
    theater: Theater
    reference: tuple[str, str] = BASELINE_REFERENCE
    params: dict[str, Any] = field(default_factory=dict)  # further DualThreatModel parameters

    def runnable(self) -> str | None:
        """None when DualThreatModel accepts the parameters, else why not."""
        accepted = inspect.signature(DualThreatModel.__init__).parameters
        missing = [p for p in self.params if p not in accepted]
        if missing:
            return (f"not run: DualThreatModel takes no {', '.join(missing)} parameter (the bounds are module "
                    "constants of dualthreat.model.threat)")
        return None

    def model(self) -> DualThreatModel:
        return DualThreatModel(self.theater, reference=self.reference, with_posture=False, **self.params)

    def key(self) -> tuple:
        return (self.name, tuple(i.id for i in self.theater.indicators), self.reference,
                tuple(sorted(self.params.items())))


def specifications(theater: Theater | None = None, indicators: Sequence[str] | None = None,
                   reference_windows: Sequence[tuple[str, str]] = REFERENCE_WINDOWS,
                   variance_bounds: Sequence[dict[str, tuple[float, float]]] = VARIANCE_BOUNDS
                   ) -> list[Specification]:
    """The baseline, the theater minus each of ``indicators`` (default: all), the other reference windows and
    the other variance bounds."""
    theater = theater or load_theater()
    specs = [Specification("baseline", "baseline", theater)]
    ids = [i.id for i in theater.indicators] if indicators is None else list(indicators)
    known = {i.id for i in theater.indicators}
    for ind in ids:
        if ind not in known:
            raise ValueError(f"indicator {ind!r} is not in the theater {theater.name!r}")
        kept = tuple(i for i in theater.indicators if i.id != ind)
        specs.append(Specification(f"without {ind}", "leave_one_out", dataclasses.replace(theater, indicators=kept)))
    for ref in reference_windows:
        specs.append(Specification(f"reference {ref[0][:4]}-{ref[1][:4]}", "reference", theater, tuple(ref)))
    for bounds in variance_bounds:
        label = ", ".join(f"{k} {v[0]:g}-{v[1]:g}" for k, v in bounds.items())
        specs.append(Specification(f"variance {label}", "variance_bounds", theater, params=dict(bounds)))
    return specs


class SensitivityAnalysis:
    """The verdicts of every hypothesis across specifications.

    Parameters
    ----------
    specs : the specifications (default: :func:`specifications` with every indicator that has data).
    registry, periods : the hypotheses and the periods of :mod:`dualthreat.evaluate.hypotheses`.

    After ``fit(store)``: ``verdicts_`` (one row per specification, hypothesis and period: verdict,
    estimate, q-value, N), ``summary_`` (one row per hypothesis and period: the baseline verdict, the verdicts
    seen, the specifications that flip it, ``fragile``), ``runs_`` (one row per specification: status and
    seconds) and ``seconds_`` (the whole run).
    """

    def __init__(self, specs: Sequence[Specification] | None = None, registry: Sequence[Hypothesis] = REGISTRY,
                 periods: Sequence[tuple[str, int | None, int | None]] = PERIODS) -> None:
        self.specs = specs
        self.registry = registry
        self.periods = periods

    def fit(self, store: Store, evidence: Evidence | None = None,
            shared: SharedFits | None = None) -> SensitivityAnalysis:
        """``evidence``: the baseline's, when the caller has it (the report's): its model, posture, triangle and
        home front are used as they are, not fitted again. ``shared``: what the baseline's fit computed
        (:class:`~dualthreat.model.dualthreat.SharedFits`), when the caller fitted it with one. A
        specification whose table the store's cache holds for the current data and code is not refitted."""
        started = time.perf_counter()
        shared = shared if shared is not None and shared.serves(store) else SharedFits(store)
        if evidence is None:
            evidence = Evidence(fit_cached(DualThreatModel(), store, shared=shared), store)
        base_model, base = evidence.model, evidence
        base_findings = collect_findings(base, self.registry, self.periods)
        specs = list(self.specs) if self.specs is not None else specifications(
            base_model.theater_, indicators=_with_data(base_model))
        version = store_cache.data_version(store) if store.exists() else None  # what the tables are computed from
        keys = [self._key(spec, base_model) if spec.kind != "baseline" and not spec.runnable() else None
                for spec in specs]
        cached = store_cache.read_many(store, [k for k in keys if k])
        frames, runs, fresh = [], [], {}
        for spec, key in zip(specs, keys):
            t0 = time.perf_counter()
            reason = spec.runnable()
            if reason:
                runs.append({"specification": spec.name, "kind": spec.kind, "status": reason, "seconds": 0.0})
                continue
            if spec.kind == "baseline":
                table = tabulate(base_findings, self.registry, self.periods).to_frame(periods=True)
            else:
                table = _unpickled(cached.get(key))
                if table is None:
                    model = spec.model().fit(store, shared=shared)
                    ev = Evidence(model, store, posture=base_model.posture_, cache=base.cache)
                    findings = collect_findings(ev, self.registry, self.periods, reuse=base_findings)
                    table = tabulate(findings, self.registry, self.periods).to_frame(periods=True)
                    fresh[key] = pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)
            frames.append(table.assign(specification=spec.name, spec_kind=spec.kind))
            runs.append({"specification": spec.name, "kind": spec.kind, "status": "run",
                         "seconds": round(time.perf_counter() - t0, 2)})
        if version is not None:
            store_cache.write_many(store, fresh, version)  # not if a load changed the data meanwhile
        self.verdicts_ = pd.concat(frames, ignore_index=True)
        self.runs_ = pd.DataFrame(runs)
        self.summary_ = _summary(self.verdicts_)
        self.seconds_ = time.perf_counter() - started
        return self

    def _key(self, spec: Specification, baseline: DualThreatModel) -> str:
        """The cache key of a specification's table: its model's key (class, parameters, code), the baseline's
        (whose findings the tests that do not read the threat model keep) and the tests run."""
        tests = [f"{h.id}|{h.test.__module__}.{h.test.__qualname__}|{h.uses_model}|{h.splits}" for h in self.registry]
        parts = ["sensitivity", cache_key(spec.model()), cache_key(baseline), *tests, *map(repr, self.periods)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def sensitivity_table(store: Store, specs: Sequence[Specification] | None = None,
                      evidence: Evidence | None = None, shared: SharedFits | None = None) -> pd.DataFrame:
    """For the report: one row per hypothesis (whole record): the baseline verdict, the verdicts across the
    specifications that ran, how many flip it, which, and whether it is fragile (``evidence``: the baseline's,
    see :meth:`SensitivityAnalysis.fit`)."""
    s = SensitivityAnalysis(specs).fit(store, evidence, shared).summary_
    return s[s.period == "all"].drop(columns="period").reset_index(drop=True)


def _with_data(model: DualThreatModel) -> list[str]:
    """The theater's indicators that fed the fitted model (leaving out one without data changes nothing)."""
    ind = model.indicators_
    return ind.loc[ind["observations"] > 0, "indicator"].drop_duplicates().tolist()


def _unpickled(blob: bytes | None) -> pd.DataFrame | None:
    """A cached table, or None if there is none or it cannot be read (written by another pandas, say): refit."""
    if blob is None:
        return None
    try:
        return pickle.loads(blob)
    except Exception:  # noqa: BLE001 - an unreadable entry is refitted, never fatal
        return None


def _summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (hid, period), g in verdicts.groupby(["id", "period"], sort=False):
        base = g[g.spec_kind == "baseline"]
        baseline = base["verdict"].iloc[0] if len(base) else None
        seen = g["verdict"].fillna("error")
        flips = g[seen != (baseline or "error")]
        rows.append({"id": hid, "period": period, "baseline": baseline, "specifications": len(g),
                     "verdicts": ", ".join(f"{v} {n}" for v, n in seen.value_counts().items()),
                     "flips": len(flips), "flipped_by": "; ".join(
                         f"{spec}: {v}" for spec, v in zip(flips.specification, seen[flips.index])),
                     "fragile": bool(len(flips))})
    out = pd.DataFrame(rows)
    ids = {hid: i for i, hid in enumerate(dict.fromkeys(verdicts["id"]))}
    periods = {p: i for i, p in enumerate(dict.fromkeys(verdicts["period"]))}
    return out.sort_values(["id", "period"], key=lambda s: s.map(ids if s.name == "id" else periods)
                           ).reset_index(drop=True)
