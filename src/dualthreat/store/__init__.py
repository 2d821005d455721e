"""The store: one DuckDB file holding the canonical tables.

Loads are idempotent and atomic:

* a file already loaded (same SHA-256, same table) adds nothing, and a row whose content is already stored
  (whatever file it came from) is not stored twice;
* every load runs in one transaction, so a process killed mid-load leaves the store as it was before
  (DuckDB discards an uncommitted transaction when it replays its write-ahead log).

The store path is ``--store PATH``, else ``$DUALTHREAT_STORE``, else ``./dualthreat.duckdb``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dualthreat.ingest.base import ReadResult, Rejection
from dualthreat.tables import TABLES

DEFAULT_STORE = "dualthreat.duckdb"
# Test hook: seconds to pause inside the load transaction, so that a test can kill the process there.
FAULT_PAUSE_ENV = "DUALTHREAT_FAULT_PAUSE_IN_TRANSACTION"

LOADS_SQL = """CREATE TABLE IF NOT EXISTS _loads (
    load_id BIGINT, kind VARCHAR, file VARCHAR, sha256 VARCHAR, table_name VARCHAR,
    rows_in BIGINT, loaded BIGINT, rejected BIGINT, added BIGINT, loaded_at TIMESTAMP)"""
REJECTIONS_SQL = """CREATE TABLE IF NOT EXISTS _rejections (
    load_id BIGINT, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR)"""
# fitted results (dualthreat.store.cache); every load empties it in its own transaction
CACHE_SQL = """CREATE TABLE IF NOT EXISTS _fit_cache (
    key VARCHAR, data_version VARCHAR, created TIMESTAMP, size BIGINT, blob BLOB)"""


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pa.Table:
    """A query's result as an Arrow table (DuckDB 2 names it ``to_arrow_table``, 1.x ``arrow``)."""
    rel = con.sql(sql, params=params or None)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    return fetch()


class StoreError(Exception):
    """The store cannot be opened or used; the message says what to do."""


def resolve_store_path(option: str | Path | None = None) -> Path:
    """``--store`` if given, else ``$DUALTHREAT_STORE``, else ``./dualthreat.duckdb``."""
    return Path(option or os.environ.get("DUALTHREAT_STORE") or DEFAULT_STORE)


@dataclass
class LoadReport:
    """What one file added to the store."""

    file: str
    table: str
    rows_in: int
    loaded: int
    rejected: int
    added: int
    already_loaded: bool
    rejections: list[Rejection] = field(default_factory=list)


class Store:
    """A DuckDB file with the canonical tables and a log of every load."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = resolve_store_path(path)
        self._reader: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> Store:
        """``with store:`` keeps one read-only connection open for the queries inside the block."""
        self._reader = self.connect(read_only=True)
        return self

    @property
    def is_open(self) -> bool:
        """True inside a ``with store:`` block."""
        return self._reader is not None

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def exists(self) -> bool:
        return self.path.exists()

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open the store; a read-only open requires the store to exist."""
        if read_only and not self.exists():
            raise StoreError(f"no store at {self.path}; run `dualthreat build` first (or pass --store PATH)")
        try:
            con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(f"the store {self.path} is in use by another process; wait for it to finish") from None
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
        except duckdb.Error as exc:
            raise StoreError(f"{self.path} is not a dualthreat store (DuckDB could not open it: {exc})") from None
        if not read_only:
            con.execute("BEGIN")
            for table in TABLES.values():
                con.execute(table.create_sql())
            con.execute(LOADS_SQL)
            con.execute(REJECTIONS_SQL)
            con.execute("COMMIT")
        return con

    def load(self, results: list[ReadResult], kind: str) -> list[LoadReport]:
        """Load the rows of ``results`` in one transaction; all of them or none."""
        if self._reader is not None:
            raise StoreError("cannot load into the store inside a read-only `with store:` block")
        con = self.connect()
        reports = []
        try:
            con.execute("BEGIN")
            next_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM _loads").fetchall()[0][0]
            for result in results:
                reports.append(self._load_one(con, result, kind, next_id))
                next_id += 1
                # Rows read from the same file for another table (e.g. the month totals of an event file).
                for companion in getattr(result, "companions", ()):
                    reports.append(self._load_one(con, companion, kind, next_id))
                    next_id += 1
            if any(r.added for r in reports):  # the data changed: no fitted result of the old data survives
                con.execute(CACHE_SQL)
                con.execute("DELETE FROM _fit_cache")
            pause = float(os.environ.get(FAULT_PAUSE_ENV, "0") or 0)
            if pause > 0:
                print("dualthreat: pausing inside the load transaction (fault-injection test hook)",
                      file=sys.stderr, flush=True)
                time.sleep(pause)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return reports

    def _load_one(self, con: duckdb.DuckDBPyConnection, result: ReadResult, kind: str, load_id: int) -> LoadReport:
        table = TABLES[result.table]
        seen = con.execute(
            "SELECT count(*) FROM _loads WHERE sha256 = ? AND table_name = ?", [result.sha256, result.table]
        ).fetchall()[0][0]
        report = LoadReport(result.file, result.table, result.rows_in, result.loaded, result.rejected, 0,
                            bool(seen), result.rejections)
        if seen:
            return report
        staged = _in_row_groups(result.rows.select(table.column_names).cast(table.arrow_schema()))
        con.register("staged", staged)
        # Rows whose content (all columns but the file and line they came from) is already stored are skipped.
        content = [c for c in table.column_names if c not in ("source_file", "source_line", "dataset")]
        before = con.execute(f'SELECT count(*) FROM "{table.name}"').fetchall()[0][0]
        if _may_be_stored(con, table.name, content[0], dict(table.all_columns)[content[0]]):
            on = " AND ".join(f's."{c}" IS NOT DISTINCT FROM t."{c}"' for c in content)
            con.execute(f'INSERT INTO "{table.name}" SELECT s.* FROM staged s ANTI JOIN "{table.name}" t ON {on}')
        else:  # no stored row can have the content of a staged one: the ANTI JOIN would keep them all
            con.execute(f'INSERT INTO "{table.name}" SELECT * FROM staged')
        report.added = con.execute(f'SELECT count(*) FROM "{table.name}"').fetchall()[0][0] - before
        con.unregister("staged")
        con.execute(
            "INSERT INTO _loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, kind, result.file, result.sha256, result.table, result.rows_in, result.loaded,
             result.rejected, report.added, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)],
        )
        if result.rejections:
            # one Arrow insert rather than executemany (about 0.3 ms per row: seconds for a large event file);
            # arrays from buffers: pa.array would import pandas (0.25 s) into an ingest that needs none of it
            from dualthreat.ingest.events.arrow import integers, strings

            rej = result.rejections
            con.register("staged_rejections", pa.table({
                "load_id": integers([load_id] * len(rej)),
                "file": strings([r.file for r in rej]),
                "line": integers([r.line for r in rej]),
                "field": strings([r.field for r in rej]),
                "reason": strings([r.reason for r in rej]),
            }))
            con.execute("INSERT INTO _rejections SELECT * FROM staged_rejections")
            con.unregister("staged_rejections")
        return report

    def summary(self) -> list[dict[str, Any]]:
        """Each canonical table: rows, time coverage, datasets and number of distinct source URLs."""
        con = self.connect(read_only=True)
        try:
            present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            out = []
            for table in TABLES.values():
                if table.name not in present:
                    continue
                rows, start, end, datasets, urls, no_url = con.execute(
                    f"""SELECT count(*), {table.start}, {table.end}, string_agg(DISTINCT dataset, ', '),
                               count(DISTINCT source_url), count(*) FILTER (WHERE source_url IS NULL)
                        FROM "{table.name}" """
                ).fetchall()[0]
                out.append({
                    "table": table.name,
                    "rows": rows,
                    "start": start.isoformat() if start else None,
                    "end": end.isoformat() if end else None,
                    "datasets": datasets or "",
                    "source_urls": urls,
                    "rows_without_url": no_url,
                    "description": table.description,
                })
            return out
        finally:
            con.close()

    def read_table(self, name: str, limit: int | None = None) -> pa.Table:
        """Rows of one table (all of them, or the first ``limit``), as Arrow."""
        if name not in TABLES and name not in ("_loads", "_rejections"):
            raise StoreError(f"no table {name!r}; run `dualthreat data list` to see the tables")
        con = self.connect(read_only=True)
        try:
            sql = f'SELECT * FROM "{name}"' + (f" LIMIT {int(limit)}" if limit is not None else "")
            return _arrow(con, sql)
        finally:
            con.close()

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run a read-only SQL query against the store."""
        if self._reader is not None:
            return _arrow(self._reader, sql, params)
        con = self.connect(read_only=True)
        try:
            return _arrow(con, sql, params)
        finally:
            con.close()


# DuckDB's rows per row group: an Arrow table in chunks at least this long is inserted in parallel, each chunk
# compressed and written to the file as it is inserted; in shorter chunks the insert merges them on one thread
ROW_GROUP_ROWS = 122_880
_RANGE_TYPES = ("BIGINT", "INTEGER", "DATE", "VARCHAR")  # ordered like equality: no NaN, no collation


def _in_row_groups(table: pa.Table) -> pa.Table:
    """``table`` with runs of chunks shorter than a DuckDB row group combined into chunks at least that long
    (the rows, their order and their values unchanged)."""
    batches = table.to_batches()
    if all(b.num_rows >= ROW_GROUP_ROWS for b in batches[:-1]):
        return table
    out: list[pa.RecordBatch] = []
    run: list[pa.RecordBatch] = []
    rows = 0
    for b in batches:
        run.append(b)
        rows += b.num_rows
        if rows >= ROW_GROUP_ROWS:
            out += pa.Table.from_batches(run, table.schema).combine_chunks().to_batches()
            run, rows = [], 0
    if run:
        out += pa.Table.from_batches(run, table.schema).combine_chunks().to_batches()
    return pa.Table.from_batches(out, table.schema)


def _may_be_stored(con: duckdb.DuckDBPyConnection, name: str, key: str, sql_type: str) -> bool:
    """Whether a row of ``staged`` may already be stored in table ``name``: False only when no stored row has a
    value of the content column ``key`` within the staged rows' range of it (nor NULL, if a staged row's is
    NULL). A stored row equal in content to a staged one (``IS NOT DISTINCT FROM`` on every content column)
    has its ``key`` equal to that row's, hence in the range: when this is False, the content ANTI JOIN of
    :meth:`Store._load_one` keeps every staged row. DuckDB answers the range query from each row group's
    minimum and maximum, without reading the rows that cannot be in the range."""
    if sql_type not in _RANGE_TYPES:
        return True
    if sql_type == "DATE" and con.execute(f'SELECT bool_or(isinf("{key}")) FROM staged').fetchall()[0][0]:
        return True  # Python reads DuckDB's infinite dates as 9999-12-31 / 0001-01-01: no range test then
    lo, hi, nulls = con.execute(f'SELECT min("{key}"), max("{key}"), bool_or("{key}" IS NULL) FROM staged'
                                ).fetchall()[0]
    conditions, params = [], []
    if lo is not None:
        conditions.append(f'"{key}" BETWEEN ? AND ?')
        params += [lo, hi]
    if nulls:
        conditions.append(f'"{key}" IS NULL')
    if not conditions:  # no staged rows
        return False
    found = con.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}" WHERE {" OR ".join(conditions)})', params)
    return bool(found.fetchall()[0][0])
