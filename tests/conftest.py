"""Shared fixtures: stores built once per session and copied per test, the CLI runner, store fingerprints."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import shutil
import sys
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dualthreat import CACHE_ENV, ingest
from dualthreat.store import FAULT_PAUSE_ENV, Store
from dualthreat.tables import TABLES

from specs import SPECS, first_rows

REPO = Path(__file__).resolve().parents[1]
ENV_VARS = ("DUALTHREAT_STORE", "DUALTHREAT_DATA", FAULT_PAUSE_ENV)


def dualthreat_command() -> list[str]:
    """The installed ``dualthreat`` script next to this interpreter (else ``python -m dualthreat.cli``)."""
    script = Path(sys.executable).with_name("dualthreat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dualthreat.cli"]


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _session_cache: Path) -> None:
    """Every test runs in its own empty working folder, without the user's dualthreat settings, and with a
    cache folder of the session's (``dualthreat.cache_dir``), not the user's."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(CACHE_ENV, str(_session_cache))
    monkeypatch.chdir(tmp_path)


# --------------------------------------------------------------------------------------------------
# running the CLI


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    peak_python_bytes: int | None = None

    def json(self):
        return json.loads(self.stdout)

    @property
    def message(self) -> str:
        """stderr with all whitespace removed (Rich wraps long messages at the terminal width)."""
        return squash(self.stderr)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def cli(*args: str | Path, trace_memory: bool = False) -> Run:
    """Run ``dualthreat ARGS`` in-process; fail on any exception other than a clean exit."""
    from dualthreat.cli import app

    runner = CliRunner()
    if trace_memory:
        tracemalloc.start()
    try:
        result = runner.invoke(app, [str(a) for a in args])
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
    finally:
        if trace_memory:
            tracemalloc.stop()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(*result.exc_info))  # type: ignore[misc]
        pytest.fail(f"dualthreat {' '.join(map(str, args))} raised instead of reporting:\n{tb}")
    assert "Traceback" not in result.stderr
    return Run(result.exit_code, result.stdout, result.stderr, peak)


# --------------------------------------------------------------------------------------------------
# store fingerprints


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]


# A row's content hash: DuckDB's 64-bit hash of the whole row (every column, NULLs included).
ROW_HASH = "hash(t)"


def _digests(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """(rows, sum of the rows' content hashes): equal for equal multisets of rows, whatever their order."""
    sql = " UNION ALL ".join(f"SELECT '{name}', count(*), coalesce(sum({ROW_HASH}::HUGEINT), 0) FROM \"{name}\" t"
                             for name in _tables(con))
    return {name: (n, digest) for name, n, digest in con.execute(sql).fetchall()}


def _row_hashes(con: duckdb.DuckDBPyConnection, table: str) -> collections.Counter:
    return collections.Counter(r[0] for r in con.execute(f'SELECT {ROW_HASH} FROM "{table}" t').fetchall())


def digests(path: Path) -> dict[str, tuple[int, int]]:
    """Every table of the store (canonical tables and load log): rows and content digest."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _digests(con)
    finally:
        con.close()


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@dataclass
class Added:
    """What one load left in a store: the lines stored from the file, and its logged rejections."""

    lines: set[int]
    rejections: list[tuple[int, str]]


@dataclass
class BaseStore:
    """A store built once per session: its file, SHA-256 and table digests."""

    path: Path
    sha256: str
    digests: dict[str, tuple[int, int]]
    _rows: dict[str, collections.Counter]

    def rows(self, table: str) -> collections.Counter:
        if table not in self._rows:
            con = duckdb.connect(str(self.path), read_only=True)
            try:
                self._rows[table] = _row_hashes(con, table)
            finally:
                con.close()
        return self._rows[table]

    def copy(self, dest: Path) -> Path:
        shutil.copyfile(self.path, dest)
        return dest

    def assert_unchanged(self, path: Path) -> None:
        """The copy at ``path`` is byte-for-byte the base store."""
        if file_sha256(path) != self.sha256:
            assert digests(path) == self.digests  # says which table changed
            pytest.fail("the store file changed")

    def assert_only_added(self, path: Path, table: str, source_file: str, added: int,
                          rejected_file: str | None = None, grows: tuple[str, ...] = ()) -> Added:
        """Nothing stored before changed or disappeared; ``table`` gained ``added`` rows, all from
        ``source_file``; no other canonical table changed, except that the companion tables ``grows`` (the
        coverage read from the same file) may gain rows; the load log only grew."""
        before_rows, before_loads = self.rows(table), self.rows("_loads")
        con = duckdb.connect(str(path), read_only=True)
        try:
            after = _digests(con)
            for name in TABLES:
                if name in grows:
                    assert not self.rows(name) - _row_hashes(con, name), f"rows of {name} were changed or removed"
                elif name != table:
                    assert after[name] == self.digests[name], f"table {name} changed"
            after_rows = _row_hashes(con, table)
            assert not before_rows - after_rows, f"rows of {table} stored before were changed or removed"
            assert sum((after_rows - before_rows).values()) == added
            assert not before_loads - _row_hashes(con, "_loads")
            lines = {r[0] for r in con.execute(f'SELECT source_line FROM "{table}" WHERE source_file = ?',
                                               [source_file]).fetchall()}
            assert len(lines) == added  # every row from the file is a new one, and every new row is from it
            rejections = con.execute("SELECT line, field FROM _rejections WHERE file = ? ORDER BY line",
                                     [rejected_file]).fetchall() if rejected_file else []
        finally:
            con.close()
        return Added(lines, rejections)


def added_to(out: dict, table: str) -> int:
    """Rows an ingest (its ``--format json`` report) added to ``table``, companion tables left out."""
    return sum(f["added"] for f in out["files"] if f["table"] == table)


def _base(path: Path) -> BaseStore:
    return BaseStore(path, file_sha256(path), digests(path), {})


@pytest.fixture(scope="session")
def default_base(tmp_path_factory: pytest.TempPathFactory) -> BaseStore:
    """A store holding the default dataset (built once per session)."""
    from dualthreat.store.defaults import build as build_default

    path = tmp_path_factory.mktemp("default") / "default.duckdb"
    build_default(Store(path))
    return _base(path)


def _private_copy(base: BaseStore, dest: Path) -> Iterator[Path]:
    """A copy of ``base`` for one test, deleted afterwards (pytest keeps the tmp folders of recent runs)."""
    yield base.copy(dest)
    for path in (dest, dest.with_name(dest.name + ".wal")):
        path.unlink(missing_ok=True)


@pytest.fixture()
def default_store(default_base: BaseStore, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the default-dataset store."""
    yield from _private_copy(default_base, tmp_path / "default.duckdb")


@pytest.fixture(scope="session")
def empty_base(tmp_path_factory: pytest.TempPathFactory) -> BaseStore:
    """A store with its tables created and no rows."""
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    Store(path).connect().close()
    return _base(path)


@pytest.fixture()
def empty_store(empty_base: BaseStore, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the empty store."""
    yield from _private_copy(empty_base, tmp_path / "store.duckdb")


HALF_SPEECH = "KOR_79_2024.txt"


@pytest.fixture(scope="session")
def ingested_base(tmp_path_factory: pytest.TempPathFactory) -> BaseStore:
    """A store holding a previous good ingest: the first half of every fixture (one speech)."""
    folder = tmp_path_factory.mktemp("halves")
    path = folder / "ingested.duckdb"
    store = Store(path)
    for spec in SPECS:
        if spec.kind == "speeches":
            half = spec.path / HALF_SPEECH
        else:
            half = folder / spec.fixture
            half.write_bytes(first_rows(spec.path.read_bytes(), spec.rows // 2))
        result = ingest.read(spec.kind, half)
        assert not result.rejections
        store.load([result], spec.kind)
    return _base(path)


@pytest.fixture()
def ingested_store(ingested_base: BaseStore, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the store with a previous good ingest."""
    yield from _private_copy(ingested_base, tmp_path / "ingested.duckdb")


@pytest.fixture()
def env() -> dict[str, str]:
    """The environment for a subprocess: this one, without dualthreat settings."""
    return {k: v for k, v in os.environ.items() if k not in ENV_VARS}
