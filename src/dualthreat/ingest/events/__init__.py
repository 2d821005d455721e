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
  chunks that are hashed (SHA-256) in the same pass; it counts lines by ``\n`` and checks every line itself,
  and types the kept events as it finds them (as the SQL below types them), into Arrow buffers handed to
  pyarrow without a copy (:func:`read_one_compiled`); DuckDB is not used.
* The reference path (ICEWS always; GDELT without the compiled module or with ``DUALTHREAT_EVENT_SCANNER=sql``):
  DuckDB's CSV scanner reads each file once, streaming, every GDELT column as text, and one SQL query parses
  and checks the values (:func:`read_one_sql`). Line numbers: the scanner skips the lines it rejects (wrong number
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
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa

from dualthreat.ingest.base import FileRefused, ReadResult
from dualthreat.ingest.events.files import Plan, plan_file, safe_member_name
from dualthreat.ingest.events.layout import (
    GDELT1_NAMES,
    GDELT2_COLUMNS,
    GDELT2_NAMES,
    GDELT_EXPECTED,
    GDELT_URL,
    ICEWS_EXPECTED,
    ICEWS_NAMES,
    ICEWS_URL,
    MAX_LINE_BYTES,
    EventReadResult,
)
from dualthreat.ingest.events.scanner import (
    ScannerError,
    _scanner_layout,
    read_one_compiled,
    use_compiled,
)
from dualthreat.ingest.events.sql import connect, read_one_sql

__all__ = ["EventReadResult", "GDELT1_NAMES", "GDELT2_COLUMNS", "GDELT2_NAMES", "GDELT_URL", "ICEWS_NAMES", "ICEWS_URL",
           "MAX_LINE_BYTES", "ScannerError", "combine", "event_files", "read_events", "read_gdelt", "read_icews",
           "safe_member_name", "_scanner_layout"]

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
    fast = kind == "gdelt" and use_compiled(scanner)
    if states is None:
        from dualthreat.theater import theater_states

        states = theater_states()
    states = tuple(states)
    plans = [plan_file(kind, Path(p)) for p in paths]  # refuses wrong files before any work
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(plans)))
    local = threading.local()
    opened: list[Any] = []
    # fewer files than cores: the compiled scanner hashes each chunk on a second thread while it scans it
    hash_beside = jobs < (os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="dualthreat-events-") as tmp:
        def work(plan: Plan) -> EventReadResult:
            if fast:  # no DuckDB: the scanner types the kept events itself
                result = read_one_compiled(plan, states, hash_beside=hash_beside)
            else:
                con = getattr(local, "con", None)
                if con is None:  # one DuckDB connection per worker thread, reused for its files
                    con = local.con = connect(Path(tmp))
                    opened.append(con)
                result = read_one_sql(plan, states, Path(tmp), con)
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


