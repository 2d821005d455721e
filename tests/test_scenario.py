"""Scenarios (issue 14): shocks propagate through the threat components, the mediator and the decision
probabilities; a counterfactual leaves everything before its start exactly as recorded; a run past the data
projects the components with their dynamics; bad scenario files are refused (exit 2, naming file, line,
field and value); every packaged scenario runs from the CLI and the API on the default store."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli

from dualthreat.model import DualThreatModel
from dualthreat.model.cache import fit_cached
from dualthreat.scenario import Scenario, ScenarioError, packaged, packaged_path
from dualthreat.scenario.decisions import BootstrapDecisions
from dualthreat.scenario.shocks import COUNT_SCALE, EVENTS, Scale, apply
from dualthreat.store import Store

THREAT_KEYS = ["ally", "level", "source", "month", "baseline_mean", "scenario_mean", "difference", "lower", "upper"]
DECISION_KEYS = ["ally", "domain", "direction", "baseline_p", "scenario_p", "difference", "lower", "upper"]
PACKAGED = sorted(packaged())
DRAWS = 400  # enough for the tests' claims; the CLI's default is 1000


@pytest.fixture(scope="module")
def store_path(tmp_path_factory, default_base) -> Path:
    return default_base.copy(tmp_path_factory.mktemp("scenario") / "store.duckdb")


@pytest.fixture(scope="module")
def model(store_path) -> DualThreatModel:
    return fit_cached(DualThreatModel(with_posture=False), Store(store_path))  # the CLI then finds it


def scenario(text: str, tmp_path: Path | None = None, name: str = "s.toml") -> Scenario:
    text = textwrap.dedent(text)
    if tmp_path is None:
        return Scenario.from_text(text, name)
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return Scenario.from_file(path)


def rows(df: pd.DataFrame, **where: str) -> pd.DataFrame:
    for k, v in where.items():
        df = df[df[k] == v]
    return df


# ----------------------------------------------------------------------------------------------------
# propagation


def test_a_north_korean_shock_raises_koreas_local_north_korea_component_in_its_month(model, store_path):
    """Three more provocations against the ROK in June 2016 raise T[KOR, local, PRK] in June 2016, not before;
    the rise then decays with the fitted transient (and what the filter reads as lasting stays in the level);
    Japan's components are left alone (the indicator is Korea's); Korea's mediator moves with it."""
    sc = scenario("""
        name = "provocations"
        start = "2016-02"
        horizon = 12
        [[shock]]
        indicator = "dprk_provocation_rok"
        month = "2016-06"
        add = 3
    """)
    r = sc.run(model, Store(store_path), draws=DRAWS)
    kor = rows(r.threats, ally="KOR", level="local", source="PRK").set_index("month")
    assert kor.loc["2016-06", "difference"] > 0.1
    assert kor.loc["2016-06", "lower"] > 0  # the whole 90% interval
    assert kor.loc["2016-06", "scenario_mean"] > kor.loc["2016-06", "baseline_mean"]
    assert (kor.loc[:"2016-05", "difference"] == 0).all()
    after = kor.loc["2016-07":, "difference"]
    assert (after > 0).all() and after.iloc[-1] < kor.loc["2016-06", "difference"]  # it fades, not to zero
    assert (rows(r.threats, ally="JPN").difference == 0).all()
    med = rows(r.threats, ally="KOR", level="mediator").set_index("month")
    assert med.loc["2016-06", "difference"] != 0 and (med.loc[:"2016-05", "difference"] == 0).all()
    # the altered figure: 3 more events in the month (a count column holds the count itself)
    a = r.altered
    assert list(a.month) == ["2016-06"] and a.raw_after.iloc[0] == pytest.approx(a.raw_before.iloc[0] + 3)
    assert a.figure.iloc[0] == "recorded"


def test_the_shock_decays_at_the_fitted_rate(model, store_path):
    """Past the shocked month no figure differs between the runs, so the filter's prediction step alone carries
    the difference: the level part stays, the transient part shrinks by phi a month."""
    r = scenario("""
        name = "provocations"
        start = "2016-02"
        horizon = 12
        [[shock]]
        indicator = "dprk_provocation_rok"
        month = "2016-06"
        add = 3
    """).run(model, Store(store_path), draws=DRAWS)
    fit = r.framework.components_[("KOR", "local", "PRK")]
    kor = rows(r.threats, ally="KOR", level="local", source="PRK").set_index("month")["difference"]
    assert 0 < fit.phi < 1
    # x = level + transient; with the same later figures the difference is not a pure phi^h decay (the later
    # updates weigh it), but it must fall from the shocked month and never change sign
    assert kor.loc["2016-06"] == kor.max() and (kor.loc["2016-06":] > 0).all()


def test_a_forward_nuclear_test_raises_both_local_north_korea_components_in_the_first_month(model, store_path):
    r = Scenario.from_file(packaged_path("nuclear_test")).run(model, Store(store_path), draws=DRAWS)
    start = r.scenario["start"]
    assert r.scenario["kind"] == "forecast" and start == str(model.months_[-1] + 1)
    for ally in ("JPN", "KOR"):
        t = rows(r.threats, ally=ally, level="local", source="PRK", month=start).iloc[0]
        assert t.lower > 0 and t.difference > 0
        other = rows(r.threats, ally=ally, level="local", source="CHN")
        assert (other.difference == 0).all() and (other.lower == 0).all()
    a = r.altered
    assert set(a.figure) == {"projected"} and np.allclose(a.raw_after, a.raw_before + 1)  # one more test
    assert (a.raw_before < 0.5).all()  # the expected count of tests in a month, at the baseline's state


def test_a_counterfactual_leaves_everything_before_start_exactly_as_recorded(model, store_path):
    sc = scenario("""
        name = "counterfactual"
        start = "2016-02"
        horizon = 12
        [[shock]]
        indicator = "dprk_nuclear_test_kor"
        month = "2016-09"
        add = 1
        [[shock]]
        indicator = "unga_agreement_chn_prk"
        from = "2016-02"
        add_sd = -3
    """)
    r = sc.run(model, Store(store_path), draws=DRAWS)
    assert r.scenario["kind"] == "counterfactual"
    # the framework is fitted as of the run: nothing published after its end (January 2017)
    assert r.framework.as_of == "2017-02-01"
    assert r.framework.months_[-1] == pd.Period("2017-02", freq="M")
    s = r.series.pivot_table(index=["ally", "level", "source", "month"], columns="run",
                             values=["mean", "lower", "upper"])
    before = s[s.index.get_level_values("month") < "2016-02"]
    assert len(before) >= 24 * 10
    for col in ("mean", "lower", "upper"):
        assert (before[(col, "baseline")] == before[(col, "scenario")]).all(), col  # exactly
    after = s[s.index.get_level_values("month") >= "2016-02"]
    assert (after[("mean", "baseline")] != after[("mean", "scenario")]).any()
    assert (r.altered.month >= "2016-02").all()
    # the baseline is the record: the as-of framework's own filtered estimates
    rec = r.framework.threats(start="2014-02", end="2017-01").dropna(subset=["mean"]).set_index(
        ["ally", "level", "source", "month"])
    base = r.series[(r.series.run == "baseline") & (r.series.level != "mediator")].set_index(
        ["ally", "level", "source", "month"])["mean"]
    np.testing.assert_allclose(base.loc[rec.index].to_numpy(), rec["mean"].to_numpy(), atol=1e-9)
    # the test of September 2016 shifts Korea's component from then on only; the 2016 UN record (complete in
    # December) moves China's backing, and so the mediator, from December only
    kor = rows(r.threats, ally="KOR", level="local", source="PRK").set_index("month")
    assert (kor.loc[:"2016-08", "difference"] == 0).all() and kor.loc["2016-09", "lower"] > 0
    backing = r.series[(r.series.level == "backing")].pivot_table(index="month", columns="run", values="mean")
    moved = backing.index[(backing.scenario - backing.baseline).abs() > 1e-12]
    assert list(moved) and moved[0] == "2016-12" and (backing.scenario < backing.baseline).loc["2016-12":].all()
    # the decision model learns from the episodes before start only
    assert "episodes before 2016-02" in r.scenario["decision_model"]


def test_a_run_past_the_data_projects_with_the_models_dynamics(model, store_path):
    """Baseline past the data: each component's filtered state carried forward by the model (the level
    stays, the transient decays by phi), its band widening; the draws are antithetic, so their mean is exact."""
    r = Scenario.from_file(packaged_path("senkaku_doubling")).run(model, Store(store_path), draws=4000)
    last = model.months_[-1]
    baseline = r.series[(r.series.run == "baseline") & ~r.series.level.isin(["mediator", "backing"])]
    for key, g in baseline.groupby(["ally", "level", "source"]):
        g = g.set_index("month")
        projected = model.components_[key].project(12).assign(month=lambda d: d.month.astype(str)).set_index(
            "month")
        future = g.loc[g.index > str(last)]
        assert len(future) == 12
        np.testing.assert_allclose(future["mean"], projected.loc[future.index, "mean"], atol=1e-9)
        width = (future["upper"] - future["lower"]).to_numpy()  # simulated: a few % of noise month to month
        if model.components_[key].q > 2e-3:
            assert width[-3:].mean() > width[:3].mean(), key
    # the doubling: only Japan's local China component moves, upward
    jpn = rows(r.threats, ally="JPN", level="local", source="CHN")
    assert jpn.difference.iloc[-1] > 0
    assert (rows(r.threats, ally="KOR").difference == 0).all()
    doubled = r.altered[r.altered.indicator == "senkaku_territorial_sea_ships"]
    assert len(doubled) and np.allclose(doubled.raw_after, 2 * doubled.raw_before)
    days = r.altered[r.altered.indicator == "senkaku_contiguous_zone_days"]
    assert len(days) and (days.raw_after <= 366).all() and days.clipped.all()  # never more than the days


def test_same_seed_same_result(model, store_path):
    sc = Scenario.from_file(packaged_path("nuclear_test"))
    a, b = sc.run(model, Store(store_path), draws=DRAWS), sc.run(model, Store(store_path), draws=DRAWS)
    pd.testing.assert_frame_equal(a.threats, b.threats)
    pd.testing.assert_frame_equal(a.decisions, b.decisions)


def test_decisions_come_from_the_frameworks_decision_model(model, store_path):
    """The adapter's vectorised probabilities are DecisionModel.predict_proba's, row for row; and a scenario
    that moves the allies' scores moves the decision probabilities."""
    episodes = Store(store_path).query("SELECT * FROM episodes").to_pandas()
    rng = np.random.default_rng(1)
    X = episodes[["date", "actor", "domain"]].copy()
    for ally in ("JPN", "KOR"):
        for f in ("local_CHN", "local_PRK", "systemic_CHN", "mediator"):
            X[f"{ally}_{f}"] = rng.normal(size=len(X))
            X[f"{ally}_{f}_sd"] = 0.0
    X.loc[3, "KOR_mediator"] = np.nan  # a row without a score: the base rate
    decider = BootstrapDecisions(replicates=3, seed=0).fit(X, episodes.direction)
    for r in range(3):
        scores = decider.scores(r, X)
        for actor, domain in decider.cells_:
            want = decider.models_[r].predict_proba(X.assign(actor=actor, domain=domain))
            np.testing.assert_allclose(decider.proba(r, actor, domain, scores), want, atol=1e-12)
    res = Scenario.from_file(packaged_path("china_backing_falls")).run(model, Store(store_path), draws=DRAWS)
    d = res.decisions
    assert np.allclose(d.groupby(["ally", "domain"])[["baseline_p", "scenario_p"]].sum(), 1.0)
    kor = d[(d.ally == "KOR") & (d.direction == "toward_us")]
    # H4's sign: China seen backing the North less, Seoul leans less toward Washington (never more)
    assert (kor.difference <= 1e-12).all() and (kor.upper <= 1e-12).all()
    assert "bootstrap fits on" in res.scenario["decision_model"]


# ----------------------------------------------------------------------------------------------------
# shocks on an indicator's own scale


def test_shocks_work_on_the_figure_as_reported():
    counts = Scale(COUNT_SCALE, mean=1.0, sd=0.5, unit="count")
    z = counts.to_value(120.0, 12)  # 120 in a year
    dec = pd.Period("2020-12", "M")
    assert counts.to_raw(apply("scale", 2, z, counts, dec, 12)[0], 12) == pytest.approx(240)
    assert counts.to_raw(apply("add", -200, z, counts, dec, 12)[0], 12) == pytest.approx(0)
    assert apply("add_sd", 1.5, z, counts, dec, 12)[0] == pytest.approx(z + 1.5)
    days = Scale(COUNT_SCALE, mean=2.0, sd=0.5, unit="days")
    z1, clipped = apply("scale", 2, days.to_value(300.0, 12), days, pd.Period("2024-12", "M"), 12)
    assert clipped and days.to_raw(z1, 12) == pytest.approx(366)  # 2024 has 366 days
    # a projected figure already beyond what is possible is never moved against the shock
    beyond = days.to_value(400.0, 12)
    assert apply("scale", 2, beyond, days, pd.Period("2026-12", "M"), 12) == (beyond, True)
    pct = Scale("as reported", mean=50.0, sd=10.0, unit="percent")
    assert pct.to_raw(apply("set", 130, 0.0, pct, dec, 12)[0], 12) == pytest.approx(100)
    # a count column holds the events themselves; add_sd works on log1p(events), the scale of the event lists
    events = Scale(EVENTS, mean=np.log(0.05), sd=1.0)
    assert apply("add", 1, 0.0, events, dec, 1) == (1.0, False)
    assert apply("add_sd", np.log(2), 1.0, events, dec, 1)[0] == pytest.approx(3.0)  # log1p(1) + log 2 = log 4
    assert apply("add", -5, 2.0, events, dec, 1) == (0.0, True)
    # the change of a ratio is used as reported: no bounds; the change of a log count has no raw units
    growth = Scale("as reported", mean=0.03, sd=0.05, differenced=True)
    assert growth.to_raw(apply("add", 0.2, 0.0, growth, dec, 12)[0], 12) == pytest.approx(0.23)
    with pytest.raises(ValueError, match="add_sd"):
        apply("scale", 2, 0.0, Scale(COUNT_SCALE, 1.0, 0.5, differenced=True), dec, 12)


# ----------------------------------------------------------------------------------------------------
# bad scenario files

GOOD = """\
name = "test"
start = "2016-02"
horizon = 12

[[shock]]
indicator = "dprk_nuclear_test_kor"
month = "2016-03"
add = 1
"""

BAD = [
    # (what is wrong, replace this, with this, field named, value named, line)
    ("unknown indicator", 'indicator = "dprk_nuclear_test_kor"', 'indicator = "dprk_nukes"', "shock[0].indicator",
     "'dprk_nukes'", 6),
    ("malformed amount", "add = 1", 'add_sd = "three"', "shock[0].add_sd", "'three'", 8),
    ("two operations", "add = 1", "add = 1\nscale = 2", "shock[0].scale", "add, scale", 9),
    ("no operation", "add = 1\n", "", "shock[0]", "none", 5),
    ("not a month", 'month = "2016-03"', 'month = "2016-13"', "shock[0].month", "'2016-13'", 7),
    ("negative offset", 'month = "2016-03"', "month = -1", "shock[0].month", "-1", 7),
    ("month and from", 'month = "2016-03"', 'month = "2016-03"\nfrom = "2016-04"', "shock[0].month", "from/to", 7),
    ("unknown key", "add = 1", "add = 1\nmagnitude = 3", "shock[0].magnitude", "unknown key", 9),
    ("negative scale", "add = 1", "scale = -2", "shock[0].scale", "-2", 8),
    ("horizon", "horizon = 12", "horizon = 0", "horizon", "0", 3),
    ("start", 'start = "2016-02"', 'start = "Feb 2016"', "start", "'Feb 2016'", 2),
    ("top-level key", 'name = "test"', 'name = "test"\nseed = 3', "seed", "unknown key", 2),
    ("no shock", GOOD[GOOD.index("[[shock]]"):], "", "shock", "missing", 1),
    ("offset with next", 'start = "2016-02"', 'start = "next"', "shock[0].month", "'2016-03'", 7),
]


@pytest.mark.parametrize("what,old,new,field,value,line", BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_files_are_refused_naming_file_line_field_and_value(tmp_path, what, old, new, field, value,
                                                                         line):
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1), "utf-8")
    with pytest.raises(ScenarioError) as exc:
        Scenario.from_file(path)
    message = str(exc.value)
    assert message.startswith(f"{path}:{line}: {field}"), message
    assert value in message, message
    r = cli("scenario", "run", path, "--store", tmp_path / "no-store-needed.duckdb")
    assert r.exit_code == 2, r.stderr
    assert f"{path}:{line}:{field}".replace(" ", "") in r.message and value.replace(" ", "") in r.message


RESOLVE_BAD = [
    # refused once placed on the data: (what, replace, with, field, value named, line)
    ("start before the data", 'start = "2016-02"', 'start = "1990-01"', "start", "'1990-01' is outside the data", 2),
    ("start after the data", 'start = "2016-02"', 'start = "2040-01"', "start", "'2040-01' is outside the data", 2),
    ("shock outside the run", 'month = "2016-03"', 'month = "2017-03"', "shock[0].month", "'2017-03'", 7),
    ("offset outside the run", 'month = "2016-03"', "month = 12", "shock[0].month", "12 (= 2017-02)", 7),
    ("to before from", 'month = "2016-03"', 'from = "2016-05"\nto = "2016-03"', "shock[0].to", "'2016-03'", 8),
    ("no data", 'indicator = "dprk_nuclear_test_kor"', 'indicator = "events_prk_kor_material_conflict"',
     "shock[0] (events_prk_kor_material_conflict)", "has no figure the model uses (table events", 5),
    ("no figure in the run", 'indicator = "dprk_nuclear_test_kor"', 'indicator = "icews_prk_kor_conflict"',
     "shock[0] (icews_prk_kor_conflict)", "no figure of this indicator covers 2016-03", 5),
]


@pytest.mark.parametrize("what,old,new,field,value,line", RESOLVE_BAD, ids=[b[0] for b in RESOLVE_BAD])
def test_scenarios_outside_the_data_or_the_run_are_refused(store_path, tmp_path, what, old, new, field, value, line):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1), "utf-8")
    Scenario.from_file(path)  # the file itself is well formed
    r = cli("scenario", "run", path, "--store", store_path, "--draws", "20")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert f"{path}:{line}:{field}".replace(" ", "") in r.message, r.stderr
    assert value.replace(" ", "") in r.message, r.stderr


def test_unreadable_or_invalid_toml_and_unknown_names_exit_2(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x\nstart = 2016-02', "utf-8")
    r = cli("scenario", "run", path)
    assert r.exit_code == 2 and f"{path}:notvalidTOML" in r.message
    r = cli("scenario", "run", "no_such_scenario")
    assert r.exit_code == 2 and "no_such_scenario:nosuchfile,andnopackagedscenario" in r.message


# ----------------------------------------------------------------------------------------------------
# packaged scenarios, from the CLI and the API


def test_scenario_list_shows_every_packaged_scenario_with_its_note():
    r = cli("scenario", "list", "--format", "json")
    assert r.exit_code == 0, r.stderr
    listed = {x["name"]: x for x in r.json()}
    assert sorted(listed) == PACKAGED
    assert {"nuclear_test", "senkaku_doubling", "china_backing_falls", "us_retrenchment",
            "china_punishes_2016"} <= set(listed)
    assert all(len(x["note"]) > 100 for x in listed.values())
    assert "no indicator of US commitment" in listed["us_retrenchment"]["note"]


@pytest.mark.parametrize("name", PACKAGED)
def test_every_packaged_scenario_runs_from_the_cli_and_the_api(name, model, store_path):
    r = cli("scenario", "run", name, "--store", store_path, "--format", "json", "--draws", str(DRAWS))
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert list(out) == ["scenario", "threats", "decisions"]
    assert all(list(t) == THREAT_KEYS for t in out["threats"])
    assert all(list(d) == DECISION_KEYS for d in out["decisions"])
    threats, decisions = pd.DataFrame(out["threats"]), pd.DataFrame(out["decisions"])
    assert set(threats.ally) == {"JPN", "KOR"} and {"JPN", "KOR"} <= set(decisions.ally)
    assert len(threats) == 2 * 5 * out["scenario"]["horizon"]  # 4 components + the mediator, per ally and month
    for df in (threats, decisions):
        assert (df.lower <= df.difference + 1e-12).all() and (df.difference <= df.upper + 1e-12).all()
    assert (threats.difference.abs() > 1e-6).any()  # it changes something
    p = decisions.groupby(["ally", "domain"])[["baseline_p", "scenario_p"]].sum()
    np.testing.assert_allclose(p.to_numpy(), 1.0, atol=1e-9)
    # the Python API returns the same tables
    api = Scenario.from_file(packaged_path(name)).run(model, Store(store_path), draws=DRAWS)
    np.testing.assert_allclose(api.threats[THREAT_KEYS[4:]].to_numpy(dtype=float),
                               threats[THREAT_KEYS[4:]].to_numpy(dtype=float), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(api.decisions[DECISION_KEYS[3:]].to_numpy(dtype=float),
                               decisions[DECISION_KEYS[3:]].to_numpy(dtype=float), rtol=1e-9, atol=1e-12)
    assert json.loads(json.dumps(api.as_dict()))["scenario"]["name"] == out["scenario"]["name"]


def test_table_and_csv_formats(store_path):
    r = cli("scenario", "run", "nuclear_test", "--store", store_path, "--draws", "40")
    assert r.exit_code == 0, r.stderr
    assert "JPN" in r.stdout and "KOR" in r.stdout and "difference [90%]" in r.stdout
    assert "z-scores on each indicator's first" in r.stdout  # the model's own scale label
    r = cli("scenario", "run", "nuclear_test", "--store", store_path, "--draws", "40", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {x["table"] for x in table} == {"threats", "decisions"}
    assert {"baseline", "scenario", "difference", "lower", "upper"} <= set(table[0])


def test_the_report_section_shows_every_packaged_scenario_with_bands(model, store_path):
    from dualthreat.report.build import scenario_section

    s = scenario_section(Store(store_path), model, draws=DRAWS)
    assert len(s.charts) == len(PACKAGED)  # each packaged scenario moves something, and gets its chart
    text = " ".join(s.paragraphs) + " ".join(c[1] for c in s.charts)
    assert model.scale_label_ in text and "1996-2015" not in text  # the label comes from the model
    for key in PACKAGED:
        assert f"; {key})" in text
    assert s.tables[0].rows and all("[" in r["difference [90%]"] for r in s.tables[0].rows)


# ----------------------------------------------------------------------------------------------------
# scenarios name their theater


def test_a_scenario_is_checked_against_the_theater_it_names(tmp_path):
    from dualthreat.theater import load_theater

    flank = load_theater("eastern_flank")
    assert sorted(packaged(flank)) == ["russia_backing_falls"]  # and the default theater's list has it not
    assert "russia_backing_falls" not in PACKAGED and len(PACKAGED) == 5
    assert Scenario.from_file(packaged_path("russia_backing_falls")).theater == "eastern_flank"
    assert Scenario.from_file(packaged_path("nuclear_test")).theater == "northeast_asia"
    with pytest.raises(ScenarioError, match=r"russia_backing_falls.toml:5: theater: the scenario is written for "
                                            r"the theater 'eastern_flank', not 'northeast_asia': run it with "
                                            r"--theater eastern_flank"):
        Scenario.from_file(packaged_path("russia_backing_falls"), load_theater())
    # a file that names no theater is checked against the one it runs in: Northeast Asia's indicators
    # are not the eastern flank's
    text = packaged_path("nuclear_test").read_text("utf-8").replace('theater = "northeast_asia"\n', "")
    assert Scenario.from_text(text, "n.toml").theater == "northeast_asia"
    with pytest.raises(ScenarioError, match="is not an indicator of the theater"):
        Scenario.from_text(text, "n.toml", flank)


def test_the_eastern_flank_scenario_runs_from_the_cli_without_decisions(store_path):
    r = cli("scenario", "list", "--theater", "eastern_flank", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert [x["name"] for x in r.json()] == ["russia_backing_falls"]
    r = cli("scenario", "run", "russia_backing_falls", "--store", store_path, "--format", "json", "--draws", "40",
            "--replicates", "2")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    threats = pd.DataFrame(out["threats"])
    assert set(threats.ally) == {"POL", "LTU"}
    moved = threats[threats.difference.abs() > 1e-9]
    assert set(moved.level) == {"mediator"}  # only the backing moves, and through it the mediator
    assert out["decisions"] == []  # no coded episodes of Poland or Lithuania: no decision model, said so
    assert out["scenario"]["decision_model"].startswith("none: the theater has no coded decision episodes")
    r = cli("scenario", "run", "russia_backing_falls", "--store", store_path, "--draws", "40", "--replicates", "2")
    assert r.exit_code == 0 and "No decision probabilities" in r.stdout


def test_the_decision_model_learns_from_the_evaluations_as_of_features_when_the_store_holds_them(
        model, store_path, tmp_path, monkeypatch):
    """With the out-of-time evaluation's features in the store (one fit as of each episode's date), a scenario's
    decision model learns from them, as the evaluation does; without them, or for a model with other settings,
    from the run's own filtered estimates, and the result says which. The stored rows here are written by the
    evaluation's own cache writer, one distinct value per date, so that the reader's alignment is checked."""
    from dualthreat.evaluate import episodes as E
    from dualthreat.scenario.run import _episodes, _stored_features

    path = Path(str(store_path)).with_name("features.duckdb")
    path.write_bytes(Path(store_path).read_bytes())
    store = Store(path)
    theater = model.theater_
    eps = _episodes(store, theater)
    assert _stored_features(store, model, eps) is None  # nothing stored yet
    first = Scenario.from_file(packaged_path("nuclear_test")).run(model, store, draws=DRAWS)
    assert "the run's filtered estimates" in first.scenario["decision_model"]
    names = E.feature_names(theater)
    fitted = {}
    for k, when in enumerate(sorted(set(pd.to_datetime(eps.date)))):
        values = {f: float(k + j) for j, f in enumerate(names)} | {f"{f}_sd": 0.1 for f in names}
        fitted[when] = [{"as_of": when, "ally": a, **values} for a in theater.allies]
    E._cache_features(store, theater, fitted)
    got = _stored_features(store, model, eps)
    assert got is not None and set(got.as_of) == set(pd.to_datetime(eps.date))
    one = got[(got.ally == theater.allies[0])].sort_values("as_of").reset_index(drop=True)
    early = one.as_of.dt.to_period("M") <= pd.Period(model.start, "M")  # before the framework: no features
    assert early.any() and one.loc[early, names[0]].isna().all()
    assert one.loc[~early, names[0]].tolist() == [float(k) for k in one.index[~early]]
    seen = []
    fit = BootstrapDecisions.fit
    monkeypatch.setattr(BootstrapDecisions, "fit", lambda self, X, y: seen.append(X.copy()) or fit(self, X, y))
    run = Scenario.from_file(packaged_path("nuclear_test")).run(model, store, draws=DRAWS)
    assert "as of each episode's date" in run.scenario["decision_model"]
    X = seen[-1]  # what the decision model was fitted on: the stored value of each episode's date
    want = one.set_index("as_of")[names[0]].reindex(pd.to_datetime(X.date)).to_numpy()
    np.testing.assert_array_equal(X[f"{theater.allies[0]}_{names[0]}"].to_numpy(), want)
    other = DualThreatModel(with_posture=False, reference=("1998-01", "2015-12"))
    assert _stored_features(store, other, eps) is None  # another specification: the evaluation's do not apply
