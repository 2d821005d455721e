"""Arrow tables of what an event file adds to the store: the theater's events with their lines, and the month
totals of all valid events."""


from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from dualthreat.ingest.events.files import Plan
from dualthreat.ingest.events.layout import GDELT_URL, ICEWS_URL
from dualthreat.tables import TABLES


def events_table(kept: pa.Table, line_of: Callable, dataset: str, stored_name: str) -> pa.Table:
    import numpy as np
    import pyarrow.compute as pc

    schema = TABLES["events"].arrow_schema()
    if kept.num_rows == 0:
        return schema.empty_table()
    n = kept.column("n").to_numpy()
    lines = line_of(n.astype(np.int64))
    url = kept.column("url")
    fallback = ICEWS_URL if dataset == "icews" else GDELT_URL
    cols = {
        "event_id": kept.column("event_id"),
        "date": kept.column("date"),
        "month": pc.strftime(kept.column("date"), format="%Y-%m"),
        "source": kept.column("source"),
        "target": kept.column("target"),
        "source_actor": kept.column("source_actor"),
        "target_actor": kept.column("target_actor"),
        "country_from_code": kept.column("country_from_code"),
        "event_code": kept.column("event_code"),
        "root_code": kept.column("root_code"),
        "quad_class": kept.column("quad_class"),
        "goldstein": kept.column("goldstein"),
        "is_root": kept.column("is_root"),
        "num_mentions": kept.column("num_mentions"),
        "num_sources": kept.column("num_sources"),
        "num_articles": kept.column("num_articles"),
        "avg_tone": kept.column("avg_tone"),
        "date_added": kept.column("date_added"),
        "dataset": pa.array([dataset] * kept.num_rows, pa.string()),
        "source_file": pa.array([stored_name] * kept.num_rows, pa.string()),
        "source_line": pa.array(lines, pa.int64()),
        "source_url": pc.fill_null(url, fallback),
    }
    return pa.table([cols[f.name].cast(f.type) for f in schema], schema=schema)


def totals_table(totals: pa.Table, dataset: str, plan: Plan, sha256: str, stored_name: str) -> pa.Table:
    schema = TABLES["event_month_totals"].arrow_schema()
    k = totals.num_rows
    url = ICEWS_URL if dataset == "icews" else GDELT_URL
    base = plan.member.rsplit("/", 1)[-1] if plan.member else plan.path.name
    cols = {
        "file": pa.array([base] * k, pa.string()),
        "file_sha256": pa.array([sha256] * k, pa.string()),
        "month": totals.column("month"),
        "events": totals.column("events"),
        "root_events": totals.column("root_events"),
        "mentions": totals.column("mentions"),
        "root_mentions": totals.column("root_mentions"),
        "dataset": pa.array([dataset] * k, pa.string()),
        "source_file": pa.array([stored_name] * k, pa.string()),
        "source_line": pa.array([None] * k, pa.int64()),
        "source_url": pa.array([url] * k, pa.string()),
    }
    return pa.table([cols[f.name].cast(f.type) for f in schema], schema=schema)

