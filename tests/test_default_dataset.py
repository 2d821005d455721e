"""The default dataset in data/: loads offline from data/ alone, is cited, and is checked against MANIFEST.csv."""

from __future__ import annotations

import csv
import hashlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dualthreat.store.defaults import default_data_dir

from conftest import REPO, BaseStore, cli, query

DATA = REPO / "data"
MANIFEST = list(csv.DictReader(open(DATA / "MANIFEST.csv", encoding="utf-8")))

# Files opened (and network calls made) by Python while a watched command runs (an audit hook cannot be
# removed, so it stays installed and records only while _opened is a list).
_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is None:
        return
    if event == "open" and isinstance(args[0], (str, bytes, Path)):
        _opened.append(str(Path(args[0] if not isinstance(args[0], bytes) else args[0].decode()).resolve()))
    elif event.startswith(("socket.", "urllib.")):
        _opened.append(f"network: {event} {args!r}")


sys.addaudithook(_audit)


def test_manifest_matches_the_files() -> None:
    assert {e["table"] for e in MANIFEST} >= {"indicators", "episodes", "un_votes", "missile_tests", "speeches"}
    for entry in MANIFEST:
        path = DATA / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]
        assert pq.ParquetFile(path).metadata.num_rows == int(entry["rows"])
    assert (DATA / "SOURCES.md").exists()


def test_build_from_data_alone(tmp_path: Path) -> None:
    """`dualthreat build` reads the default dataset from data/, nothing under ../shared, and uses no network."""
    global _opened
    assert default_data_dir().resolve() == DATA.resolve()
    store = tmp_path / "built.duckdb"  # (deleted by the test: pytest keeps recent tmp folders)
    _opened = []
    try:
        run = cli("build", "--store", store)
        listed = cli("data", "list", "--store", store)
        opened = list(_opened)
    finally:
        _opened = None
    assert run.exit_code == 0, run.stderr
    assert "Default dataset" in run.stdout and "speeches" in run.stdout
    assert listed.exit_code == 0 and "Tables in the store" in listed.stdout
    store.unlink()
    assert str((DATA / "MANIFEST.csv").resolve()) in opened  # the hook saw the reads...
    assert str((DATA / "indicators.parquet").resolve()) in opened
    shared = REPO.parent / "shared"
    assert not [p for p in opened if Path(p).is_relative_to(shared)]  # ...and none of them was under ../shared
    assert not [p for p in opened if p.startswith("network:")]  # no network either


def test_every_indicator_is_cited(default_store: Path) -> None:
    total, cited = query(default_store, r"SELECT count(*), count(*) FILTER (WHERE regexp_matches(source_url, "
                                        r"'^https?://\S+$')) FROM indicators")[0]
    assert total > 500 and cited == total


def test_data_list_shows_the_core_tables(default_store: Path) -> None:
    run = cli("data", "list", "--store", default_store, "--format", "json")
    assert run.exit_code == 0
    tables = {t["table"]: t for t in run.json()}
    for name in ("indicators", "episodes", "un_votes", "missile_tests", "speeches"):
        assert tables[name]["rows"] > 0, name
    # every stored row keeps its provenance and its source URL (the coded episodes included)
    assert not {n for n, t in tables.items() if t["rows_without_url"]}
    for name in tables:
        assert query(default_store, f'SELECT count(*) FROM "{name}" WHERE dataset IS NULL OR source_file IS NULL '
                                    "OR source_line IS NULL")[0][0] == 0, name


@pytest.fixture()
def data_copy(tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    yield copy
    shutil.rmtree(copy)


def flip_a_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_tampered_parquet_is_refused(data_copy: Path, default_base: BaseStore, default_store: Path,
                                     tmp_path: Path) -> None:
    # the last table in the manifest: every table before it was read (and passed) before the refusal
    last = data_copy / MANIFEST[-1]["file"]
    flip_a_byte(last)
    run = cli("build", "--data", data_copy, "--store", default_store)
    assert run.exit_code == 1
    assert f"error:{last}doesnotmatchitsSHA-256inMANIFEST.csv" in run.message
    default_base.assert_unchanged(default_store)
    fresh = tmp_path / "fresh.duckdb"
    assert cli("build", "--data", data_copy, "--store", fresh).exit_code == 1
    assert not fresh.exists()  # refused before anything was written


def test_parquet_missing_from_data_is_refused(data_copy: Path, tmp_path: Path) -> None:
    (data_copy / "speeches.parquet").unlink()
    run = cli("build", "--data", data_copy, "--store", tmp_path / "s.duckdb")
    assert run.exit_code == 1
    assert "speeches.parquetislistedinMANIFEST.csvbutmissing" in run.message


def test_data_folder_without_manifest_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALTHREAT_DATA", str(tmp_path / "nowhere"))
    run = cli("build", "--store", tmp_path / "s.duckdb")
    assert run.exit_code == 1 and "MANIFEST.csv" in run.message
