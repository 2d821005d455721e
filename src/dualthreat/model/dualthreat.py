"""The dual threat framework as an estimator: ``DualThreatModel(theater).fit(store)``.

After ``fit`` the model holds, as tidy tables:

* ``threats_``: T[ally, level, source, month], filtered and smoothed, with mean and a band (see
  :mod:`dualthreat.model.threat`), the number of observations behind each month and a coverage flag;
* ``indicators_``: what fed each component (observations, first and last month, standardisation, weight);
* ``gaps_``: the periods in which a component had no data at all;
* ``mediator_``: the North Korean threat to each ally combined with China's observed stance toward North
  Korea (:mod:`dualthreat.model.mediator`);
* ``posture_``: alignment with the patron and with China (:mod:`dualthreat.model.posture`).

Filtered estimates use data up to their month only; forecasts and evaluations must use them. With ``as_of``
every input published on or after that date is left out, as if the model were fitted then.
"""

from __future__ import annotations

import pandas as pd

from dualthreat.measure.indicators import resolve_indicators
from dualthreat.measure.series import month, observations
from dualthreat.model.threat import Column, ComponentFit, fit_component, standardise
from dualthreat.store import Store
from dualthreat.theater import Theater, load_theater

Z90 = 1.6448536269514722
NO_DATA_MONTHS = 24  # a month with no observation in the previous 24 months is flagged "no recent data"


class DualThreatModel:
    """Fit the eight threat components of a theater, the mediator and the posture measures.

    Parameters
    ----------
    theater : the theater (default: the packaged Northeast Asia theater).
    start, end : first and last month estimated ("YYYY-MM"); ``end`` defaults to the last month with data.
    reference : the reference window ("YYYY-MM", "YYYY-MM") for standardisation and parameter estimation.
    as_of : a date; only data published before it are used (no look-ahead).
    level : coverage of the bands (default 0.90).
    with_posture : also compute the posture measures (skip them when only threats are needed).
    """

    def __init__(self, theater: Theater | None = None, start: str = "1995-01", end: str | None = None,
                 reference: tuple[str, str] = ("1996-01", "2015-12"), as_of: str | None = None,
                 level: float = 0.90, with_posture: bool = True) -> None:
        self.theater = theater
        self.start = start
        self.end = end
        self.reference = reference
        self.as_of = as_of
        self.level = level
        self.with_posture = with_posture

    # ------------------------------------------------------------------------------------------------
    def fit(self, store: Store) -> DualThreatModel:
        if not store.is_open:
            with store:
                return self._fit(store)
        return self._fit(store)

    def _fit(self, store: Store) -> DualThreatModel:
        from scipy.stats import norm

        from dualthreat.model.mediator import mediator
        from dualthreat.model.posture import posture

        theater = self.theater or load_theater()
        self.theater_ = theater
        as_of = pd.Timestamp(self.as_of) if self.as_of else None
        z = float(norm.ppf(0.5 + self.level / 2))
        last = self._last_month(store, as_of)
        self.months_ = pd.period_range(pd.Period(self.start, freq="M"), last, freq="M")
        reference = (pd.Period(self.reference[0], freq="M"), pd.Period(self.reference[1], freq="M"))
        if as_of is not None:
            reference = (reference[0], min(reference[1], month(as_of) - 1))
        resolved = resolve_indicators(store, as_of)

        self.components_: dict[tuple[str, str, str], ComponentFit] = {}
        threat_rows, indicator_rows = [], []
        for ally, level, source in theater.components():
            columns: list[Column] = []
            for ind in theater.indicators_for(ally, level, source):
                obs = observations(store, ind, theater, last, as_of, resolved)
                obs = obs[obs["end"] >= self.months_[0]] if not obs.empty else obs
                info = {"ally": ally, "level": level, "source": source, "indicator": ind.id, "table": ind.table,
                        "series": ind.series, "sign": ind.sign, "observations": len(obs),
                        "first": str(obs["end"].min()) if len(obs) else None,
                        "last": str(obs["end"].max()) if len(obs) else None,
                        "scale": obs["scale"].iloc[0] if len(obs) else None, "note": ind.note}
                if obs.empty:
                    indicator_rows.append({**info, "standardised_on": "no data"})
                    continue
                # one series per indicator for standardisation; one model column per aggregation length
                allv = obs.groupby("end")["value"].mean()
                kept, mean, sd, label = standardise(allv, reference)
                info.update(reference_mean=mean, reference_sd=sd, standardised_on=label)
                indicator_rows.append(info)
                obs = obs[obs["end"] >= kept.index.min()] if len(kept) else obs.iloc[:0]
                info["observations_used"] = len(obs)
                for length, g in obs.groupby("months"):
                    vals = g.groupby("end")["value"].mean()
                    columns.append(Column(ind.id, int(length), float(ind.sign), (vals - mean) / sd,
                                          g.groupby("end")["raw"].mean(), mean, sd, label))
            fit = fit_component(columns, self.months_, reference)
            self.components_[(ally, level, source)] = fit
            n_obs = self._observed_counts(columns)
            for estimate, frame in (("filtered", fit.filtered), ("smoothed", fit.smoothed)):
                threat_rows.append(pd.DataFrame({
                    "ally": ally, "level": level, "source": source, "month": frame["month"].astype(str),
                    "estimate": estimate, "mean": frame["mean"], "lower": frame["mean"] - z * frame["sd"],
                    "upper": frame["mean"] + z * frame["sd"], "sd": frame["sd"],
                    "n_obs": n_obs.values, "recent_data": self._recent(n_obs).values,
                }))
        self.threats_ = pd.concat(threat_rows, ignore_index=True)
        weights = pd.concat([fit.weights().assign(ally=k[0], level=k[1], source=k[2])
                             for k, fit in self.components_.items()], ignore_index=True)
        self.indicators_ = pd.DataFrame(indicator_rows).merge(
            weights, on=["ally", "level", "source", "indicator"], how="left")
        self.gaps_ = self._gaps()
        self.mediator_ = mediator(self, store)
        self.posture_ = posture(theater, store, as_of) if self.with_posture else None
        return self

    # ------------------------------------------------------------------------------------------------
    def _last_month(self, store: Store, as_of: pd.Timestamp | None) -> pd.Period:
        if self.end:
            last = pd.Period(self.end, freq="M")
        else:
            dates = store.query(
                "SELECT max(d) AS d FROM (SELECT max(end_date) AS d FROM indicators WHERE end_date <= current_date "
                "UNION ALL SELECT max(test_date) FROM missile_tests)").to_pandas()["d"]
            last = month(dates.iloc[0]) if dates.notna().all() else pd.Period("2016-02", freq="M")
        if as_of is not None:
            last = min(last, month(as_of))  # the month of as_of holds the events before it
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

