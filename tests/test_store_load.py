"""Store.load's content de-duplication: a staged row whose content is already stored is skipped by an ANTI JOIN
over all content columns, and the ANTI JOIN is skipped (a plain insert) when no stored row can match. Both ways
must store the same rows, on real ICEWS and UN vote rows."""

from __future__ import annotations

import collections
from pathlib import Path

import duckdb
import pytest

import dualthreat.store as store_module
from dualthreat import ingest as readers
from dualthreat.store import Store

FIX = Path(__file__).parent / "fixtures"
ICEWS = FIX / "icews" / "events.2018.sample.cut.tab"  # 500 real rows, 132 between the theater's states
VOTES = FIX / "un_votes_5countries.csv"  # 28 real rows


def _cuts(path: Path, tmp: Path) -> list[tuple[str, Path]]:
    """Files cut from ``path`` (its header kept), loaded in this order: the first half; the second half (for
    both fixtures, ids beyond the first half's); the whole file renamed, its rows reversed (all already stored);
    and a file of three rows new to the store, one of them again and an already stored one (for ICEWS the
    repeated row has the same content on two lines of one file: both are stored, as the ANTI JOIN against the
    stored rows alone does; the vote reader rejects it)."""
    header, *rows = path.read_bytes().splitlines(keepends=True)
    half = len(rows) // 2
    pieces = {
        "first": rows[:half],
        "second": rows[half:-3],
        "renamed": list(reversed(rows[:-3])),
        "repeats": rows[-3:] + rows[-1:] + rows[:1],
    }
    out = []
    for name, lines in pieces.items():
        target = tmp / f"{name}{path.suffix}"
        target.write_bytes(header + b"".join(lines))
        out.append((name, target))
    return out


def _stored(path: Path) -> dict[str, collections.Counter]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: collections.Counter(con.execute(f'SELECT * FROM "{t}"').fetchall())
                for t in ("events", "event_month_totals", "un_votes")}
    finally:
        con.close()


def _load_all(kind: str, fixture: Path, tmp: Path, store: Path) -> list[list[int]]:
    added = []
    for _, f in _cuts(fixture, tmp):
        reports = Store(store).load([readers.read(kind, f)], kind=kind)
        added.append([r.added for r in reports])
    return added


@pytest.mark.parametrize(("kind", "fixture"), [("icews", ICEWS), ("votes", VOTES)], ids=["icews", "un_votes"])
def test_the_plain_insert_stores_what_the_anti_join_stores(kind: str, fixture: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cuts").mkdir()
    seen = []
    checked = store_module._may_be_stored

    def spy(*args: object) -> bool:
        seen.append(checked(*args))
        return seen[-1]

    monkeypatch.setattr(store_module, "_may_be_stored", spy)
    fast = _load_all(kind, fixture, tmp_path / "cuts", tmp_path / "fast.duckdb")
    assert False in seen and True in seen  # both ways were taken
    monkeypatch.setattr(store_module, "_may_be_stored", lambda *args: True)  # always the ANTI JOIN
    joined = _load_all(kind, fixture, tmp_path / "cuts", tmp_path / "joined.duckdb")
    assert fast == joined
    assert _stored(tmp_path / "fast.duckdb") == _stored(tmp_path / "joined.duckdb")
    main = [a[0] for a in fast]
    assert main[2] == 0  # renamed: all stored already
    # repeats: of ICEWS's three new rows only the last is an event of the theater, stored from both its lines;
    # a vote file's three rows are all new (the reader rejects the repeated line)
    assert main[3] == (2 if kind == "icews" else 3)


def _staged(con: duckdb.DuckDBPyConnection, values: list[int | None]) -> None:
    import pyarrow as pa

    con.register("staged", pa.table({"k": pa.array(values, pa.int64())}))


def test_may_be_stored_is_false_only_when_no_stored_key_is_in_the_staged_range() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (k BIGINT, x DOUBLE)")
    _staged(con, [5, 9])
    assert not store_module._may_be_stored(con, "t", "k", "BIGINT")  # empty table
    con.execute("INSERT INTO t VALUES (1, 0), (4, 0), (10, 0)")
    assert not store_module._may_be_stored(con, "t", "k", "BIGINT")  # 4 and 10 are outside 5..9
    _staged(con, [5, 10])
    assert store_module._may_be_stored(con, "t", "k", "BIGINT")
    _staged(con, [2, 3])  # 2..3 holds no stored key, though 1 and 4 lie around it
    assert not store_module._may_be_stored(con, "t", "k", "BIGINT")
    _staged(con, [None, 6])
    assert not store_module._may_be_stored(con, "t", "k", "BIGINT")  # no NULL key stored
    con.execute("INSERT INTO t VALUES (NULL, 0)")
    assert store_module._may_be_stored(con, "t", "k", "BIGINT")  # NULL IS NOT DISTINCT FROM NULL
    _staged(con, [])
    assert not store_module._may_be_stored(con, "t", "k", "BIGINT")
    assert store_module._may_be_stored(con, "t", "x", "DOUBLE")  # not checked by range (NaN): always joined


def test_an_infinite_date_is_always_joined() -> None:
    """Python reads DuckDB's infinite dates as the last and first representable days, so a range test could miss
    a stored infinite date equal to a staged one: such a file is always checked row by row."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (d DATE)")
    con.execute("INSERT INTO t VALUES ('infinity')")
    con.execute("CREATE OR REPLACE TEMP TABLE staged AS SELECT DATE '2001-01-01' AS d")
    assert not store_module._may_be_stored(con, "t", "d", "DATE")
    con.execute("CREATE OR REPLACE TEMP TABLE staged AS SELECT 'infinity'::DATE AS d")
    assert store_module._may_be_stored(con, "t", "d", "DATE")


def test_rows_are_staged_in_row_groups_unchanged() -> None:
    import pyarrow as pa

    small = [pa.record_batch({"k": pa.array(range(i, i + 50_000), pa.int64())}) for i in range(0, 300_000, 50_000)]
    table = pa.Table.from_batches(small)
    staged = store_module._in_row_groups(table)
    assert staged.equals(table)
    assert [b.num_rows for b in staged.to_batches()] == [150_000, 150_000]
    assert store_module._in_row_groups(pa.Table.from_batches(small[:1])).to_batches()[0].num_rows == 50_000
