"""What every reader shares: file checks, row rejections, and the conversion of a source record.

A reader is a :class:`Format`: the columns it needs, the canonical table it fills and a ``convert``
function from one source record to one canonical row. :func:`read_file` runs it over a file and returns a
:class:`ReadResult` in which ``rows_in == loaded + rejected`` always holds.

A file that is not of the kind asked for (missing, empty, binary, wrong delimiter, missing columns, no data
rows) raises :class:`FileRefused` and nothing of it is used. A bad row is rejected on its own, with the
file, line, field and reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from dualthreat import countries
from dualthreat.tables import TABLES

MAX_LINE_BYTES = 1 << 20  # a physical line longer than 1 MiB is rejected without being held in memory
SNIFF_BYTES = 8192


class FileRefused(Exception):
    """A whole file is not of the kind asked for; nothing of it is loaded."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


class RowError(Exception):
    """One field of one row is invalid."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class ReadResult:
    """The rows a reader took from one file, for one canonical table."""

    file: str
    table: str
    format: str
    rows_in: int
    rows: pa.Table
    rejections: list[Rejection] = field(default_factory=list)
    sha256: str = ""

    @property
    def loaded(self) -> int:
        return self.rows.num_rows

    @property
    def rejected(self) -> int:
        return len(self.rejections)


Record = Mapping[str, str]
Convert = Callable[[Record], dict[str, Any]]


@dataclass(frozen=True)
class Format:
    """A source file format and how each of its records becomes a canonical row."""

    name: str  # what the user is told was expected
    table: str  # canonical table it fills
    dataset: str  # short dataset id, see data/SOURCES.md
    required: tuple[str, ...]  # source columns the header must contain
    convert: Convert
    key: tuple[str, ...] | None = None  # canonical columns that identify a duplicate; None = all content
    delimiter: str = ","
    url: str | None = None  # source URL for every row, where the dataset has one and rows carry none

    def expected(self) -> str:
        sep = {",": "comma", "\t": "tab", ";": "semicolon"}[self.delimiter]
        return f"a UTF-8 {sep}-separated file with a header row containing: {', '.join(self.required)}"


# --------------------------------------------------------------------------------------------------
# field parsers: each takes the record and a column name, returns a typed value or raises RowError


def text(rec: Record, col: str, required: bool = True) -> str | None:
    value = (rec.get(col) or "").strip()
    if not value:
        if required:
            raise RowError(col, "empty; a value is required")
        return None
    return value


_NA = {"", "NA", "na", "N/A", "unknown", "nan", "NaN"}


def number(rec: Record, col: str, required: bool = False, na: set[str] = _NA) -> float | None:
    raw = (rec.get(col) or "").strip()
    if raw in na:
        if required:
            raise RowError(col, "empty; a number is required")
        return None
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", raw):  # thousands separators, as in "1,168"
        raw = raw.replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        raise RowError(col, f"{raw[:40]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise RowError(col, f"{raw[:40]!r} is not a finite number")
    return value


def integer(rec: Record, col: str, required: bool = False) -> int | None:
    value = number(rec, col, required=required)
    if value is None:
        return None
    if value != int(value):
        raise RowError(col, f"{rec.get(col)!r} is not a whole number")
    if not -(2**31) <= value < 2**31:  # the canonical INTEGER columns are 32-bit; no source count comes near
        raise RowError(col, f"{(rec.get(col) or '').strip()[:40]!r} is out of range for a whole number")
    return int(value)


def count(rec: Record, col: str, required: bool = True) -> int | None:
    """A count of events, days or ships: a whole number, never below zero."""
    value = integer(rec, col, required=required)
    if value is not None and value < 0:
        raise RowError(col, f"{value} is a negative count")
    return value


def flag(rec: Record, col: str) -> bool | None:
    """A 0/1 indicator; empty means not coded."""
    value = integer(rec, col)
    if value is None:
        return None
    if value not in (0, 1):
        raise RowError(col, f"{value} is not 0 or 1")
    return bool(value)


def date(rec: Record, col: str, required: bool = True) -> dt.date | None:
    raw = text(rec, col, required=required)
    if raw is None:
        return None
    return parse_date(raw, col)


def parse_date(raw: str, col: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise RowError(col, f"{raw[:40]!r} is not a valid date (expected YYYY-MM-DD)") from None


def parse_month(raw: str, col: str) -> dt.date:
    """The first day of a month given as YYYY-MM (a date known only to the month)."""
    try:
        return dt.date.fromisoformat(raw + "-01")
    except ValueError:
        raise RowError(col, f"{raw[:40]!r} is not a valid month (expected YYYY-MM)") from None


def year(rec: Record, col: str, lo: int = 1800, hi: int = 2100) -> int:
    value = integer(rec, col, required=True)
    assert value is not None
    if not lo <= value <= hi:
        raise RowError(col, f"year {value} is outside {lo}-{hi}")
    return value


def choice(rec: Record, col: str, allowed: set[str] | tuple[str, ...], required: bool = True) -> str | None:
    value = text(rec, col, required=required)
    if value is not None and value not in allowed:
        raise RowError(col, f"{value[:40]!r} is not one of {', '.join(sorted(allowed))}")
    return value


def country(rec: Record, col: str, aggregates: bool = False, required: bool = True) -> str | None:
    """An ISO3 country code known to dualthreat (``ALL``/``EU``/``UN``/``MULTI`` when ``aggregates``)."""
    value = text(rec, col, required=required)
    if value is not None:
        value = countries.canonical(value)
    if value is not None and not countries.is_known(value, aggregates=aggregates):
        raise RowError(col, f"unknown country code {value[:20]!r} (expected an ISO 3166-1 alpha-3 code)")
    return value


def coded_country(rec: Record, col: str, codes: dict[str, Any], what: str, expected: str) -> str:
    """The country a code of some coding scheme names (``codes``: the scheme's code -> country), or a
    RowError naming the value, the scheme (``what``) and what was ``expected``."""
    value = text(rec, col)
    assert value is not None
    found = codes.get(value)
    if found is None:
        raise RowError(col, f"unknown {what} {value[:20]!r} ({expected})")
    return found.code


def country_iso2(rec: Record, col: str) -> str:
    return coded_country(rec, col, countries.by_iso2(), "country code", "expected an ISO 3166-1 alpha-2 code")


def country_cow(rec: Record, col: str) -> tuple[str, int]:
    """A Correlates of War country code, returned with its ISO3 (or historical) code."""
    value = integer(rec, col, required=True)
    assert value is not None
    found = countries.by_ccode().get(value)
    if found is None:
        raise RowError(col, f"unknown Correlates of War country code {value}")
    return found.code, value


# --------------------------------------------------------------------------------------------------
# reading files


def display_path(path: Path) -> str:
    """The path as stored: from ``shared/`` on for the shared raw data, else relative to the working folder
    when inside it, else as given (so that stored provenance does not depend on where a checkout lives)."""
    resolved = path.resolve()
    parts = resolved.parts
    if "shared" in parts:
        return "/".join(parts[parts.index("shared") :])
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def first_bytes(path: Path, expected: str, n: int = SNIFF_BYTES) -> bytes:
    """Refuse a path that is missing, a folder or empty; return its first ``n`` bytes."""
    name = str(path)
    if not path.exists():
        raise FileRefused(name, f"no such file; expected {expected}")
    if path.is_dir():
        raise FileRefused(name, f"is a folder; expected {expected}")
    if path.stat().st_size == 0:
        raise FileRefused(name, f"the file is empty; expected {expected}")
    with path.open("rb") as fh:
        return fh.read(n)


def sniff(path: Path, expected: str) -> bytes:
    """Refuse files that are missing, empty or binary; return the first bytes."""
    name = str(path)
    head = first_bytes(path, expected)
    kinds = {b"PAR1": "a Parquet file", b"PK\x03\x04": "a zip archive", b"\x1f\x8b": "a gzip file",
             b"%PDF": "a PDF document"}
    for magic, what in kinds.items():
        if head.startswith(magic):
            raise FileRefused(name, f"this is {what}, not text; expected {expected}")
    if b"\x00" in head:
        raise FileRefused(name, f"binary content (NUL bytes); expected {expected}")
    return head


def _physical_lines(fh: io.BufferedReader, state: dict[str, Any]) -> Iterator[str]:
    """Yield decoded lines; over-long or undecodable lines are recorded in ``state['bad']`` instead."""
    lineno = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > MAX_LINE_BYTES:
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line in bounded chunks
                raw = fh.readline(MAX_LINE_BYTES)
            state["bad"].append((lineno, "(line)", f"line longer than {MAX_LINE_BYTES // 1024} KiB"))
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            state["bad"].append(
                (lineno, "(encoding)", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1}); "
                 "re-save the file as UTF-8")
            )
            continue
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        state["line"] = lineno
        if state.get("first") is None:
            state["first"] = lineno
        yield line


def _check_header(file: str, header: list[str], fmt: Format) -> None:
    missing = [c for c in fmt.required if c not in header]
    if not missing:
        return
    joined = fmt.delimiter.join(header)
    for delim, label in ((";", "semicolon"), ("\t", "tab"), (",", "comma"), ("|", "pipe")):
        if delim != fmt.delimiter and all(c in joined.split(delim) for c in fmt.required):
            raise FileRefused(file, f"the file is {label}-separated; expected {fmt.expected()}")
    found = ", ".join(h[:30] for h in header[:12]) + (" ..." if len(header) > 12 else "")
    raise FileRefused(file, f"missing column(s) {', '.join(missing)}; expected {fmt.expected()}; found: {found}")


def records(path: Path, fmt: Format) -> Iterator[tuple[int, Record | Rejection]]:
    """Yield (line, record) for each data row, or (line, Rejection) for a row that cannot be parsed."""
    name = str(path)
    sniff(path, fmt.expected())
    state: dict[str, Any] = {"bad": [], "line": 0}
    with path.open("rb") as fh:
        lines = _physical_lines(fh, state)  # type: ignore[arg-type]
        reader = csv.reader(lines, delimiter=fmt.delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise FileRefused(name, f"no header row; expected {fmt.expected()}") from None
        except csv.Error as exc:
            raise FileRefused(name, f"the header row cannot be parsed ({exc}); expected {fmt.expected()}") from None
        if state["bad"] and state["bad"][0][0] == 1:
            raise FileRefused(name, f"the header row: {state['bad'][0][2]}; expected {fmt.expected()}")
        header = [h.strip() for h in header]
        _check_header(name, header, fmt)
        n_rows = 0
        while True:
            state["first"] = None
            stop, error, row = False, None, []
            try:
                row = next(reader)
            except StopIteration:
                stop = True
            except csv.Error as exc:
                error = exc
            for line, fld, reason in state["bad"]:
                n_rows += 1
                yield line, Rejection(name, line, fld, reason)
            state["bad"].clear()
            if stop:
                break
            start = state["first"] or state["line"]
            if error is not None:
                n_rows += 1
                yield start, Rejection(name, start, "(row)", f"cannot be parsed as CSV: {error}")
                continue
            if not row or all(not c.strip() for c in row):
                continue
            n_rows += 1
            if len(row) != len(header):
                hint = " (truncated line?)" if len(row) < len(header) else ""
                yield start, Rejection(name, start, "(row)", f"expected {len(header)} fields, found {len(row)}{hint}")
                continue
            yield start, dict(zip(header, row))
    if n_rows == 0:
        raise FileRefused(name, f"no data rows; expected {fmt.expected()}")


def parquet_records(path: Path, fmt: Format) -> Iterator[tuple[int, Record | Rejection]]:
    """Yield (row number, record) from a Parquet file, values as text, for the same ``convert``."""
    import pyarrow.parquet as pq

    name = str(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise FileRefused(name, f"not a readable Parquet file ({exc})") from None
    header = pf.schema_arrow.names
    _check_header(name, header, fmt)
    n = 0
    for batch in pf.iter_batches(batch_size=65536):
        cols = {c: batch.column(c).to_pylist() for c in header}
        for i in range(batch.num_rows):
            n += 1
            yield n + 1, {c: "" if cols[c][i] is None else str(cols[c][i]) for c in header}
    if n == 0:
        raise FileRefused(name, "no data rows")


def read_file(path: Path, fmt: Format, progress: Callable[[int], None] | None = None) -> ReadResult:
    """Run ``fmt`` over one file: convert every record, reject bad and duplicate rows."""
    name = str(path)
    table = TABLES[fmt.table]
    content_cols = [c for c, _ in table.columns]
    key_cols = list(fmt.key) if fmt.key else content_cols
    source = parquet_records(path, fmt) if path.suffix == ".parquet" else records(path, fmt)
    stored_name = display_path(path)
    rows: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    seen: dict[tuple, int] = {}
    rows_in = 0
    for line, rec in source:
        rows_in += 1
        if progress and rows_in % 10000 == 0:
            progress(rows_in)
        if isinstance(rec, Rejection):
            rejections.append(rec)
            continue
        try:
            row = fmt.convert(rec)
        except RowError as err:
            rejections.append(Rejection(name, line, err.field, err.reason))
            continue
        key = tuple(row.get(c) for c in key_cols)
        if key in seen:
            rejections.append(Rejection(name, line, "(row)", f"duplicate of line {seen[key]}"))
            continue
        seen[key] = line
        row.setdefault("dataset", fmt.dataset)
        row["source_file"] = stored_name
        row["source_line"] = line
        row.setdefault("source_url", fmt.url)
        rows.append(row)
    arrow = pa.Table.from_pylist(rows, schema=table.arrow_schema())
    return ReadResult(name, fmt.table, fmt.name, rows_in, arrow, rejections, sha256=file_sha256(path))


def file_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pick_format(path: Path, formats: list[Format]) -> Format:
    """The format among ``formats`` whose required columns the file's header has."""
    if len(formats) == 1:
        return formats[0]
    name = str(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            header = pq.ParquetFile(path).schema_arrow.names
        except Exception as exc:  # noqa: BLE001
            raise FileRefused(name, f"not a readable Parquet file ({exc})") from None
    else:
        head = sniff(path, " or ".join(f.expected() for f in formats))
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace").removeprefix("\ufeff").strip()
        header = next(csv.reader([first]), [])
    for fmt in formats:
        if all(c in header for c in fmt.required):
            return fmt

    def closeness(fmt: Format) -> float:
        """Share of ``fmt``'s columns the header has, under the best of the delimiters tried."""
        joined = fmt.delimiter.join(header)
        return max(sum(c in [h.strip() for h in joined.split(d)] for c in fmt.required) / len(fmt.required)
                   for d in (fmt.delimiter, ";", "\t", ",", "|"))

    closest = max(formats, key=closeness)
    if closeness(closest) > 0:  # name the missing columns, or the delimiter the file uses instead
        _check_header(name, header, closest)
    expected = "; or ".join(f"{f.name}: {', '.join(f.required)}" for f in formats)
    raise FileRefused(name, f"the header matches none of the expected layouts ({expected})")
