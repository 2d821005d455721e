"""Running a scenario: the baseline and the altered run of the framework, side by side for the allies.

1. **The framework as of the run.** A run that starts after the data (a forecast) uses the fitted model as
   given. A run that starts inside the data is a counterfactual history: the framework is refitted with the
   data available at the run's end (``as_of`` = the run's last month + 1 + the publication lag, so the
   figures of the run's own months are in and nothing published later is) and a reference window that ends
   before ``start`` (parameters and standardisation from data before the counterfactual only).
2. **Inputs altered.** A shock alters the figures of its indicator whose period overlaps the shocked months
   (:mod:`dualthreat.scenario.shocks`). Past the data's last month an indicator has no figure: the run adds
   one where its figures would fall (after its last, as often as its last figures came, and never more
   often than the ``L`` months a figure covers), at the value the baseline expects (its one-step
   prediction), and the shock alters that value: "twice the ship-days" is twice what the baseline projects,
   in every figure, without compounding. Figures before ``start`` are never altered.
3. **Propagation.** Each component with an altered indicator is re-filtered with its fitted parameters
   (:mod:`dualthreat.scenario.propagate`); the others are the same in both runs. Past the data the filter
   projects the state with the model's dynamics. The mediator is recomputed from the altered North Korean
   component and China's backing (itself an input a shock may alter). The posture measures are observed
   (UN votes and ideal points, events, coded alliance scope), not modelled from the threats: a scenario
   does not move them.
4. **Uncertainty, by simulation.** ``draws`` draws of each component's monthly threat from its filtered
   distribution (antithetic pairs), and of China's backing from its sd. The baseline and the scenario are
   drawn jointly (:func:`_coupled`): the uncertainty both runs share is one draw, so a difference is the
   scenario's effect and not noise between two runs; what the baseline does not know and the scenario
   fixes (the figures it adds past the data) is the baseline's own draw, and widens the difference.
   Decisions: each draw of the features goes through one bootstrap replicate of the decision model
   (:mod:`dualthreat.scenario.decisions`), the probability of a direction being its mean over the run's
   months (a decision taken in a month of the run, each month alike). Every result is reported as baseline,
   scenario, and the difference with the 5% and 95% quantiles of its draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dualthreat.measure.series import PUBLICATION_LAG_MONTHS
from dualthreat.scenario.decisions import DOMAIN_ALL, BootstrapForecaster
from dualthreat.scenario.propagate import Filtered, backing_by_month, observation_matrix, refilter
from dualthreat.scenario.resolved import MEDIATOR_INPUTS, Resolved, ResolvedShock, ScenarioError
from dualthreat.scenario.shocks import Scale, apply

LOWER_Q, UPPER_Q = 0.05, 0.95
CONTEXT_MONTHS = 24
MEDIATOR = "mediator"
THREAT_COLUMNS = ["ally", "level", "source", "month", "baseline_mean", "scenario_mean", "difference", "lower",
                  "upper"]
DECISION_COLUMNS = ["ally", "domain", "direction", "baseline_p", "scenario_p", "difference", "lower", "upper"]
UNCHANGED = ("posture: the posture measures (UN ideal points and votes, event cooperation, alliance scope) "
             "are observed, not modelled from the threat components, so a scenario does not move them")


@dataclass
class ScenarioResult:
    """The run: ``threats`` and ``decisions`` (the difference from the baseline with its 90% interval),
    ``series`` (both runs month by month with bands, from ``CONTEXT_MONTHS`` before start) and ``altered``
    (every figure the scenario changed); ``framework`` is the fitted model the run used (for a
    counterfactual, the one fitted as of the run)."""

    scenario: dict[str, Any]
    threats: pd.DataFrame
    decisions: pd.DataFrame
    series: pd.DataFrame
    altered: pd.DataFrame = field(default_factory=pd.DataFrame)
    framework: Any = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                    for r in df.to_dict("records")]

        return {"scenario": {**self.scenario, "altered": rows(self.altered)}, "threats": rows(self.threats),
                "decisions": rows(self.decisions)}


# ----------------------------------------------------------------------------------------------------
def framework_for(scenario: Any, model: Any, store: Any) -> tuple[Any, Resolved, pd.Period]:
    """The fitted framework the run uses, the scenario placed on its months (see the module's 1.), and the
    data's last month."""
    from dualthreat.model import DualThreatModel

    if not hasattr(model, "threats_"):
        model = model.fit(store)
    resolved = scenario.resolve(model.months_[0], model.months_[-1])
    last = model.months_[-1]
    if not resolved.counterfactual:
        return model, resolved, last
    as_of_month = resolved.end + 1 + PUBLICATION_LAG_MONTHS
    as_of = pd.Timestamp(model.as_of) if model.as_of else None
    if as_of_month <= last:
        as_of = min(as_of, as_of_month.to_timestamp()) if as_of is not None else as_of_month.to_timestamp()
    ref_end = min(pd.Period(model.reference[1], freq="M"), resolved.start - 1)
    reference = (model.reference[0], str(ref_end))
    same_as_of = (as_of is None and not model.as_of) or (
        as_of is not None and model.as_of and pd.Timestamp(model.as_of) == as_of)
    if same_as_of and tuple(model.reference) == reference:
        return model, resolved, last
    refit = DualThreatModel(model.theater_, start=model.start, end=model.end, reference=reference,
                            as_of=None if as_of is None else str(as_of.date()), level=model.level,
                            with_posture=False).fit(store)
    return refit, scenario.resolve(refit.months_[0], min(refit.months_[-1], last)), last


def run_scenario(scenario: Any, model: Any, store: Any, draws: int = 1000, seed: int = 0,
                 replicates: int = 200) -> ScenarioResult:
    """Run ``scenario`` (a :class:`~dualthreat.scenario.spec.Scenario`) against ``model`` (a
    :class:`~dualthreat.model.DualThreatModel`, fitted or not) on
    ``store``; see the module docstring for the method."""
    if not store.is_open:
        with store:
            return run_scenario(scenario, model, store, draws, seed, replicates)
    from threadpoolctl import threadpool_limits

    if draws < 2 or replicates < 1:
        raise ValueError("draws must be at least 2 and replicates at least 1")
    # small matrices: one BLAS thread each is many times faster than a pool fighting over the cores
    with threadpool_limits(1):
        model, resolved, data_last = framework_for(scenario, model, store)
        return _Run(scenario, model, store, resolved, data_last, draws + draws % 2, seed, replicates).result()


class _Run:
    def __init__(self, scenario: Any, model: Any, store: Any, resolved: Resolved, data_last: pd.Period,
                 draws: int, seed: int, replicates: int) -> None:
        self.scenario, self.model, self.store, self.resolved = scenario, model, store, resolved
        self.data_last = data_last
        self.draws, self.seed, self.replicates = draws, seed, replicates
        self.theater = model.theater_
        self.last = resolved.last_data_month
        self.grid = pd.period_range(model.months_[0], max(resolved.end, model.months_[-1]), freq="M")
        self.altered: list[dict[str, Any]] = []
        self.by_indicator = {i.id: i for i in self.theater.indicators}

    # ------------------------------------------------------------------------------------------------
    def result(self) -> ScenarioResult:
        shocks = self.resolved.shocks
        filtered = {}
        for key, fit in self.model.components_.items():
            mine = [s for s in shocks if s.shock.indicator in self.by_indicator
                    and self.by_indicator[s.shock.indicator].component == key]
            base = refilter(fit, observation_matrix(fit, self.grid), self.grid)
            filtered[key] = (base, self._altered_run(fit, base, mine) if mine else base)
        backing = backing_by_month(self.store, self.model, self.grid)
        backing_s = self._altered_backing(backing, [s for s in shocks if s.shock.indicator in MEDIATOR_INPUTS])
        for s in shocks:
            if not any(a["shock"] == s.shock.index for a in self.altered):
                raise ScenarioError(self._no_figure(s))

        out_first = max(self.grid[0], self.resolved.start - CONTEXT_MONTHS)
        out = pd.period_range(out_first, self.resolved.end, freq="M")
        pos = np.asarray(self.grid.get_indexer(out))
        rng = np.random.default_rng(self.seed)
        draws = {}
        for key in self.model.components_:
            b, s = filtered[key]
            draws[key] = _coupled(rng, self.draws, b.mean[pos], b.var[pos], s.mean[pos], s.var[pos])
        years = sorted(set(backing["year_used"]))
        zb = _antithetic(rng, self.draws, len(years))[:, [years.index(y) for y in backing["year_used"].iloc[pos]]]
        bb = backing["backing"].to_numpy()[pos] + backing["backing_sd"].to_numpy()[pos] * zb
        bs = backing_s["backing"].to_numpy()[pos] + backing_s["backing_sd"].to_numpy()[pos] * zb
        prk = "PRK" if "PRK" in self.theater.sources else self.theater.sources[-1]
        for ally in self.theater.allies:
            xb, xs = draws[(ally, "local", prk)]
            draws[(ally, MEDIATOR, prk)] = (xb * bb, xs * bs)

        run_mask = np.asarray(out >= self.resolved.start)
        threats, series = self._threat_tables(draws, out, run_mask)
        decisions, n_train = self._decisions(filtered, backing, draws, run_mask)
        info = self._info(n_train)
        altered = pd.DataFrame(self.altered).drop(columns=["shock"]) if self.altered else pd.DataFrame()
        return ScenarioResult(info, threats, decisions, series, altered, self.model)

    # ------------------------------------------------------------------------------------------------
    def _scale(self, fit: Any, j: int) -> Scale:
        col = fit.columns[j]
        ind = self.model.indicators_
        kind = ind.loc[ind.indicator == col.indicator, "scale"].dropna()
        return Scale(str(kind.iloc[0]) if len(kind) else "as reported", col.reference_mean, col.reference_sd,
                     self.by_indicator[col.indicator].unit)

    def _altered_run(self, fit: Any, base: Filtered, shocks: list[ResolvedShock]) -> Filtered:
        alt = observation_matrix(fit, self.grid)
        recorded = np.asarray(self.grid <= self.last)
        # recorded figures whose period overlaps the shocked months
        for s in shocks:
            for j, col in enumerate(fit.columns):
                if col.indicator != s.shock.indicator:
                    continue
                scale = self._scale(fit, j)
                for t in np.flatnonzero(recorded & ~np.isnan(alt[:, j])):
                    end = self.grid[t]
                    if _overlaps(end, col.months, s.months):
                        self._alter(alt, t, j, s, scale, end, col.months, "recorded")
        # past the data: a figure where the indicator's next ones would fall, at the value the baseline expects
        predicted = base.predicted
        for s in shocks:
            j = self._forward_column(fit, s.shock.indicator)
            if j is None:
                continue
            col = fit.columns[j]
            ends = col.values.dropna().index
            step = _cadence(ends, col.months)
            end = ends.max() + step
            while end <= self.grid[-1]:
                t = self.grid.get_loc(end)
                if end > self.last and _overlaps(end, col.months, s.months):
                    if np.isnan(alt[t, j]):
                        alt[t, j] = predicted[t, j]
                    self._alter(alt, t, j, s, self._scale(fit, j), end, col.months, "projected")
                end = end + step
        return refilter(fit, alt, self.grid)

    def _alter(self, alt: np.ndarray, t: int, j: int, s: ResolvedShock, scale: Scale, end: pd.Period,
               months: int, kind: str) -> None:
        z0 = alt[t, j]
        z1, clipped = apply(s.shock.operation, s.shock.amount, z0, scale, end, months)
        alt[t, j] = z1
        self.altered.append({"shock": s.shock.index, "indicator": s.shock.indicator, "month": str(end),
                             "months_covered": months, "figure": kind,
                             "raw_before": scale.to_raw(z0, months),
                             "raw_after": scale.to_raw(z1, months), "z_before": z0, "z_after": z1,
                             "clipped": clipped})

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

    def _altered_backing(self, backing: pd.DataFrame, shocks: list[ResolvedShock]) -> pd.DataFrame:
        out = backing.copy()
        if not shocks:
            return out
        scale = Scale("as reported", float(backing["distance_mean"].iloc[0]), float(backing["distance_sd"].iloc[0]),
                      "distance")
        for s in shocks:
            for t in np.flatnonzero(np.asarray(self.grid.isin(s.months)) & out["distance"].notna().to_numpy()):
                z0 = float(-out.at[t, "backing"])  # the distance's z-score
                z1, clipped = apply(s.shock.operation, s.shock.amount, z0, scale, self.grid[t], 12)
                out.at[t, "backing"] = -z1
                out.at[t, "distance"] = scale.to_raw(z1, 12)
                self.altered.append({"shock": s.shock.index, "indicator": s.shock.indicator,
                                     "month": str(self.grid[t]), "months_covered": 12,
                                     "figure": f"in effect (year {int(out.at[t, 'year_used'])})",
                                     "raw_before": scale.to_raw(z0, 12), "raw_after": scale.to_raw(z1, 12),
                                     "z_before": z0, "z_after": z1, "clipped": clipped})
        return out

    def _no_figure(self, s: ResolvedShock) -> str:
        sc = self.scenario
        where = f"{sc.file}:{s.shock.line}: shock[{s.shock.index}] ({s.shock.indicator})"
        span = f"{s.months[0]}" + (f" to {s.months[-1]}" if len(s.months) > 1 else "")
        ind = self.model.indicators_
        row = ind[ind.indicator == s.shock.indicator]
        if s.shock.indicator in MEDIATOR_INPUTS:
            return f"{where}: China's backing has no value in effect in {span}: nothing to alter"
        if row.empty or not row["observations"].fillna(0).sum():
            table = row["table"].iloc[0] if len(row) else "?"
            return f"{where}: the indicator has no figure in the store (table {table}), so there is nothing to alter"
        first, last = row["first"].iloc[0], row["last"].iloc[0]
        return (f"{where}: no figure of this indicator covers {span} (its figures run from {first} to {last}; "
                f"past the data's last month {self.last} a new one falls every period it covers, after its "
                "last): nothing to alter. Move the shock, or lengthen the horizon")

    # ------------------------------------------------------------------------------------------------
    def _threat_tables(self, draws: dict, out: pd.PeriodIndex, run_mask: np.ndarray
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows, series = [], []
        levels = [*self.theater.levels, MEDIATOR]
        for ally in self.theater.allies:
            for level in levels:
                for source in self.theater.sources:
                    if (ally, level, source) not in draws:
                        continue
                    xb, xs = draws[(ally, level, source)]
                    diff = xs - xb
                    with np.errstate(all="ignore"):
                        lo, hi = _quantiles(diff)
                        for run, x in (("baseline", xb), ("scenario", xs)):
                            qlo, qhi = _quantiles(x)
                            series.append(pd.DataFrame({"ally": ally, "level": level, "source": source,
                                                        "month": out.astype(str), "run": run, "mean": x.mean(0),
                                                        "lower": qlo, "upper": qhi}))
                    rows.append(pd.DataFrame({"ally": ally, "level": level, "source": source,
                                              "month": out.astype(str), "baseline_mean": xb.mean(0),
                                              "scenario_mean": xs.mean(0), "difference": diff.mean(0),
                                              "lower": lo, "upper": hi})[run_mask])
        return (pd.concat(rows, ignore_index=True)[THREAT_COLUMNS],
                pd.concat(series, ignore_index=True))

    def _decisions(self, filtered: dict, backing: pd.DataFrame, draws: dict, run_mask: np.ndarray
                   ) -> tuple[pd.DataFrame, int]:
        from dualthreat.evaluate.episodes import FEATURES

        th = self.theater
        prk = "PRK" if "PRK" in th.sources else th.sources[-1]
        names = {f"{lvl}_{src}": (lvl, src) for lvl in th.levels for src in th.sources}
        episodes = self.store.query("SELECT episode_id, date, actor, domain, direction FROM episodes").to_pandas()
        cutoff = self.resolved.start.to_timestamp()
        if self.model.as_of:
            cutoff = min(cutoff, pd.Timestamp(self.model.as_of))
        episodes = episodes[pd.to_datetime(episodes.date) < cutoff].reset_index(drop=True)
        if episodes.empty:
            return pd.DataFrame(columns=DECISION_COLUMNS), 0
        # training features: the baseline's filtered estimates in each episode's month
        idx = self.grid.get_indexer(pd.PeriodIndex(pd.to_datetime(episodes.date), freq="M"))
        per_ally = {}
        for ally in th.allies:
            f = {}
            for name, (lvl, src) in names.items():
                f[name] = filtered[(ally, lvl, src)][0].mean[idx]
            f["mediator"] = f[f"local_{prk}"] * backing["backing"].to_numpy()[idx]
            per_ally[ally] = pd.DataFrame(f)
        feats = []
        for i, actor in enumerate(episodes.actor):
            allies = [a for a in th.allies if a in actor.split("-")] or list(th.allies)
            feats.append(pd.concat([per_ally[a].iloc[[i]] for a in allies]).mean())
        train = pd.concat([episodes, pd.DataFrame(feats)[FEATURES]], axis=1)
        forecaster = BootstrapForecaster(self.replicates, self.seed).fit(train)

        def features(ally: str, which: int) -> np.ndarray:  # (draws, run months, features)
            cols = []
            for name in FEATURES:
                key = (ally, MEDIATOR, prk) if name == "mediator" else (ally, *names[name])
                cols.append(draws[key][which][:, run_mask])
            return np.stack(cols, axis=-1)

        rows = []
        actors = [a for a in forecaster.actors_]
        for actor in actors:
            allies = [a for a in th.allies if a in actor.split("-")] or list(th.allies)
            fb = np.mean([features(a, 0) for a in allies], axis=0)
            fs = np.mean([features(a, 1) for a in allies], axis=0)
            pb, ps = np.empty((self.draws, len(forecaster.classes_))), np.empty((self.draws, len(forecaster.classes_)))
            assign = np.arange(self.draws) % self.replicates
            n_months = fb.shape[1]
            for r in range(min(self.replicates, self.draws)):
                d = np.flatnonzero(assign == r)
                for f, p in ((fb, pb), (fs, ps)):
                    x = forecaster.design(actor, f[d].reshape(-1, len(FEATURES)))
                    p[d] = forecaster.predict_proba(r, x).reshape(len(d), n_months, -1).mean(axis=1)
            diff = ps - pb
            lo, hi = _quantiles(diff)
            for k, direction in enumerate(forecaster.classes_):
                rows.append({"ally": actor, "domain": DOMAIN_ALL, "direction": direction,
                             "baseline_p": float(pb[:, k].mean()), "scenario_p": float(ps[:, k].mean()),
                             "difference": float(diff[:, k].mean()), "lower": float(lo[k]), "upper": float(hi[k])})
        return pd.DataFrame(rows, columns=DECISION_COLUMNS), len(train)

    def _info(self, n_train: int) -> dict[str, Any]:
        sc, r = self.scenario, self.resolved
        return {
            "name": sc.name, "file": sc.file, "note": sc.note,
            "kind": "counterfactual" if r.counterfactual else "forecast",
            "start": str(r.start), "end": str(r.end), "horizon": sc.horizon,
            "data_last_month": str(self.data_last), "as_of": self.model.as_of,
            "reference": list(map(str, self.model.reference)),
            "draws": self.draws, "replicates": self.replicates, "seed": self.seed,
            "interval": "90% (5% and 95% quantiles of the simulated differences)",
            "decision_model": f"episode forecaster (multinomial logit on the threat components and mediator), "
                              f"{self.replicates} bootstrap fits on {n_train} episodes before {r.start}; "
                              "it does not condition on the domain",
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
    variance both share is one draw; what one run knows less than the other (the baseline, past the data,
    does not know the figures the scenario fixes) is its own draw. So where the runs have the same
    information the difference is exactly the difference of the means, and a run that fixes figures the
    other leaves open differs from it by the uncertainty of those figures."""
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
