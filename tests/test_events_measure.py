"""The dyad-month and protest measures: checked by hand on real ICEWS and GDELT rows, zero-filled for every
ordered pair of the theater's states, normalised by the month totals, with deduplication and root-only
choices whose drops are counted; identical on DuckDB and PySpark; compiled to BigQuery SQL against GDELT's
public events table; and the same expression over raw GDELT columns gives the store's numbers."""

from __future__ import annotations

import csv
import importlib.util
import itertools
import shutil
from pathlib import Path

import duckdb
import ibis
import pytest

from dualthreat import CACHE_ENV
from dualthreat.ingest.events import GDELT2_COLUMNS, GDELT2_NAMES
from dualthreat.measure import events as m
from dualthreat.store import Store

from conftest import cli

FIX = Path(__file__).parent / "fixtures"
GDELT2 = FIX / "gdelt" / "gdelt2_events.cut.tsv"
TRANS = FIX / "gdelt" / "gdelt2_translingual.cut.tsv"
ICEWS = FIX / "icews" / "events.2018.sample.cut.tab"
STATES = ("USA", "JPN", "KOR", "CHN", "PRK")
NAMES = {"United States": "USA", "Japan": "JPN", "South Korea": "KOR", "China": "CHN", "North Korea": "PRK"}
PAIRS = [(a, b) for a, b in itertools.permutations(STATES, 2)]


def quad(code: str) -> int:
    root = int(code[:2])
    return 1 if root <= 5 else 2 if root <= 8 else 3 if root <= 13 else 4


def icews_events() -> list[dict]:
    """The ICEWS fixture's events between two different theater states, read without dualthreat."""
    with open(ICEWS, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [{"date": r["Event Date"], "month": r["Event Date"][:7], "source": NAMES[r["Source Country"]],
             "target": NAMES[r["Target Country"]], "code": r["CAMEO Code"], "g": float(r["Intensity"])}
            for r in rows if r["Source Country"] in NAMES and r["Target Country"] in NAMES
            and r["Source Country"] != r["Target Country"]]


def derived(line: str, **changes: str) -> str:
    fields = line.split("\t")
    for col, value in changes.items():
        fields[GDELT2_NAMES.index(col)] = value
    return "\t".join(fields)


USA_CHN = TRANS.read_text("utf-8").splitlines()[8]  # a real GDELT 2.0 row, USA -> CHN, CAMEO 014
# Built at test time from that real row (there is no protest between the theater's states in the samples):
# the same event exported again later with more mentions, and a South Korea -> Japan protest (CAMEO 141).
REEXPORT = derived(USA_CHN, NumMentions="30", DATEADDED="20150219000000")
PROTEST = derived(USA_CHN, GLOBALEVENTID="999000001", Actor1Code="KORCVL", Actor1CountryCode="KOR",
                  Actor2Code="JPNGOV", Actor2CountryCode="JPN", EventCode="141", EventBaseCode="141",
                  EventRootCode="14", QuadClass="4", GoldsteinScale="-6.5", NumMentions="4", IsRootEvent="0")


@pytest.fixture(scope="session")
def event_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the ICEWS and GDELT fixtures and a file with the re-export and the protest above."""
    from dualthreat.ingest.events import read_events

    folder = tmp_path_factory.mktemp("events")
    again = folder / "20150219000000.export.CSV"
    again.write_text(REEXPORT + "\n" + PROTEST + "\n", "utf-8")
    store = Store(folder / "events.duckdb")
    store.load(read_events("icews", [ICEWS], STATES), "icews")
    store.load(read_events("gdelt", [GDELT2, TRANS, again], STATES), "gdelt")
    return store.path


def rows_of(result: m.Result, dataset: str) -> dict[tuple, dict]:
    return {(r["month"], r["source"], r["target"]): r for r in result.rows if r["dataset"] == dataset}


def test_dyad_month_matches_a_hand_count_of_real_icews_rows(event_store: Path) -> None:
    res = m.run_measure("monthly", event_store, states=STATES)
    got = rows_of(res, "icews")
    assert set(got) == {("2018-06", a, b) for a, b in PAIRS}  # every ordered pair, zero-filled
    events = icews_events()
    for (month, a, b), row in got.items():
        mine = [e for e in events if (e["source"], e["target"]) == (a, b)]
        assert row["events"] == len(mine)
        for q in (1, 2, 3, 4):
            assert row[f"quad{q}"] == sum(quad(e["code"]) == q for e in mine)
        assert row["goldstein_sum"] == pytest.approx(sum(e["g"] for e in mine), abs=1e-9)
        assert row["goldstein_mean"] == (pytest.approx(sum(e["g"] for e in mine) / len(mine)) if mine else None)
        assert row["net_coop"] == row["quad1"] + row["quad2"] - row["quad3"] - row["quad4"]
        assert row["mentions"] == len(mine)  # ICEWS has no mention counts: weight 1
        assert row["month_events"] == 500  # every line of the file, theater or not
        assert row["events_share"] == pytest.approx(len(mine) / 500)
    assert sum(r["events"] for r in got.values()) == len(events) == 132
    assert got[("2018-06", "USA", "PRK")]["events"] > 0  # the Singapore summit run-up is in the data


def test_dedup_and_root_only_are_explicit_and_counted(event_store: Path) -> None:
    plain = m.run_measure("monthly", event_store, states=STATES, dedup="none")
    default = m.run_measure("monthly", event_store, states=STATES)
    daily = m.run_measure("monthly", event_store, states=STATES, dedup="daily")
    assert plain.dropped["theater_events"] == 132 + 4  # ICEWS + 2 GDELT rows + the re-export + the protest
    assert default.dropped["duplicate_event_id"] == 1 and default.dropped["counted"] == 135
    total = lambda r, ds: sum(x["events"] for x in r.rows if x["dataset"] == ds)  # noqa: E731
    assert total(plain, "gdelt2") == 4 and total(default, "gdelt2") == 3
    # of the two exports of one event, the later one (30 mentions) is counted
    usa_chn = [x for x in default.rows if (x["dataset"], x["source"], x["target"]) == ("gdelt2", "USA", "CHN")]
    other = int(TRANS.read_text("utf-8").splitlines()[9].split("\t")[GDELT2_NAMES.index("NumMentions")])
    assert sum(x["mentions"] for x in usa_chn) == 30 + other
    # one-a-day: one event per day, dyad and CAMEO code
    events = icews_events()
    uniq = {(e["date"], e["source"], e["target"], e["code"]) for e in events}
    assert total(daily, "icews") == len(uniq) < len(events)
    assert daily.dropped["one_a_day"] == len(events) - len(uniq) + 1  # + the two USA->CHN 014 of one day
    # root only: GDELT's IsRootEvent; ICEWS has no root flag and keeps everything
    root = m.run_measure("monthly", event_store, states=STATES, root_only=True)
    counted = [REEXPORT, TRANS.read_text("utf-8").splitlines()[9], PROTEST]
    n_root = sum(x.split("\t")[GDELT2_NAMES.index("IsRootEvent")] == "1" for x in counted)
    assert n_root == 2  # the two real rows are root events, the protest is not
    assert total(root, "gdelt2") == n_root and total(root, "icews") == 132
    assert {r["month_events"] for r in root.rows if r["dataset"] == "icews"} == {500}  # all ICEWS events
    assert root.dropped["not_root"] == 3 - n_root
    # the denominator follows the choice: root events of the month, from every line read
    feb = [r for r in root.rows if r["dataset"] == "gdelt2" and r["month"] == "2015-02"][0]
    raw = (GDELT2.read_text("utf-8") + TRANS.read_text("utf-8")).splitlines() + [REEXPORT, PROTEST]
    assert feb["month_events"] == sum(1 for x in raw if x.split("\t")[1].startswith("201502")
                                      and x.split("\t")[GDELT2_NAMES.index("IsRootEvent")] == "1")


@pytest.mark.parametrize("dedup", m.DEDUP)
@pytest.mark.parametrize("root_only", [False, True])
def test_drop_counts_are_the_rows_each_stage_keeps(event_store: Path, dedup: str, root_only: bool) -> None:
    """The last de-duplication is counted by its distinct keys, without its window: the same counts as the rows
    its window keeps (counted here by running every stage's window)."""
    con = ibis.duckdb.connect(str(event_store), read_only=True)
    try:
        events = con.table("events")
        cur = events.filter(events.source.isin(STATES), events.target.isin(STATES), events.source != events.target)
        left = [cur.count().execute()]
        if dedup != "none":
            cur = m._first(cur, ["dataset", "event_id"])
            left.append(cur.count().execute())
        if dedup == "daily":
            cur = m._first(cur, ["dataset", "date", "source", "target", "event_code"])
            left.append(cur.count().execute())
        if root_only:
            cur = cur.filter(cur.is_root.fill_null(True))
            left.append(cur.count().execute())
        assert left[-1] == m.prepare(events, STATES, root_only=root_only, dedup=dedup).count().execute()
        counts = m.drop_counts(events, STATES, root_only=root_only, dedup=dedup)
    finally:
        con.disconnect()
    res = m.run_measure("monthly", event_store, states=STATES, root_only=root_only, dedup=dedup)
    assert res.dropped == counts
    stages = ["theater_events"] + ["duplicate_event_id"] * (dedup != "none") + ["one_a_day"] * (dedup == "daily") \
        + ["not_root"] * root_only
    expected = dict.fromkeys(("duplicate_event_id", "one_a_day", "not_root"), 0)
    expected.update({name: before - after for name, before, after in zip(stages[1:], left, left[1:])})
    assert counts == {"theater_events": left[0], **expected, "counted": left[-1]}


def test_protests_are_cameo_root_14(event_store: Path) -> None:
    res = m.run_measure("protests", event_store, states=STATES)
    got = rows_of(res, "icews")
    events = icews_events()
    for (_, a, b), row in got.items():
        assert row["protests"] == sum(e["code"].startswith("14") for e in events if (e["source"], e["target"]) == (a, b))
    assert sum(r["protests"] for r in got.values()) == 0  # none between the theater's states in the sample
    # GDELT: only the KOR -> JPN protest; the real USA -> CHN rows are "014" (statements)
    g = {(r["source"], r["target"]): r for r in res.rows if r["dataset"] == "gdelt2" and r["month"] == "2015-02"}
    assert {k: v["protests"] for k, v in g.items() if v["protests"]} == {("KOR", "JPN"): 1}
    assert g[("KOR", "JPN")]["protests_m"] == 4
    assert g[("KOR", "JPN")]["protests_share"] == pytest.approx(1 / g[("KOR", "JPN")]["month_events"])
    assert len(got) == len(PAIRS)


def test_pandas_api_used_by_the_model(event_store: Path) -> None:
    df = m.dyad_month(Store(event_store), states=STATES)
    assert {"month", "source", "target", "net_coop", "goldstein_mean"} <= set(df.columns)
    pc = m.protest_counts(Store(event_store), actors=("JPN", "KOR"), target="USA")
    assert set(pc.columns) == {"ally", "target", "year", "events", "share", "dataset"}
    assert set(pc.ally) <= {"JPN", "KOR"} and (pc.target == "USA").all()


def test_the_same_expression_over_raw_gdelt_columns_gives_the_stores_numbers(tmp_path: Path) -> None:
    from dualthreat.ingest.events import read_events

    store = Store(tmp_path / "s.duckdb")
    store.load(read_events("gdelt", [GDELT2, TRANS], STATES), "gdelt")
    types = {"INTEGER": "BIGINT", "FLOAT": "DOUBLE", "STRING": "VARCHAR"}
    cols = "{" + ", ".join(f"'{c}': '{types[t]}'" for c, t in GDELT2_COLUMNS) + "}"
    src = duckdb.connect(str(tmp_path / "raw.duckdb"))
    src.execute(f"CREATE TABLE events AS SELECT * FROM read_csv(['{GDELT2}', '{TRANS}'], delim='\\t', "
                f"header=false, quote='', columns={cols})")
    src.close()
    con = ibis.duckdb.connect(str(tmp_path / "raw.duckdb"), read_only=True)
    raw = con.table("events")
    expr = m.dyad_month_expr(m.gdelt_events(raw, STATES), m.gdelt_totals(raw), STATES)
    from_raw = {(r["month"], r["source"], r["target"]): r for r in expr.to_pyarrow().to_pylist()}
    stored = m.run_measure("monthly", store.path, states=STATES)
    assert [r for r in from_raw.values()] == [r for r in stored.rows]  # every column, every row
    assert sum(r["events"] for r in from_raw.values()) == 2
    con.disconnect()


def test_compiles_to_bigquery_sql_against_gdelts_public_events_table() -> None:
    import sqlglot

    raw = m.gdelt_bigquery_table()
    assert raw.schema() == m.gdelt_schema() and len(raw.columns) == 61
    for fn in (m.dyad_month_expr, m.protests_expr):
        expr = fn(m.gdelt_events(raw, STATES), m.gdelt_totals(raw), STATES, root_only=True, dedup="daily")
        sql = ibis.to_sql(expr, dialect="bigquery")
        assert "`gdelt-bq`.`gdeltv2`.`events`" in sql
        for needle in ("ROW_NUMBER() OVER", "GROUP BY", "`SQLDATE`", "`Actor1CountryCode`", "`IsRootEvent`"):
            assert needle in sql
        parsed = sqlglot.parse_one(sql, read="bigquery")
        assert parsed.find(sqlglot.exp.Table) is not None
    run = cli("events", "sql", "monthly", "--table", "my-project.gdelt.events")
    assert run.exit_code == 0 and "`my-project`.`gdelt`.`events`" in run.stdout


def test_cli_monthly_prints_the_required_columns(event_store: Path, tmp_path: Path) -> None:
    run = cli("events", "monthly", "--store", event_store, "--format", "json", "--dataset", "icews",
              "--source", "USA", "--target", "PRK")
    assert run.exit_code == 0, run.stderr
    rows = run.json()
    assert len(rows) == 1
    for col in ("month", "source", "target", "events", "quad1", "quad2", "quad3", "quad4", "goldstein_sum",
                "goldstein_mean"):
        assert col in rows[0]
    assert rows[0]["month"] == "2018-06" and rows[0]["events"] == sum(
        1 for e in icews_events() if (e["source"], e["target"]) == ("USA", "PRK"))
    assert "dropped1repeatedeventids" in run.message
    table = cli("events", "monthly", "--store", event_store, "--from", "2018-06", "--to", "2018-06")
    assert table.exit_code == 0 and "Eventsbydyadandmonth" in table.message + "".join(table.stdout.split())
    empty = tmp_path / "empty.duckdb"
    Store(empty).connect().close()
    assert cli("events", "monthly", "--store", empty).exit_code == 1


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
                    reason="the spark engine needs pyspark (pip install -e '.[spark]') and Java")
def test_spark_gives_identical_results(event_store: Path) -> None:
    for measure, kw in (("monthly", {"dedup": "daily", "root_only": True}), ("protests", {})):
        duck = m.run_measure(measure, event_store, states=STATES, **kw)
        spark = m.run_measure(measure, event_store, states=STATES, engine="spark", **kw)
        assert spark.engine == "spark"
        assert spark.columns == duck.columns
        assert spark.rows == duck.rows  # exactly: counts are integers, Goldstein sums exact tenths
        assert spark.dropped == duck.dropped
    assert len(duck.rows) > 0 and any(r["protests"] for r in duck.rows)
    # and through the command line
    runs = [cli("events", "monthly", "--store", event_store, "--engine", engine, "--format", "json")
            for engine in ("duckdb", "spark")]
    assert all(r.exit_code == 0 for r in runs) and runs[0].json() == runs[1].json()
    assert "(engine: spark)" in runs[1].stderr


# --------------------------------------------------------------------------------------------------
# the DuckDB SQL compiled once (measure.events.compiled_measure)


def test_the_compiled_sql_is_ibis_own_and_cached_per_choice(event_store: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    entries = lambda: sorted((tmp_path / "cache" / "sql").glob("*.json"))  # noqa: E731
    choices = [("monthly", STATES, {}), ("monthly", STATES, {"dedup": "daily", "root_only": True}),
               ("protests", STATES, {}), ("monthly", ("JPN", "KOR"), {})]
    first = [m.run_measure(measure, event_store, states=states, **kw) for measure, states, kw in choices]
    assert len(entries()) == len(choices)  # one entry per set of arguments
    for (measure, states, kw), res in zip(choices, first):
        sql = m.compiled_measure(measure, states, **kw)
        fn = m.dyad_month_expr if measure == "monthly" else m.protests_expr
        expr = fn(m.store_table("events"), m.store_table("event_month_totals"), states, **kw)
        assert sql.table == ibis.to_sql(expr, dialect="duckdb")  # what Ibis compiles, not a hand copy
        assert sql.schema == expr.schema().to_pyarrow()
        # the same rows through Ibis' own DuckDB backend
        con = ibis.duckdb.connect(str(event_store), read_only=True)
        try:
            direct = fn(con.table("events"), con.table("event_month_totals"), states, **kw)
            assert direct.to_pyarrow().cast(sql.schema).to_pylist() == res.rows
        finally:
            con.disconnect()
        again = m.run_measure(measure, event_store, states=states, **kw)
        assert again.rows == res.rows and again.dropped == res.dropped
    assert len(entries()) == len(choices)
    assert first[1].dropped["one_a_day"] + first[1].dropped["not_root"] > 0  # the options reach the SQL


def test_a_damaged_or_unwritable_cache_is_compiled_again(event_store: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    good = m.run_measure("monthly", event_store, states=STATES)
    [entry] = (tmp_path / "cache" / "sql").glob("*.json")
    for damage in ("", "{", '{"table": "SELECT 1"}', '{"table": 1, "drops": 2, "stages": [], "schema": "eA=="}'):
        entry.write_text(damage, "utf-8")
        assert m.run_measure("monthly", event_store, states=STATES).rows == good.rows
        assert m.compiled_measure("monthly", STATES).table.startswith(("SELECT", "WITH"))
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", "utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocked))  # the cache folder cannot be made: compiled every time
    assert m.run_measure("monthly", event_store, states=STATES).rows == good.rows


def test_events_monthly_with_its_sql_compiled_imports_neither_ibis_nor_pandas(event_store: Path,
                                                                               tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, CACHE_ENV: str(tmp_path / "cache")}
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print(sorted({'ibis', 'pandas', 'sqlglot'} & set(sys.modules)),"
            " file=sys.stderr))\n"
            "from dualthreat.cli import app\n"
            f"sys.argv = ['dualthreat', 'events', 'monthly', '--store', {str(event_store)!r}, '--format', 'json']\n"
            "app()\n")
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert "'ibis'" in runs[0].stderr.splitlines()[-1]  # the first run compiles
    assert runs[1].stderr.splitlines()[-1] == "[]"  # the second runs the SQL it compiled
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout) == m.run_measure(
        "monthly", event_store, states=STATES).rows
