"""Observations of one theater indicator: what was reported, for which months, on a comparable scale.

An observation is a value that covers ``months`` consecutive months ending in month ``end`` (1 for a monthly
figure, 6 for a half year, 12 for a calendar or Japanese fiscal year). The threat model treats it as the
average of the latent monthly threat over those months, so an annual figure constrains its year without being
spread into invented monthly variation (Harvey 1989, on temporal aggregation in state-space models).

Scales:

* counts (scrambles, ship-days, incursion days, ADIZ entries) become a monthly rate, ``log1p(count / months)``;
* dated events (missile tests, nuclear tests, provocations) become a monthly count, ``log1p``, observed
  every month of the list's coverage (a month without an event is a zero, not a gap): an event enters in
  its month, and the model's estimated observation noise decides how much one month moves the threat;
* percentages, shares and ratios are used as they are.

A figure counts as published at the end of its period plus ``PUBLICATION_LAG_MONTHS``; a dated event is known
the day it happens. ``as_of`` leaves out every figure published, and every event dated, on or after it (no
look-ahead); the month of ``as_of`` itself then holds the events of its first days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dualthreat.measure.aggregates import AGGREGATE_TABLES, aggregate_observations
from dualthreat.measure.indicators import resolve_indicators
from dualthreat.store import Store
from dualthreat.theater import Indicator, Theater

PUBLICATION_LAG_MONTHS = 1
EVENT_SCALE = "log1p(events in the month)"
COUNT_UNITS = {"count", "count_approx", "days", "ship_count_cumulative", "occasions", "launch_events", "missiles"}

# Named series of the missile-test table (CNS): which tests each counts.
MISSILE_SERIES = {
    "tests_all": "TRUE",
    "tests_landing_sea_of_japan_or_pacific": "t.landing IN ('sea-of-japan', 'pacific-ocean')",
    "tests_short_range": "m.type = 'SRBM'",
    "tests_long_range": "m.type IN ('IRBM', 'ICBM', 'SLBM', 'SLV')",
}


def month(ts: object) -> pd.Period:
    return pd.Period(pd.Timestamp(ts), freq="M")


def _observed_before(obs: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    if as_of is None or obs.empty:
        return obs
    published = obs["end"] + PUBLICATION_LAG_MONTHS
    return obs[published < month(as_of)]


def _event_counts(dates: pd.Series, first: pd.Period, last: pd.Period) -> pd.DataFrame:
    """Monthly event counts at every month from ``first`` to ``last`` (zeros where nothing happened)."""
    months = pd.period_range(first, last, freq="M")
    counts = pd.Series([month(d) for d in dates], dtype="period[M]").value_counts()
    per_month = counts.reindex(months, fill_value=0).astype(float)
    return pd.DataFrame({"end": months, "months": 1, "raw": per_month.values,
                         "value": np.log1p(per_month.values), "scale": EVENT_SCALE})


def _periodic(frame: pd.DataFrame, count_like: bool) -> pd.DataFrame:
    """Observations of figures that cover a period (start_date .. end_date)."""
    start = frame["start_date"].map(month)
    end = frame["end_date"].map(month)
    months = (end - start).map(lambda d: d.n) + 1
    out = pd.DataFrame({"end": end.to_numpy(), "months": months.to_numpy(), "raw": frame["value"].to_numpy()})
    if "low" in frame:
        out["low"], out["high"] = frame["low"].values, frame["high"].values
    out = out[(out["months"] >= 1) & (out["months"] <= 12)]
    if count_like:
        out["value"] = np.log1p(out["raw"] / out["months"])
        out["scale"] = "log1p(count per month)"
    else:
        out["value"] = out["raw"].astype(float)
        out["scale"] = "as reported"
    return out


def _annual(years: pd.Series, values: pd.Series, scale: str = "as reported") -> pd.DataFrame:
    ends = [pd.Period(f"{int(y)}-12", freq="M") for y in years]
    return pd.DataFrame({"end": ends, "months": 12, "raw": values.values, "value": values.values.astype(float),
                         "scale": scale})


def _event_index(store: Store, indicator: Indicator, last: pd.Period, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """A column of the dyad-month event index (source = ``actor``, target = ``target``), observed in every
    month with coded events; with ``as_of``, only the complete months before it count."""
    from dualthreat.measure.events import dyad_month, events_loaded

    if not events_loaded(store):  # (once loaded, a pair without events in a covered month is a zero, not a gap)
        return pd.DataFrame(columns=["end", "months", "raw", "value", "scale"])

    table = dyad_month(store, states=(indicator.actor, indicator.target))
    table = table[(table.source == indicator.actor) & (table.target == indicator.target)]
    if as_of is not None:
        table = table[table.month < str(month(as_of))]
    if indicator.series not in table.columns:
        raise ValueError(f"{indicator.id}: the event index has no column {indicator.series!r}")
    by_month = table.groupby("month")[indicator.series].mean().dropna()
    ends = pd.PeriodIndex(by_month.index, freq="M")
    return pd.DataFrame({"end": ends, "months": 1, "raw": by_month.to_numpy(), "value": by_month.to_numpy(),
                         "scale": "event index, as computed"})


def observations(store: Store, indicator: Indicator, theater: Theater, last: pd.Period,
                 as_of: pd.Timestamp | None = None, resolved: pd.DataFrame | None = None) -> pd.DataFrame:
    """The observations of ``indicator`` up to month ``last``: columns ``end`` (Period), ``months``,
    ``raw`` (as reported), ``value`` (on the model's scale) and ``scale``."""
    t = indicator.table
    if t == "indicators":
        rows = resolved if resolved is not None else resolve_indicators(store)
        sel = rows[(rows["series"] == indicator.series)
                   & ((rows["actor"] == indicator.actor) if indicator.actor else True)
                   & ((rows["target"] == indicator.target) if indicator.target else True)
                   & ((rows["unit"] == indicator.unit) if indicator.unit else True)]
        if sel.empty:
            obs = pd.DataFrame(columns=["end", "months", "raw", "value", "scale"])
        elif (sel["period_type"] == "date").all() or indicator.unit == "event":
            dated = sel[sel["period_type"].isin(["date"])]
            obs = _event_counts(pd.to_datetime(dated["start_date"]), month(dated["start_date"].min()), last)
        else:
            count_like = (indicator.unit or sel["unit"].iloc[0]) in COUNT_UNITS
            obs = _periodic(sel, count_like)
    elif t == "missile_tests":
        where = MISSILE_SERIES.get(indicator.series)
        if where is None:
            raise ValueError(f"{indicator.id}: unknown missile-test series {indicator.series!r} "
                             f"(one of {', '.join(MISSILE_SERIES)})")
        dates = store.query(f"SELECT t.test_date FROM missile_tests t LEFT JOIN missile_types m USING (missile) "
                            f"WHERE {where}").to_pandas()["test_date"]
        if as_of is not None:
            dates = dates[pd.to_datetime(dates) < as_of]
        coverage = store.query("SELECT min(test_date) AS a, max(test_date) AS b FROM missile_tests").to_pandas()
        if coverage["a"].isna().all():
            obs = pd.DataFrame(columns=["end", "months", "raw", "value", "scale"])
        else:
            end = min(last, month(coverage["b"].iloc[0]))
            obs = _event_counts(pd.to_datetime(dates), month(coverage["a"].iloc[0]), end)
    elif t == "pew_favorability":
        df = store.query(
            f'SELECT wave, "{indicator.series}" AS v FROM pew_favorability WHERE respondent_iso3 = ? AND target = ? '
            f"AND quality_flag IS NULL AND \"{indicator.series}\" IS NOT NULL ORDER BY wave",
            [indicator.actor, indicator.target]).to_pandas()
        obs = _annual(df["wave"], df["v"])
    elif t == "capabilities":
        if indicator.series == "cinc":
            df = store.query("SELECT year, cinc AS v FROM capabilities WHERE iso3 = ? AND cinc IS NOT NULL "
                             "ORDER BY year", [indicator.actor]).to_pandas()
        elif indicator.series == "cinc_ratio_to_patron":
            df = store.query("SELECT a.year, a.cinc / p.cinc AS v FROM capabilities a JOIN capabilities p "
                             "ON a.year = p.year AND p.iso3 = ? WHERE a.iso3 = ? AND p.cinc > 0 ORDER BY a.year",
                             [theater.patron, indicator.actor]).to_pandas()
        else:
            raise ValueError(f"{indicator.id}: unknown capabilities series {indicator.series!r}")
        obs = _annual(df["year"], df["v"])
    elif t == "events":
        obs = _event_index(store, indicator, last, as_of)
    elif t in AGGREGATE_TABLES:  # ICEWS dyad-months and dyad-years, GDELT pairs (dualthreat.measure.aggregates)
        obs = aggregate_observations(store, indicator, last, as_of)
    elif t == "territorial_threat":
        df = store.query("SELECT year, threat AS v FROM territorial_threat WHERE iso3 = ? ORDER BY year",
                         [indicator.actor]).to_pandas()
        obs = _annual(df["year"], df["v"])
    elif t == "military_spending":
        df = store.query("SELECT year, share_gdp AS v FROM military_spending WHERE iso3 = ? ORDER BY year",
                         [indicator.actor]).to_pandas()
        obs = _annual(df["year"], df["v"])
    else:
        raise ValueError(f"{indicator.id}: the threat model cannot read table {t!r} yet")
    obs = obs[obs["end"] <= last] if not obs.empty else obs
    dated = not obs.empty and obs["scale"].iloc[0] == EVENT_SCALE
    return obs.reset_index(drop=True) if dated else _observed_before(obs.reset_index(drop=True), as_of)
