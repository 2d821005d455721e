"""Event readers on real GDELT 1.0 / 2.0 and ICEWS rows: layouts, actor countries, line numbers, month totals,
zipped input, idempotent loads, and files of the wrong kind (refused, exit 2, store unchanged)."""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import pytest

from dualthreat.ingest.base import FileRefused
from dualthreat.ingest.events import GDELT1_NAMES, GDELT2_NAMES, read_events

from conftest import cli, digests, query

FIX = Path(__file__).parent / "fixtures"
GDELT1 = FIX / "gdelt" / "gdelt1_events.cut.tsv"  # 15 lines of 57 fields, then 20 of 58
GDELT2 = FIX / "gdelt" / "gdelt2_events.cut.tsv"
TRANS = FIX / "gdelt" / "gdelt2_translingual.cut.tsv"  # lines 9-10: USA -> CHN (the theater's only GDELT rows)
MENTIONS = FIX / "gdelt" / "gdelt2_mentions.cut.tsv"
ICEWS = FIX / "icews" / "events.2018.sample.cut.tab"
STATES = ("USA", "JPN", "KOR", "CHN", "PRK")
ICEWS_NAMES = {"United States": "USA", "Japan": "JPN", "South Korea": "KOR", "China": "CHN", "North Korea": "PRK"}


def gdelt_rows(path: Path) -> list[dict[str, str]]:
    """The file read independently of dualthreat: one dict per line (GDELT 1.0 lines may lack SOURCEURL)."""
    out = []
    for line in path.read_text("utf-8").splitlines():
        fields = line.split("\t")
        names = GDELT2_NAMES if len(fields) == 61 else GDELT1_NAMES
        out.append(dict(zip(names, fields)))
    return out


def test_gdelt1_mixed_57_and_58_field_lines_are_all_read() -> None:
    (r,) = read_events("gdelt", [GDELT1], states=("USA", "GBR", "CAN", "AUS", "IND", "SAU", "AFG"))
    rows = gdelt_rows(GDELT1)
    assert r.format == "gdelt1" and r.rows_in == len(rows) == 35
    assert r.rejected == 0 and r.loaded == 35
    # month totals: every line counted once under the month of its SQLDATE
    totals = r.companions[0].rows.to_pylist()
    expected: dict[str, int] = {}
    for row in rows:
        m = f"{row['SQLDATE'][:4]}-{row['SQLDATE'][4:6]}"
        expected[m] = expected.get(m, 0) + 1
    assert {t["month"]: t["events"] for t in totals} == expected
    assert sum(t["root_events"] for t in totals) == sum(row["IsRootEvent"] == "1" for row in rows)
    assert sum(t["mentions"] for t in totals) == sum(int(row["NumMentions"]) for row in rows)
    # kept rows: the right lines, and 57-field lines (no SOURCEURL) get GDELT's URL
    for ev in r.rows.to_pylist():
        line = rows[ev["source_line"] - 1]
        assert ev["event_id"] == int(line["GLOBALEVENTID"])
        assert ev["source_url"] == (line.get("SOURCEURL") or "https://www.gdeltproject.org/")
        assert ev["source"] != ev["target"]


def test_gdelt1_daily_files_pad_actor2code_with_a_space() -> None:
    # real quirk of the April 2013 daily files: Actor2Code " AUS", " INDGOV"; stored trimmed
    rows = gdelt_rows(GDELT1)
    assert any(r["Actor2Code"].startswith(" ") and r["Actor2Code"].strip() for r in rows)
    (r,) = read_events("gdelt", [GDELT1], states=("CVL", "AUS", "USA", "CAN", "IND", "SAU"))
    assert all(not (a or "").startswith(" ") for a in r.rows.column("target_actor").to_pylist())


def test_gdelt2_theater_rows_have_line_numbers_and_provenance() -> None:
    (r,) = read_events("gdelt", [TRANS], states=STATES)
    assert r.format == "gdelt2" and r.rows_in == 26 and r.rejected == 0
    kept = r.rows.to_pylist()
    assert [(e["source_line"], e["source"], e["target"]) for e in kept] == [(9, "USA", "CHN"), (10, "USA", "CHN")]
    lines = gdelt_rows(TRANS)
    for e in kept:
        raw = lines[e["source_line"] - 1]
        assert e["event_id"] == int(raw["GLOBALEVENTID"]) and e["event_code"] == raw["EventCode"]
        assert e["goldstein"] == float(raw["GoldsteinScale"]) and e["quad_class"] == int(raw["QuadClass"])
        assert e["num_mentions"] == int(raw["NumMentions"]) and e["is_root"] == (raw["IsRootEvent"] == "1")
        assert e["source_url"] == raw["SOURCEURL"] and e["dataset"] == "gdelt2"
        assert e["month"] == "2015-02" and e["country_from_code"] is False
    assert r.loaded == 26 and r.kept == 2


def test_country_from_the_actor_code_when_the_country_field_is_empty(tmp_path: Path) -> None:
    lines = TRANS.read_text("utf-8").splitlines()
    fields = lines[8].split("\t")  # USA -> CHN; Actor2Code is CHN...
    assert fields[GDELT2_NAMES.index("Actor2CountryCode")] == "CHN"
    assert fields[GDELT2_NAMES.index("Actor2Code")].startswith("CHN")
    fields[GDELT2_NAMES.index("Actor2CountryCode")] = ""
    region = lines[0].split("\t")  # an actor code that is no country (e.g. a role) stays unmapped
    region[GDELT2_NAMES.index("Actor1CountryCode")] = ""
    region[GDELT2_NAMES.index("Actor1Code")] = "GOVUSA"
    path = tmp_path / "blank.export.CSV"
    path.write_text("\t".join(fields) + "\n" + "\t".join(region) + "\n", "utf-8")
    (r,) = read_events("gdelt", [path], states=STATES)
    assert [(e["source"], e["target"], e["country_from_code"]) for e in r.rows.to_pylist()] == [
        ("USA", "CHN", True)]


def test_icews_rows_countries_and_lines() -> None:
    (r,) = read_events("icews", [ICEWS], states=STATES)
    with open(ICEWS, encoding="utf-8", newline="") as fh:
        src = list(csv.DictReader(fh, delimiter="\t"))
    want = [(i + 2, row) for i, row in enumerate(src)
            if ICEWS_NAMES.get(row["Source Country"]) and ICEWS_NAMES.get(row["Target Country"])
            and row["Source Country"] != row["Target Country"]]
    assert r.rows_in == 500 and r.rejected == 0 and r.kept == len(want) == 132
    got = r.rows.to_pylist()
    for e, (line, row) in zip(got, want):
        assert e["source_line"] == line and e["event_id"] == int(row["Event ID"])
        assert (e["source"], e["target"]) == (ICEWS_NAMES[row["Source Country"]], ICEWS_NAMES[row["Target Country"]])
        assert e["event_code"] == row["CAMEO Code"] and e["goldstein"] == float(row["Intensity"])
        assert e["quad_class"] in (1, 2, 3, 4) and e["dataset"] == "icews"
        assert e["source_url"] == "https://doi.org/10.7910/DVN/28075"
    totals = r.companions[0].rows.to_pylist()
    assert [(t["month"], t["events"]) for t in totals] == [("2018-06", 500)]
    assert totals[0]["root_events"] is None and totals[0]["mentions"] is None  # ICEWS has neither


def test_cli_ingest_is_idempotent_and_stores_both_tables(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    first = cli("ingest", "gdelt", GDELT1, GDELT2, TRANS, "--store", store, "--format", "json")
    assert first.exit_code == 0, first.stderr
    out = first.json()
    assert out["rows_in"] == 35 + 50 + 26 == out["loaded"] + out["rejected"] and out["rejected"] == 0
    assert query(store, "SELECT count(*) FROM events") == [(2,)]
    assert query(store, "SELECT sum(events) FROM event_month_totals") == [(111,)]
    before = digests(store)
    again = cli("ingest", "gdelt", GDELT1, GDELT2, TRANS, "--store", store, "--format", "json")
    assert again.exit_code == 0 and again.json()["added"] == 0
    assert all(f["already_loaded"] for f in again.json()["files"])
    after = digests(store)
    assert {t: after[t] for t in ("events", "event_month_totals")} == {
        t: before[t] for t in ("events", "event_month_totals")}


def test_zipped_file_reads_like_the_plain_one_and_counts_as_the_same_file(tmp_path: Path) -> None:
    zpath = tmp_path / "20150218224500.translation.export.CSV.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(TRANS, "20150218224500.translation.export.CSV")
    (plain,), (zipped,) = read_events("gdelt", [TRANS], states=STATES), read_events("gdelt", [zpath], states=STATES)
    assert zipped.sha256 == plain.sha256  # the SHA-256 of the event data, inside the zip or not
    assert zipped.rows.drop(["source_file"]).equals(plain.rows.drop(["source_file"]))
    assert zipped.rows.column("source_file")[0].as_py().endswith(".zip!20150218224500.translation.export.CSV")
    store = tmp_path / "s.duckdb"
    assert cli("ingest", "gdelt", zpath, "--store", store).exit_code == 0
    run = cli("ingest", "gdelt", TRANS, "--store", store, "--format", "json")
    assert run.json()["added"] == 0 and all(f["already_loaded"] for f in run.json()["files"])


def test_a_folder_is_read_in_parallel_as_one_load(tmp_path: Path) -> None:
    folder = tmp_path / "gdelt"
    folder.mkdir()
    for p in (GDELT1, GDELT2, TRANS):
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "README.txt").write_text("not data")
    (folder / "20150218230000.mentions.CSV").write_bytes(MENTIONS.read_bytes())  # GDELT's mentions: skipped
    store = tmp_path / "s.duckdb"
    run = cli("ingest", "gdelt", folder, "--store", store, "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["rows_in"] == 111 and run.json()["rejected"] == 0
    assert query(store, "SELECT count(*), count(DISTINCT source_file) FROM event_month_totals")[0][1] == 3


@pytest.mark.parametrize("make, reason", [
    (lambda d: d / "missing.CSV", "nosuchfile"),
    (lambda d: (d / "empty.CSV").write_bytes(b"") and None or d / "empty.CSV", "thefileisempty"),
    (lambda d: (d / "bin.CSV").write_bytes(b"\x00\x01\x02" * 100) and None or d / "bin.CSV", "binarycontent"),
    (lambda d: (d / "m.CSV").write_bytes(MENTIONS.read_bytes()) and None or d / "m.CSV", "mentionsfile"),
    (lambda d: (d / "i.tab").write_bytes(ICEWS.read_bytes()) and None or d / "i.tab", "anICEWSfile"),
    (lambda d: (d / "c.csv").write_text("a,b,c\n1,2,3\n") and None or d / "c.csv", "nottab-separated"),
])
def test_wrong_files_are_refused_and_nothing_is_stored(tmp_path: Path, make, reason: str) -> None:
    store = tmp_path / "s.duckdb"
    assert cli("ingest", "gdelt", GDELT2, "--store", store).exit_code == 0
    before = digests(store)
    run = cli("ingest", "gdelt", GDELT2, make(tmp_path), "--store", store)
    assert run.exit_code == 2 and "refused" in run.message and reason.lower() in run.message.lower(), run.stderr
    assert digests(store) == before


def test_an_icews_file_with_only_its_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.2018.header.tab"
    path.write_bytes(ICEWS.read_bytes().splitlines(keepends=True)[0])
    with pytest.raises(FileRefused, match="no data lines"):
        read_events("icews", [path])


def test_icews_package_csv_and_gdelt_files_are_refused_as_icews(tmp_path: Path) -> None:
    csv_path = tmp_path / "icews_sample.csv"
    rows = list(csv.reader(ICEWS.read_text("utf-8").splitlines()[:3], delimiter="\t"))
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([[c.lower().replace(" ", "_") for c in rows[0]], *rows[1:]])
    with pytest.raises(FileRefused, match="comma-separated"):
        read_events("icews", [csv_path])
    with pytest.raises(FileRefused, match="missing column"):
        read_events("icews", [GDELT2])


def test_zips_with_several_files_or_unsafe_names_are_refused(tmp_path: Path) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.write(GDELT2, "a.CSV")
        zf.write(GDELT2, "b.CSV")
    with pytest.raises(FileRefused, match="holds 2 files"):
        read_events("gdelt", [two])
    for name in ("../evil.CSV", "/etc/evil.CSV", "a/../../evil.CSV", "C:/evil.CSV"):
        bad = tmp_path / "slip.zip"
        with zipfile.ZipFile(bad, "w") as zf:  # writestr keeps the name as given (write() would clean it)
            zf.writestr(zipfile.ZipInfo(name), GDELT2.read_bytes())
        with pytest.raises(FileRefused, match="outside its folder"):
            read_events("gdelt", [bad])


def test_the_compiled_gdelt_ingest_does_not_import_pandas(tmp_path: Path) -> None:
    # the GDELT ingest (with rejections to store) needs nothing of pandas; pyarrow's pa.array and pa.scalar
    # import it (about 0.25 s of the command's start-up), so the event readers build their arrays from buffers
    import subprocess
    import sys

    from test_events_badlines import build_bad_gdelt

    try:
        from dualthreat.ingest import _gdeltscan  # noqa: F401
    except ImportError:
        pytest.skip("the compiled GDELT scanner is not built")
    bad, expected, _ = build_bad_gdelt(tmp_path)
    code = ("import sys\nfrom dualthreat.cli import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
            "print('pandas' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code, "ingest", "gdelt", str(TRANS), str(bad), "--store",
                          str(tmp_path / "s.duckdb"), "--format", "json"], capture_output=True, text=True,
                         env={**os.environ, "DUALTHREAT_EVENT_SCANNER": "c"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-1] == "False"
    assert query(tmp_path / "s.duckdb", "SELECT count(*) FROM _rejections") == [(len(expected),)]
