"""Readers for event data: GDELT 1.0 and 2.0 event files and ICEWS event files, plain or zipped.

Event files are large (a GDELT 1.0 yearly back file or a month of GDELT 2.0 exports holds millions of lines),
so these readers do not go row by row through Python. For each file they

* check every line (number of fields, UTF-8 in the fields read, dates, codes, numbers) and return each
  malformed line with the field and the reason,
* count every valid event by month (``event_month_totals``: the denominators of event shares, since GDELT's
  volume grew by orders of magnitude), and
* keep, with its line number, each event whose two actors are two different states of the theater
  (``events``).

Two implementations give the same results (tests/test_events_scanner.py):

* GDELT, by default: the compiled scanner :mod:`dualthreat.ingest._gdeltscan` (C), fed the file in 1 MiB
  chunks that are hashed (SHA-256) in the same pass; it counts lines by ``\n`` and checks every line itself;
  only the kept lines go through DuckDB, to be typed by the same SQL as below (:func:`_read_one_compiled`).
* The reference path (ICEWS always; GDELT without the compiled module or with ``DUALTHREAT_EVENT_SCANNER=sql``):
  DuckDB's CSV scanner reads each file once, streaming, every GDELT column as text, and one SQL query parses
  and checks the values (:func:`_read_one`). Line numbers: the scanner skips the lines it rejects (wrong number
  of fields, bad UTF-8, over-long) and empty lines, and reports the rejected ones with their line numbers; rows
  are numbered in file order (each file is scanned by one thread), and a row's line is its number plus the
  skipped lines before it. A Python pass over the bytes (which also computes the file's SHA-256) counts the
  lines, so that empty lines are found and accounted for.

Several files are read at once, one per core.

Actor countries (GDELT): ``Actor1CountryCode``/``Actor2CountryCode``; where that field is empty, the first
three characters of ``Actor1Code``/``Actor2Code`` when they are a CAMEO country code (the CAMEO actor
codebook puts the country first in an actor code, e.g. ``CHNGOV``); CAMEO codes are mapped to ISO3 by
:mod:`dualthreat.ingest.cameo`. ICEWS names countries in words, mapped to ISO3 the same way.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa

from dualthreat.ingest.base import FileRefused, ReadResult, Rejection, display_path, first_bytes
from dualthreat.tables import TABLES

GDELT_URL = "https://www.gdeltproject.org/"
ICEWS_URL = "https://doi.org/10.7910/DVN/28075"
MAX_LINE_BYTES = 1 << 20

# GDELT 2.0 event export columns with their BigQuery types (GDELT 2.0 event codebook; header file
# GDELT_2.0_Events_Column_Labels_Header_Row_Sep2016.csv). GDELT 1.0 has the same columns without the three
# *_ADM2Code columns (58), and its historical back files also lack SOURCEURL (57).
GDELT2_COLUMNS: tuple[tuple[str, str], ...] = (
    ("GLOBALEVENTID", "INTEGER"), ("SQLDATE", "INTEGER"), ("MonthYear", "INTEGER"), ("Year", "INTEGER"),
    ("FractionDate", "FLOAT"),
    *[(f"Actor{i}{c}", "STRING") for i in (1, 2) for c in (
        "Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code", "Religion2Code",
        "Type1Code", "Type2Code", "Type3Code")],
    ("IsRootEvent", "INTEGER"), ("EventCode", "STRING"), ("EventBaseCode", "STRING"), ("EventRootCode", "STRING"),
    ("QuadClass", "INTEGER"), ("GoldsteinScale", "FLOAT"), ("NumMentions", "INTEGER"), ("NumSources", "INTEGER"),
    ("NumArticles", "INTEGER"), ("AvgTone", "FLOAT"),
    *[(f"{g}_{c}", t) for g in ("Actor1Geo", "Actor2Geo", "ActionGeo") for c, t in (
        ("Type", "INTEGER"), ("FullName", "STRING"), ("CountryCode", "STRING"), ("ADM1Code", "STRING"),
        ("ADM2Code", "STRING"), ("Lat", "FLOAT"), ("Long", "FLOAT"), ("FeatureID", "STRING"))],
    ("DATEADDED", "INTEGER"), ("SOURCEURL", "STRING"),
)
GDELT2_NAMES = [c for c, _ in GDELT2_COLUMNS]
GDELT1_NAMES = [c for c in GDELT2_NAMES if not c.endswith("_ADM2Code")]
assert len(GDELT2_NAMES) == 61 and len(GDELT1_NAMES) == 58

ICEWS_NAMES = ["Event ID", "Event Date", "Source Name", "Source Sectors", "Source Country", "Event Text",
               "CAMEO Code", "Intensity", "Target Name", "Target Sectors", "Target Country", "Story ID",
               "Sentence Number", "Publisher", "City", "District", "Province", "Country", "Latitude", "Longitude"]

GDELT_EXPECTED = ("a GDELT event file: tab-separated, no header, 57 or 58 fields per line (GDELT 1.0) or 61 "
                  "(GDELT 2.0 export), plain or zipped")
ICEWS_EXPECTED = ("an ICEWS event file (Harvard Dataverse .tab layout): tab-separated with the header row "
                  + ", ".join(ICEWS_NAMES[:8]) + ", ..., plain or zipped")


@dataclass
class EventReadResult(ReadResult):
    """One event file: the theater's events (``rows``, table ``events``) and, as a companion loaded in the same
    transaction, the month totals of all valid events in the file (table ``event_month_totals``).

    ``loaded`` counts every valid line (each is counted in the month totals); ``kept`` is how many of them are
    events between two of the theater's states, stored one by one. ``rows_in == loaded + rejected``.
    """

    valid: int = 0
    companions: list[ReadResult] = field(default_factory=list)
    states: tuple[str, ...] = ()

    @property
    def loaded(self) -> int:  # type: ignore[override]
        return self.valid

    @property
    def kept(self) -> int:
        return self.rows.num_rows


# --------------------------------------------------------------------------------------------------
# public entry points


def read_gdelt(path: Path) -> EventReadResult:
    """``dualthreat ingest gdelt PATH``: one GDELT event file, or a folder of them (read in parallel)."""
    return _read_path("gdelt", path)


def read_icews(path: Path) -> EventReadResult:
    """``dualthreat ingest icews PATH``: one ICEWS event file, or a folder of them (read in parallel)."""
    return _read_path("icews", path)


def _read_path(kind: str, path: Path) -> EventReadResult:
    files = event_files(kind, path)
    results = read_events(kind, files)
    if path.is_dir():
        return combine(results, str(path))
    return results[0]


_NOT_DATA = {"README", "SYNTHETIC", "LICENSE", "PROVENANCE", "SOURCES", "MANIFEST"}
_SUFFIXES = {"gdelt": (".csv", ".tsv", ".zip"), "icews": (".tab", ".tsv", ".zip")}
_OTHER_GDELT = (".mentions.", ".gkg.", ".translation.mentions.")  # GDELT's other tables, named in their files


def event_files(kind: str, path: Path) -> list[Path]:
    """A file as is; a folder as its event files: by suffix, without hidden or partial files, READMEs, or (for
    GDELT) the mentions and GKG files that GDELT names as such. A file given by name is always checked."""
    expected = GDELT_EXPECTED if kind == "gdelt" else ICEWS_EXPECTED
    if not path.exists():
        raise FileRefused(str(path), f"no such file; expected {expected}")
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in _SUFFIXES[kind] and p.stem.upper() not in _NOT_DATA
                   and not (kind == "gdelt" and any(t in p.name.lower() for t in _OTHER_GDELT)))
    if not files:
        raise FileRefused(str(path), f"the folder has no {'/'.join(_SUFFIXES[kind])} files; expected {expected}")
    return files


def read_events(kind: str, paths: Sequence[Path], states: Sequence[str] | None = None, jobs: int | None = None,
                progress: Callable[[Path], None] | None = None, scanner: str | None = None) -> list[EventReadResult]:
    """Read event files of one kind (``gdelt`` or ``icews``), several at once; one result per file.

    ``states`` are the theater's states (default: those of the packaged theater). A file that is not of the
    kind asked for raises :class:`FileRefused` (checked for every file before any is scanned).

    ``scanner``: ``"c"`` reads GDELT files with the compiled scanner (:mod:`dualthreat.ingest._gdeltscan`),
    ``"sql"`` with the reference path (DuckDB's CSV scanner and one SQL query per file); both give the same
    results (tests/test_events_scanner.py). Default: the environment variable ``DUALTHREAT_EVENT_SCANNER``,
    else ``"c"`` where the compiled module is installed. ICEWS files always take the SQL path.
    """
    if kind not in ("gdelt", "icews"):
        raise ValueError(f"unknown event data kind {kind!r}")
    fast = kind == "gdelt" and _use_compiled(scanner)
    if states is None:
        from dualthreat.theater import load_theater

        states = load_theater().states
    states = tuple(states)
    plans = [_plan(kind, Path(p)) for p in paths]  # refuses wrong files before any work
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(plans)))
    local = threading.local()
    opened: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="dualthreat-events-") as tmp:
        def work(plan: _Plan) -> EventReadResult:
            con = getattr(local, "con", None)
            if con is None:  # one DuckDB connection per worker thread, reused for its files
                con = local.con = _connect(Path(tmp))
                opened.append(con)
            result = (_read_one_compiled if fast else _read_one)(plan, states, Path(tmp), con)
            if progress:
                progress(plan.path)
            return result

        try:
            if jobs == 1:
                return [work(p) for p in plans]
            with ThreadPoolExecutor(jobs) as pool:
                return list(pool.map(work, plans))
        finally:
            for con in opened:
                con.close()


def combine(results: Sequence[EventReadResult], name: str) -> EventReadResult:
    """Several files' results as one (for a folder): rows, rejections and totals concatenated."""
    if len(results) == 1:
        return results[0]
    digest = hashlib.sha256()
    for r in sorted(results, key=lambda r: r.sha256):
        digest.update(r.sha256.encode())
    totals = [c for r in results for c in r.companions]
    tot_rows = pa.concat_tables([c.rows for c in totals])
    companion = ReadResult(name, "event_month_totals", totals[0].format, sum(c.rows_in for c in totals), tot_rows,
                           [], sha256=digest.hexdigest())
    formats = ", ".join(sorted({r.format for r in results}))
    return EventReadResult(name, "events", formats, sum(r.rows_in for r in results),
                           pa.concat_tables([r.rows for r in results]),
                           [x for r in results for x in r.rejections], sha256=digest.hexdigest(),
                           valid=sum(r.valid for r in results), companions=[companion], states=results[0].states)


# --------------------------------------------------------------------------------------------------
# planning: what a file is, before it is scanned


@dataclass
class _Plan:
    kind: str
    path: Path
    member: str | None  # the event file inside a zip
    layout: str  # gdelt1 | gdelt2 | icews
    skip: int  # header lines
    header: list[str] = field(default_factory=list)  # ICEWS column order


def _plan(kind: str, path: Path) -> _Plan:
    expected = GDELT_EXPECTED if kind == "gdelt" else ICEWS_EXPECTED
    name = str(path)
    head = first_bytes(path, expected, 65536)
    member = None
    if head.startswith(b"PK\x03\x04"):
        member = _zip_member(path, expected)
        with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
            head = fh.read(65536)
        if not head:
            raise FileRefused(name, f"the file {member} inside the zip is empty; expected {expected}")
    else:
        for magic, what in ((b"\x1f\x8b", "a gzip file"), (b"PAR1", "a Parquet file"), (b"%PDF", "a PDF document")):
            if head.startswith(magic):
                raise FileRefused(name, f"this is {what}, not text; expected {expected}")
    if b"\x00" in head:
        raise FileRefused(name, f"binary content (NUL bytes); expected {expected}")
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the last piece may be cut by the 64 KiB window
    lines = [ln.rstrip(b"\r") for ln in lines if ln.strip()][:50]
    if not lines:
        raise FileRefused(name, f"no data lines; expected {expected}")
    if kind == "icews":
        header = lines[0].decode("utf-8", "replace").removeprefix("\ufeff").split("\t")
        missing = [c for c in ("Event ID", "Event Date", "Source Country", "CAMEO Code", "Intensity", "Target Country")
                   if c not in header]
        if missing:
            comma = lines[0].decode("utf-8", "replace").split(",")
            if "event_id" in comma or "Event ID" in comma:
                raise FileRefused(name, "the file is comma-separated (the icews R package's processed export?); "
                                        f"expected {expected}")
            raise FileRefused(name, f"missing column(s) {', '.join(missing)} in the header row; expected {expected}")
        return _Plan(kind, path, member, "icews", 1, header)
    first = lines[0].split(b"\t")[0].decode("utf-8", "replace").strip()
    skip = 1 if first.upper() == "GLOBALEVENTID" else 0
    counts: dict[int, int] = {}
    for ln in lines[skip:]:
        n = ln.count(b"\t") + 1
        counts[n] = counts.get(n, 0) + 1
    if not counts:
        raise FileRefused(name, f"no data lines after the header; expected {expected}")
    fields = max(counts, key=lambda n: (counts[n], n))
    if fields in (57, 58) or (57 in counts and 58 in counts):
        layout = "gdelt1"
    elif fields == 61:
        layout = "gdelt2"
    else:
        what = {16: " (a GDELT 2.0 mentions file?)", 27: " (a GDELT 2.0 GKG file?)", 11: " (a GDELT 1.0 GKG file?)",
                20: " (an ICEWS file? use `ingest icews`)", 1: " (not tab-separated?)"}.get(fields, "")
        raise FileRefused(name, f"the lines have {fields} tab-separated fields{what}; expected {expected}")
    return _Plan(kind, path, member, layout, skip)


def _zip_member(path: Path, expected: str) -> str:
    """The one event file inside a zip; refuses entries that would be written outside a folder."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except zipfile.BadZipFile as exc:
        raise FileRefused(name, f"not a readable zip archive ({exc}); expected {expected}") from None
    for info in infos:
        if not safe_member_name(info.filename):
            raise FileRefused(name, f"the zip entry {info.filename!r} would be written outside its folder; refused")
    if len(infos) != 1:
        raise FileRefused(name, f"the zip holds {len(infos)} files; expected one event file ({expected})")
    return infos[0].filename


def safe_member_name(member: str) -> bool:
    """True if extracting ``member`` into a folder stays inside it (no absolute path, drive or ``..``)."""
    if not member or member.startswith(("/", "\\")) or "\x00" in member:
        return False
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return not any(p == ".." or p.endswith(":") for p in parts) and not (len(member) > 1 and member[1] == ":")


# --------------------------------------------------------------------------------------------------
# reading one file


@dataclass
class _Bytes:
    data: Path  # the plain event file to scan (extracted from a zip into a temporary folder if zipped)
    sha256: str
    lines: int  # physical lines, the last one counted even without a final newline


_CHUNK = 1 << 20  # 1 MiB: stays in the CPU cache between the read, the hash and the newline count


def _chunks(fh: Any) -> Iterator[memoryview]:
    """A binary stream in 1 MiB chunks, read into one reused buffer (no bytes objects made): each chunk is
    hashed and scanned while it is still in the CPU cache. A chunk is valid until the next one is read."""
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    while k := fh.readinto(buf):
        yield view[:k]


def _pass(plan: _Plan, tmp: Path) -> _Bytes:
    """The reference path's pass over the bytes: SHA-256 and line count (and extraction of a zipped file).

    Each chunk is hashed (OpenSSL's SHA-256, which uses the CPU's SHA extensions where present and releases the
    GIL) and its newlines counted by NumPy. Measured on a 92 MiB file: 0.055 s of CPU, of which 0.050 s is the
    SHA-256; ``bytearray.count`` on 8 MiB chunks took 0.078 s (see bench/RESULTS.md)."""
    import numpy as np

    h = hashlib.sha256()
    newlines, last = 0, 10
    # a zipped file is extracted to a file of its own (the same zip may be read by two workers), for DuckDB
    target = plan.path if plan.member is None else _temp_file(tmp, ".tsv")
    with _open_bytes(plan) as fh, (nullcontext() if plan.member is None else open(target, "wb")) as out:
        for chunk in _chunks(fh):
            h.update(chunk)
            newlines += int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == 10))
            last = chunk[-1]
            if out is not None:
                out.write(chunk)
    return _Bytes(target, h.hexdigest(), newlines + (0 if last == 10 else 1))


def _temp_file(folder: Path, suffix: str) -> Path:
    """A new empty file of its own in ``folder`` (files are read in parallel, the same file possibly twice)."""
    fd, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    os.close(fd)
    return Path(name)


@contextmanager
def _open_bytes(plan: _Plan) -> Iterator[Any]:
    """The event data of a file as a binary stream: the file itself, or its one member if it is a zip."""
    if plan.member is None:
        with open(plan.path, "rb", buffering=0) as fh:
            yield fh
    else:
        with zipfile.ZipFile(plan.path) as zf, zf.open(plan.member) as fh:
            yield fh


def _layout_names(layout: str) -> list[str]:
    return GDELT2_NAMES if layout == "gdelt2" else GDELT1_NAMES


def _layout_fields(layout: str) -> str:
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


def _gdelt_sql(plan: _Plan, data: Path, states: tuple[str, ...]) -> _Query:
    from dualthreat.ingest.cameo import cameo_countries

    names = _layout_names(plan.layout)
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
    whens = " ".join(f"WHEN '{c}' THEN {c}" for c in GDELT_READ if c in _REASONS)  # as it is in the file
    bad_value = f"CASE bad WHEN '(row)' THEN NULL {whens} END"
    return _Query(cte, kept_fields, typed, _layout_fields(plan.layout), bad_value)


def _icews_sql(plan: _Plan, data: Path, states: tuple[str, ...]) -> _Query:
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


_REASONS = {
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


_FEWER = "expected {fields} tab-separated fields, found fewer (truncated line?)"
_TOO_MANY = "expected {fields} tab-separated fields, found more (a stray tab?)"  # DuckDB counts only to 62
_BAD_UTF8 = "not valid UTF-8; re-save the file as UTF-8"
_TOO_LONG = f"line longer than {MAX_LINE_BYTES // 1024} KiB"
_STRAY_CR = "a carriage return (\\r) inside the line: broken line ends? (lines end with \\n or \\r\\n)"


def _value_reason(column: str, value: str | None) -> str:
    return f"{(value or '')[:40]!r} {_REASONS[column]}"


def _connect(tmp: Path) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 1")  # one thread per file keeps file order for the line numbers
    con.execute("SET memory_limit = '512MB'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {_sql_str(str(tmp / 'spill'))}")
    return con


def _read_one(plan: _Plan, states: tuple[str, ...], tmp: Path, con: Any = None) -> EventReadResult:
    import numpy as np

    name = str(plan.path)
    stored_name = display_path(plan.path) + (f"!{plan.member}" if plan.member else "")
    raw = _pass(plan, tmp)
    q = (_gdelt_sql if plan.kind == "gdelt" else _icews_sql)(plan, raw.data, states)
    own = con is None
    con = con or _connect(tmp)
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
        skipped |= _empty_lines(plan)
    skip_sorted = np.array(sorted(skipped), dtype=np.int64)
    before = skip_sorted - np.arange(1, len(skip_sorted) + 1)  # accepted rows before each skipped line

    def line_of(ns: np.ndarray) -> np.ndarray:
        return ns + np.searchsorted(before, ns, side="left")

    rejections = [Rejection(name, int(line), *_scanner_reason(etype, column, message, q.fields))
                  for line, etype, column, message in struct_lines]
    if bad:
        bad_lines = line_of(np.array([b[0] for b in bad], dtype=np.int64))
        for (_, fld, value), line in zip(bad, bad_lines):
            reason = _FEWER.format(fields=q.fields) if fld == "(row)" else _value_reason(fld, value)
            rejections.append(Rejection(name, int(line), fld, reason))
    rejections.sort(key=lambda r: r.line)
    rows_in = int(accepted) + len(struct_lines)  # non-empty data lines
    if rows_in == 0:
        expected = GDELT_EXPECTED if plan.kind == "gdelt" else ICEWS_EXPECTED
        raise FileRefused(name, f"no data lines; expected {expected}")
    valid = int(accepted) - len(bad)
    events = _events_table(kept, line_of, plan.layout, stored_name)
    tot = _totals_table(totals, plan.layout, plan, raw.sha256, stored_name)
    companion = ReadResult(name, "event_month_totals", plan.layout, tot.num_rows, tot, [], sha256=raw.sha256)
    return EventReadResult(name, "events", plan.layout, rows_in, events, rejections, sha256=raw.sha256,
                           valid=valid, companions=[companion], states=states)


# --------------------------------------------------------------------------------------------------
# the compiled scanner (GDELT): the same checks as the SQL above, in C, in the same pass as the hash


class ScannerError(ValueError):
    """The event scanner asked for (argument or ``DUALTHREAT_EVENT_SCANNER``) is unknown or not installed."""


def _use_compiled(scanner: str | None) -> bool:
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
    names = _layout_names(layout)
    at = names.index
    return dict(
        max_fields=len(names), read=[at(c) for c in GDELT_READ],
        roles={"last": at("SOURCEURL" if layout == "gdelt2" else "DATEADDED"), "id": at("GLOBALEVENTID"),
               "day": at("SQLDATE"), "root": at("IsRootEvent"), "code": at("EventCode"),
               "root_code": at("EventRootCode"), "quad": at("QuadClass"), "goldstein": at("GoldsteinScale"),
               "mentions": at("NumMentions"), "sources": at("NumSources"), "articles": at("NumArticles"),
               "tone": at("AvgTone"), "added": at("DATEADDED"), "a1code": at("Actor1Code"),
               "a1country": at("Actor1CountryCode"), "a2code": at("Actor2Code"), "a2country": at("Actor2CountryCode")})


def _read_one_compiled(plan: _Plan, states: tuple[str, ...], tmp: Path, con: Any = None) -> EventReadResult:
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
    names = _layout_names(plan.layout)
    scanner = _gdeltscan.Scanner(**layout, states={c.encode(): ids[iso] for c, iso in to_state.items()},
                                 skip=plan.skip, max_line=MAX_LINE_BYTES)
    h = hashlib.sha256()
    with _open_bytes(plan) as fh:
        for chunk in _chunks(fh):
            h.update(chunk)
            scanner.feed(chunk)
    out = scanner.finish()
    sha256 = h.hexdigest()
    if out["rows_in"] == 0:
        raise FileRefused(name, f"no data lines; expected {GDELT_EXPECTED}")

    fields = _layout_fields(plan.layout)
    rejections = []
    for line, kind, col, value in out["rejections"]:
        column = names[col] if col >= 0 else None
        text = value.decode("utf-8", "replace")  # valid UTF-8, but cut at 200 bytes
        if kind == _gdeltscan.R_LINE:
            fld, reason = "(line)", _TOO_LONG
        elif kind == _gdeltscan.R_CR:
            fld, reason = "(line)", _STRAY_CR
        elif kind == _gdeltscan.R_MANY:
            fld, reason = "(row)", _TOO_MANY.format(fields=fields)
        elif kind == _gdeltscan.R_FEWER:
            fld, reason = "(row)", _FEWER.format(fields=fields)
        elif kind == _gdeltscan.R_UTF8:
            fld, reason = column, _BAD_UTF8
        else:
            fld, reason = column, _value_reason(column, text)
        rejections.append(Rejection(name, line, fld, reason))

    kept_lines = np.frombuffer(out["kept_lines"], dtype=np.int64)
    if len(kept_lines):
        kept_path = _temp_file(tmp, ".kept.tsv")
        kept_path.write_bytes(out["kept"])
        q = _gdelt_sql(_Plan(plan.kind, kept_path, None, plan.layout, 0), kept_path, states)
        own = con is None
        con = con or _connect(tmp)
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
        events = _events_table(kept, lambda ns: kept_lines[ns - 1], plan.layout, stored_name)
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
    tot = _totals_table(totals, plan.layout, plan, sha256, stored_name)
    companion = ReadResult(name, "event_month_totals", plan.layout, tot.num_rows, tot, [], sha256=sha256)
    return EventReadResult(name, "events", plan.layout, out["rows_in"], events, rejections, sha256=sha256,
                           valid=out["valid"], companions=[companion], states=states)


def _empty_lines(plan: _Plan) -> set[int]:
    """Line numbers of empty lines (which the scanner skips without a record); rare, so read line by line."""
    out = set()
    with _open_bytes(plan) as fh:
        for i, line in enumerate(io.BufferedReader(fh) if plan.member is None else fh, start=1):
            if line in (b"\n", b"\r\n", b"\r") or (i == 1 and line.rstrip(b"\r\n") == b"\xef\xbb\xbf"):  # BOM only
                out.add(i)
    return out


def _scanner_reason(etype: str, column: str | None, message: str, fields: str) -> tuple[str, str]:
    if etype == "CAST" and column in _REASONS:
        m = re.search(r"""string ["'](.*?)["'] (to|according)""", message)
        return column, _value_reason(column, m.group(1) if m else "")
    if etype == "TOO MANY COLUMNS":
        return "(row)", _TOO_MANY.format(fields=fields)
    if etype == "INVALID ENCODING":
        return column or "(encoding)", _BAD_UTF8
    if etype == "LINE SIZE OVER MAXIMUM":
        return "(line)", _TOO_LONG
    if etype == "MISSING COLUMNS":
        return "(row)", _FEWER.format(fields=fields)
    return column or "(row)", f"{etype.lower()}: {message}"


def _events_table(kept: pa.Table, line_of: Callable, dataset: str, stored_name: str) -> pa.Table:
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


def _totals_table(totals: pa.Table, dataset: str, plan: _Plan, sha256: str, stored_name: str) -> pa.Table:
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
