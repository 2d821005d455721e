"""Event aggregates (ICEWS dyad-months and dyad-years, GDELT pairs): the Parquet path of the readers, its
agreement with the row reader, bad Parquet files, real-data facts of the default dataset, and the measures.

The CSV layouts of the same readers are in the bad-input matrix (tests/specs.py, test_bad_input.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dualthreat import ingest
from dualthreat.ingest.aggregates import GDELT_PAIRS, ICEWS_DYAD_MONTH, ICEWS_DYAD_YEAR, AggregateFormat
from dualthreat.ingest.base import FileRefused, read_file
from dualthreat.measure import aggregates as agg
from dualthreat.store import Store
from dualthreat.theater import Indicator

from conftest import BaseStore, added_to, cli, query
from specs import FIXTURES

PARQUET = {  # kind: (fixture, format, rows)
    "icews-dyad-month": ("icews_dyad_month.parquet", ICEWS_DYAD_MONTH),
    "icews-dyad-year": ("icews_dyad_year_netify.parquet", ICEWS_DYAD_YEAR),
    "gdelt-pairs": ("gdelt_pairs_daily.parquet", GDELT_PAIRS),
}
CSV_TWIN = {"icews-dyad-month": "icews_dyad_month_five_states.csv", "icews-dyad-year": "icews_dyad_year_netify.csv",
            "gdelt-pairs": "gdelt_pairs_daily.csv"}
PROVENANCE = ["dataset", "source_file", "source_line", "source_url"]


def content(table: pa.Table) -> list[dict]:
    return table.drop_columns(["source_file"]).to_pylist()


def same_result(a, b) -> None:
    """Two reads of one file: the same counts, rows and rejections."""
    assert (a.rows_in, a.loaded, a.rejected, a.table) == (b.rows_in, b.loaded, b.rejected, b.table)
    assert a.rows.to_pylist() == b.rows.to_pylist()
    assert a.rejections == b.rejections


# --------------------------------------------------------------------------------------------------
# reading the real fixtures


@pytest.mark.parametrize("kind", PARQUET)
def test_parquet_fixture_reads_like_its_csv_twin(kind: str) -> None:
    name, fmt = PARQUET[kind]
    result = ingest.read(kind, FIXTURES / name)
    assert (result.rows_in, result.loaded, result.rejected) == (12, 12, 0)
    assert result.rows.schema == ingest.read(kind, FIXTURES / CSV_TWIN[kind]).rows.schema
    assert content(result.rows) == content(ingest.read(kind, FIXTURES / CSV_TWIN[kind]).rows)
    assert result.rows["source_line"].to_pylist() == list(range(2, 14))  # data row k is line k + 1
    assert [c.table for c in result.companions] == ([fmt.coverage] if fmt.coverage else [])


def test_dyad_month_values() -> None:
    rows = {(r["source"], r["target"], r["month"]): r for r in
            ingest.read("icews-dyad-month", FIXTURES / "icews_dyad_month.parquet").rows.to_pylist()}
    # provenance checks: CHN->JPN Sep 2010 470 events; PRK->ROK Nov 2010 1,089, of which 1,007 event09
    sep = rows[("CHN", "JPN", "2010-09")]
    assert (sep["conflict_total"], sep["verbal_conflict"], sep["material_conflict"]) == (470, 249, 221)
    nov = rows[("PRK", "KOR", "2010-11")]  # ROK is read as KOR
    assert (nov["conflict_total"], nov["verbal_conflict"], nov["material_conflict"]) == (1089, 81, 1008)
    assert rows[("CHN", "JPN", "1991-04")]["conflict_total"] == 0
    assert {r["dataset"] for r in rows.values()} == {"icews_dyadmonth"}


def test_coverage_companions() -> None:
    months = ingest.read("icews-dyad-month", FIXTURES / "icews_dyad_month_five_states.csv").companions[0].rows
    assert months["month"].to_pylist() == ["1991-04", "2010-03", "2010-05", "2010-08", "2010-09", "2010-10",
                                           "2010-11", "2010-12"]
    assert months["source_line"].to_pylist()[:2] == [2, 9]  # the first line of each month
    days = ingest.read("gdelt-pairs", FIXTURES / "gdelt_pairs_daily.parquet").companions[0].rows
    assert days.num_rows == 10 and days["date"][0].as_py() == dt.date(2018, 1, 1)  # 2 pairs on 2 of the days


def test_gdelt_values() -> None:
    rows = ingest.read("gdelt-pairs", FIXTURES / "gdelt_pairs_daily.parquet").rows.to_pylist()
    invasion = next(r for r in rows if (r["a"], r["b"], r["date"]) == ("RUS", "UKR", dt.date(2022, 2, 24)))
    assert invasion["weight"] == -14073.19202452062  # the minimum of the whole file (provenance)


# --------------------------------------------------------------------------------------------------
# the Parquet path agrees with the row reader, rejection by rejection


def _mutated(table: pa.Table, changes: dict[int, dict[str, object]], tmp: Path, name: str,
             types: dict[str, pa.DataType] | None = None) -> Path:
    rows = table.to_pylist()
    for i, values in changes.items():
        rows[i] = rows[i] | values
    schema = pa.schema([pa.field(f.name, (types or {}).get(f.name, f.type)) for f in table.schema])  # nullable
    path = tmp / name
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


MUTATIONS = {
    "icews-dyad-month": {
        1: {"event03": -5}, 2: {"source": "XYZ"}, 3: {"month": 13}, 4: {"year": 3019}, 5: {"target": "JPN"},
        6: {"event20": None}, 7: {"source": " PRK"}, 8: {"event01": 2**31 - 1},
    },
    "icews-dyad-year": {1: {"verbCoop": -5}, 2: {"i_iso3c": "XYZ"}, 3: {"j_iso3c": "CHN"}, 4: {"year": None},
                        5: {"i_iso3c": "PLS"}, 6: {"matlConf": 2**31}},
    "gdelt-pairs": {1: {"a": "USA"}, 2: {"weight": float("nan")}, 3: {"date": None}, 4: {"b": "XYZ"},
                    5: {"weight": float("inf")}, 6: {"a": "KOR", "b": "KOR"}},
}
EXPECTED = {  # line: (field, reason) of the rejections above (row i is line i + 2)
    "icews-dyad-month": {3: ("event03", "-5 is a negative count"),
                         4: ("source", "unknown Correlates of War letter code 'XYZ' (expected e.g. ROK, GMY, UKG)"),
                         5: ("month", "month 13 is not 1-12"), 6: ("year", "year 3019 is outside 1979-2100"),
                         7: ("target", "'JPN' is the same state as the source; a dyad joins two states"),
                         8: ("event20", "empty; a number is required"),
                         10: ("event20", "the sum 2147483815 is out of range for a whole number")},
    "icews-dyad-year": {3: ("verbCoop", "-5 is a negative count"),
                        4: ("i_iso3c", "unknown country code 'XYZ' (expected an ISO 3166-1 alpha-3 code)"),
                        5: ("j_iso3c", "'CHN' is the same state as the source; a dyad joins two states"),
                        6: ("year", "empty; a number is required"),
                        8: ("matlConf", "'2147483648' is out of range for a whole number")},
    "gdelt-pairs": {3: ("b", "'USA' does not sort after a ('USA'); an undirected pair is written once, with a < b"),
                    4: ("weight", "empty; a number is required"), 5: ("date", "empty; a value is required"),
                    6: ("b", "unknown country code 'XYZ' (expected an ISO 3166-1 alpha-3 code)"),
                    7: ("weight", "'inf' is not a finite number"),
                    8: ("b", "'KOR' does not sort after a ('KOR'); an undirected pair is written once, with a < b")},
}


@pytest.mark.parametrize("kind", PARQUET)
def test_parquet_path_matches_the_row_reader(kind: str, tmp_path: Path) -> None:
    name, fmt = PARQUET[kind]
    table = pq.read_table(FIXTURES / name)
    path = _mutated(table, MUTATIONS[kind], tmp_path, name, types={"matlConf": pa.int64()})
    fast = ingest.read(kind, path)
    reference = read_file(path, fmt)  # every row through the row converter
    same_result(fast, reference)
    assert fast.rows_in == fast.loaded + fast.rejected == 12
    assert {r.line: (r.field, r.reason) for r in fast.rejections} == EXPECTED[kind]
    assert {r.file for r in fast.rejections} == {str(path)}


def test_duplicate_parquet_row(tmp_path: Path) -> None:
    table = pq.read_table(FIXTURES / "icews_dyad_year_netify.parquet")
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.concat_tables([table, table.slice(4, 1)]), path)
    result = ingest.read("icews-dyad-year", path)
    assert (result.rows_in, result.loaded) == (13, 12)
    assert [(r.line, r.field, r.reason) for r in result.rejections] == [(14, "(row)", "duplicate of line 6")]
    same_result(result, read_file(path, ICEWS_DYAD_YEAR))


def test_unusual_parquet_types_take_the_row_path(tmp_path: Path) -> None:
    """Counts stored as text are parsed row by row: a number is read, a word is a rejected row."""
    table = pq.read_table(FIXTURES / "icews_dyad_year_netify.parquet")
    path = _mutated(table.cast(table.schema.set(5, pa.field("verbCoop", pa.string()))), {1: {"verbCoop": "twelve"}},
                    tmp_path, "text.parquet")
    result = ingest.read("icews-dyad-year", path)
    assert (result.loaded, [(r.line, r.field, r.reason) for r in result.rejections]) == (
        11, [(3, "verbCoop", "'twelve' is not a number")])
    assert content(result.rows) == [r for i, r in enumerate(content(ingest.read(
        "icews-dyad-year", FIXTURES / "icews_dyad_year_netify.parquet").rows)) if i != 1]


# --------------------------------------------------------------------------------------------------
# bad Parquet files through the CLI: a file of the wrong kind is refused whole, the store unchanged


def _empty_parquet(kind: str) -> bytes:
    name, _ = PARQUET[kind]
    return _write(pq.read_table(FIXTURES / name).slice(0, 0))


def _write(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


REFUSED = {
    "missing_column": (lambda k: _write(pq.read_table(FIXTURES / PARQUET[k][0]).drop_columns(
        [PARQUET[k][1].required[-1]])), "missing column(s)"),
    "no_rows": (_empty_parquet, "no data rows; expected a Parquet file with the columns"),
    "truncated": (lambda k: (FIXTURES / PARQUET[k][0]).read_bytes()[:300], "not a readable Parquet file"),
    "csv_named_parquet": (lambda k: (FIXTURES / CSV_TWIN[k]).read_bytes(), "not a readable Parquet file"),
    "empty_file": (lambda k: b"", "the file is empty; expected a Parquet file"),
    "another_kind": (lambda k: (FIXTURES / PARQUET["gdelt-pairs" if k != "gdelt-pairs" else "icews-dyad-year"][0])
                     .read_bytes(), "missing column(s)"),
}


@pytest.mark.parametrize("bad", REFUSED)
@pytest.mark.parametrize("kind", PARQUET)
def test_bad_parquet_is_refused(kind: str, bad: str, ingested_base: BaseStore, ingested_store: Path,
                                tmp_path: Path) -> None:
    make, says = REFUSED[bad]
    path = tmp_path / PARQUET[kind][0]
    path.write_bytes(make(kind))
    run = cli("ingest", kind, path, "--store", ingested_store, "--format", "json")
    assert run.exit_code == 2, (run.stdout, run.stderr)
    assert "".join(f"{path}: refused: {says}".split()) in run.message
    assert "Nothingwasstored." in run.message
    ingested_base.assert_unchanged(ingested_store)
    with pytest.raises(FileRefused):
        ingest.read(kind, path)


@pytest.mark.parametrize("kind", PARQUET)
def test_parquet_ingest_is_idempotent_and_reports_rows(kind: str, empty_store: Path, tmp_path: Path) -> None:
    name, fmt = PARQUET[kind]
    path = _mutated(pq.read_table(FIXTURES / name), {1: MUTATIONS[kind][1]}, tmp_path, name)
    out = cli("ingest", kind, path, "--store", empty_store, "--format", "json").json()
    assert (out["rows_in"], out["loaded"], out["rejected"], added_to(out, fmt.table)) == (12, 11, 1, 11)
    [rej] = out["rejections"]
    assert (rej["file"], rej["line"]) == (str(path), 3) and rej["field"] in MUTATIONS[kind][1] | {"b": 0}
    again = cli("ingest", kind, path, "--store", empty_store, "--format", "json").json()
    assert again["added"] == 0 and again["rejected"] == 1
    assert query(empty_store, f'SELECT count(*) FROM "{fmt.table}"')[0][0] == 11
    # the CSV twin holds the same rows: nothing new (the rejected row of the Parquet file excepted)
    twin = cli("ingest", kind, FIXTURES / CSV_TWIN[kind], "--store", empty_store, "--format", "json").json()
    assert added_to(twin, fmt.table) == 1


def test_csv_of_another_kind_is_refused(ingested_base: BaseStore, ingested_store: Path) -> None:
    run = cli("ingest", "gdelt-pairs", FIXTURES / "icews_dyad_month_five_states.csv", "--store", ingested_store)
    assert run.exit_code == 2 and "missingcolumn(s)date,a,b,weight" in run.message
    ingested_base.assert_unchanged(ingested_store)


def test_every_aggregate_kind_is_registered() -> None:
    for kind, (_, fmt) in PARQUET.items():
        assert ingest.KINDS[kind] == [fmt] and isinstance(fmt, AggregateFormat)


# --------------------------------------------------------------------------------------------------
# the default dataset: real facts


def test_default_dataset_facts(default_store: Path) -> None:
    def one(sql: str) -> tuple:
        return query(default_store, sql)[0]

    # provenance checks of the Ward Lab extract: the Senkaku collision and the Yeonpyeong shelling
    assert one("SELECT conflict_total FROM icews_dyad_month WHERE source = 'CHN' AND target = 'JPN' "
               "AND month = '2010-09'") == (470,)
    assert one("SELECT conflict_total, material_conflict FROM icews_dyad_month WHERE source = 'PRK' "
               "AND target = 'KOR' AND month = '2010-11'") == (1089, 1008)
    assert one("SELECT count(*), min(month), max(month) FROM icews_dyad_month_coverage") == (276, "1991-01",
                                                                                            "2013-12")
    # the 13 states of the two theaters: 156 directed dyads, all of them present
    assert one("SELECT count(DISTINCT source || target) FROM icews_dyad_month") == (156,)
    assert one("SELECT count(*), count(DISTINCT source || target) FROM icews_dyad_year") == (2028, 156)
    assert one("SELECT verbal_conflict, material_conflict FROM icews_dyad_year WHERE source = 'CHN' "
               "AND target = 'JPN' AND year = 2010") == (460, 477)
    # GDELT: 2,149 covered days of 2,245 from 2018-01-01 to 2024-02-23 (96 missing); 78 pairs
    assert one("SELECT count(*), min(date), max(date) FROM gdelt_pairs_days") == (
        2149, dt.date(2018, 1, 1), dt.date(2024, 2, 23))
    assert one("SELECT count(DISTINCT a || b) FROM gdelt_pairs WHERE a < b") == (78,)


def test_dyad_month_series_fills_zeros_inside_coverage(default_store: Path) -> None:
    store = Store(default_store)
    s = agg.dyad_month_series(store, "CHN", "JPN").set_index("month")
    assert len(s) == 276 and s.index.min() == pd.Period("1991-01", "M")  # 1990 is not covered
    stored = {r[0] for r in query(default_store, "SELECT month FROM icews_dyad_month WHERE source = 'CHN' "
                                                 "AND target = 'JPN'")}
    absent = [m for m in s.index if str(m) not in stored]
    assert absent and (s.loc[absent].to_numpy() == 0).all()  # an absent dyad-month is 0 events
    assert s.loc[pd.Period("2010-07", "M"):pd.Period("2010-11", "M"), "conflict_total"].tolist() == [
        1, 8, 470, 237, 44]  # the provenance's check
    assert agg.dyad_month_series(store, "CHN", "MEX").empty  # a dyad never in the table: not observed


def test_an_undirected_dyad_sums_both_directions(default_store: Path) -> None:
    """``directed=False`` (a theater's ``directed = false``): the pair's events, as GDELT's pairs are. The third
    nuclear test's month: 24 events from North to South Korea, 87 from South to North."""
    store = Store(default_store)
    both = agg.dyad_month_series(store, "PRK", "KOR", directed=False).set_index("month")
    there = agg.dyad_month_series(store, "PRK", "KOR").set_index("month")
    back = agg.dyad_month_series(store, "KOR", "PRK").set_index("month")
    assert both.equals(there.add(back, fill_value=0).astype(int))
    assert (there.loc[pd.Period("2013-02", "M"), "conflict_total"], back.loc[pd.Period("2013-02", "M"),
            "conflict_total"], both.loc[pd.Period("2013-02", "M"), "conflict_total"]) == (24, 87, 111)
    assert both.equals(agg.dyad_month_series(store, "KOR", "PRK", directed=False).set_index("month"))
    year = agg.dyad_year_series(store, "PRK", "KOR", directed=False).set_index("year")
    assert year.loc[2010, "material_conflict"] == (agg.dyad_year_series(store, "PRK", "KOR").set_index("year").loc[
        2010, "material_conflict"] + agg.dyad_year_series(store, "KOR", "PRK").set_index("year").loc[
        2010, "material_conflict"])


def test_dyad_year_series(default_store: Path) -> None:
    s = agg.dyad_year_series(Store(default_store), "PRK", "KOR").set_index("year")
    assert s.loc[2010, "material_conflict"] == 1845
    assert s.loc[2010, "net_cooperation"] == 842 + 13 - 745 - 1845
    assert s.loc[2010, "cooperation_share"] + s.loc[2010, "conflict_share"] == pytest.approx(1)
    assert list(s.index) == list(range(2002, 2015))


def test_gdelt_pair_monthly(default_store: Path) -> None:
    store = Store(default_store)
    g = agg.gdelt_pair_monthly(store, "JPN", "CHN").set_index("month")  # undirected: order does not matter
    assert g.equals(agg.gdelt_pair_monthly(store, "CHN", "JPN").set_index("month"))
    may = g.loc[pd.Period("2023-05", "M")]
    assert (may["days"], may["calendar_days"], bool(may["few_days"])) == (15, 31, True)
    assert not g.loc[pd.Period("2018-01", "M"), "few_days"]
    # yearly sum CHN-JPN 2018 (provenance: 67,921 over 365 days)
    assert g.loc["2018-01":"2018-12", "weight_sum"].sum() == pytest.approx(67921, abs=1)
    assert len(g) == 74 and pd.Period("2017-12", "M") not in g.index


def _indicator(table: str, series: str, actor: str, target: str) -> Indicator:
    return Indicator("t", "JPN", "local", "CHN", table, series, actor, target)


def test_aggregate_observations_scales_and_as_of(default_store: Path) -> None:
    store = Store(default_store)
    last = pd.Period("2024-12", "M")
    month = agg.aggregate_observations(store, _indicator("icews_dyad_month", "conflict_total", "CHN", "JPN"), last)
    assert list(month.columns) == ["end", "months", "raw", "value", "scale"]
    sep = month[month["end"] == pd.Period("2010-09", "M")].iloc[0]
    assert (sep["months"], sep["raw"], sep["value"]) == (1, 470, pytest.approx(6.154858))  # log1p(470)
    # a month is known once it has ended: as of 2010-10-01 September is in, as of 2010-09-30 it is not
    known = agg.aggregate_observations(store, _indicator("icews_dyad_month", "conflict_total", "CHN", "JPN"), last,
                                       pd.Timestamp("2010-10-01"))
    assert known["end"].max() == pd.Period("2010-09", "M")
    assert agg.aggregate_observations(store, _indicator("icews_dyad_month", "conflict_total", "CHN", "JPN"), last,
                                      pd.Timestamp("2010-09-30"))["end"].max() == pd.Period("2010-08", "M")
    year = agg.aggregate_observations(store, _indicator("icews_dyad_year", "material_conflict", "PRK", "KOR"), last,
                                      pd.Timestamp("2011-01-01"))
    y2010 = year.iloc[-1]
    assert (y2010["end"], y2010["months"], y2010["raw"]) == (pd.Period("2010-12", "M"), 12, 1845)
    assert y2010["value"] == pytest.approx(5.0418, abs=1e-4)  # log1p(1845 / 12)
    assert agg.aggregate_observations(store, _indicator("icews_dyad_year", "material_conflict", "PRK", "KOR"), last,
                                      pd.Timestamp("2010-12-31"))["end"].max() == pd.Period("2009-12", "M")
    gd = agg.aggregate_observations(store, _indicator("gdelt_pairs", "weight_mean", "PRK", "KOR"), last)
    assert set(gd.columns) >= {"end", "months", "raw", "value", "scale", "days", "few_days"}
    assert (gd["value"] == gd["raw"]).all() and gd["end"].min() == pd.Period("2018-01", "M")
    with pytest.raises(ValueError, match="unknown icews_dyad_year series 'goldstein'"):
        agg.aggregate_observations(store, _indicator("icews_dyad_year", "goldstein", "PRK", "KOR"), last)


def test_series_observations_reads_the_aggregates(default_store: Path) -> None:
    from dualthreat.measure.series import observations
    from dualthreat.theater import load_theater

    obs = observations(Store(default_store), _indicator("icews_dyad_month", "material_conflict", "CHN", "JPN"),
                       load_theater(), pd.Period("2013-12", "M"))
    assert len(obs) == 276 and obs.loc[obs["end"] == pd.Period("2010-09", "M"), "raw"].item() == 221


def test_the_two_icews_aggregates_agree_where_they_overlap(default_store: Path) -> None:
    """docs/events.md: the dyad-month counts summed to years track netify's conflict quads, 2002-2013."""
    r = agg.overlap_correlations(Store(default_store), ("USA", "JPN", "KOR", "CHN", "PRK")).set_index(
        ["source", "target"])
    assert len(r) == 20 and (r["years"] == 12).all() and (r["first"] == 2002).all() and (r["last"] == 2013).all()
    assert r["r_conflict"].min() == pytest.approx(0.973, abs=5e-4)  # JPN->USA
    assert r["r_conflict"].median() == pytest.approx(0.999, abs=5e-4)
    assert r.loc[("CHN", "JPN"), "r_conflict"] > 0.9995 and r.loc[("PRK", "KOR"), "r_conflict"] > 0.9995
    assert r["r_material"].min() > 0.99
    assert r["netify_conflict"].sum() / r["dyad_month_conflict"].sum() == pytest.approx(90884 / 86377)
    assert (r["netify_conflict"].sum(), r["dyad_month_conflict"].sum()) == (90884, 86377)
