"""Readers for event aggregates: ICEWS dyad-month and dyad-year counts, GDELT daily country-pair weights.

The three sources are described in the ``PROVENANCE.md`` of their folders under ``shared/data/raw/``:

* ``icews-dyad-month`` (table ``icews_dyad_month``): the Ward Lab ICEWS extract of 2014, directed dyad-months
  1991-2013, countries as Correlates of War letter codes (``ROK`` is South Korea) mapped to ISO3 through
  :func:`dualthreat.countries.by_cow_abb`. Its columns ``event01`` ... ``event20`` hold **conflict events only**,
  and which CAMEO root each column is has not been confirmed (caveat 1 of the provenance), so they are
  reduced to what the provenance supports: ``conflict_total`` (all 20), ``verbal_conflict`` (01-04, tracking
  netify's verbal conflict at r = 0.999) and ``material_conflict`` (05-11, r = 0.9997).
* ``icews-dyad-year`` (``icews_dyad_year``): netify's ICEWS dyad-years 2002-2014 by quad class, ISO3 codes.
* ``gdelt-pairs`` (``gdelt_pairs``): GDELT 2.0 daily signed, undirected country-pair weights (a < b),
  2018-2024; sums of Goldstein-based scores, not counts.

Each reads the source's Parquet file or the same table written as CSV (such as ``five_states.csv``). A CSV
goes through the common row reader (:func:`dualthreat.ingest.base.read_file`). A Parquet file is checked
column by column with Arrow; every row that fails, or might fail, a check is handed to the same row converter
as a CSV row, so both paths accept the same rows and word their rejections alike
(``tests/test_aggregates.py`` compares them). Parquet rows are numbered as lines are elsewhere in dualthreat
(data row 1 is line 2, as if the table had a header line).

Each file also yields its coverage, a companion table loaded in the same transaction: the months
(``icews_dyad_month_coverage``) or days (``gdelt_pairs_days``) in which it has a valid row. Inside a covered
month an ICEWS dyad-month without a row is 0 events (provenance caveat 2); a GDELT day not covered is unknown,
not 0 (96 days are missing from the source).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dualthreat import countries
from dualthreat.ingest.base import (FileRefused, Format, ReadResult, Record, Rejection, RowError, coded_country,
                                    count, country, date, display_path, file_sha256, first_bytes, integer, number,
                                    read_file, year)
from dualthreat.tables import TABLES

ICEWS_DTREE_URL = "https://github.com/anhqle/icews-dtree"
NETIFY_URL = "https://github.com/netify-dev/netify"
GDELT_PAIRS_URL = "https://github.com/gzemo/gdelt-graph-data"

EVENT_COLUMNS = tuple(f"event{k:02d}" for k in range(1, 21))
VERBAL_CONFLICT = EVENT_COLUMNS[:4]  # event01-event04
MATERIAL_CONFLICT = EVENT_COLUMNS[4:11]  # event05-event11
QUADS = {"verbCoop": "verbal_coop", "matlCoop": "material_coop", "verbConf": "verbal_conflict",
         "matlConf": "material_conflict"}
FIRST_YEAR, LAST_YEAR = 1979, 2100  # CAMEO-coded event data start in 1979
INT32_MAX = 2**31 - 1


@dataclass
class AggregateReadResult(ReadResult):
    """One aggregate file: its rows and, loaded in the same transaction, its coverage (months or days)."""

    companions: list[ReadResult] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# the row converters (the reference: CSV rows, and the Parquet rows the column checks flag)


def cow_letters(rec: Record, col: str) -> str:
    """A Correlates of War letter code (``ROK``, ``GMY``), returned as the ISO3 (or historical) code."""
    return coded_country(rec, col, countries.by_cow_abb(), "Correlates of War letter code",
                         "expected e.g. ROK, GMY, UKG")


def _distinct(source: str, target: str, col: str) -> None:
    if source == target:
        raise RowError(col, f"{target!r} is the same state as the source; a dyad joins two states")


def _month_number(rec: Record, col: str) -> int:
    value = integer(rec, col, required=True)
    assert value is not None
    if not 1 <= value <= 12:
        raise RowError(col, f"month {value} is not 1-12")
    return value


def _sum(values: list[int], col: str) -> int:
    total = sum(values)
    if total > INT32_MAX:
        raise RowError(col, f"the sum {total} is out of range for a whole number")
    return total


def _dyad_month(rec: Record) -> dict[str, Any]:
    source, target = cow_letters(rec, "source"), cow_letters(rec, "target")
    _distinct(source, target, "target")
    y, m = year(rec, "year", FIRST_YEAR, LAST_YEAR), _month_number(rec, "month")
    counts = {c: count(rec, c) for c in EVENT_COLUMNS}
    total = _sum(list(counts.values()), "event20")  # type: ignore[arg-type]
    if (rec.get("total") or "").strip():  # five_states.csv adds the total; it must agree
        stated = count(rec, "total")
        if stated != total:
            raise RowError("total", f"{stated} is not the sum of event01-event20 ({total})")
    return {"source": source, "target": target, "month": f"{y:04d}-{m:02d}", "conflict_total": total,
            "verbal_conflict": sum(counts[c] for c in VERBAL_CONFLICT),  # type: ignore[misc]
            "material_conflict": sum(counts[c] for c in MATERIAL_CONFLICT)}  # type: ignore[misc]


def _dyad_year(rec: Record) -> dict[str, Any]:
    source, target = country(rec, "i_iso3c"), country(rec, "j_iso3c")
    assert source is not None and target is not None
    _distinct(source, target, "j_iso3c")
    row: dict[str, Any] = {"source": source, "target": target, "year": year(rec, "year", FIRST_YEAR, LAST_YEAR)}
    for col, name in QUADS.items():
        row[name] = count(rec, col)
    return row


def _pair(rec: Record) -> dict[str, Any]:
    day = date(rec, "date")
    a, b = country(rec, "a"), country(rec, "b")
    assert a is not None and b is not None
    if not a < b:
        raise RowError("b", f"{b!r} does not sort after a ({a!r}); an undirected pair is written once, with a < b")
    return {"date": day, "a": a, "b": b, "weight": number(rec, "weight", required=True)}


# --------------------------------------------------------------------------------------------------
# the column checks of the Parquet path: (canonical columns, mask of rows that pass every check)

Columns = dict[str, pa.Array]


def _is_int(t: pa.DataType) -> bool:
    return pa.types.is_integer(t)


def _is_str(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _all(*masks: pa.Array) -> pa.Array:
    out = masks[0]
    for m in masks[1:]:
        out = pc.and_(out, m)
    return pc.fill_null(out, False)


def _in_range(col: pa.Array, lo: int, hi: int) -> pa.Array:
    return pc.and_(pc.greater_equal(col, lo), pc.less_equal(col, hi))


def _counts_ok(t: pa.Table, cols: tuple[str, ...]) -> list[pa.Array]:
    return [_in_range(t[c], 0, INT32_MAX) for c in cols]


def _lookup(col: pa.Array, mapping: dict[str, str]) -> pa.Array:
    """``mapping[value]`` for each value, null where the value is not a key."""
    keys = list(mapping)
    return pc.take(pa.array([mapping[k] for k in keys], pa.string()),
                   pc.index_in(col, value_set=pa.array(keys, pa.string())))


def _iso3(col: pa.Array) -> pa.Array:
    """The code itself where it is a code dualthreat knows as written (aliases go to the row path)."""
    return _lookup(col, {c: c for c in countries.by_code()})


def _isum(t: pa.Table, cols: tuple[str, ...]) -> pa.Array:
    out = pc.cast(t[cols[0]], pa.int64())
    for c in cols[1:]:
        out = pc.add(out, pc.cast(t[c], pa.int64()))
    return out


def _fast_dyad_month(t: pa.Table) -> tuple[Columns, pa.Array]:
    cow = {k: c.code for k, c in countries.by_cow_abb().items()}
    source, target = _lookup(t["source"], cow), _lookup(t["target"], cow)
    total = _isum(t, EVENT_COLUMNS)
    checks = [pc.is_valid(source), pc.is_valid(target), pc.not_equal(source, target),
              _in_range(t["year"], FIRST_YEAR, LAST_YEAR), _in_range(t["month"], 1, 12),
              *_counts_ok(t, EVENT_COLUMNS), pc.less_equal(total, INT32_MAX)]
    if "total" in t.column_names:
        checks.append(pc.equal(pc.cast(t["total"], pa.int64()), total))  # a null total goes to the row path
    month = pc.binary_join_element_wise(pc.utf8_lpad(pc.cast(t["year"], pa.string()), 4, "0"),
                                        pc.utf8_lpad(pc.cast(t["month"], pa.string()), 2, "0"), "-")
    cols = {"source": source, "target": target, "month": month, "conflict_total": total,
            "verbal_conflict": _isum(t, VERBAL_CONFLICT), "material_conflict": _isum(t, MATERIAL_CONFLICT)}
    return cols, _all(*checks)


def _fast_dyad_year(t: pa.Table) -> tuple[Columns, pa.Array]:
    source, target = _iso3(t["i_iso3c"]), _iso3(t["j_iso3c"])
    checks = [pc.is_valid(source), pc.is_valid(target), pc.not_equal(source, target),
              _in_range(t["year"], FIRST_YEAR, LAST_YEAR), *_counts_ok(t, tuple(QUADS))]
    cols = {"source": source, "target": target, "year": t["year"], **{n: t[c] for c, n in QUADS.items()}}
    return cols, _all(*checks)


def _fast_pair(t: pa.Table) -> tuple[Columns, pa.Array]:
    a, b = _iso3(t["a"]), _iso3(t["b"])
    weight = pc.cast(t["weight"], pa.float64())
    checks = [pc.is_valid(t["date"]), pc.is_valid(a), pc.is_valid(b), pc.less(a, b), pc.is_finite(weight)]
    return {"date": t["date"], "a": a, "b": b, "weight": weight}, _all(*checks)


# --------------------------------------------------------------------------------------------------
# the format


@dataclass(frozen=True)
class AggregateFormat(Format):
    """A tabular aggregate, read from Parquet (column checks) or CSV (row reader), with its coverage."""

    period: str = "month"  # canonical column whose values the file covers
    coverage: str = ""  # companion table of covered periods
    optional: tuple[str, ...] = ()  # source columns checked when present
    types: tuple[tuple[str, Callable[[pa.DataType], bool]], ...] = ()  # Parquet types of the column path
    fast: Callable[[pa.Table], tuple[Columns, pa.Array]] | None = None

    def parquet_expected(self) -> str:
        return f"a Parquet file with the columns {', '.join(self.required)}"

    def read(self, path: Path, progress: Callable[[int], None] | None = None) -> AggregateReadResult:
        """Read one file; a file that is not of this kind is refused whole (:class:`FileRefused`)."""
        if path.suffix == ".parquet":
            result = self._read_parquet(path)
        else:
            result = read_file(path, self, progress=progress)
        out = AggregateReadResult(result.file, result.table, result.format, result.rows_in, result.rows,
                                  result.rejections, sha256=result.sha256)
        out.companions = [self._coverage(result)] if self.coverage else []
        return out

    def _coverage(self, result: ReadResult) -> ReadResult:
        """The periods with a valid row, each with the first line that has it."""
        rows = result.rows
        schema = TABLES[self.coverage].arrow_schema()
        if rows.num_rows:
            first = rows.group_by(self.period).aggregate([("source_line", "min")]).sort_by(self.period)
            periods, lines = first[self.period], first["source_line_min"]
        else:
            periods, lines = pa.array([], schema.field(self.period).type), pa.array([], pa.int64())
        n = len(periods)
        source_file = rows["source_file"][0].as_py() if rows.num_rows else display_path(Path(result.file))
        table = pa.table({self.period: periods, "dataset": pa.array([self.dataset] * n, pa.string()),
                          "source_file": pa.array([source_file] * n, pa.string()), "source_line": lines,
                          "source_url": pa.array([self.url] * n, pa.string())}, schema=schema)
        return ReadResult(result.file, self.coverage, self.name, n, table, [], sha256=result.sha256)

    def _read_parquet(self, path: Path) -> ReadResult:
        import pyarrow.parquet as pq

        name = str(path)
        first_bytes(path, self.parquet_expected())
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
            raise FileRefused(name, f"not a readable Parquet file ({exc}); expected {self.parquet_expected()}") \
                from None
        header = pf.schema_arrow.names
        missing = [c for c in self.required if c not in header]
        if missing:
            shown = ", ".join(h[:30] for h in header[:12]) + (" ..." if len(header) > 12 else "")
            raise FileRefused(name, f"missing column(s) {', '.join(missing)}; expected {self.parquet_expected()}; "
                                    f"found: {shown}")
        if pf.metadata.num_rows == 0:
            raise FileRefused(name, f"no data rows; expected {self.parquet_expected()}")
        schema = pf.schema_arrow
        if self.fast is None or not all(check(schema.field(c).type) for c, check in self.types if c in header):
            return read_file(path, self)  # unusual column types: every row through the row converter
        source = pf.read(columns=[*self.required, *(c for c in self.optional if c in header)])
        return self._checked(path, source)

    def _checked(self, path: Path, source: pa.Table) -> ReadResult:
        """Column checks; flagged rows through the row converter; duplicates; provenance."""
        assert self.fast is not None
        name = str(path)
        table = TABLES[self.table]
        content = [c for c, _ in table.columns]
        cols, ok = self.fast(source)
        lines = pa.array(range(2, source.num_rows + 2), pa.int64())  # data row k is line k + 1
        good = pa.table({c: cols[c] for c in content} | {"source_line": lines}).filter(ok)
        good = good.cast(pa.schema([*(table.arrow_schema().field(c) for c in content),
                                    pa.field("source_line", pa.int64())]))
        rejections: list[Rejection] = []
        flagged = pc.indices_nonzero(pc.invert(ok))
        converted = []
        for i, values in zip(flagged.to_pylist(), source.take(flagged).to_pylist()):
            rec = {c: "" if v is None else str(v) for c, v in values.items()}
            try:
                converted.append(self.convert(rec) | {"source_line": i + 2})
            except RowError as err:
                rejections.append(Rejection(name, i + 2, err.field, err.reason))
        if converted:
            good = pa.concat_tables([good, pa.Table.from_pylist(converted, schema=good.schema)])
        good = good.sort_by("source_line")
        kept, duplicates = _first_of_each_key(good, list(self.key or content))
        rejections += [Rejection(name, line, "(row)", f"duplicate of line {first}") for line, first in duplicates]
        rejections.sort(key=lambda r: r.line)
        n = kept.num_rows
        rows = kept.append_column("dataset", pa.array([self.dataset] * n, pa.string()))
        rows = rows.append_column("source_file", pa.array([display_path(path)] * n, pa.string()))
        rows = rows.append_column("source_url", pa.array([self.url] * n, pa.string()))
        rows = rows.select(table.column_names).cast(table.arrow_schema())
        return ReadResult(name, self.table, self.name, source.num_rows, rows, rejections, sha256=file_sha256(path))


def _first_of_each_key(rows: pa.Table, key: list[str]) -> tuple[pa.Table, list[tuple[int, int]]]:
    """Rows (sorted by line) whose key was not seen on an earlier line, and (line, first line) of the others."""
    first = rows.group_by(key, use_threads=False).aggregate([("source_line", "min")])
    joined = rows.join(first, keys=key, join_type="left outer", use_threads=False).sort_by("source_line")
    dup = pc.not_equal(joined["source_line"], joined["source_line_min"])
    duplicates = list(zip(joined.filter(dup)["source_line"].to_pylist(),
                          joined.filter(dup)["source_line_min"].to_pylist()))
    return joined.filter(pc.invert(dup)).drop_columns(["source_line_min"]), duplicates


ICEWS_DYAD_MONTH = AggregateFormat(
    name="ICEWS dyad-month counts (Ward Lab extract: icews_dyad_month_*.parquet, five_states.csv)",
    table="icews_dyad_month", dataset="icews_dyadmonth",
    required=("source", "target", "year", "month", *EVENT_COLUMNS), convert=_dyad_month,
    key=("source", "target", "month"), url=ICEWS_DTREE_URL,
    period="month", coverage="icews_dyad_month_coverage", optional=("total",),
    types=(("source", _is_str), ("target", _is_str), ("year", _is_int), ("month", _is_int), ("total", _is_int),
           *((c, _is_int) for c in EVENT_COLUMNS)),
    fast=_fast_dyad_month,
)
ICEWS_DYAD_YEAR = AggregateFormat(
    name="ICEWS dyad-year quad counts (netify: icews_dyad_year_*.parquet)",
    table="icews_dyad_year", dataset="icews_netify",
    required=("i_iso3c", "j_iso3c", "year", *QUADS), convert=_dyad_year,
    key=("source", "target", "year"), url=NETIFY_URL,
    period="year", coverage="", types=(("i_iso3c", _is_str), ("j_iso3c", _is_str), ("year", _is_int),
                                       *((c, _is_int) for c in QUADS)),
    fast=_fast_dyad_year,
)
GDELT_PAIRS = AggregateFormat(
    name="GDELT 2.0 daily country-pair weights (gdelt2_country_pair_daily_*.parquet)",
    table="gdelt_pairs", dataset="gdelt_pairs",
    required=("date", "a", "b", "weight"), convert=_pair, key=("date", "a", "b"), url=GDELT_PAIRS_URL,
    period="date", coverage="gdelt_pairs_days",
    types=(("date", pa.types.is_date32), ("a", _is_str), ("b", _is_str),
           ("weight", lambda t: pa.types.is_floating(t) or pa.types.is_integer(t))),
    fast=_fast_pair,
)
