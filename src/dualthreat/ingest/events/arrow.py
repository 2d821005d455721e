"""Arrow tables of what an event file adds to the store: the theater's events with their lines, and the month
totals of all valid events.

The arrays are built from buffers (``pa.Array.from_buffers``) rather than by ``pa.array`` or ``pa.scalar``:
those ask pyarrow whether the value is a pandas object, which imports pandas (about 0.25 s of CPU here), and
the compiled path of the GDELT ingest needs nothing of pandas."""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from dualthreat.ingest.events.files import Plan
from dualthreat.ingest.events.layout import GDELT_URL, ICEWS_URL
from dualthreat.tables import TABLES


def strings(values: Sequence[str | None]) -> pa.Array:
    """A string array of ``values`` (None: NULL)."""
    data = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError("strings: more than 2 GiB of text in one array")
    valid = np.array([v is not None for v in values], dtype=bool)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), len(data), [bitmap, pa.py_buffer(offsets.astype(np.int32)),
                                                          pa.py_buffer(b"".join(data))])


def integers(values: Any) -> pa.Array:
    """An int64 array of ``values`` (a sequence or a NumPy array; no NULLs)."""
    arr = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(arr), [None, pa.py_buffer(arr)])


def repeated(value: str, n: int) -> pa.Array:
    """``value`` ``n`` times, as a string array."""
    indices = pa.Array.from_buffers(pa.int8(), n, [None, pa.py_buffer(np.zeros(n, dtype=np.int8))])
    return pa.DictionaryArray.from_arrays(indices, strings([value])).cast(pa.string())


def empty(schema: pa.Schema) -> pa.Table:
    return pa.Table.from_batches([], schema=schema)


def events_table(kept: pa.Table, lines: Any, dataset: str, stored_name: str) -> pa.Table:
    """The ``events`` rows of a file's kept events (typed as the reference path's ``typed`` query types them;
    ``month`` computed from ``date`` unless given) and their line numbers ``lines`` (an Arrow or NumPy array)."""
    import pyarrow.compute as pc

    schema = TABLES["events"].arrow_schema()
    if kept.num_rows == 0:
        return empty(schema)
    n = kept.num_rows
    url = kept.column("url")
    fallback = ICEWS_URL if dataset == "icews" else GDELT_URL
    month = (kept.column("month") if "month" in kept.column_names
             else pc.strftime(kept.column("date"), format="%Y-%m"))
    cols = {
        "event_id": kept.column("event_id"),
        "date": kept.column("date"),
        "month": month,
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
        "dataset": repeated(dataset, n),
        "source_file": repeated(stored_name, n),
        "source_line": lines if isinstance(lines, (pa.Array, pa.ChunkedArray)) else integers(lines),
        "source_url": pc.fill_null(url, strings([fallback])[0]),
    }
    return pa.table([cols[f.name].cast(f.type) for f in schema], schema=schema)


def totals_table(totals: dict[str, list], dataset: str, plan: Plan, sha256: str, stored_name: str) -> pa.Table:
    """The ``event_month_totals`` rows of a file: ``totals`` holds the columns month (``YYYY-MM``), events,
    root_events, mentions and root_mentions (None: NULL, a sum over no events)."""
    schema = TABLES["event_month_totals"].arrow_schema()
    k = len(totals["month"])
    url = ICEWS_URL if dataset == "icews" else GDELT_URL
    base = plan.member.rsplit("/", 1)[-1] if plan.member else plan.path.name

    def counts(values: list) -> pa.Array:
        valid = np.array([v is not None for v in values], dtype=bool)
        data = np.array([v or 0 for v in values], dtype=np.int64)
        bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
        return pa.Array.from_buffers(pa.int64(), k, [bitmap, pa.py_buffer(data)])

    no_line = pa.Array.from_buffers(pa.int64(), k, [pa.py_buffer(np.zeros((k + 7) // 8, dtype=np.uint8)),
                                                    pa.py_buffer(np.zeros(k, dtype=np.int64))])
    cols = {
        "file": repeated(base, k),
        "file_sha256": repeated(sha256, k),
        "month": strings(totals["month"]),
        **{c: counts(totals[c]) for c in ("events", "root_events", "mentions", "root_mentions")},
        "dataset": repeated(dataset, k),
        "source_file": repeated(stored_name, k),
        "source_line": no_line,
        "source_url": repeated(url, k),
    }
    return pa.table([cols[f.name].cast(f.type) for f in schema], schema=schema)
