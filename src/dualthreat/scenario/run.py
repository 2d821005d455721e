"""Running a scenario: the baseline and the altered run of the framework, side by side for the allies.

1. **The framework as of the run.** A run that starts after the data (a forecast) uses the fitted model as
   given. A run that starts inside the data is a counterfactual history, run as of the data available then:
   the framework is refitted as of the first day after the run's last month (``as_of``: every row published
   later is left out, in every table, by :func:`dualthreat.measure.vintage.snapshot`), with a reference
   window that ends before ``start`` (its parameters are estimated on data before the counterfactual only;
   each indicator's scale rests on its first published data and does not move).
2. **Inputs altered.** A shock alters the figures of its indicator whose period overlaps the shocked months
   (:mod:`dualthreat.scenario.shocks`). Past the data's last month an indicator has no figure: the run adds
   one where its figures would fall (after its last, as often as its last figures came, and never more
   often than the ``L`` months a figure covers), at the value the baseline expects (its one-step
   prediction: for a list of dated events, the expected count), and the shock alters that value: "twice the
   ship-days" is twice what the baseline projects, in every figure, without compounding. Figures before
   ``start`` are never altered.
3. **Propagation.** Each threat component with an altered indicator, and China's backing of North Korea
   (the ``[[backing]]`` indicators), is re-filtered with its fitted parameters on the altered observations
   (:mod:`dualthreat.scenario.propagate`); the others are the same in both runs. The filter is the model's
   own (level + AR(1) transient): a one-month shock raises the component in its month, mostly through the
   transient, which then decays at the fitted rate ``phi``; what the filter reads as lasting moves the level.
   Past the data the filter projects the state with the same dynamics and its band widens. The mediator is
   the client's local threat times the backing, as in :mod:`dualthreat.model.mediator`. The posture
   measures are observed (UN votes and ideal points, events, coded alliance scope), not modelled from the
   threats: a scenario does not move them; the decision model stands for the allies' response.
4. **Uncertainty, by simulation.** ``draws`` draws of each component's monthly threat from its filtered
   distribution (antithetic pairs), and of the backing. The baseline and the scenario are drawn jointly
   (:func:`_coupled`): the uncertainty both runs share is one draw, so a difference is the scenario's
   effect and not noise between two runs; what one run knows and the other does not (the figures the
   scenario adds past the data, a count likelihood's tighter update) is that run's own draw, and widens the
   difference. Decisions: each draw of the features goes through one bootstrap replicate of the decision
   model (:mod:`dualthreat.scenario.decisions`); the probability of a direction is its mean over the run's
   months (a decision taken in a month of the run, each month alike). Every result is reported as baseline,
   scenario, and the difference with the 5% and 95% quantiles of its draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dualthreat.scenario.decisions import BootstrapDecisions
from dualthreat.scenario.propagate import Filtered, observation_matrix, refilter
from dualthreat.scenario.resolved import Resolved, ResolvedShock, ScenarioError
from dualthreat.scenario.shocks import COUNT_SCALE, DIFFERENCE, EVENTS, Scale, apply

LOWER_Q, UPPER_Q = 0.05, 0.95
CONTEXT_MONTHS = 24
MEDIATOR = "mediator"
BACKING = "backing"
THREAT_COLUMNS = ["ally", "level", "source", "month", "baseline_mean", "scenario_mean", "difference", "lower",
                  "upper"]
DECISION_COLUMNS = ["ally", "domain", "direction", "baseline_p", "scenario_p", "difference", "lower", "upper"]
SERIES_COLUMNS = ["ally", "level", "source", "month", "run", "mean", "lower", "upper"]
UNCHANGED = ("posture: the posture measures (UN ideal points and votes, event cooperation, alliance scope) "
             "are observed, not modelled from the threat components, so a scenario does not move them")


@dataclass
class ScenarioResult:
    """The run: ``threats`` and ``decisions`` (the difference from the baseline with its 90% interval),
    ``series`` (both runs month by month with bands, from ``CONTEXT_MONTHS`` before start; the backing has
    level ``backing``) and ``altered`` (every figure the scenario changed); ``framework`` is the fitted model
    the run used (for a counterfactual, the one fitted as of the run)."""

    scenario: dict[str, Any]
    threats: pd.DataFrame
    decisions: pd.DataFrame
    series: pd.DataFrame
    altered: pd.DataFrame = field(default_factory=pd.DataFrame)
    framework: Any = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """``{"scenario": ..., "threats": [...], "decisions": [...]}``, JSON-ready (NaN as None)."""
        def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else
                         (v.item() if isinstance(v, np.generic) else v)) for k, v in r.items()}
                    for r in df.to_dict("records")]

        return {"scenario": {**self.scenario, "altered": rows(self.altered)}, "threats": rows(self.threats),
                "decisions": rows(self.decisions)}


# ----------------------------------------------------------------------------------------------------
def framework_for(scenario: Any, model: Any, store: Any) -> tuple[Any, Resolved, pd.Period]:
    """The fitted framework the run uses, the scenario placed on its months (see the module's 1.), and the
    data's last month."""
    from dualthreat.model import DualThreatModel
    from dualthreat.model.cache import fit_cached

    if not hasattr(model, "threats_"):
        model = fit_cached(model, store)
    last = model.months_[-1]
    resolved = scenario.resolve(model.months_[0], last)
    if not resolved.counterfactual:
        return model, resolved, last
    as_of = pd.Timestamp(model.as_of) if model.as_of else None
    cut = (resolved.end + 1).to_timestamp()
    if resolved.end < last:  # the data go beyond the run: cut them at the run's end
        as_of = min(as_of, cut) if as_of is not None else cut
    ref_end = min(pd.Period(model.reference[1], freq="M"), resolved.start - 1)
    reference = (model.reference[0], str(ref_end))
    as_of_s = None if as_of is None else str(as_of.date())
    if as_of_s == model.as_of and tuple(model.reference) == reference:
        return model, resolved, last
    refit = fit_cached(DualThreatModel(
        model.theater_, start=model.start, end=model.end, reference=reference, as_of=as_of_s, level=model.level,
        with_posture=False, q_bounds=model.q_bounds, r_bounds=model.r_bounds, phi_bounds=model.phi_bounds,
        k_bounds=model.k_bounds, basis_months=model.basis_months), store)
    return refit, scenario.resolve(refit.months_[0], refit.months_[-1]), last


def run_scenario(scenario: Any, model: Any, store: Any, draws: int = 1000, seed: int = 0,
                 replicates: int = 100) -> ScenarioResult:
    """Run ``scenario`` (a :class:`~dualthreat.scenario.spec.Scenario`) against ``model`` (a
    :class:`~dualthreat.model.DualThreatModel`, fitted or not) on ``store``; see the module docstring."""
    if draws < 2 or replicates < 1:
        raise ValueError("draws must be at least 2 and replicates at least 1")
    from dualthreat.stats import one_blas_thread

    with one_blas_thread():
        model, resolved, data_last = framework_for(scenario, model, store)
        episodes = _episodes(store, model.theater_)
        run = _Run(scenario, model, episodes, resolved, data_last, draws + draws % 2, seed, replicates)
        run.stored_features = _stored_features(store, model, episodes)
        return run.result()


def _episodes(store: Any, theater: Any) -> pd.DataFrame:
    """The stored episodes of the theater's allies the decision model may learn from: those with a source
    URL, as in the out-of-time evaluation (:mod:`dualthreat.evaluate.episodes`)."""
    sql = ("SELECT episode_id, date, actor, domain, direction FROM episodes "
           "WHERE trim(coalesce(source_url, '')) <> '' ORDER BY date, episode_id")
    if store.is_open:
        eps = store.query(sql).to_pandas()
    else:
        with store:
            eps = store.query(sql).to_pandas()
    return eps[[theater.is_actor(a) for a in eps.actor]].reset_index(drop=True)


def _stored_features(store: Any, model: Any, episodes: pd.DataFrame) -> pd.DataFrame | None:
    """The out-of-time evaluation's features of the episodes (each from a fit as of its date), when the store
    holds them and ``model`` has the evaluation's settings; else None (the run's own estimates are used)."""
    import inspect

    from dualthreat.evaluate.episodes import stored_episode_features
    from dualthreat.model import DualThreatModel

    # every setting of the estimator but those the stored features do not depend on (the theater is in their
    # key, each is as of its own date, and they never read the posture): a new parameter is checked too
    settings = [p for n, p in inspect.signature(DualThreatModel.__init__).parameters.items()
                if n not in ("self", "theater", "as_of", "with_posture")]
    if episodes.empty or any(tuple(np.atleast_1d(getattr(model, p.name))) != tuple(np.atleast_1d(p.default))
                             for p in settings):
        return None
    if store.is_open:
        return stored_episode_features(store, list(episodes.date), model.theater_)
    with store:
        return stored_episode_features(store, list(episodes.date), model.theater_)


class _Run:
    def __init__(self, scenario: Any, model: Any, episodes: pd.DataFrame, resolved: Resolved,
                 data_last: pd.Period, draws: int, seed: int, replicates: int) -> None:
        self.scenario, self.model, self.episodes, self.resolved = scenario, model, episodes, resolved
        self.data_last = data_last
        self.draws, self.seed, self.replicates = draws, seed, replicates
        self.theater = model.theater_
        self.client = self.theater.client or self.theater.sources[-1]
        self.last = resolved.last_data_month
        self.grid = pd.period_range(model.months_[0], max(resolved.end, model.months_[-1]), freq="M")
        self.altered: list[dict[str, Any]] = []
        self.stored_features: pd.DataFrame | None = None  # the evaluation's as-of features (_stored_features)
        self.training_features = ""  # which features the decision model learned from (set by _decisions)
        self.where = {i.id: i.component for i in self.theater.indicators}
        self.where.update({i.id: BACKING for i in self.theater.backing})
        self.units = {i.id: i.unit for i in (*self.theater.indicators, *self.theater.backing)}
        facts = pd.concat([model.indicators_, model.backing_indicators_], ignore_index=True)
        self.facts = facts.drop_duplicates("indicator").set_index("indicator")

    # ------------------------------------------------------------------------------------------------
    def fits(self) -> dict[Any, Any]:
        return {**self.model.components_, BACKING: self.model.backing_fit_}

    def result(self) -> ScenarioResult:
        shocks = self.resolved.shocks
        filtered: dict[Any, tuple[Filtered, Filtered]] = {}
        for key, fit in self.fits().items():
            mine = [s for s in shocks if self.where.get(s.shock.indicator) == key]
            base = refilter(fit, observation_matrix(fit, self.grid), self.grid)
            filtered[key] = (base, self._altered_run(fit, base, mine) if mine else base)
        for s in shocks:
            if not any(a["shock"] == s.shock.index for a in self.altered):
                raise ScenarioError(self._no_figure(s))

        out_first = max(self.grid[0], self.resolved.start - CONTEXT_MONTHS)
        out = pd.period_range(out_first, self.resolved.end, freq="M")
        pos = np.asarray(self.grid.get_indexer(out))
        rng = np.random.default_rng(self.seed)
        draws: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        recent: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        for key in self.fits():
            b, s = filtered[key]
            draws[key] = _coupled(rng, self.draws, b.mean[pos], b.var[pos], s.mean[pos], s.var[pos])
            recent[key] = (b.recent[pos], s.recent[pos])
        bb, bs = draws[BACKING]
        for ally in self.theater.allies:
            xb, xs = draws[(ally, "local", self.client)]
            draws[(ally, MEDIATOR, self.client)] = (xb * bb, xs * bs)
            rb, rs = recent[(ally, "local", self.client)]
            recent[(ally, MEDIATOR, self.client)] = (rb & recent[BACKING][0], rs & recent[BACKING][1])

        run_mask = np.asarray(out >= self.resolved.start)
        threats, series = self._threat_tables(draws, out, run_mask)
        decisions, n_train = self._decisions(filtered, draws, recent, out, run_mask)
        info = self._info(n_train)
        altered = pd.DataFrame(self.altered).drop(columns=["shock"]) if self.altered else pd.DataFrame()
        return ScenarioResult(info, threats, decisions, series, altered, self.model)

    # ------------------------------------------------------------------------------------------------
    def _scale(self, col: Any) -> Scale:
        kind = self.facts["scale"].get(col.indicator) if "scale" in self.facts else None
        kind = str(kind) if isinstance(kind, str) else "as reported"
        differenced = kind.endswith(DIFFERENCE)
        base = kind[: -len(DIFFERENCE)] if differenced else kind
        if col.count:
            base = EVENTS
        elif base != COUNT_SCALE:
            base = "as reported"
        return Scale(base, col.reference_mean, col.reference_sd, self.units.get(col.indicator), differenced)

    def _altered_run(self, fit: Any, base: Filtered, shocks: list[ResolvedShock]) -> Filtered:
        alt = observation_matrix(fit, self.grid)
        recorded = np.asarray(self.grid <= self.last)
        # recorded figures whose period overlaps the shocked months
        for s in shocks:
            for j, col in enumerate(fit.columns):
                if col.indicator != s.shock.indicator:
                    continue
                for t in np.flatnonzero(recorded & ~np.isnan(alt[:, j])):
                    end = self.grid[t]
                    if _overlaps(end, col.months, s.months):
                        self._alter(alt, t, j, s, self._scale(col), end, col.months, "recorded")
        # past the data: a figure where the indicator's next ones would fall, at the value the baseline expects
        for s in shocks:
            j = self._forward_column(fit, s.shock.indicator)
            if j is None:
                continue
            col = fit.columns[j]
            ends = col.values.dropna().index
            ends = ends[ends <= self.last]
            if ends.empty:
                continue
            step = _cadence(ends, col.months)
            end = ends.max() + step
            while end <= self.grid[-1]:
                t = self.grid.get_loc(end)
                if end > self.last and _overlaps(end, col.months, s.months):
                    if np.isnan(alt[t, j]):
                        alt[t, j] = base.predicted[t, j]
                    self._alter(alt, t, j, s, self._scale(col), end, col.months, "projected")
                end = end + step
        return refilter(fit, alt, self.grid)

    def _alter(self, alt: np.ndarray, t: int, j: int, s: ResolvedShock, scale: Scale, end: pd.Period,
               months: int, kind: str) -> None:
        v0 = alt[t, j]
        try:
            v1, clipped = apply(s.shock.operation, s.shock.amount, v0, scale, end, months)
        except ValueError as exc:
            sc = self.scenario
            raise ScenarioError(f"{sc.file}:{s.shock.line}: shock[{s.shock.index}].{s.shock.operation}: "
                                f"{s.shock.indicator} is a change from the previous period: {exc}") from None
        alt[t, j] = v1
        raw = scale.raw_units
        self.altered.append({"shock": s.shock.index, "indicator": s.shock.indicator, "month": str(end),
                             "months_covered": months, "figure": kind,
                             "raw_before": scale.to_raw(v0, months) if raw else np.nan,
                             "raw_after": scale.to_raw(v1, months) if raw else np.nan,
                             "model_before": v0, "model_after": v1, "clipped": clipped})

    @staticmethod
    def _forward_column(fit: Any, indicator: str) -> int | None:
        """The column an indicator's next figures would be in: the one with the latest figure (the longer
        period on a tie)."""
        best = None
        for j, col in enumerate(fit.columns):
            if col.indicator != indicator or col.values.dropna().empty:
                continue
            rank = (col.values.dropna().index.max(), col.months)
            if best is None or rank > best[0]:
                best = (rank, j)
        return None if best is None else best[1]

    def _no_figure(self, s: ResolvedShock) -> str:
        sc = self.scenario
        where = f"{sc.file}:{s.shock.line}: shock[{s.shock.index}] ({s.shock.indicator})"
        span = f"{s.months[0]}" + (f" to {s.months[-1]}" if len(s.months) > 1 else "")
        row = self.facts.loc[s.shock.indicator] if s.shock.indicator in self.facts.index else None
        used = row.get("observations_used") if row is not None else None
        if row is None or used is None or pd.isna(used) or not used:
            table = row["table"] if row is not None else "?"
            why = row.get("standardised_on") if row is not None else None
            return (f"{where}: the indicator has no figure the model uses (table {table}: "
                    f"{why or 'no data'}), so there is nothing to alter")
        return (f"{where}: no figure of this indicator covers {span} (its figures run from {row['first']} to "
                f"{row['last']}; past the data's last month {self.last} a new one falls every period it covers, "
                "after its last): nothing to alter. Move the shock, or lengthen the horizon")

    # ------------------------------------------------------------------------------------------------
    def _threat_tables(self, draws: dict, out: pd.PeriodIndex, run_mask: np.ndarray
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows, series = [], []
        months = out.astype(str)
        keys = [(a, lvl, src) for a in self.theater.allies for lvl in (*self.theater.levels, MEDIATOR)
                for src in self.theater.sources if (a, lvl, src) in draws]
        for key in [*keys, BACKING]:
            xb, xs = draws[key]
            ally, level, source = key if key != BACKING else ("", BACKING, self.theater.backer or "")
            diff = xs - xb
            with np.errstate(all="ignore"):
                lo, hi = _quantiles(diff)
                for run, x in (("baseline", xb), ("scenario", xs)):
                    qlo, qhi = _quantiles(x)
                    series.append(pd.DataFrame({"ally": ally, "level": level, "source": source, "month": months,
                                                "run": run, "mean": x.mean(0), "lower": qlo, "upper": qhi}))
            if key != BACKING:
                rows.append(pd.DataFrame({"ally": ally, "level": level, "source": source, "month": months,
                                          "baseline_mean": xb.mean(0), "scenario_mean": xs.mean(0),
                                          "difference": diff.mean(0), "lower": lo, "upper": hi})[run_mask])
        return (pd.concat(rows, ignore_index=True)[THREAT_COLUMNS],
                pd.concat(series, ignore_index=True)[SERIES_COLUMNS])

    def _features(self, key: Any, f: Filtered, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A component's filtered mean and sd at grid positions ``idx``, NaN where it has no recent data."""
        ok = f.recent[idx]
        return np.where(ok, f.mean[idx], np.nan), np.where(ok, np.sqrt(f.var[idx]), np.nan)

    def _decisions(self, filtered: dict, draws: dict, recent: dict, out: pd.PeriodIndex, run_mask: np.ndarray
                   ) -> tuple[pd.DataFrame, int]:
        th = self.theater
        names = {f"{lvl}_{src}": (lvl, src) for lvl in th.levels for src in th.sources}
        cutoff = self.resolved.start.to_timestamp()
        if self.model.as_of:
            cutoff = min(cutoff, pd.Timestamp(self.model.as_of))
        episodes = self.episodes[pd.to_datetime(self.episodes.date) < cutoff].reset_index(drop=True)
        episodes = episodes[pd.PeriodIndex(pd.to_datetime(episodes.date), freq="M") >= self.grid[0]]
        episodes = episodes.reset_index(drop=True)
        if episodes.empty:
            return pd.DataFrame(columns=DECISION_COLUMNS), 0
        X = episodes[["date", "actor", "domain"]].copy()
        if self.stored_features is not None:
            # training features as the evaluation scores them: each from a fit as of the episode's date
            self.training_features = "as of each episode's date (the out-of-time evaluation's, from the store)"
            dates = pd.to_datetime(episodes.date)
            for ally in th.allies:
                at = self.stored_features[self.stored_features.ally == ally].set_index("as_of").reindex(dates)
                for name in (*names, MEDIATOR):
                    X[f"{ally}_{name}"] = at[name].to_numpy()
                    X[f"{ally}_{name}_sd"] = at[f"{name}_sd"].to_numpy()
        else:
            # the run's filtered estimates in each episode's month (sd from its band): data up to that month,
            # parameters and scales of the run's fit
            self.training_features = ("the run's filtered estimates in each episode's month (the as-of features "
                                      "are in the store after `dualthreat episodes evaluate`)")
            idx = np.asarray(self.grid.get_indexer(pd.PeriodIndex(pd.to_datetime(episodes.date), freq="M")))
            bm, bsd = self._features(BACKING, filtered[BACKING][0], idx)
            for ally in th.allies:
                for name, (lvl, src) in names.items():
                    X[f"{ally}_{name}"], X[f"{ally}_{name}_sd"] = self._features(
                        (ally, lvl, src), filtered[(ally, lvl, src)][0], idx)
                t, tsd = X[f"{ally}_local_{self.client}"].to_numpy(), X[f"{ally}_local_{self.client}_sd"].to_numpy()
                X[f"{ally}_{MEDIATOR}"] = t * bm
                X[f"{ally}_{MEDIATOR}_sd"] = np.sqrt(bm ** 2 * tsd ** 2 + t ** 2 * bsd ** 2)
        decider = BootstrapDecisions(self.replicates, self.seed, self.theater).fit(X, episodes.direction)

        run_months = out[run_mask]
        n_months = len(run_months)
        dates = np.tile(run_months.to_timestamp().to_numpy(), self.draws)

        def features(which: int) -> pd.DataFrame:  # one row per (draw, run month)
            cols: dict[str, Any] = {"date": dates}
            for ally in th.allies:
                for name, (lvl, src) in [*names.items(), (MEDIATOR, (MEDIATOR, self.client))]:
                    x = draws[(ally, lvl, src)][which][:, run_mask]
                    ok = recent[(ally, lvl, src)][which][run_mask]
                    cols[f"{ally}_{name}"] = np.where(ok[None, :], x, np.nan).ravel()
                    cols[f"{ally}_{name}_sd"] = np.zeros(x.size)  # a draw is a point: no band around it
            return pd.DataFrame(cols)

        fb, fs = features(0), features(1)
        assign = np.arange(self.draws) % self.replicates
        k = len(decider.classes_)
        pb = {c: np.empty((self.draws, k)) for c in decider.cells_}
        ps = {c: np.empty((self.draws, k)) for c in decider.cells_}
        for r in range(min(self.replicates, self.draws)):
            d = np.flatnonzero(assign == r)
            sel = (d[:, None] * n_months + np.arange(n_months)[None, :]).ravel()
            for f, p in ((fb, pb), (fs, ps)):
                scores = decider.scores(r, f.iloc[sel].reset_index(drop=True))
                for actor, domain in decider.cells_:
                    prob = decider.proba(r, actor, domain, scores)
                    p[(actor, domain)][d] = prob.reshape(len(d), n_months, -1).mean(axis=1)
        rows = []
        for cell in decider.cells_:
            diff = ps[cell] - pb[cell]
            lo, hi = _quantiles(diff)
            for j in decider.possible(cell[1]):
                rows.append({"ally": cell[0], "domain": cell[1], "direction": decider.classes_[j],
                             "baseline_p": float(pb[cell][:, j].mean()), "scenario_p": float(ps[cell][:, j].mean()),
                             "difference": float(diff[:, j].mean()), "lower": float(lo[j]), "upper": float(hi[j])})
        lam = pd.DataFrame([m.lambda_ for m in decider.models_])
        self.decision_facts = {"lambda": decider.models_[0].lambda_, "n_fit": decider.models_[0].n_fit_,
                               "lambda_positive": {a: float((lam[a] > 1e-6).mean()) for a in lam}}
        return pd.DataFrame(rows, columns=DECISION_COLUMNS), len(X)

    def _info(self, n_train: int) -> dict[str, Any]:
        sc, r = self.scenario, self.resolved
        facts = getattr(self, "decision_facts", {})
        lam = ", ".join(f"{a} {v:.2f}" for a, v in facts.get("lambda", {}).items())
        return {
            "name": sc.name, "file": sc.file, "note": sc.note,
            "kind": "counterfactual" if r.counterfactual else "forecast",
            "start": str(r.start), "end": str(r.end), "horizon": sc.horizon,
            "data_last_month": str(self.data_last), "as_of": self.model.as_of,
            "reference": list(map(str, self.model.reference)),
            "scale": self.model.scale_label_,
            "draws": self.draws, "replicates": self.replicates, "seed": self.seed,
            "interval": "90% (5% and 95% quantiles of the simulated differences)",
            "decision_model": (f"the framework's decision model (base rate tilted by the dual threat score; "
                               f"lambda {lam or 'none'}), {self.replicates} bootstrap fits on {n_train} episodes "
                               f"before {r.start}; training features "
                               f"{self.training_features}") if n_train else
                              "none: the theater has no coded decision episodes with a source URL before the run",
            "shocks": [{"indicator": s.shock.indicator, "operation": s.shock.operation, "amount": s.shock.amount,
                        "from": str(s.months[0]), "to": str(s.months[-1]), "note": s.shock.note}
                       for s in r.shocks],
            "unchanged": [UNCHANGED],
        }


# ----------------------------------------------------------------------------------------------------
def _cadence(ends: pd.PeriodIndex, months: int) -> int:
    """Months between an indicator's figures: the median gap between its last ones (an annual survey
    reported as a one-month figure comes once a year), never less than the months a figure covers."""
    ordered = ends.sort_values()[-6:]
    gaps = [(b - a).n for a, b in zip(ordered[:-1], ordered[1:], strict=True)]
    return max(months, int(np.median(gaps))) if gaps else months


def _overlaps(end: pd.Period, months: int, shocked: pd.PeriodIndex) -> bool:
    """Whether the figure ending in ``end`` and covering ``months`` months covers a shocked month."""
    return bool(((shocked > end - months) & (shocked <= end)).any())


def _coupled(rng: np.random.Generator, n: int, mean_b: np.ndarray, var_b: np.ndarray, mean_s: np.ndarray,
             var_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint draws of a component under the baseline and the scenario, month by month. The part of the
    variance both share is one draw; what one run knows less than the other is its own draw. So where the
    runs have the same information the difference is exactly the difference of the means, and a run that
    fixes figures the other leaves open differs from it by the uncertainty of those figures."""
    common = np.minimum(var_b, var_s)
    shared = _antithetic(rng, n, len(mean_b)) * np.sqrt(common)
    own_b = _antithetic(rng, n, len(mean_b)) * np.sqrt(var_b - common)
    own_s = _antithetic(rng, n, len(mean_b)) * np.sqrt(var_s - common)
    return mean_b + shared + own_b, mean_s + shared + own_s


def _antithetic(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    half = rng.standard_normal((n // 2, k))
    return np.vstack([half, -half])


def _quantiles(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.quantile(x, LOWER_Q, axis=0), np.quantile(x, UPPER_Q, axis=0)
