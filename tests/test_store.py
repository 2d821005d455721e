"""The store: idempotent loads, store path precedence, `data list` / `data show`, and a kill mid-ingest."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from dualthreat.ingest.base import display_path
from dualthreat.store import FAULT_PAUSE_ENV
from dualthreat.tables import TABLES

from conftest import REPO, BaseStore, added_to, cli, digests, dualthreat_command, query
from specs import SPECS, TABULAR, ReaderSpec, lines_of


def canonical(d: dict) -> dict:
    return {k: v for k, v in d.items() if k in TABLES}


def ingest(spec_kind: str, path: Path, store: Path) -> dict:
    run = cli("ingest", spec_kind, path, "--store", store, "--format", "json")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["rows_in"] == out["loaded"] + out["rejected"]
    return out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_idempotent_reingest(spec: ReaderSpec, empty_store: Path, tmp_path: Path) -> None:
    store = empty_store
    first = ingest(spec.kind, spec.path, store)
    assert added_to(first, spec.table) == spec.rows
    after_first = digests(store)

    # the same file again: recognised, nothing added, nothing changed (not even the load log)
    again = ingest(spec.kind, spec.path, store)
    assert (again["loaded"], again["added"], again["files"][0]["already_loaded"]) == (spec.rows, 0, True)
    assert digests(store) == after_first

    # the same rows from another file (for CSV: another name, rows in reverse order; for speeches: one
    # statement on its own, outside its folder): read and checked, not stored twice
    if spec.kind == "speeches":
        other, rows = tmp_path / "JPN_56_2001.txt", 1
        shutil.copyfile(spec.path / other.name, other)
    else:
        lines = lines_of(spec.path.read_bytes())
        other, rows = tmp_path / f"renamed_{spec.fixture}", spec.rows
        other.write_bytes(lines[0] + b"".join(reversed(lines[1:])))
    renamed = ingest(spec.kind, other, store)
    assert (renamed["loaded"], renamed["added"], renamed["files"][0]["already_loaded"]) == (rows, 0, False)
    after = digests(store)
    assert canonical(after) == canonical(after_first)
    assert after["_loads"][0] == after_first["_loads"][0] + 1 + len(spec.companions)  # the load itself is logged


def test_overlapping_file_adds_only_new_rows(empty_store: Path, tmp_path: Path) -> None:
    spec = next(s for s in TABULAR if s.id == "un_votes")
    lines = lines_of(spec.path.read_bytes())
    store = empty_store
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_bytes(b"".join(lines[:11]))  # header + 10 rows
    second.write_bytes(lines[0] + b"".join(lines[6:]))  # 5 of them again + 18 new
    assert ingest("votes", first, store)["added"] == 10
    out = ingest("votes", second, store)
    assert (out["loaded"], out["added"]) == (23, 18)
    assert query(store, "SELECT count(*), count(DISTINCT (rcid, iso3)) FROM un_votes") == [(28, 28)]
    # the rows keep the file and line they were first stored from
    assert query(store, "SELECT source_file, source_line FROM un_votes WHERE rcid = 3637 AND iso3 = 'USA'") == [
        ("first.csv", 5)]


def test_build_twice_adds_nothing(tmp_path: Path) -> None:
    store = tmp_path / "built.duckdb"
    run = cli("build", "--store", store, "--format", "json")
    assert run.exit_code == 0, run.stderr
    manifest = {r["table"]: int(r["rows"]) for r in csv.DictReader(open(REPO / "data" / "MANIFEST.csv"))}
    assert {r["table"]: (r["rows"], r["added"], r["status"]) for r in run.json()} == {
        t: (n, n, "loaded") for t, n in manifest.items()}
    before = digests(store)
    again = cli("build", "--store", store, "--format", "json")
    assert again.exit_code == 0
    assert {(r["added"], r["status"]) for r in again.json()} == {(0, "already loaded")}
    assert digests(store) == before


def test_data_list_json(default_store: Path) -> None:
    run = cli("data", "list", "--store", default_store, "--format", "json")
    assert run.exit_code == 0, run.stderr
    tables = {t["table"]: t for t in run.json()}
    assert set(tables) == set(TABLES)
    manifest = {r["table"]: int(r["rows"]) for r in csv.DictReader(open(REPO / "data" / "MANIFEST.csv"))}
    for name, t in tables.items():
        assert {"table", "rows", "start", "end"} <= set(t)
        assert t["rows"] == manifest.get(name, 0)  # tables outside the default dataset are empty
        if t["start"] is not None:
            assert dt.date.fromisoformat(t["start"]) <= dt.date.fromisoformat(t["end"])
    assert (tables["un_votes"]["start"], tables["un_votes"]["end"]) == ("1946-01-01", "2020-01-14")
    assert tables["missile_tests"]["start"] == "1984-04-09"
    assert tables["speeches"]["start"] == "1946-01-01" and tables["speeches"]["end"] == "2024-12-31"
    assert tables["un_roll_call_issues"]["start"] is None  # no dates of its own


def test_data_list_table_format(default_store: Path) -> None:
    run = cli("data", "list", "--store", default_store)
    assert run.exit_code == 0
    assert "Tables in the store" in run.stdout and "missile_tests" in run.stdout and "41822" in run.stdout  # the votes of every packaged theater's states


def test_data_show(default_store: Path) -> None:
    run = cli("data", "show", "missile_types", "--limit", "3", "--store", default_store, "--format", "json")
    assert run.exit_code == 0, run.stderr
    rows = run.json()
    assert len(rows) == 3
    assert list(rows[0]) == TABLES["missile_types"].column_names
    assert all(r["dataset"] == "cns_missiles" and r["source_url"].startswith("https://") for r in rows)
    table = cli("data", "show", "episodes", "-n", "2", "--store", default_store)
    assert table.exit_code == 0 and "C001" in table.stdout
    unknown = cli("data", "show", "scrambles", "--store", default_store)
    assert unknown.exit_code == 1
    assert "notable'scrambles';run`dualthreatdatalist`" in unknown.message


@pytest.mark.parametrize("command", [("data", "list"), ("data", "show", "indicators")], ids=["list", "show"])
def test_missing_store_is_a_clear_error(command: tuple[str, ...], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.duckdb"
    run = cli(*command, "--store", missing)
    assert run.exit_code == 1
    assert f"error:nostoreat{missing};run`dualthreatbuild`first" in run.message
    assert not missing.exists()  # looking does not create it


def test_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "notes.duckdb"
    fake.write_text("not a database")
    for args in (("data", "list"), ("ingest", "missiles", next(s.path for s in SPECS if s.id == "missile_types"))):
        run = cli(*args, "--store", fake)
        assert run.exit_code == 1
        assert "isnotavalidDuckDBdatabasefile" in run.message
    assert fake.read_text() == "not a database"


def test_store_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--store over $DUALTHREAT_STORE over ./dualthreat.duckdb."""
    work, env_dir, opt_dir = (tmp_path / d for d in ("work", "env", "opt"))
    for d in (work, env_dir, opt_dir):
        d.mkdir()
    monkeypatch.chdir(work)
    spec = next(s for s in SPECS if s.id == "missile_types")

    monkeypatch.setenv("DUALTHREAT_STORE", str(env_dir / "env.duckdb"))
    assert ingest(spec.kind, spec.path, opt_dir / "opt.duckdb")["added"] == spec.rows
    assert [p.name for p in opt_dir.iterdir()] == ["opt.duckdb"]
    assert not any(env_dir.iterdir()) and not any(work.iterdir())

    run = cli("ingest", spec.kind, spec.path, "--format", "json")
    assert run.exit_code == 0 and run.json()["added"] == spec.rows
    assert (env_dir / "env.duckdb").exists() and not any(work.iterdir())

    monkeypatch.delenv("DUALTHREAT_STORE")
    run = cli("ingest", spec.kind, spec.path, "--format", "json")
    assert run.exit_code == 0 and run.json()["added"] == spec.rows
    assert (work / "dualthreat.duckdb").exists()
    listed = cli("data", "list", "--format", "json")
    assert {t["table"]: t["rows"] for t in listed.json()}["missile_types"] == spec.rows


# --------------------------------------------------------------------------------------------------
# killed mid-ingest


PAUSE_MESSAGE = "pausing inside the load transaction"


def kill_while_loading(args: list[str], env: dict[str, str]) -> str:
    """Start ``dualthreat ARGS`` with the fault-injection pause, SIGKILL it once it is inside the load
    transaction; return what it printed on stderr."""
    proc = subprocess.Popen(dualthreat_command() + args, env={**env, FAULT_PAUSE_ENV: "30"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, proc.kill)  # never hang the suite
    watchdog.start()
    seen = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if PAUSE_MESSAGE in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = "".join(seen)
    assert PAUSE_MESSAGE in stderr, stderr
    assert proc.returncode == -signal.SIGKILL
    return stderr


def test_kill_mid_ingest_leaves_store_intact(ingested_base: BaseStore, ingested_store: Path,
                                             env: dict[str, str]) -> None:
    spec = next(s for s in SPECS if s.id == "indicators")
    kill_while_loading(["ingest", spec.kind, str(spec.path), "--store", str(ingested_store)], env)
    assert digests(ingested_store) == ingested_base.digests  # every table, the load log included
    # the store still works: the same ingest, not interrupted, adds the rows
    out = ingest(spec.kind, spec.path, ingested_store)
    assert out["added"] == spec.rows - spec.rows // 2
    ingested_base.assert_only_added(ingested_store, spec.table, display_path(spec.path), out["added"])


def test_kill_mid_build_leaves_store_empty(tmp_path: Path, env: dict[str, str]) -> None:
    store = tmp_path / "new.duckdb"
    kill_while_loading(["build", "--store", str(store)], env)
    # the tables were created before the load began; none of the default dataset was stored
    counts = digests(store)
    assert set(TABLES) <= set(counts)
    assert {name: n for name, (n, _) in counts.items()} == {name: 0 for name in counts}
    run = cli("build", "--store", store, "--format", "json")
    assert run.exit_code == 0
    assert all(r["status"] == "loaded" and r["added"] == r["rows"] for r in run.json())
