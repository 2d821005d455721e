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


_KEY_SQL = ", ".join(KEY)
_RANK_SQL = "CASE status " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in STATUS_RANK.items()) + " ELSE 2 END"


def _resolve_sql(rows: str) -> str:
    """Rules 1-3 over the relation ``rows`` (one value per KEY). The median is the middle of the sorted values,
    or the mean of the two middle ones (as ``pandas``' median)."""
    return f"""
        SELECT {_KEY_SQL}, start_date, end_date,
               CASE WHEN len(v) % 2 = 1 THEN v[(len(v) + 1) // 2]
                    ELSE (v[len(v) // 2] + v[len(v) // 2 + 1]) / 2 END AS value,
               low, high, n_reports,
               CASE WHEN low <> high OR n_status > 1 OR any_conflict THEN 'conflict' ELSE one_status END AS status,
               source_urls, published
        FROM (
            SELECT {_KEY_SQL}, min(start_date) AS start_date, min(end_date) AS end_date,
                   list_sort(list(value) FILTER (WHERE value IS NOT NULL)) AS v,
                   min(value) AS low, max(value) AS high, count(*) AS n_reports,
                   count(DISTINCT status) AS n_status, bool_or(status = 'conflict') AS any_conflict,
                   any_value(status) AS one_status,
                   array_to_string(list_sort(list_distinct(list(source_url))), ' ') AS source_urls,
                   max(published) AS published
            FROM (SELECT * FROM {rows} QUALIFY rank = min(rank) OVER (PARTITION BY {_KEY_SQL}))
            GROUP BY {_KEY_SQL})"""


def resolve_indicators(store: Store) -> pd.DataFrame:
    """The curated indicators, one row per reported period, with ``value``, ``low``, ``high``,
    ``n_reports``, ``status``, ``source_urls``, ``published``, ``first_published`` and ``first_value``
    (one query: the rules run in the store's engine)."""
    sql = f"""
        WITH raw AS (
            SELECT series, actor, coalesce(target, '') AS target, period_type, period, start_date, end_date,
                   value, unit, status, source_url, CAST({published_sql('indicators')} AS TIMESTAMP) AS published,
                   {_RANK_SQL} AS rank
            FROM indicators t
            WHERE series IS NOT NULL AND actor IS NOT NULL AND period_type IS NOT NULL AND period IS NOT NULL
              AND unit IS NOT NULL),
        latest AS ({_resolve_sql("raw")}),
        first_rows AS (SELECT * FROM raw QUALIFY published = min(published) OVER (PARTITION BY {_KEY_SQL})),
        first AS ({_resolve_sql("first_rows")})
        SELECT l.*, f.value AS first_value, f.published AS first_published
        FROM latest l LEFT JOIN first f USING ({_KEY_SQL})
        ORDER BY {_KEY_SQL}"""
    out = store.query(sql).to_pandas()
    out["published"] = pd.to_datetime(out["published"])
    out["first_published"] = pd.to_datetime(out["first_published"])
    return out
