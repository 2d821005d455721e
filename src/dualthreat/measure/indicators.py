"""One value per reported period from the curated figures, as ``shared/data/curated/README.md`` asks.

Rules (applied per series, actor, target, period type, period and unit):

1. firm rows win over ``approximate`` / ``lower_bound`` rows, which win over ``preliminary`` rows;
2. where several rows of the winning status disagree (``conflict``), the value is their median and the
   spread of the reported values is kept as ``low`` / ``high``, so that the disagreement shows up as
   uncertainty instead of being resolved silently;
3. every source URL behind the value is kept.
"""

from __future__ import annotations

import pandas as pd

from dualthreat.store import Store

STATUS_RANK = {"firm": 0, "conflict": 0, "approximate": 1, "lower_bound": 1, "preliminary": 2}
KEY = ["series", "actor", "target", "period_type", "period", "unit"]


def resolve_indicators(store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The curated indicators, one row per reported period, with ``value``, ``low``, ``high``,
    ``n_reports``, ``status`` and ``source_urls``. With ``as_of``, periods ending after it are left out."""
    raw = store.query(
        "SELECT series, actor, coalesce(target, '') AS target, period_type, period, start_date, end_date, value, "
        "unit, status, source_url FROM indicators"
    ).to_pandas()
    if as_of is not None:
        raw = raw[pd.to_datetime(raw["end_date"]) < as_of]
    if raw.empty:
        return raw.assign(low=[], high=[], n_reports=[], source_urls=[])
    raw["rank"] = raw["status"].map(STATUS_RANK).fillna(2)
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
            source_urls=("source_url", lambda s: " ".join(sorted(set(s)))),
        )
        .reset_index()
    )
    out.loc[out["low"] != out["high"], "status"] = "conflict"
    return out
