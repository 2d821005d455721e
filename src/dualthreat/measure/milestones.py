"""The record's dated events on the components they feed: what a threat chart marks as milestones.

``dated_events(store, theater)`` lists, for every threat indicator of the theater that reads dated events from
the curated ``indicators`` table (a nuclear test, a provocation, an overflight), each stored event with its
date, a note and the URL it was read from: one row per component, series and date (a running total dated
at its last day is not an event). Nothing is added by hand: an event the store does not hold is not marked.
"""

from __future__ import annotations

import pandas as pd

from dualthreat.store import Store
from dualthreat.theater import Theater

COLUMNS = ["ally", "level", "source", "indicator", "series", "date", "note", "source_url"]


def dated_events(store: Store, theater: Theater) -> pd.DataFrame:
    """Every dated event behind the theater's threat indicators, one row per (component, series, date)."""
    inds = [i for i in theater.indicators if i.table == "indicators"]
    if not inds:
        return pd.DataFrame(columns=COLUMNS)
    rows = store.query(
        "SELECT series, actor, target, start_date AS date, note, source_url FROM indicators "
        "WHERE period_type = 'date' AND unit NOT LIKE '%cumulative%' AND series IN (SELECT unnest(?)) "
        "ORDER BY start_date, source_line", [sorted({i.series for i in inds})]).to_pandas()
    frames = []
    for ind in inds:
        m = rows[rows.series == ind.series]
        if ind.actor:
            m = m[m.actor == ind.actor]
        if ind.target:
            m = m[m.target == ind.target]
        if ind.start is not None:
            m = m[pd.to_datetime(m.date) >= ind.start.start_time]
        if ind.end is not None:
            m = m[pd.to_datetime(m.date) <= ind.end.end_time]
        frames.append(m.assign(ally=ind.ally, level=ind.level, source=ind.source, indicator=ind.id))
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["ally", "level", "source", "series", "date"])
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return out[COLUMNS].sort_values(["ally", "level", "source", "date"]).reset_index(drop=True)
