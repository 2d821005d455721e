"""Every reader reads its real fixture with no rejection, the expected rows and correctly typed values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from dualthreat import ingest
from dualthreat.ingest.base import display_path
from dualthreat.tables import TABLES

from conftest import added_to, cli, query
from specs import EVENT_KINDS, FIXTURES, SPECS, ReaderSpec


def test_every_reader_has_a_spec() -> None:
    """The suite covers every layout of every kind (a new reader must get a fixture and a spec), except the
    event-data readers, which have their own suite (only their refusals are checked here)."""
    layouts = {(kind, fmt.name) for kind, formats in ingest.KINDS.items() for fmt in formats}
    layouts |= {(kind, "speeches") for kind in ingest.SPECIAL if kind not in EVENT_KINDS}
    assert {(s.kind, s.format) for s in SPECS} == layouts


def test_the_kinds_are_listed_without_importing_their_readers() -> None:
    """``all_kinds`` names the kinds without importing the reader modules: the same names as the readers."""
    assert ingest.all_kinds() == list(ingest.KINDS) + list(ingest.SPECIAL)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_fixture_reads_cleanly(spec: ReaderSpec) -> None:
    result = ingest.read(spec.kind, spec.path)
    assert result.rejections == []
    assert result.table == spec.table
    assert result.rows_in == result.loaded == spec.rows
    assert result.rows.schema == TABLES[spec.table].arrow_schema()
    provenance = result.rows.select(["dataset", "source_file", "source_line", "source_url"]).to_pylist()
    assert all(p["dataset"] and p["source_file"] and p["source_line"] >= 1 for p in provenance)
    if spec.kind != "speeches":  # one row per data line, numbered from line 2
        assert [p["source_line"] for p in provenance] == list(range(2, spec.rows + 2))
        assert {p["source_file"] for p in provenance} == {display_path(spec.path)}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_fixture_ingests_through_the_cli(spec: ReaderSpec, empty_store: Path) -> None:
    store = empty_store
    run = cli("ingest", spec.kind, spec.path, "--store", store, "--format", "json")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert (out["rows_in"], out["loaded"], out["rejected"], added_to(out, spec.table)) == (spec.rows, spec.rows, 0,
                                                                                          spec.rows)
    assert out["rejections"] == []
    assert out["files"][0]["table"] == spec.table
    assert query(store, f'SELECT count(*) FROM "{spec.table}"')[0][0] == spec.rows
    # for people: the same counts on stderr, and a second ingest of the same file adds nothing
    again = cli("ingest", spec.kind, spec.path, "--store", store)
    assert again.exit_code == 0, again.stderr
    assert f"total:{spec.rows}rowsin={spec.rows}loaded+0rejected" in again.message
    assert "0newrowsstored(alreadyloaded:nothingadded)" in again.message
    assert query(store, f'SELECT count(*) FROM "{spec.table}"')[0][0] == spec.rows


def rows_by_line(kind: str, name: str) -> dict[int, dict]:
    result = ingest.read(kind, FIXTURES / name)
    return {r["source_line"]: r for r in result.rows.to_pylist()}


# --------------------------------------------------------------------------------------------------
# spot checks of values read in the fixtures (fixture line numbers; see tests/fixtures/README.md)


def test_curated_indicators_values() -> None:
    rows = rows_by_line("indicators", "curated_indicators.csv")
    # military_activity.csv: JASDF scrambles, all countries, FY2016 (April 2016 - March 2017): two sources
    # disagree (1168 and 1180), so both rows carry the CONFLICT marker
    fy2016 = rows[5]
    assert (fy2016["series"], fy2016["actor"], fy2016["target"], fy2016["period_type"], fy2016["period"]) == (
        "jasdf_scrambles", "ALL", "JPN", "fiscal_year_jp", "2016")
    assert (fy2016["start_date"], fy2016["end_date"]) == (dt.date(2016, 4, 1), dt.date(2017, 3, 31))
    assert (fy2016["value"], fy2016["unit"], fy2016["status"]) == (1168.0, "count", "conflict")
    assert fy2016["source_url"].startswith("http://japantimes.co.jp/")
    conflict = rows[6]
    assert (conflict["value"], conflict["status"], conflict["period"]) == (1180.0, "conflict", "2016")
    assert conflict["note"].startswith("CONFLICT: this article says 1180")
    assert rows[13]["status"] == "firm" and rows[13]["value"] == 16.0  # DPRK launch events 2017
    assert rows[2]["status"] == "approximate" and rows[2]["value"] == 220.0  # Korean '220회'
    assert rows[10]["status"] == "preliminary"  # Senkaku contiguous zone days, 2022, 'as of'
    assert rows[19]["status"] == "lower_bound"
    # every kind of period becomes first and last day
    periods = {
        7: ("half_fiscal_year_jp", "2006H1", dt.date(2006, 4, 1), dt.date(2006, 9, 30)),
        8: ("quarter_fiscal_year_jp", "2017Q1", dt.date(2017, 4, 1), dt.date(2017, 6, 30)),
        9: ("date", "2020-12-22", dt.date(2020, 12, 22), dt.date(2020, 12, 22)),
        11: ("half_year", "2020H1", dt.date(2020, 1, 1), dt.date(2020, 6, 30)),
        12: ("four_month", "2018-01/2018-04", dt.date(2018, 1, 1), dt.date(2018, 4, 30)),
        16: ("month", "2012-12", dt.date(2012, 12, 1), dt.date(2012, 12, 31)),
        19: ("period_range", "2012/2022", dt.date(2012, 1, 1), dt.date(2022, 12, 31)),
        21: ("year", "2000", dt.date(2000, 1, 1), dt.date(2000, 12, 31)),
    }
    for line, (ptype, period, start, end) in periods.items():
        r = rows[line]
        assert (r["period_type"], r["period"], r["start_date"], r["end_date"]) == (ptype, period, start, end), line
    # a row from dprk_tests.csv with Japanese title, and an empty target
    nuclear = rows[17]
    assert (nuclear["series"], nuclear["target"], nuclear["start_date"], nuclear["value"]) == (
        "dprk_nuclear_test_yield", None, dt.date(2017, 9, 3), 100.0)
    assert rows[21]["value"] == 1.84 and rows[21]["actor"] == "CHN" and rows[21]["target"] is None
    assert all(r["source_url"].startswith(("http://", "https://")) for r in rows.values())


def test_episodes_values() -> None:
    rows = rows_by_line("episodes", "calibration.csv")
    c003 = rows[4]
    assert (c003["episode_id"], c003["date"], c003["date_precision"], c003["actor"], c003["counterpart"]) == (
        "C003", dt.date(1998, 10, 8), "day", "JPN-KOR", "MULTI")
    assert c003["direction"] == "japan_rok_up" and c003["outcome"].startswith("Kim")
    assert c003["source_url"] == "https://en.wikipedia.org/wiki/Japan%E2%80%93South_Korea_Joint_Declaration_of_1998"
    assert rows[2]["framework_drivers"] == "local_china_threat;dprk_threat"


def test_un_votes_values() -> None:
    rows = rows_by_line("votes", "un_votes_5countries.csv")
    assert (rows[2]["rcid"], rows[2]["iso3"], rows[2]["vote"]) == (3, "USA", "yes")
    # roll call 3637 (1991): KP -> PRK, JP abstains
    assert {(r["iso3"], r["vote"]) for r in rows.values() if r["rcid"] == 3637} == {
        ("USA", "no"), ("CHN", "yes"), ("PRK", "yes"), ("KOR", "yes"), ("JPN", "abstain")}


def test_un_votes_from_parquet(tmp_path: Path) -> None:
    """The votes kind also reads the package's Parquet layout; rows are numbered from 2 like lines."""
    table = pacsv.read_csv(FIXTURES / "un_votes_5countries.csv",
                           convert_options=pacsv.ConvertOptions(column_types={"rcid": pa.int64()}))
    pq.write_table(table, tmp_path / "un_votes.parquet")
    result = ingest.read("votes", tmp_path / "un_votes.parquet")
    assert (result.table, result.loaded, result.rejected) == ("un_votes", 28, 0)
    assert result.rows.to_pylist()[-1] | {"source_file": None} == rows_by_line(
        "votes", "un_votes_5countries.csv")[29] | {"source_file": None}


def test_un_roll_calls_values() -> None:
    rows = {r["rcid"]: r for r in rows_by_line("votes", "un_roll_calls.csv").values()}
    r3637 = rows[3637]
    assert (r3637["session"], r3637["date"], r3637["important_vote"], r3637["unres"]) == (
        46, dt.date(1991, 12, 4), True, "R/46/75")
    assert r3637["amend"] is None and r3637["para"] is None  # not coded after 1985
    assert (rows[3]["amend"], rows[3]["para"], rows[3]["short"]) == (True, False, "AMENDMENTS, RULES OF PROCEDURE")
    assert rows[5640]["important_vote"] is None and rows[5640]["para"] is True


def test_un_roll_call_issues_values() -> None:
    rows = rows_by_line("votes", "un_roll_call_issues.csv").values()
    assert sorted(r["issue_code"] for r in rows if r["rcid"] == 3692) == ["co", "me"]
    assert {r["issue"] for r in rows if r["issue_code"] == "nu"} == {"Nuclear weapons and nuclear material"}


def test_ideal_points_values() -> None:
    rows = {(r["iso3"], r["year"]): r for r in rows_by_line("ideal-points", "IdealpointsJuly2025.csv").values()}
    jpn = rows[("JPN", 2023)]
    assert (jpn["ccode"], jpn["ideal_point"], jpn["q05"], jpn["q95"], jpn["n_votes"], jpn["n_votes_all"]) == (
        740, 0.7306719, 0.5887082, 0.8666576, 88, 232)
    assert rows[("KOR", 2024)]["ideal_point"] == 1.070458 and rows[("KOR", 2024)]["ideal_point_all"] is None
    assert rows[("PRK", 2023)]["ideal_point"] == -0.6038933
    assert rows[("TWN", 1950)]["ccode"] == 713  # China's seat before 1971
    # West Germany (COW 260): the code comes from the COW state, one per state (Germany, 255, keeps DEU)
    gfr = rows[("COW260", 1990)]
    assert gfr["ccode"] == 260 and gfr["ideal_point"] is None and gfr["n_votes"] is None


def test_missile_tests_values() -> None:
    rows = rows_by_line("missiles", "tests_flat.en.csv")
    first = rows[2]
    assert (first["test_date"], first["date_precision"], first["time_local"], first["series_no"]) == (
        dt.date(1984, 4, 9), "day", "unknown", 1)
    assert first["apogee_km"] is None and first["distance_km"] is None and first["bearing_deg"] == 90.0
    # "1984-09": entered with the month only
    sep = rows[5]
    assert (sep["test_date"], sep["date_precision"], sep["outcome"]) == (dt.date(1984, 9, 1), "month", "failure")
    assert rows[4]["apogee_km"] == 200.0
    icbm = rows[14]  # first Hwasong-14 test
    assert (icbm["test_date"], icbm["missile"], icbm["apogee_km"], icbm["distance_km"], icbm["landing"]) == (
        dt.date(2017, 7, 4), "hwasong-14", 2802.0, 933.0, "sea-of-japan")
    assert rows[15]["landing"] == "pacific-ocean"
    assert rows[17]["test_date"] == dt.date(2022, 1, 4)  # the row with a glide profile (JSON text in quotes)
    assert (rows[22]["series_no"], rows[22]["description"]) == (5, "5 of 5")


def test_missile_types_values() -> None:
    rows = {r["missile"]: r for r in rows_by_line("missiles", "missiles.en.csv").values()}
    assert (rows["hwasong-12b"]["type"], rows["hwasong-12b"]["maneuver"]) == ("HGV", "glide")
    assert rows["hwasong-15"]["type"] == "ICBM" and rows["hwasong-15"]["maneuver"] is None


def test_speeches_values() -> None:
    rows = {r["iso3"]: r for r in ingest.read("speeches", FIXTURES / "speeches").rows.to_pylist()}
    assert set(rows) == {"JPN", "KOR", "PRK"}
    jpn = rows["JPN"]  # starts with a byte-order mark, which is dropped
    assert (jpn["session"], jpn["year"], jpn["words"]) == (56, 2001, 1031)
    assert jpn["text"].startswith("I would like to\ncongratulate Mr. Han Seung-soo")
    assert (rows["KOR"]["session"], rows["KOR"]["year"], rows["KOR"]["words"]) == (79, 2024, 729)
    assert rows["PRK"]["words"] == 1342 and "People\u2019s Republic" in rows["PRK"]["text"]
    assert rows["KOR"]["source_url"] == "https://doi.org/10.7910/DVN/0TJX8Y"


def test_pew_values() -> None:
    rows = {(r["wave"], r["respondent_iso3"], r["target"]): r
            for r in rows_by_line("pew", "pew_favorability_by_country_wave.csv").values()}
    suspect = rows[(2013, "JPN", "CHN")]
    assert suspect["quality_flag"].startswith("suspect: 2013 China item")
    assert (suspect["n_respondents"], suspect["pct_favorable"]) == (700, 73.48)
    assert rows[(2014, "JPN", "CHN")]["quality_flag"] is None
    assert rows[(2014, "JPN", "CHN")]["pct_unfavorable"] == 90.81
    assert rows[(2015, "KOR", "USA")]["pct_favorable"] == 84.03
    assert (2014, "PSE", "EU") in rows  # Pew's PLS is stored as ISO3 PSE; EU is an allowed target


def test_sipri_values() -> None:
    rows = {(r["iso3"], r["year"]): r["share_gdp"]
            for r in rows_by_line("sipri", "military-spending-as-a-share-of-gdp-sipri.csv").values()}
    assert rows[("CHN", 2024)] == 1.7112974
    assert rows[("KWT", 1991)] == 117.34983  # a burden above 100% is real (Kuwait 1991)
    assert ("XKX", 2008) in rows  # OWID_KOS is Kosovo


def test_capabilities_values() -> None:
    rows = {(r["iso3"], r["year"]): r for r in rows_by_line("capabilities", "cow_nmc.csv").values()}
    assert rows[("KOR", 2016)]["milex"] == 33778000.0 and rows[("KOR", 2016)]["ccode"] == 732
    assert rows[("PRK", 2016)]["milex"] is None and rows[("PRK", 2016)]["cinc"] == 0.013477664
    assert rows[("BHS", 1993)]["cinc"] == 4.7880199e-05


def test_alliances_values() -> None:
    rows = {(r["iso3_a"], r["iso3_b"], r["year"]): r
            for r in rows_by_line("alliances", "atop_alliance_5countries.csv").values()}
    assert rows[("USA", "JPN", 1960)]["defense"] is True
    assert rows[("JPN", "USA", 1960)]["defense"] is False and rows[("JPN", "USA", 1960)]["consult"] is True
    assert ("USA", "DEU", 1990) in rows and ("CHN", "PRK", 1961) in rows


def test_rivalries_values() -> None:
    rows = {r["rivalry_id"]: r for r in rows_by_line("rivalries", "tss_rivalries.csv").values()}
    koreas = rows[114]
    assert (koreas["rivalry"], koreas["iso3_a"], koreas["iso3_b"], koreas["start_year"], koreas["end_year"]) == (
        "North Korea-South Korea", "PRK", "KOR", 1948, 2020)
    assert koreas["ideological"] is True and koreas["spatial"] is None
    assert rows[1]["iso3_b"] == "COW300"  # Austria-Hungary keeps its COW code


def test_territorial_threat_values() -> None:
    rows = {(r["iso3"], r["year"]): r for r in rows_by_line("territorial-threat", "terrthreat.csv").values()}
    jpn = rows[("JPN", 2010)]
    assert (jpn["threat"], jpn["lower"], jpn["upper"]) == (-1.1377510878474855, -1.1959521040519892,
                                                          -1.073982705902809)


def test_the_ingest_help_names_every_kind() -> None:
    from dualthreat.cli.options import KIND_HELP

    assert set(KIND_HELP) == set(ingest.all_kinds())
