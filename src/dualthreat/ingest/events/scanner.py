"""The compiled GDELT scanner (:mod:`dualthreat.ingest._gdeltscan`): the same checks as the SQL reader, in C,
in the same pass as the hash; the kept events typed in C too, into Arrow buffers."""


from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pyarrow as pa

from dualthreat.ingest.base import FileRefused, ReadResult, Rejection, display_path
from dualthreat.ingest.events.arrow import events_table, strings, totals_table
from dualthreat.ingest.events.files import Plan, chunks, open_bytes
from dualthreat.ingest.events.layout import (
    GDELT_EXPECTED,
    MAX_LINE_BYTES,
    EventReadResult,
)
from dualthreat.ingest.events.sql import (
    BAD_UTF8,
    FEWER,
    GDELT_READ,
    STRAY_CR,
    TOO_LONG,
    TOO_MANY,
    layout_fields,
    layout_names,
    value_reason,
)

# --------------------------------------------------------------------------------------------------
# the compiled scanner (GDELT): the same checks as the SQL above, in C, in the same pass as the hash


class ScannerError(ValueError):
    """The event scanner asked for (argument or ``DUALTHREAT_EVENT_SCANNER``) is unknown or not installed."""


def use_compiled(scanner: str | None) -> bool:
    where = "scanner=" if scanner else "DUALTHREAT_EVENT_SCANNER="
    choice = (scanner or os.environ.get("DUALTHREAT_EVENT_SCANNER") or "auto").lower()
    if choice not in ("auto", "c", "sql"):
        raise ScannerError(f"{where}{choice!r} is not an event scanner: use c or sql (or leave it unset)")
    if choice == "sql":
        return False
    try:
        from dualthreat.ingest import _gdeltscan  # noqa: F401
    except ImportError:
        if choice == "c":
            raise ScannerError(f"{where}c asks for the compiled GDELT scanner, which is not installed (was there a "
                               "C compiler when dualthreat was installed?); reinstall with one "
                               "(`pip install -v -e .` shows the build), or use the SQL path with sql") from None
        return False
    return True


def _scanner_layout(layout: str) -> dict[str, Any]:
    """The compiled scanner's view of a layout: the number of fields, the columns read, and where each checked
    one is. A line is short when it lacks its ``last`` column (SOURCEURL; DATEADDED in GDELT 1.0, whose back
    files have no SOURCEURL: ``url`` may then be missing, and is NULL)."""
    names = layout_names(layout)
    at = names.index
    return dict(
        max_fields=len(names), read=[at(c) for c in GDELT_READ],
        roles={"last": at("SOURCEURL" if layout == "gdelt2" else "DATEADDED"), "id": at("GLOBALEVENTID"),
               "day": at("SQLDATE"), "root": at("IsRootEvent"), "code": at("EventCode"),
               "root_code": at("EventRootCode"), "quad": at("QuadClass"), "goldstein": at("GoldsteinScale"),
               "mentions": at("NumMentions"), "sources": at("NumSources"), "articles": at("NumArticles"),
               "tone": at("AvgTone"), "added": at("DATEADDED"), "a1code": at("Actor1Code"),
               "a1country": at("Actor1CountryCode"), "a2code": at("Actor2Code"), "a2country": at("Actor2CountryCode"),
               "url": at("SOURCEURL")})


BATCH_ROWS = 122_880  # kept events per batch (one DuckDB row group; tests set it lower to cross batch boundaries)


def read_one_compiled(plan: Plan, states: tuple[str, ...], tmp: Path | None = None, con: Any = None,
                      hash_beside: bool = False) -> EventReadResult:
    """One GDELT file through the compiled scanner: every line checked and counted in C while the file is
    hashed, and the theater's events typed in C as they are found, into Arrow buffers (:func:`kept_table`):
    nothing of them is parsed a second time, in Python or SQL. ``tmp`` and ``con`` are not used (the reference
    path's signature). With ``hash_beside`` the SHA-256 of each chunk is computed on a second thread while the
    scanner reads it (both release the GIL): a file read alone then keeps two cores busy."""
    from dualthreat.ingest import _gdeltscan
    from dualthreat.ingest.cameo import cameo_countries

    name = str(plan.path)
    stored_name = display_path(plan.path) + (f"!{plan.member}" if plan.member else "")
    to_state = {c: iso for c, iso in cameo_countries().items() if iso in states}
    isos = sorted(set(to_state.values()))  # a kept event's source and target are indices into these
    ids = {iso: i for i, iso in enumerate(isos)}
    scanner = _gdeltscan.Scanner(**_scanner_layout(plan.layout), states={c.encode(): ids[iso] for c, iso in to_state.items()},
                                 skip=plan.skip, max_line=MAX_LINE_BYTES, batch_rows=BATCH_ROWS)
    h = hashlib.sha256()
    batches: list[dict[str, Any]] = []
    with open_bytes(plan) as fh, (ThreadPoolExecutor(1) if hash_beside else nullcontext()) as hasher:
        for chunk in chunks(fh):  # a chunk is valid until the next one is read: the hash must be done by then
            hashed = hasher.submit(h.update, chunk) if hasher else h.update(chunk)
            scanner.feed(chunk)
            batches += scanner.take()  # full batches move to Python as they fill: memory stays bounded
            if hasher:
                hashed.result()
    out = scanner.finish()
    batches += out["batches"]
    sha256 = h.hexdigest()
    if out["rows_in"] == 0:
        raise FileRefused(name, f"no data lines; expected {GDELT_EXPECTED}")

    fields = layout_fields(plan.layout)
    names = layout_names(plan.layout)
    rejections = []
    for line, kind, col, value in out["rejections"]:
        column = names[col] if col >= 0 else None
        text = value.decode("utf-8", "replace")  # valid UTF-8, but cut at 200 bytes
        if kind == _gdeltscan.R_LINE:
            fld, reason = "(line)", TOO_LONG
        elif kind == _gdeltscan.R_CR:
            fld, reason = "(line)", STRAY_CR
        elif kind == _gdeltscan.R_MANY:
            fld, reason = "(row)", TOO_MANY.format(fields=fields)
        elif kind == _gdeltscan.R_FEWER:
            fld, reason = "(row)", FEWER.format(fields=fields)
        elif kind == _gdeltscan.R_UTF8:
            fld, reason = column, BAD_UTF8
        else:
            fld, reason = column, value_reason(column, text)
        rejections.append(Rejection(name, line, fld, reason))

    kept = kept_table(batches, isos)
    if kept.num_rows != out["kept"]:
        raise RuntimeError(f"{name}: the compiled scanner kept {out['kept']} events but handed over {kept.num_rows}; "
                           "please report this, and read the file with DUALTHREAT_EVENT_SCANNER=sql meanwhile")
    events = events_table(kept, kept.column("line"), plan.layout, stored_name)

    months: dict[str, list] = {}
    for day, n, root, mentions, root_mentions in out["days"]:
        t = months.setdefault(f"{day // 10000:04d}-{day // 100 % 100:02d}", [0, 0, 0, None])
        t[0] += n
        t[1] += root
        t[2] += mentions
        if root:  # a sum over no root events is NULL, as in SQL
            t[3] = (t[3] or 0) + root_mentions
    order = sorted(months)
    totals = {"month": order, **{c: [months[m][i] for m in order]
                                 for i, c in enumerate(("events", "root_events", "mentions", "root_mentions"))}}
    tot = totals_table(totals, plan.layout, plan, sha256, stored_name)
    companion = ReadResult(name, "event_month_totals", plan.layout, tot.num_rows, tot, [], sha256=sha256)
    return EventReadResult(name, "events", plan.layout, out["rows_in"], events, rejections, sha256=sha256,
                           valid=out["valid"], companions=[companion], states=states)


# the scanner's batches: (column, Arrow type, its buffers in the batch: validity bitmap or None, then the others)
_BATCH_COLUMNS: tuple[tuple[str, pa.DataType, tuple[str | None, ...]], ...] = (
    ("line", pa.int64(), (None, "line")),
    ("event_id", pa.int64(), (None, "event_id")),
    ("date", pa.date32(), (None, "date")),
    ("source_actor", pa.string(), ("source_actor_valid", "source_actor_offsets", "source_actor")),
    ("target_actor", pa.string(), ("target_actor_valid", "target_actor_offsets", "target_actor")),
    ("country_from_code", pa.bool_(), (None, "country_from_code")),
    ("event_code", pa.string(), (None, "event_code_offsets", "event_code")),
    ("root_code", pa.string(), (None, "root_code_offsets", "root_code")),
    ("quad_class", pa.int32(), (None, "quad_class")),
    ("goldstein", pa.float64(), (None, "goldstein")),
    ("is_root", pa.bool_(), (None, "is_root")),
    ("num_mentions", pa.int32(), (None, "num_mentions")),
    ("num_sources", pa.int32(), (None, "num_sources")),
    ("num_articles", pa.int32(), (None, "num_articles")),
    ("avg_tone", pa.float64(), (None, "avg_tone")),
    ("date_added", pa.date32(), ("date_added_valid", "date_added")),
    ("url", pa.string(), ("url_valid", "url_offsets", "url")),
)


def kept_table(batches: list[dict[str, Any]], states: list[str]) -> pa.Table:
    """The kept events of the scanner's batches as one Arrow table, one chunk per batch: each column wraps the
    bytes the scanner wrote (``pa.Array.from_buffers``, no copy); source and target are the indices of their
    states in ``states``; ``month`` is 7 bytes a row."""
    import numpy as np

    dictionary = strings(states)
    out = []
    for b in batches:
        n = b["rows"]
        cols = {c: pa.Array.from_buffers(t, n, [pa.py_buffer(b[k]) if k else None for k in bufs])
                for c, t, bufs in _BATCH_COLUMNS}
        for c in ("source", "target"):
            cols[c] = dictionary.take(pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(b[c])]))
        offsets = pa.py_buffer(np.arange(0, 7 * n + 1, 7, dtype=np.int32))
        cols["month"] = pa.Array.from_buffers(pa.string(), n, [None, offsets, pa.py_buffer(b["month"])])
        out.append(pa.RecordBatch.from_arrays([cols[f.name] for f in _KEPT_SCHEMA], schema=_KEPT_SCHEMA))
    return pa.Table.from_batches(out, schema=_KEPT_SCHEMA)


_KEPT_SCHEMA = pa.schema([(c, t) for c, t, _ in _BATCH_COLUMNS] + [(c, pa.string()) for c in ("source", "target", "month")])
