"""The compiled GDELT scanner (:mod:`dualthreat.ingest._gdeltscan`): the same checks as the SQL reader, in C,
in the same pass as the hash; only the kept lines go through DuckDB."""


from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from dualthreat.ingest.base import FileRefused, ReadResult, Rejection, display_path
from dualthreat.ingest.events.arrow import events_table, totals_table
from dualthreat.ingest.events.files import Plan, chunks, open_bytes, temp_file
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
    connect,
    gdelt_sql,
    layout_fields,
    layout_names,
    value_reason,
)
from dualthreat.tables import TABLES

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
    files have no SOURCEURL)."""
    names = layout_names(layout)
    at = names.index
    return dict(
        max_fields=len(names), read=[at(c) for c in GDELT_READ],
        roles={"last": at("SOURCEURL" if layout == "gdelt2" else "DATEADDED"), "id": at("GLOBALEVENTID"),
               "day": at("SQLDATE"), "root": at("IsRootEvent"), "code": at("EventCode"),
               "root_code": at("EventRootCode"), "quad": at("QuadClass"), "goldstein": at("GoldsteinScale"),
               "mentions": at("NumMentions"), "sources": at("NumSources"), "articles": at("NumArticles"),
               "tone": at("AvgTone"), "added": at("DATEADDED"), "a1code": at("Actor1Code"),
               "a1country": at("Actor1CountryCode"), "a2code": at("Actor2Code"), "a2country": at("Actor2CountryCode")})


def read_one_compiled(plan: Plan, states: tuple[str, ...], tmp: Path, con: Any = None) -> EventReadResult:
    """One GDELT file through the compiled scanner: every line checked and counted in C while the file is
    hashed; only the theater's events (about 1% of GDELT's lines) then go through DuckDB, written to a small
    file and typed by the same SQL as the reference path."""
    import numpy as np
    import pyarrow.compute as pc

    from dualthreat.ingest import _gdeltscan
    from dualthreat.ingest.cameo import cameo_countries

    name = str(plan.path)
    stored_name = display_path(plan.path) + (f"!{plan.member}" if plan.member else "")
    to_state = {c: iso for c, iso in cameo_countries().items() if iso in states}
    ids = {iso: i for i, iso in enumerate(sorted(set(to_state.values())))}
    layout = _scanner_layout(plan.layout)
    names = layout_names(plan.layout)
    scanner = _gdeltscan.Scanner(**layout, states={c.encode(): ids[iso] for c, iso in to_state.items()},
                                 skip=plan.skip, max_line=MAX_LINE_BYTES)
    h = hashlib.sha256()
    with open_bytes(plan) as fh:
        for chunk in chunks(fh):
            h.update(chunk)
            scanner.feed(chunk)
    out = scanner.finish()
    sha256 = h.hexdigest()
    if out["rows_in"] == 0:
        raise FileRefused(name, f"no data lines; expected {GDELT_EXPECTED}")

    fields = layout_fields(plan.layout)
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

    kept_lines = np.frombuffer(out["kept_lines"], dtype=np.int64)
    if len(kept_lines):
        kept_path = temp_file(tmp, ".kept.tsv")
        kept_path.write_bytes(out["kept"])
        q = gdelt_sql(Plan(plan.kind, kept_path, None, plan.layout, 0), kept_path, states)
        own = con is None
        con = con or connect(tmp)
        try:
            kept = con.sql(f"{q.cte} {q.typed} FROM checked WHERE bad IS NULL ORDER BY n").to_arrow_table()
        finally:
            if own:
                con.close()
            kept_path.unlink(missing_ok=True)
        source, target = kept.column("source"), kept.column("target")
        problem = None
        if kept.num_rows != len(kept_lines):
            problem = f"{len(kept_lines)} lines kept, {kept.num_rows} typed"
        elif source.null_count or target.null_count:
            problem = "an actor without a state"
        elif pc.any(pc.equal(source, target)).as_py():
            problem = "an event within one state"
        if problem:
            raise RuntimeError(f"{name}: the compiled scanner and DuckDB disagree on the theater's events "
                               f"({problem}); please report this, and read the file with "
                               "DUALTHREAT_EVENT_SCANNER=sql meanwhile")
        events = events_table(kept, lambda ns: kept_lines[ns - 1], plan.layout, stored_name)
    else:
        events = TABLES["events"].arrow_schema().empty_table()

    months: dict[str, list] = {}
    for day, n, root, mentions, root_mentions in out["days"]:
        t = months.setdefault(f"{day // 10000:04d}-{day // 100 % 100:02d}", [0, 0, 0, None])
        t[0] += n
        t[1] += root
        t[2] += mentions
        if root:  # a sum over no root events is NULL, as in SQL
            t[3] = (t[3] or 0) + root_mentions
    order = sorted(months)
    totals = pa.table({"month": pa.array(order, pa.string()),
                       **{c: pa.array([months[m][i] for m in order], pa.int64())
                          for i, c in enumerate(("events", "root_events", "mentions", "root_mentions"))}})
    tot = totals_table(totals, plan.layout, plan, sha256, stored_name)
    companion = ReadResult(name, "event_month_totals", plan.layout, tot.num_rows, tot, [], sha256=sha256)
    return EventReadResult(name, "events", plan.layout, out["rows_in"], events, rejections, sha256=sha256,
                           valid=out["valid"], companions=[companion], states=states)


