"""One value per reported period from the curated figures, as ``shared/data/curated/README.md`` asks.

Rules (applied per series, actor, target, period type, period and unit):

1. firm rows win over ``approximate`` / ``lower_bound`` rows, which win over ``preliminary`` rows;
2. where several rows of the winning status disagree (``conflict``), the value is their median and the
   spread of the reported values is kept as ``low`` / ``high``, so that the disagreement shows up as
   uncertainty instead of being resolved silently;
3. every source URL behind the value is kept.

Each value also carries its vintage (:mod:`dualthreat.measure.vintage`): ``published``, when the rows that
give the value were all public, and the **first release**: ``first_published``, when the period was first
reported, and ``first_value``, the value the same rules give from the rows public then. A store cut at an
earlier date (:func:`dualthreat.measure.vintage.snapshot`) resolves from the rows public then.
"""

from __future__ import annotations

import pandas as pd

from dualthreat.measure.vintage import published_sql
from dualthreat.store import Store

STATUS_RANK = {"firm": 0, "conflict": 0, "approximate": 1, "lower_bound": 1, "preliminary": 2}
KEY = ["series", "actor", "target", "period_type", "period", "unit"]


def _resolve(raw: pd.DataFrame) -> pd.DataFrame:
    best = raw[raw["rank"] == raw.groupby(KEY)["rank"].transform("min")]
    out = (
        best.groupby(KEY, sort=True)
        .agg(
            start_date=("start_date", "first"),
            end_date=("end_date", "first"),
            value=("value", "median"),
            low=("value", "min"),
            high=("value", "max"),
            n_reports=("value", "size"),
            status=("status", lambda s: "conflict" if s.nunique() > 1 or (s == "conflict").any() else s.iloc[0]),
            source_urls=("source_url", lambda s: " ".join(sorted(set(s.dropna())))),
            published=("published", "max"),
        )
        .reset_index()
    )
    out.loc[out["low"] != out["high"], "status"] = "conflict"
    return out


def resolve_indicators(store: Store) -> pd.DataFrame:
    """The curated indicators, one row per reported period, with ``value``, ``low``, ``high``,
    ``n_reports``, ``status``, ``source_urls``, ``published``, ``first_published`` and ``first_value``."""
    raw = store.query(
        "SELECT series, actor, coalesce(target, '') AS target, period_type, period, start_date, end_date, value, "
        f"unit, status, source_url, {published_sql('indicators')} AS published FROM indicators t"
    ).to_pandas()
    if raw.empty:
        return raw.assign(low=[], high=[], n_reports=[], source_urls=[], first_published=[], first_value=[])
    raw["published"] = pd.to_datetime(raw["published"])
    raw["rank"] = raw["status"].map(STATUS_RANK).fillna(2)
    out = _resolve(raw)
    first_day = raw.groupby(KEY)["published"].transform("min")
    first = _resolve(raw[raw["published"] == first_day])[KEY + ["value", "published"]]
    first = first.rename(columns={"value": "first_value", "published": "first_published"})
    return out.merge(first, on=KEY, how="left")
