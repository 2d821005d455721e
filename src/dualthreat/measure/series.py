"""Observations of one theater indicator: what was reported, for which months, on a comparable scale, and
when it became public.

An observation is a value that covers ``months`` consecutive months ending in month ``end`` (1 for a monthly
figure, 6 for a half year, 12 for a calendar or Japanese fiscal year). The threat model treats it as the
average of the latent monthly threat over those months, so an annual figure constrains its year without being
spread into invented monthly variation (Harvey 1989, on temporal aggregation in state-space models).

Scales:

* counts (scrambles, ship-days, incursion days, ADIZ entries) become a monthly rate, ``log1p(count / months)``;
* dated events (missile launches, nuclear tests, provocations) become a monthly count of events (``raw``;
  ``value`` is its ``log1p``), observed every month of the list's coverage (a month without an event is a
  zero, not a gap): an event enters in its month. The CNS database lists one row per missile; a salvo on
  one day is one launch event. The threat model reads these counts with a count likelihood;
* percentages, shares, ratios, rates per 1,000 words are used as they are; an indicator may ask for its
  first difference (``transform = "difference"``: the change from the previous period, e.g. the growth of a
  capability ratio rather than its level, which is a time trend).

Every observation carries ``published`` (when its current value became public) and its first release
(``first_published``, ``first_value``), from the rules of :mod:`dualthreat.measure.vintage`. This module
never cuts at an ``as_of`` date: the model reads a store already cut (:func:`dualthreat.measure.vintage.snapshot`).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from dualthreat.measure.aggregates import AGGREGATE_TABLES, aggregate_observations
from dualthreat.measure.indicators import resolve_indicators
from dualthreat.measure.vintage import ICEWS_PUBLIC_RELEASE, published_sql
from dualthreat.store import Store
from dualthreat.theater import Indicator, Theater

EVENT_SCALE = "log1p(events in the month)"
COUNT_UNITS = {"count", "count_approx", "days", "ship_count_cumulative", "occasions", "launch_events", "missiles"}
COLUMNS = ["end", "months", "raw", "value", "scale", "published", "first_published", "first_value"]

# Named series of the missile-test table (CNS): which tests each counts.
MISSILE_SERIES = {
    "tests_all": "TRUE",
    "tests_landing_sea_of_japan_or_pacific": "t.landing IN ('sea-of-japan', 'pacific-ocean')",
    "tests_short_range": "m.type = 'SRBM'",
    "tests_medium_range": "m.type IN ('MRBM', 'IRBM')",
    "tests_long_range": "m.type IN ('IRBM', 'ICBM', 'SLBM', 'SLV')",
}


# The tables each reader below reads, by the indicator's ``table`` (an as-of fit reuses an indicator's
# observations across dates while the rows of these tables that are public stay the same).
_EVENT_AGGREGATES = ("icews_dyad_month", "icews_dyad_month_coverage", "icews_dyad_year", "gdelt_pairs",
                     "gdelt_pairs_days")
TABLES_READ: dict[str, tuple[str, ...]] = {
    "indicators": ("indicators",),
    "missile_tests": ("missile_tests", "missile_types"),
    "pew_favorability": ("pew_favorability",),
    "capabilities": ("capabilities",),
    "events": ("events", "event_month_totals"),
    **{t: _EVENT_AGGREGATES for t in AGGREGATE_TABLES},
    "territorial_threat": ("territorial_threat",),
    "military_spending": ("military_spending",),
    "speeches": ("speeches",),
    "un_votes": ("un_votes", "un_roll_calls", "un_roll_call_issues"),
    "ideal_points": ("ideal_points",),
}
# Tables read one series at a time: rows of other series leave an indicator's observations as they are (the
# curated figures are resolved per series, actor, target, period and unit: measure.indicators).
SERIES_TABLES = ("indicators",)


def month(ts: object) -> pd.Period:
    return pd.Period(pd.Timestamp(ts), freq="M")


def empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def _finish(obs: pd.DataFrame) -> pd.DataFrame:
    """Fill the first release where a table has no revisions: it is the value itself."""
    obs = obs.copy()
    obs["published"] = pd.to_datetime(obs["published"])
    if "first_published" not in obs:
        obs["first_published"] = obs["published"]
    if "first_value" not in obs:
        obs["first_value"] = obs["value"]
    obs["first_published"] = pd.to_datetime(obs["first_published"])
    return obs[COLUMNS]


def _event_counts(dates: pd.Series, first: pd.Period, last: pd.Period) -> pd.DataFrame:
    """Monthly event counts at every month from ``first`` to ``last`` (zeros where nothing happened); a
    month's count is complete, and so public, at its end."""
    if last < first:
        return empty()
    months = pd.period_range(first, last, freq="M")
    counts = pd.Series([month(d) for d in dates], dtype="period[M]").value_counts()
    per_month = counts.reindex(months, fill_value=0).astype(float)
    return _finish(pd.DataFrame({"end": months, "months": 1, "raw": per_month.values,
                                 "value": np.log1p(per_month.values), "scale": EVENT_SCALE,
                                 "published": months.to_timestamp(how="end").normalize()}))


def _periodic(frame: pd.DataFrame, count_like: bool) -> pd.DataFrame:
    """Observations of figures that cover a period (start_date .. end_date), with their vintages."""
    start = frame["start_date"].map(month)
    end = frame["end_date"].map(month)
    months = (end - start).map(lambda d: d.n) + 1
    out = pd.DataFrame({"end": end.to_numpy(), "months": months.to_numpy(), "raw": frame["value"].to_numpy(),
                        "first_raw": frame["first_value"].to_numpy(), "published": frame["published"].to_numpy(),
                        "first_published": frame["first_published"].to_numpy()})
    out = out[(out["months"] >= 1) & (out["months"] <= 12)]
    if count_like:
        out["value"] = np.log1p(out["raw"] / out["months"])
        out["first_value"] = np.log1p(out["first_raw"] / out["months"])
        out["scale"] = "log1p(count per month)"
    else:
        out["value"] = out["raw"].astype(float)
        out["first_value"] = out["first_raw"].astype(float)
        out["scale"] = "as reported"
    return _finish(out)


def _annual(years: pd.Series, values: pd.Series, published: pd.Series, scale: str = "as reported",
            end_month: int = 12) -> pd.DataFrame:
    ends = [pd.Period(f"{int(y)}-{end_month:02d}", freq="M") for y in years]
    return _finish(pd.DataFrame({"end": ends, "months": 12, "raw": values.to_numpy(dtype=float),
                                 "value": values.to_numpy(dtype=float), "scale": scale,
                                 "published": pd.to_datetime(pd.Series(published).to_numpy())}))


def _event_index(store: Store, indicator: Indicator) -> pd.DataFrame:
    """A column of the dyad-month event index (source = ``actor``, target = ``target``), observed in every
    month with coded events (a pair without events in a covered month is a zero, not a gap)."""
    from dualthreat.measure.events import dyad_month, events_loaded

    if not events_loaded(store):
        return empty()
    table = dyad_month(store, states=(indicator.actor, indicator.target))
    table = table[(table.source == indicator.actor) & (table.target == indicator.target)]
    if indicator.series not in table.columns:
        raise ValueError(f"{indicator.id}: the event index has no column {indicator.series!r}")
    by_month = table.groupby("month")[indicator.series].mean().dropna()
    ends = pd.PeriodIndex(by_month.index, freq="M")
    # a month's index is complete at its end (the store, cut at as_of, holds only the events public by then)
    return _finish(pd.DataFrame({"end": ends, "months": 1, "raw": by_month.to_numpy(), "value": by_month.to_numpy(),
                                 "scale": "event index, as computed",
                                 "published": ends.to_timestamp(how="end").normalize()}))


_SCORES: dict[str, pd.DataFrame] = {}


def _scores(texts: pd.DataFrame) -> pd.DataFrame:
    """Word-list scores per iso3 and year, one text each (memoised per text: scoring is the slow part)."""
    from dualthreat.measure.text import score_texts

    frames = []
    for row in texts[["iso3", "year", "text"]].itertuples(index=False):
        key = hashlib.sha256(f"{row.iso3}|{row.year}|{row.text}".encode()).hexdigest()
        if key not in _SCORES:
            _SCORES[key] = score_texts(pd.DataFrame([row._asdict()]), ["iso3", "year"])
            if len(_SCORES) > 4096:
                _SCORES.pop(next(iter(_SCORES)))
        frames.append(_SCORES[key])
    return pd.concat(frames, ignore_index=True)


def _aggregate(store: Store, indicator: Indicator, last: pd.Period) -> pd.DataFrame:
    """An event-aggregate series (:func:`dualthreat.measure.aggregates.aggregate_observations`, never cut at a
    date here), each period dated by the vintage rule of its table."""
    obs = aggregate_observations(store, indicator, last)
    if obs.empty:
        return empty()
    end_day = obs["end"].map(lambda p: p.to_timestamp(how="end").normalize())
    if indicator.table == "gdelt_pairs":
        published = end_day + pd.Timedelta(days=1)  # a month's daily weights are all public the day after it
    else:
        published = end_day.clip(lower=pd.Timestamp(ICEWS_PUBLIC_RELEASE))
    return _finish(obs.assign(published=published.to_numpy()))


def _speech_salience(store: Store, indicator: Indicator) -> pd.DataFrame:
    """Mentions per 1,000 words of a word-list category (``series``) in the ``actor``'s UN General Debate
    speech of each year: the twelve months to September, when the speech is given (``measure.text``)."""
    texts = store.query(f"SELECT iso3, year, text, {published_sql('speeches')} AS published FROM speeches t "
                        "WHERE iso3 = ? ORDER BY year", [indicator.actor]).to_pandas()
    if texts.empty:
        return empty()
    scores = _scores(texts)
    scores = scores[scores["category"] == indicator.series]
    if scores.empty:
        raise ValueError(f"{indicator.id}: the word list has no category {indicator.series!r}")
    pub = texts.groupby("year")["published"].max()
    return _annual(scores["year"], scores["rate"], pub.reindex(scores["year"]).to_numpy(),
                   "mentions per 1,000 words", end_month=9)


def _vote_agreement(store: Store, indicator: Indicator) -> pd.DataFrame:
    """Share of the year's UNGA roll calls on which ``actor`` and ``target`` voted alike (all roll calls)."""
    from dualthreat.measure.unga import vote_agreement

    agree = vote_agreement(store, (indicator.actor,), (indicator.target,), subsets=("all",))
    agree = agree[agree["subset"] == "all"] if not agree.empty else agree
    if agree.empty:
        return empty()
    last_vote = store.query("SELECT year(date) AS year, max(date) AS d FROM un_roll_calls GROUP BY 1").to_pandas()
    pub = last_vote.set_index("year")["d"].reindex(agree["year"]).to_numpy()
    return _annual(agree["year"], agree[indicator.series], pub, "share of roll calls")


def _ideal_point_closeness(store: Store, indicator: Indicator) -> pd.DataFrame:
    """Minus the distance between ``actor``'s and ``target``'s UNGA ideal points, per year."""
    df = store.query(
        f"SELECT a.year, -abs(a.ideal_point - b.ideal_point) AS v, {published_sql('ideal_points')} AS published "
        "FROM ideal_points a JOIN ideal_points b ON a.year = b.year "
        "WHERE a.iso3 = ? AND b.iso3 = ? AND a.ideal_point IS NOT NULL AND b.ideal_point IS NOT NULL ORDER BY a.year",
        [indicator.actor, indicator.target]).to_pandas()
    return _annual(df["year"], df["v"], df["published"], "minus the ideal-point distance")


def _curated(store: Store, indicator: Indicator, last: pd.Period, resolved: pd.DataFrame | None) -> pd.DataFrame:
    rows = resolved if resolved is not None else resolve_indicators(store)
    if rows.empty:
        return empty()
    sel = rows[(rows["series"] == indicator.series)
               & ((rows["actor"] == indicator.actor) if indicator.actor else True)
               & ((rows["target"] == indicator.target) if indicator.target else True)
               & ((rows["unit"] == indicator.unit) if indicator.unit else True)]
    if sel.empty:
        return empty()
    if (sel["period_type"] == "date").all() or indicator.unit == "event":
        dated = sel[sel["period_type"].isin(["date"])]
        first = month(dated["start_date"].min())
        if indicator.start is not None:  # the list is complete from `start` on (zeros before its first event)
            first = min(first, indicator.start)
        return _event_counts(pd.to_datetime(dated["start_date"]), first, last)
    count_like = (indicator.unit or sel["unit"].iloc[0]) in COUNT_UNITS
    return _periodic(sel, count_like)


def _raw_observations(store: Store, indicator: Indicator, theater: Theater, last: pd.Period,
                      resolved: pd.DataFrame | None) -> pd.DataFrame:
    t = indicator.table
    if t == "indicators":
        return _curated(store, indicator, last, resolved)
    if t == "missile_tests":
        where = MISSILE_SERIES.get(indicator.series)
        if where is None:
            raise ValueError(f"{indicator.id}: unknown missile-test series {indicator.series!r} "
                             f"(one of {', '.join(MISSILE_SERIES)})")
        # CNS lists one row per missile: a salvo of several missiles on one day is one launch event
        dates = store.query(f"SELECT DISTINCT t.test_date FROM missile_tests t LEFT JOIN missile_types m "
                            f"USING (missile) WHERE {where}").to_pandas()["test_date"]
        coverage = store.query("SELECT min(test_date) AS a, max(test_date) AS b FROM missile_tests").to_pandas()
        if coverage["a"].isna().all():
            return empty()
        end = min(last, month(coverage["b"].iloc[0]))
        return _event_counts(pd.to_datetime(dates), month(coverage["a"].iloc[0]), end)
    if t == "pew_favorability":
        df = store.query(
            f'SELECT wave, "{indicator.series}" AS v, {published_sql("pew_favorability")} AS published '
            "FROM pew_favorability t WHERE respondent_iso3 = ? AND target = ? "
            f"AND quality_flag IS NULL AND \"{indicator.series}\" IS NOT NULL ORDER BY wave",
            [indicator.actor, indicator.target]).to_pandas()
        return _annual(df["wave"], df["v"], df["published"])
    if t == "capabilities":
        pub = published_sql("capabilities")
        if indicator.series == "cinc":
            df = store.query(f"SELECT year, cinc AS v, {pub} AS published FROM capabilities t WHERE iso3 = ? "
                             "AND cinc IS NOT NULL ORDER BY year", [indicator.actor]).to_pandas()
        elif indicator.series == "cinc_ratio_to_patron":
            df = store.query(f"SELECT t.year, t.cinc / p.cinc AS v, {pub} AS published FROM capabilities t "
                             "JOIN capabilities p ON t.year = p.year AND p.iso3 = ? WHERE t.iso3 = ? AND p.cinc > 0 "
                             "ORDER BY t.year", [theater.patron, indicator.actor]).to_pandas()
        else:
            raise ValueError(f"{indicator.id}: unknown capabilities series {indicator.series!r}")
        return _annual(df["year"], df["v"], df["published"])
    if t == "events":
        return _event_index(store, indicator)
    if t in AGGREGATE_TABLES:  # ICEWS dyad-months and dyad-years, GDELT pairs (dualthreat.measure.aggregates)
        return _aggregate(store, indicator, last)
    if t == "territorial_threat":
        df = store.query(f"SELECT year, threat AS v, {published_sql('territorial_threat')} AS published "
                         "FROM territorial_threat t WHERE iso3 = ? ORDER BY year", [indicator.actor]).to_pandas()
        return _annual(df["year"], df["v"], df["published"])
    if t == "military_spending":
        df = store.query(f"SELECT year, share_gdp AS v, {published_sql('military_spending')} AS published "
                         "FROM military_spending t WHERE iso3 = ? ORDER BY year", [indicator.actor]).to_pandas()
        return _annual(df["year"], df["v"], df["published"])
    if t == "speeches":
        return _speech_salience(store, indicator)
    if t == "un_votes":
        if indicator.series not in ("agreement", "kappa"):
            raise ValueError(f"{indicator.id}: unknown vote series {indicator.series!r} (agreement or kappa)")
        return _vote_agreement(store, indicator)
    if t == "ideal_points":
        if indicator.series != "closeness":
            raise ValueError(f"{indicator.id}: unknown ideal-point series {indicator.series!r} (closeness)")
        return _ideal_point_closeness(store, indicator)
    raise ValueError(f"{indicator.id}: the threat model cannot read table {t!r} yet")


def _difference(obs: pd.DataFrame) -> pd.DataFrame:
    """The change from the previous observation of the same length, published when both were."""
    out = []
    for _, g in obs.sort_values("end").groupby("months"):
        g = g.copy()
        prev_end = g["end"].shift(1)
        consecutive = [(p is not None and not pd.isna(p) and (e - p).n == m)
                       for e, p, m in zip(g["end"], prev_end, g["months"])]
        g["value"] = g["value"].diff()
        g["first_value"] = g["first_value"].diff()
        g["raw"] = g["raw"].diff()
        g["published"] = np.maximum(g["published"], g["published"].shift(1))
        g["first_published"] = np.maximum(g["first_published"], g["first_published"].shift(1))
        g["scale"] = g["scale"] + ", change from the previous period"
        out.append(g[np.array(consecutive)])
    return pd.concat(out, ignore_index=True) if out else obs.iloc[:0]


def observations(store: Store, indicator: Indicator, theater: Theater, last: pd.Period,
                 resolved: pd.DataFrame | None = None) -> pd.DataFrame:
    """The observations of ``indicator`` up to month ``last``: columns ``end`` (Period), ``months``,
    ``raw`` (as reported), ``value`` (on the model's scale), ``scale``, ``published``, ``first_published``
    and ``first_value`` (the first release, on the model's scale), sorted by ``end`` and ``months``.

    ``last`` only cuts: the observations up to an earlier month are the first rows of these (event counts
    run to ``last`` with their zeros, so that a month without an event up to ``last`` is observed)."""
    obs = _raw_observations(store, indicator, theater, last, resolved)
    if obs.empty:
        return empty()
    obs = obs.dropna(subset=["value"])
    if indicator.transform == "difference":
        obs = _difference(obs)
    if indicator.start is not None:
        obs = obs[obs["end"] >= indicator.start]
    if indicator.end is not None:
        obs = obs[obs["end"] <= indicator.end]
    obs = obs[obs["end"] <= last]
    return obs.sort_values(["end", "months"]).reset_index(drop=True)
