"""The dual threat framework as an estimator: ``DualThreatModel(theater).fit(store)``.

After ``fit`` the model holds, as tidy tables:

* ``threats_``: T[ally, level, source, month], filtered and smoothed, with mean and a band (see
  :mod:`dualthreat.model.threat`), its lasting (``level``) and fading (``transient``) parts, the number of
  observations behind each month and a ``coverage`` flag: ``data``, ``no recent data`` (nothing in the
  previous 24 months) or ``prior only`` (no observation yet: the filtered estimate is then left empty rather
  than showing the prior as a measurement);
* ``indicators_``: what fed each component (observations, first and last month, scale and its basis, weight);
* ``gaps_``: the periods in which a component had no data in the previous 24 months;
* ``input_changes_``: the months in which one of a component's main inputs (weight >= 0.10) starts or ends:
  there the estimate may move with the change of inputs rather than of the threat;
* ``backing_``: China's backing of North Korea, a latent monthly series from the theater's backing indicators;
* ``mediator_``: the North Korean threat to each ally times that backing (:mod:`dualthreat.model.mediator`);
* ``posture_``: alignment with the patron and with China (:mod:`dualthreat.model.posture`).

With ``as_of`` the model is fitted on the store as it stood then (:func:`dualthreat.measure.vintage.snapshot`:
every row published on or after the date is left out, in every table, before anything is read). Each
indicator keeps one scale at every as-of date (its basis, :func:`dualthreat.model.threat.standardise`), so an
estimate for a month is on the same scale whatever the date of the fit. Filtered estimates use data up to
their month only; forecasts and evaluations must use them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from dualthreat.measure.indicators import resolve_indicators
from dualthreat.measure.series import EVENT_SCALE, SERIES_TABLES, TABLES_READ, month, observations
from dualthreat.measure.vintage import AsOfStore, snapshot
from dualthreat.model.mediator import mediator
from dualthreat.model.threat import (
    BASIS_MONTHS,
    K_BOUNDS,
    PHI_BOUNDS,
    Q_BOUNDS,
    R_BOUNDS,
    Bounds,
    Column,
    ComponentFit,
    fit_component,
    standardise,
)
from dualthreat.stats import one_blas_thread
from dualthreat.store import Store
from dualthreat.tables import TABLES
from dualthreat.theater import Indicator, Theater, load_theater

NO_DATA_MONTHS = 24  # a month with no observation in the previous 24 months is flagged "no recent data"
INPUT_CHANGE_WEIGHT = 0.10  # an input of at least this weight is a main one (``input_changes_``)


class SharedFits:
    """What several fits of one store have in common, computed once: pass one ``SharedFits(store)`` to the fits
    of the sensitivity analysis's specifications, or to the fits as of many dates of the rolling origin
    (``model.fit(store, shared=...)``).

    It keeps each indicator's observations, its model columns for a given scale (start, reference window,
    basis span) and a component's fit for the same columns, months, window and bounds (leaving one indicator
    out changes one component of eight). A fit as of a date reads the store's rows public then
    (:class:`~dualthreat.measure.vintage.AsOfStore`): its observations are keyed by how many rows of each table
    the indicator reads were public (:data:`~dualthreat.measure.series.TABLES_READ`), the same rows for the
    same counts, so a date reuses every indicator whose tables gained no row since an earlier date (one pass
    over the data in publication order, rather than every date reading everything). Every result is the one a
    separate fit computes, because each is a function of exactly what its key holds.

    Valid only for ``store`` as it is now: a fit on another store, or after a load that changed the data,
    shares nothing (``version``: the data version it is valid for; by default read from ``store``). Fits as of
    dates keep only what the previous fit used, so that memory stays that of about two fits.
    """

    def __init__(self, store: Store, *, version: str | None = "read") -> None:
        self.store = store
        self.version = _version(store) if version == "read" else version
        self.observations: dict[tuple, pd.DataFrame] = {}
        self.columns: dict[tuple, tuple[list[Column], dict]] = {}
        self.components: dict[tuple, tuple[tuple[Column, ...], ComponentFit]] = {}
        self.resolved: dict[tuple, pd.DataFrame] = {}
        self._last_month: dict[str | None, pd.Period] = {}
        self._used: set[tuple[str, tuple]] = set()

    def serves(self, store: Store) -> bool:
        """True for the same store object (or the store as of a date of it) with the same data as when this
        was made."""
        source = store.source if isinstance(store, AsOfStore) else store
        return source is self.store and _version(source) == self.version

    def begin(self, store: Store) -> None:
        """Start a fit on ``store``: before a fit as of a date, drop what the previous fit did not use."""
        if isinstance(store, AsOfStore) and self._used:
            for name in ("observations", "columns", "components", "resolved"):
                memo = getattr(self, name)
                for key in [k for k in memo if (name, k) not in self._used]:
                    del memo[key]
        self._used = set()

    def get(self, name: str, key: tuple, make: Callable[[], Any]) -> Any:  # noqa: ANN401 - any memo's value
        """The value of memo ``name`` under ``key``, made by ``make()`` the first time."""
        memo = getattr(self, name)
        if key not in memo:
            memo[key] = make()
        self._used.add((name, key))
        return memo[key]

    def source_last_month(self, model: DualThreatModel) -> pd.Period:
        """The last month of the source's data for ``model`` (its ``end``), fitted without a date."""
        if model.end not in self._last_month:
            self._last_month[model.end] = model._last_month(self.store, None)
        return self._last_month[model.end]


def _public_rows(store: Store, tables: tuple[str, ...], series: str | None = None) -> tuple[int, ...]:
    """As of a date, how many rows of ``tables`` were public (they name the rows; of a table read by series,
    its rows of ``series``); else () (all the store's)."""
    if not isinstance(store, AsOfStore):
        return ()
    return tuple(store.public_rows(t, series if t in SERIES_TABLES else None) for t in tables)


def _version(store: Store) -> str | None:
    from dualthreat.store.cache import data_version

    return data_version(store) if store.exists() else None


class DualThreatModel:
    """Fit the eight threat components of a theater, China's backing of North Korea, the mediator and the posture.

    Parameters
    ----------
    theater : the theater (default: the packaged Northeast Asia theater).
    start, end : first and last month estimated ("YYYY-MM"); ``end`` defaults to the last month with data.
    reference : the reference window ("YYYY-MM", "YYYY-MM"): the parameters are estimated on it, and each
        indicator's scale rests on its first data published from the window's start.
    as_of : a date; only data published before it are used (no look-ahead).
    level : coverage of the bands (default 0.90).
    with_posture : also compute the posture measures (skip them when only threats are needed).
    q_bounds, r_bounds, phi_bounds, k_bounds : the box of the maximum-likelihood estimates (level variance,
        observation variance, transient decay, transient variance).
    basis_months : the span of data an indicator's scale needs (see :func:`~dualthreat.model.threat.standardise`).
    """

    def __init__(self, theater: Theater | None = None, start: str = "1995-01", end: str | None = None,
                 reference: tuple[str, str] = ("1996-01", "2015-12"), as_of: str | None = None,
                 level: float = 0.90, with_posture: bool = True, q_bounds: tuple[float, float] = Q_BOUNDS,
                 r_bounds: tuple[float, float] = R_BOUNDS, phi_bounds: tuple[float, float] = PHI_BOUNDS,
                 k_bounds: tuple[float, float] = K_BOUNDS, basis_months: int = BASIS_MONTHS) -> None:
        self.theater = theater
        self.start = start
        self.end = end
        self.reference = reference
        self.as_of = as_of
        self.level = level
        self.with_posture = with_posture
        self.q_bounds = q_bounds
        self.r_bounds = r_bounds
        self.phi_bounds = phi_bounds
        self.k_bounds = k_bounds
        self.basis_months = basis_months

    # ------------------------------------------------------------------------------------------------
    def fit(self, store: Store, shared: SharedFits | None = None) -> DualThreatModel:
        """Fit on ``store`` (as of ``as_of``); ``shared``: what fits of other specifications on the same store
        have computed (:class:`SharedFits`), reused where it is the same."""
        with one_blas_thread(), snapshot(store, self.as_of) as snap:
            reuse = (shared if shared is not None and shared.serves(snap)
                     else SharedFits(snap, version=None))  # this fit's own, never handed on
            reuse.begin(snap)
            if snap is store and store.is_open:
                return self._fit(store, reuse)
            with snap:
                return self._fit(snap, reuse)

    @property
    def scale_label_(self) -> str:
        """What the numbers are: a label for tables and charts, from the model's parameters."""
        return (f"z-scores on each indicator's first {self.basis_months // 12} years of data published from "
                f"{self.reference[0][:4]}")

    def _fit(self, store: Store, shared: SharedFits) -> DualThreatModel:
        from dualthreat.model.posture import posture

        theater = self.theater or load_theater()
        self.theater_ = theater
        self.bounds_ = Bounds(q=tuple(self.q_bounds), phi=tuple(self.phi_bounds), k=tuple(self.k_bounds),
                              r=tuple(self.r_bounds))
        as_of = pd.Timestamp(self.as_of) if self.as_of else None
        z = float(norm.ppf(0.5 + self.level / 2))
        last = self._last_month(store, as_of)
        self.months_ = pd.period_range(pd.Period(self.start, freq="M"), last, freq="M")
        reference = (pd.Period(self.reference[0], freq="M"), pd.Period(self.reference[1], freq="M"))
        resolved = shared.get("resolved", _public_rows(store, ("indicators",)), lambda: resolve_indicators(store))

        self.components_: dict[tuple[str, str, str], ComponentFit] = {}
        threat_rows, indicator_rows = [], []
        for ally, level, source in theater.components():
            inds = theater.indicators_for(ally, level, source)
            columns, info = self._columns(store, inds, theater, last, reference, resolved, shared)
            indicator_rows += info
            fit = self._component(columns, reference, shared)
            self.components_[(ally, level, source)] = fit
            threat_rows.append(self._frame(fit, columns, z).assign(ally=ally, level=level, source=source))
        cols = ["ally", "level", "source", "month", "estimate", "mean", "lower", "upper", "sd", "level_part",
                "transient", "n_obs", "recent_data", "coverage"]
        self.threats_ = pd.concat(threat_rows, ignore_index=True)[cols]
        weights = pd.concat([fit.weights().assign(ally=k[0], level=k[1], source=k[2])
                             for k, fit in self.components_.items()], ignore_index=True)
        self.indicators_ = pd.DataFrame(indicator_rows).merge(
            weights, on=["ally", "level", "source", "indicator"], how="left")
        self.gaps_ = self._gaps()
        self.input_changes_ = self._input_changes()

        backing_cols, backing_info = self._columns(store, list(theater.backing), theater, last, reference, resolved,
                                                   shared)
        self.backing_indicators_ = pd.DataFrame(backing_info)
        self.backing_fit_ = self._component(backing_cols, reference, shared)
        self.backing_ = self._backing_frame(self.backing_fit_, backing_cols, z)
        sources = ", ".join(sorted({c.indicator for c in backing_cols})) or "no data"
        self.mediator_ = mediator(self.threats_, self.backing_, theater.allies, theater.client or theater.sources[-1],
                                  self.level, backing_source=sources)
        # on the as-of snapshot like everything else (a row published after as_of is not there), and with the
        # posture module's own cut of the years (a year is measured once it has ended)
        self.posture_ = posture(theater, store, as_of) if self.with_posture else None
        return self

    # ------------------------------------------------------------------------------------------------
    def _component(self, columns: list[Column], reference: tuple[pd.Period, pd.Period],
                   shared: SharedFits) -> ComponentFit:
        """``fit_component`` of these columns, or the same fit that ``shared`` already holds (the entry keeps
        its columns, so that the ids in its key stay theirs)."""
        key = (tuple(id(c) for c in columns), self.months_[0], self.months_[-1], reference, self.bounds_)
        return shared.get("components", key, lambda: (
            tuple(columns), fit_component(columns, self.months_, reference, self.bounds_)))[1]

    def _columns(self, store: Store, inds: list[Indicator], theater: Theater, last: pd.Period,
                 reference: tuple[pd.Period, pd.Period], resolved: pd.DataFrame,
                 shared: SharedFits) -> tuple[list[Column], list[dict]]:
        """The model columns of some indicators, each on its own fixed scale, and a row of facts per indicator."""
        columns: list[Column] = []
        rows = []
        for ind in inds:
            okey, obs = self._observations(store, ind, theater, last, resolved, shared)
            key = (okey, len(obs), self.months_[0], reference[0], self.basis_months)
            cols, info = shared.get("columns", key, lambda: self._indicator_columns(ind, obs, reference))
            columns += cols
            rows.append(dict(info))
        return columns, rows

    def _observations(self, store: Store, ind: Indicator, theater: Theater, last: pd.Period,
                      resolved: pd.DataFrame, shared: SharedFits) -> tuple[tuple, pd.DataFrame]:
        """The indicator's observations up to ``last`` and the key of what they were computed from. As of a
        date they are read up to the source data's last month, whatever the date (with the rows public then),
        and cut at ``last``: the cut is the same rows (:func:`~dualthreat.measure.series.observations`), and
        the next dates reuse them until a table the indicator reads gains a public row."""
        bound = max(last, shared.source_last_month(self)) if isinstance(store, AsOfStore) else last
        key = (ind, theater.patron, _public_rows(store, TABLES_READ.get(ind.table, tuple(TABLES)), ind.series), bound)
        obs = shared.get("observations", key, lambda: observations(store, ind, theater, bound, resolved))
        if bound != last and not obs.empty:
            obs = obs[obs["end"] <= last]
        return key, obs

    def _indicator_columns(self, ind: Indicator, obs: pd.DataFrame,
                           reference: tuple[pd.Period, pd.Period]) -> tuple[list[Column], dict]:
        """One indicator's columns (one per aggregation length) on its fixed scale, and its row of facts."""
        columns: list[Column] = []
        obs = obs[obs["end"] >= self.months_[0]] if not obs.empty else obs
        info = {"ally": ind.ally, "level": ind.level, "source": ind.source, "indicator": ind.id,
                "table": ind.table, "series": ind.series, "sign": ind.sign, "observations": len(obs),
                "first": str(obs["end"].min()) if len(obs) else None,
                "last": str(obs["end"].max()) if len(obs) else None,
                "scale": obs["scale"].iloc[0] if len(obs) else None, "note": ind.note}
        if obs.empty:
            info.update(standardised_on="no data", observations_used=0)
            return columns, info
        count = obs["scale"].iloc[0] == EVENT_SCALE
        basis = obs.assign(value=obs["raw"], first_value=obs["raw"]) if count else obs
        scale = standardise(basis, reference[0], basis_months=self.basis_months, rescale=not count)
        if scale is None:
            info.update(standardised_on="not yet on a scale (too little data published)", observations_used=0)
            return columns, info
        if count:  # a count column keeps its counts; its scale is its basis rate (half an event at least)
            rate = max(scale.mean, 0.5 / scale.basis_obs)
            label = scale.label.replace("(event counts: centred, not rescaled)",
                                        f"(count likelihood; basis rate {rate:.3g} events a month)")
            mean, sd = float(np.log(rate)), 1.0
        else:
            label, mean, sd = scale.label, scale.mean, scale.sd
        info.update(reference_mean=mean, reference_sd=sd, standardised_on=label,
                    basis_published=str(scale.basis_published.date()), observations_used=len(obs))
        for length, g in obs.groupby("months"):
            raw = g.groupby("end")["raw"].mean()
            vals = raw if count else (g.groupby("end")["value"].mean() - mean) / sd
            columns.append(Column(ind.id, int(length), float(ind.sign), vals, raw, mean, sd, label, count))
        return columns, info

    def _frame(self, fit: ComponentFit, columns: list[Column], z: float) -> pd.DataFrame:
        n_obs = self._observed_counts(columns)
        seen = (n_obs.cumsum() > 0).to_numpy()
        recent = self._recent(n_obs).to_numpy()
        any_data = bool(seen.any())
        out = []
        for estimate, frame in (("filtered", fit.filtered), ("smoothed", fit.smoothed)):
            prior_only = ~seen if estimate == "filtered" else np.full(len(seen), not any_data)
            coverage = np.where(prior_only, "prior only", np.where(recent, "data", "no recent data"))
            mean = frame["mean"].where(~prior_only)
            sd = frame["sd"].where(~prior_only)
            out.append(pd.DataFrame({
                "month": frame["month"].astype(str), "estimate": estimate, "mean": mean, "lower": mean - z * sd,
                "upper": mean + z * sd, "sd": sd, "level_part": frame["level"].where(~prior_only),
                "transient": frame["transient"].where(~prior_only), "n_obs": n_obs.values, "recent_data": recent,
                "coverage": coverage,
            }))
        return pd.concat(out, ignore_index=True)

    def _backing_frame(self, fit: ComponentFit, columns: list[Column], z: float) -> pd.DataFrame:
        frame = self._frame(fit, columns, z)
        n_obs = self._observed_counts(columns)
        observed = pd.Series(np.where(n_obs.to_numpy() > 0, n_obs.index.astype(str), None), index=n_obs.index)
        last_obs = observed.ffill().to_numpy()
        frame["last_observed"] = np.concatenate([last_obs, last_obs])
        return frame

    def _last_month(self, store: Store, as_of: pd.Timestamp | None) -> pd.Period:
        if self.end:
            last = pd.Period(self.end, freq="M")
        else:
            dates = store.query(
                "SELECT max(d) AS d FROM (SELECT max(end_date) AS d FROM indicators WHERE end_date <= current_date "
                "UNION ALL SELECT max(test_date) FROM missile_tests)").to_pandas()["d"]
            last = month(dates.iloc[0]) if dates.notna().all() else pd.Period("2016-02", freq="M")
        if as_of is not None:  # the month of as_of holds the events before it
            last = min(pd.Period(self.end, freq="M"), month(as_of)) if self.end else month(as_of)
        return last

    def _observed_counts(self, columns: list[Column]) -> pd.Series:
        n = pd.Series(0, index=self.months_)
        for c in columns:
            n = n.add(c.values.reindex(self.months_).notna().astype(int), fill_value=0)
        return n.astype(int)

    @staticmethod
    def _recent(n_obs: pd.Series) -> pd.Series:
        return n_obs.rolling(NO_DATA_MONTHS, min_periods=1).sum() > 0

    def _gaps(self) -> pd.DataFrame:
        """Runs of months in which a component had no observation in the previous 24 months."""
        rows = []
        t = self.threats_[self.threats_.estimate == "filtered"]
        for (ally, level, source), g in t.groupby(["ally", "level", "source"], sort=False):
            missing = ~g["recent_data"].to_numpy()
            months = g["month"].to_numpy()
            start = None
            for i, m in enumerate(missing):
                if m and start is None:
                    start = i
                if (not m or i == len(missing) - 1) and start is not None:
                    stop = i if m else i - 1
                    rows.append({"ally": ally, "level": level, "source": source, "from": months[start],
                                 "to": months[stop], "months": stop - start + 1})
                    start = None
        return pd.DataFrame(rows, columns=["ally", "level", "source", "from", "to", "months"])

    def _input_changes(self, min_weight: float = INPUT_CHANGE_WEIGHT) -> pd.DataFrame:
        """The months in which a main input of a component starts (after the component's first input) or ends
        (more than NO_DATA_MONTHS before the data's last month, the rule of ``gaps_``)."""
        keys = ["ally", "level", "source"]
        seen = self.indicators_[self.indicators_.observations > 0]
        main = seen[(seen.weight >= min_weight)]
        starts = main[main["first"] > seen.groupby(keys)["first"].transform("min")[main.index]]
        ends = main[main["last"] < str(self.months_[-1] - NO_DATA_MONTHS)]
        out = pd.concat([starts.assign(month=starts["first"], change="starts"),
                         ends.assign(month=ends["last"], change="ends")], ignore_index=True)
        cols = [*keys, "month", "change", "indicator", "weight"]
        return out[cols].sort_values([*keys, "month"], kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------------------------------------------
    def threats(self, ally: str | None = None, start: str | None = None, end: str | None = None,
                smoothed: bool = False) -> pd.DataFrame:
        """The threat components, filtered (default) or smoothed, optionally for one ally and a month range."""
        t = self.threats_[self.threats_.estimate == ("smoothed" if smoothed else "filtered")]
        if ally:
            t = t[t.ally == ally]
        if start:
            t = t[t.month >= start]
        if end:
            t = t[t.month <= end]
        return t.reset_index(drop=True)

    def latest(self, smoothed: bool = False) -> pd.DataFrame:
        """Each component at the last month estimated."""
        t = self.threats(smoothed=smoothed)
        return t[t.month == t.month.max()].reset_index(drop=True)

    def explain(self, ally: str, level: str, source: str, at: str, smoothed: bool = False) -> pd.DataFrame:
        """What each indicator contributed to T[ally, level, source] at month ``at`` (they add up to it)."""
        fit = self.components_[(ally, level, source)]
        return fit.contributions(pd.Period(at, freq="M"), smoothed=smoothed)

    def matrix(self, at: str | None = None, smoothed: bool = False) -> pd.DataFrame:
        """The 2x2 matrix of each ally at month ``at`` (default: the last month): rows level, columns source."""
        t = self.threats(smoothed=smoothed)
        at = at or t.month.max()
        t = t[t.month == at]
        return t.pivot_table(index=["ally", "level"], columns="source", values="mean").reindex(
            columns=list(self.theater_.sources))
