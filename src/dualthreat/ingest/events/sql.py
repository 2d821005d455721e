"""The reference reader: DuckDB scans each event file once and one SQL query types and checks every value
(ICEWS always; GDELT without the compiled scanner or with ``DUALTHREAT_EVENT_SCANNER=sql``)."""


from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dualthreat.ingest.base import FileRefused, ReadResult, Rejection, display_path
from dualthreat.ingest.events.arrow import events_table, totals_table
from dualthreat.ingest.events.files import Plan, empty_lines, hash_and_count
from dualthreat.ingest.events.layout import (
    GDELT1_NAMES,
    GDELT2_NAMES,
    GDELT_EXPECTED,
    ICEWS_EXPECTED,
    MAX_LINE_BYTES,
    EventReadResult,
)


def layout_names(layout: str) -> list[str]:
    return GDELT2_NAMES if layout == "gdelt2" else GDELT1_NAMES


def layout_fields(layout: str) -> str:
    """The number of fields a line of the layout has, for messages."""
    return "61" if layout == "gdelt2" else "57 or 58"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _in_list(values: Iterable[str]) -> str:
    return "(" + (", ".join(_sql_str(v) for v in sorted(set(values))) or "NULL") + ")"


def _map_case(expr: str, mapping: dict[str, str]) -> str:
    """SQL: the value ``mapping`` gives for ``expr``, else NULL."""
    if not mapping:
        return "NULL::VARCHAR"
    whens = " ".join(f"WHEN {_sql_str(k)} THEN {_sql_str(v)}" for k, v in sorted(mapping.items()))
    return f"(CASE {expr} {whens} END)"


def _scan(path: Path, names: list[str], skip: int, types: dict[str, str], dateformat: str) -> str:
    """DuckDB's CSV scan of one event file: the typed columns are parsed (and their bad values rejected, with
    the line) by the scanner itself; the others are text. Empty fields stay '' (only a missing field is NULL)."""
    cols = "{" + ", ".join(f"{_sql_str(c)}: {_sql_str(types.get(c, 'VARCHAR'))}" for c in names) + "}"
    return (f"read_csv({_sql_str(str(path))}, auto_detect=false, header=false, skip={skip}, delim='\\t', quote='', "
            f"escape='', comment='', columns={cols}, null_padding=true, nullstr='\n', store_rejects=true, "
            f"max_line_size={MAX_LINE_BYTES}, parallel=false, dateformat={_sql_str(dateformat)})")


@dataclass
class _Query:
    """The SQL of one layout: ``checked`` (one row per accepted line, with ``n``, ``day``, ``bad`` and the
    fields), and the fields of a kept event and how they become the ``events`` columns."""

    cte: str
    kept_fields: str
    typed: str
    fields: str  # the number of fields a line must have, for messages
    bad_value: str  # SQL: the value of the field named by ``bad``, as text


# The values of the GDELT columns read, as both paths parse them (this SQL, and the compiled scanner in C):
# a whole number is digits with an optional sign, a decimal number digits with an optional point and exponent,
# each with optional spaces around; a date is eight digits naming a real day. This is stricter than DuckDB's
# own casts, which also take '5.5' as a whole number (rounded to 6), '0x10', '1_000', 'inf' or '+-5'.
_WHOLE = "' *[+-]?[0-9]+ *'"
_DECIMAL = "' *[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)? *'"
# the GDELT columns read; their text must be valid UTF-8
GDELT_READ = ("GLOBALEVENTID", "SQLDATE", "Actor1Code", "Actor1CountryCode", "Actor2Code", "Actor2CountryCode",
              "IsRootEvent", "EventCode", "EventRootCode", "QuadClass", "GoldsteinScale", "NumMentions", "NumSources",
              "NumArticles", "AvgTone", "DATEADDED", "SOURCEURL")
ICEWS_TYPES = {"Event ID": "BIGINT", "Event Date": "DATE", "Intensity": "DOUBLE"}


def _whole(col: str, sql_type: str) -> str:
    return f"CASE WHEN regexp_full_match({col}, {_WHOLE}) THEN TRY_CAST(trim({col}) AS {sql_type}) END"


def _decimal(col: str) -> str:
    return f"CASE WHEN regexp_full_match({col}, {_DECIMAL}) THEN TRY_CAST(trim({col}) AS DOUBLE) END"


def gdelt_sql(plan: Plan, data: Path, states: tuple[str, ...]) -> _Query:
    from dualthreat.ingest.cameo import cameo_countries

    names = layout_names(plan.layout)
    to_state = {c: iso for c, iso in cameo_countries().items() if iso in states}
    last = "SOURCEURL" if plan.layout == "gdelt2" else "DATEADDED"

    codes = _in_list(to_state)
    identity = all(k == v for k, v in to_state.items())

    def mapped(expr: str) -> str:
        return expr if identity else _map_case(expr, to_state)

    def country(i: int) -> str:
        # the country field; else the first three letters of the actor code (GDELT 1.0 daily files pad
        # Actor2Code with a leading space, hence ltrim)
        code, field = f"Actor{i}Code", f"Actor{i}CountryCode"
        return (f"CASE WHEN {field} IN {codes} THEN {mapped(field)} "
                f"WHEN {field} = '' AND substr(ltrim({code}), 1, 3) IN {codes} "
                f"THEN {mapped(f'substr(ltrim({code}), 1, 3)')} END")

    # Every column is read as text (the scanner checks the number of fields and the UTF-8); the values are
    # parsed here, and the first column, in file order, whose value does not parse or is out of range is the
    # line's fault.
    cte = f"""
WITH raw AS (
  SELECT row_number() OVER () AS n, {", ".join(GDELT_READ)}
  FROM {_scan(data, names, plan.skip, {}, '%Y%m%d')}
), parsed AS (
  SELECT *, {_whole('GLOBALEVENTID', 'BIGINT')} AS v_id,
    CASE WHEN regexp_full_match(SQLDATE, '[0-9]{{8}}') THEN try_strptime(SQLDATE, '%Y%m%d')::DATE END AS day,
    {_whole('IsRootEvent', 'INTEGER')} AS v_root, {_whole('QuadClass', 'INTEGER')} AS v_quad,
    {_decimal('GoldsteinScale')} AS v_gold, {_whole('NumMentions', 'INTEGER')} AS v_ment,
    {_whole('NumSources', 'INTEGER')} AS v_src, {_whole('NumArticles', 'INTEGER')} AS v_art,
    {_decimal('AvgTone')} AS v_tone, {_whole('DATEADDED', 'BIGINT')} AS v_added
  FROM raw
), checked AS (
  SELECT *, v_ment AS mentions, v_root = 1 AS root,
    {country(1)} AS source, {country(2)} AS target,
    CASE
      WHEN {last} IS NULL THEN '(row)'
      WHEN v_id IS NULL THEN 'GLOBALEVENTID'
      WHEN day IS NULL OR day NOT BETWEEN DATE '1900-01-01' AND DATE '2100-12-31' THEN 'SQLDATE'
      WHEN v_root IS NULL OR v_root NOT IN (0, 1) THEN 'IsRootEvent'
      WHEN EventCode IS NULL OR EventCode = '' THEN 'EventCode'
      WHEN EventRootCode IS NULL OR length(EventRootCode) <> 2 OR EventRootCode NOT BETWEEN '01' AND '20'
           THEN 'EventRootCode'
      WHEN v_quad IS NULL OR v_quad NOT BETWEEN 1 AND 4 THEN 'QuadClass'
      WHEN v_gold IS NULL OR NOT v_gold BETWEEN -10 AND 10 THEN 'GoldsteinScale'
      WHEN v_ment IS NULL OR v_ment < 0 THEN 'NumMentions'
      WHEN v_src IS NULL OR v_src < 0 THEN 'NumSources'
      WHEN v_art IS NULL OR v_art < 0 THEN 'NumArticles'
      WHEN v_tone IS NULL OR NOT v_tone BETWEEN -100 AND 100 THEN 'AvgTone'
      WHEN v_added IS NULL OR NOT (v_added BETWEEN 19000101 AND 21001231
                                   OR v_added BETWEEN 19000101000000 AND 21001231235959) THEN 'DATEADDED'
    END AS bad
  FROM parsed
)"""
    kept_fields = ("n, day, source, target, v_id, Actor1Code, Actor2Code, Actor1CountryCode, Actor2CountryCode, "
                   "EventCode, EventRootCode, v_quad, v_gold, v_root, v_ment, v_src, v_art, v_tone, v_added, SOURCEURL")
    typed = """SELECT n, v_id AS event_id, day AS date, source, target,
        nullif(trim(Actor1Code), '') AS source_actor, nullif(trim(Actor2Code), '') AS target_actor,
        Actor1CountryCode = '' OR Actor2CountryCode = '' AS country_from_code,
        EventCode AS event_code, EventRootCode AS root_code, v_quad AS quad_class,
        v_gold AS goldstein, v_root = 1 AS is_root, v_ment AS num_mentions,
        v_src AS num_sources, v_art AS num_articles, v_tone AS avg_tone,
        try_strptime(substr(v_added::VARCHAR, 1, 8), '%Y%m%d')::DATE AS date_added, nullif(SOURCEURL, '') AS url"""
    whens = " ".join(f"WHEN '{c}' THEN {c}" for c in GDELT_READ if c in REASONS)  # as it is in the file
    bad_value = f"CASE bad WHEN '(row)' THEN NULL {whens} END"
    return _Query(cte, kept_fields, typed, layout_fields(plan.layout), bad_value)


def _icews_sql(plan: Plan, data: Path, states: tuple[str, ...]) -> _Query:
    from dualthreat.ingest.cameo import icews_countries

    names = [h if h else f"column{i}" for i, h in enumerate(plan.header)]
    to_state = {name: iso for name, iso in icews_countries().items() if iso in states}

    def col(c: str) -> str:
        return _ident(c) if c in names else "NULL::VARCHAR"

    cte = f"""
WITH raw AS (
  SELECT row_number() OVER () AS n, {col('Event ID')} AS event_id, {col('Event Date')} AS day,
         {col('Source Name')} AS sname, {col('Source Country')} AS scountry, {col('CAMEO Code')} AS code,
         {col('Intensity')} AS intensity, {col('Target Name')} AS tname, {col('Target Country')} AS tcountry,
         {_ident(names[-1])} AS last_field
  FROM {_scan(data, names, plan.skip, ICEWS_TYPES, '%Y-%m-%d')}
), checked AS (
  SELECT *, NULL::BIGINT AS mentions, NULL::BOOLEAN AS root,
    {_map_case('trim(scountry)', to_state)} AS source, {_map_case('trim(tcountry)', to_state)} AS target,
    CASE
      WHEN last_field IS NULL THEN '(row)'
      WHEN day NOT BETWEEN DATE '1900-01-01' AND DATE '2100-12-31' THEN 'Event Date'
      WHEN length(code) NOT BETWEEN 2 AND 4 OR try_cast(code AS INTEGER) IS NULL
           OR substr(code, 1, 2) NOT BETWEEN '01' AND '20' THEN 'CAMEO Code'
      WHEN NOT intensity BETWEEN -10 AND 10 THEN 'Intensity'
    END AS bad
  FROM raw
)"""
    kept_fields = "n, day, source, target, event_id, sname, tname, code, intensity"
    typed = """SELECT n, event_id, day AS date, source, target,
        nullif(nullif(trim(sname), 'NA'), '') AS source_actor, nullif(nullif(trim(tname), 'NA'), '') AS target_actor,
        false AS country_from_code, code AS event_code, substr(code, 1, 2) AS root_code,
        CASE WHEN substr(code, 1, 2) <= '05' THEN 1 WHEN substr(code, 1, 2) <= '08' THEN 2
             WHEN substr(code, 1, 2) <= '13' THEN 3 ELSE 4 END AS quad_class,
        intensity AS goldstein, NULL::BOOLEAN AS is_root, NULL::INTEGER AS num_mentions,
        NULL::INTEGER AS num_sources, NULL::INTEGER AS num_articles, NULL::DOUBLE AS avg_tone,
        NULL::DATE AS date_added, NULL::VARCHAR AS url"""
    bad_value = """CASE bad WHEN '(row)' THEN NULL WHEN 'Event Date' THEN day::VARCHAR WHEN 'CAMEO Code' THEN code
        WHEN 'Intensity' THEN intensity::VARCHAR END"""
    return _Query(cte, kept_fields, typed, str(len(names)), bad_value)


REASONS = {
    "GLOBALEVENTID": "is not a whole number",
    "SQLDATE": "is not a date (expected YYYYMMDD)",
    "IsRootEvent": "is not 0 or 1",
    "EventCode": "is empty; a CAMEO event code is required",
    "EventRootCode": "is not a CAMEO root code (01-20)",
    "QuadClass": "is not a quad class (1-4)",
    "GoldsteinScale": "is not a Goldstein score (a number from -10 to 10)",
    "NumMentions": "is not a count (a whole number >= 0)",
    "NumSources": "is not a count (a whole number >= 0)",
    "NumArticles": "is not a count (a whole number >= 0)",
    "AvgTone": "is not a tone (a number from -100 to 100)",
    "DATEADDED": "is not a date-time (expected YYYYMMDD or YYYYMMDDHHMMSS)",
    "Event ID": "is not a whole number",
    "Event Date": "is not a date (expected YYYY-MM-DD)",
    "CAMEO Code": "is not a CAMEO event code (2-4 digits, root 01-20)",
    "Intensity": "is not a Goldstein intensity (a number from -10 to 10)",
}


FEWER = "expected {fields} tab-separated fields, found fewer (truncated line?)"
TOO_MANY = "expected {fields} tab-separated fields, found more (a stray tab?)"  # DuckDB counts only to 62
BAD_UTF8 = "not valid UTF-8; re-save the file as UTF-8"
TOO_LONG = f"line longer than {MAX_LINE_BYTES // 1024} KiB"
STRAY_CR = "a carriage return (\\r) inside the line: broken line ends? (lines end with \\n or \\r\\n)"


def value_reason(column: str, value: str | None) -> str:
    return f"{(value or '')[:40]!r} {REASONS[column]}"


def connect(tmp: Path) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 1")  # one thread per file keeps file order for the line numbers
    con.execute("SET memory_limit = '512MB'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {_sql_str(str(tmp / 'spill'))}")
    return con


def read_one_sql(plan: Plan, states: tuple[str, ...], tmp: Path, con: Any = None) -> EventReadResult:
    import numpy as np

    name = str(plan.path)
    stored_name = display_path(plan.path) + (f"!{plan.member}" if plan.member else "")
    raw = hash_and_count(plan, tmp)
    q = (gdelt_sql if plan.kind == "gdelt" else _icews_sql)(plan, raw.data, states)
    own = con is None
    con = con or connect(tmp)
    # the scanner appends the lines it rejects to reject_errors: start each file with empty tables
    con.execute("DROP TABLE IF EXISTS agg; DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    try:
        try:
            con.execute(f"""CREATE TEMP TABLE agg AS {q.cte}, flagged AS (
                  SELECT *, bad IS NULL AS ok, bad IS NULL AND root AS ok_root,
                    bad IS NULL AND source IS NOT NULL AND target IS NOT NULL AND source <> target AS keep
                  FROM checked)
                SELECT day, count(*) AS n_rows, count_if(ok) AS events,
                  CASE WHEN count(root) > 0 THEN count_if(ok_root) END AS root_events,  -- ICEWS: no root flag
                  sum(CASE WHEN ok THEN mentions END) AS mentions,
                  sum(CASE WHEN ok_root THEN mentions END) AS root_mentions,
                  list(struct_pack(n, bad, value := {q.bad_value})) FILTER (WHERE NOT ok) AS bad_rows,
                  list(struct_pack({q.kept_fields})) FILTER (WHERE keep) AS kept
                FROM flagged GROUP BY day""")
        except Exception as exc:  # noqa: BLE001 - DuckDB raises several error types for an unreadable file
            msg = str(exc).split("\n")[0]
            raise FileRefused(name, f"cannot be read as {plan.layout} event data ({msg})") from None
        # lines the scanner rejected (one record per line: its first error)
        rej = con.execute("""
            SELECT line, arg_min(error_type, coalesce(column_idx, -1)),
                   arg_min(column_name, coalesce(column_idx, -1)), arg_min(error_message, coalesce(column_idx, -1))
            FROM reject_errors GROUP BY line ORDER BY line""").fetchall()
        accepted = con.execute("SELECT coalesce(sum(n_rows), 0) FROM agg").fetchall()[0][0]
        bad = con.execute("SELECT b.n, b.bad, b.value FROM (SELECT unnest(bad_rows) AS b FROM agg)").fetchall()
        totals = con.sql("""
            SELECT strftime(day, '%Y-%m') AS month, sum(events)::BIGINT AS events,
                   sum(root_events)::BIGINT AS root_events, sum(mentions)::BIGINT AS mentions,
                   sum(root_mentions)::BIGINT AS root_mentions
            FROM agg WHERE events > 0 GROUP BY 1 ORDER BY 1""").to_arrow_table()
        kept = con.sql(f"""
            WITH k AS (SELECT unnest(kept, recursive := true) FROM agg)
            {q.typed} FROM k ORDER BY n""").to_arrow_table()
    finally:
        if own:
            con.close()
        if raw.data != plan.path:
            raw.data.unlink(missing_ok=True)
    struct_lines = [r for r in rej if r[0] > plan.skip]
    skipped = {line for line, *_ in rej} | set(range(1, plan.skip + 1))
    if accepted + len(skipped) < raw.lines:  # the scanner skipped empty lines without a record: find them
        skipped |= empty_lines(plan)
    skip_sorted = np.array(sorted(skipped), dtype=np.int64)
    before = skip_sorted - np.arange(1, len(skip_sorted) + 1)  # accepted rows before each skipped line

    def line_of(ns: np.ndarray) -> np.ndarray:
        return ns + np.searchsorted(before, ns, side="left")

    rejections = [Rejection(name, int(line), *_scanner_reason(etype, column, message, q.fields))
                  for line, etype, column, message in struct_lines]
    if bad:
        bad_lines = line_of(np.array([b[0] for b in bad], dtype=np.int64))
        for (_, fld, value), line in zip(bad, bad_lines):
            reason = FEWER.format(fields=q.fields) if fld == "(row)" else value_reason(fld, value)
            rejections.append(Rejection(name, int(line), fld, reason))
    rejections.sort(key=lambda r: r.line)
    rows_in = int(accepted) + len(struct_lines)  # non-empty data lines
    if rows_in == 0:
        expected = GDELT_EXPECTED if plan.kind == "gdelt" else ICEWS_EXPECTED
        raise FileRefused(name, f"no data lines; expected {expected}")
    valid = int(accepted) - len(bad)
    events = events_table(kept, line_of, plan.layout, stored_name)
    tot = totals_table(totals, plan.layout, plan, raw.sha256, stored_name)
    companion = ReadResult(name, "event_month_totals", plan.layout, tot.num_rows, tot, [], sha256=raw.sha256)
    return EventReadResult(name, "events", plan.layout, rows_in, events, rejections, sha256=raw.sha256,
                           valid=valid, companions=[companion], states=states)




def _scanner_reason(etype: str, column: str | None, message: str, fields: str) -> tuple[str, str]:
    if etype == "CAST" and column in REASONS:
        m = re.search(r"""string ["'](.*?)["'] (to|according)""", message)
        return column, value_reason(column, m.group(1) if m else "")
    if etype == "TOO MANY COLUMNS":
        return "(row)", TOO_MANY.format(fields=fields)
    if etype == "INVALID ENCODING":
        return column or "(encoding)", BAD_UTF8
    if etype == "LINE SIZE OVER MAXIMUM":
        return "(line)", TOO_LONG
    if etype == "MISSING COLUMNS":
        return "(row)", FEWER.format(fields=fields)
    return column or "(row)", f"{etype.lower()}: {message}"
