"""The triangle, Japan-ROK cooperation, Cha's test, elite salience, public perception, the gap and identity
friction, on the default dataset; and the ``triangle``, ``japan-rok``, ``domestic`` and ``identity`` commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from dualthreat.cli import app
from dualthreat.store.defaults import build
from dualthreat.measure.unga import vote_agreement
from dualthreat.model.domestic import PROTEST_PROXY, DomesticModel, protest_against_patron
from dualthreat.model.identity import CODED_EVENTS_NEEDED, identity_episodes, identity_friction
from dualthreat.model.triangle import EVENTS_NEEDED, TriangleModel
from dualthreat.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    st = Store(tmp_path_factory.mktemp("triangle") / "store.duckdb")
    build(st)
    return st


@pytest.fixture(scope="module")
def tri(store) -> TriangleModel:
    return TriangleModel().fit(store)


@pytest.fixture(scope="module")
def dom(store) -> DomesticModel:
    return DomesticModel().fit(store)


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


# ------------------------------------------------------------------------------------------------- the triangle


def test_ties_are_vote_kappa_per_year_then_calibrated_ideal_points(tri, store):
    ties = tri.ties_
    assert tri.source_ == "votes+ideal_points"  # the default dataset has no event data
    assert set(ties[ties.year <= 2019].source) == {"un_votes"}
    assert set(ties[ties.year >= 2020].source) == {"ideal_points"}
    assert sorted(ties[ties.year >= 2020].year.unique()) == [2020, 2021, 2022, 2023, 2024]
    # a UN-vote tie is exactly vote_agreement's kappa (all roll calls), reused, not recomputed
    k = vote_agreement(store, ("JPN",), ("KOR",))
    k = k[(k.year == 2015) & (k.subset == "all")].iloc[0]
    t = ties[(ties.period == "2015") & (ties.a == "JPN") & (ties.b == "KOR")].iloc[0]
    assert t.weight == pytest.approx(k.kappa) and t.n == k.n and t.lower == pytest.approx(k.kappa_lower)
    assert ((ties.p_positive >= 0) & (ties.p_positive <= 1)).all()
    # years with fewer than 20 common roll calls make no tie (2020 has one roll call)
    assert (ties[ties.source == "un_votes"].n >= 20).all()


def test_ideal_point_calibration_reproduces_the_kappa_signs(tri):
    c = tri.calibration_
    assert c.slope < 0  # farther apart, less agreement
    assert c.n > 300
    assert c.sign_agreement > 0.9 and c.sign_agreement_clear > 0.95
    # the US agrees with its allies more than their distance alone says: US-ally zero points lie farther out
    assert c.threshold("USA-JPN") > c.threshold("JPN-CHN")


def test_balance_is_reported_for_every_year_with_three_states(tri):
    bal = tri.balance_.set_index("period")
    assert list(bal.index) == [str(y) for y in range(1971, 2025)]
    assert (bal.loc["1971":"1990", "states"] == "USA JPN CHN").all()  # the Koreas joined the UN in 1991
    assert (bal.loc["1991":, "states"] == "USA JPN KOR CHN PRK").all()
    # the whole-network shares agree with the triads they summarise
    for period, g in tri.triads_.groupby("period"):
        assert bal.loc[period, "share_balanced"] == pytest.approx(g.balanced.mean())
        w = g.weight / g.weight.sum()
        assert bal.loc[period, "weighted_share_balanced"] == pytest.approx((w * g.balanced).sum())
    assert bal.walk_balance.between(0, 1 + 1e-12).all()
    assert bal.frustration_balance_weighted.between(0, 1).all()


def test_what_the_network_shows(tri):
    # the US-Japan-ROK triangle is all positive and balanced in every year since 1994
    uj = tri.triad("USA-JPN-KOR").set_index("period")
    assert (uj.loc["1994":, "signs"] == "+++").all() and uj.loc["1994":, "balanced"].all()
    # the best split into two blocs is the US and its allies against China and North Korea in every year since
    # 1991, and from 2022 (ideal points) the network is perfectly balanced along that line
    bal = tri.balance_.set_index("period")
    camps = {frozenset(x) for x in zip(bal.loc["1991":, "camp_a"], bal.loc["1991":, "camp_b"])}
    assert camps == {frozenset({"CHN PRK", "USA JPN KOR"})}
    assert (bal.loc["2022":"2024", "share_balanced"] == 1.0).all()
    # the imbalance there is comes from the allies' ties with China (agreement above chance in some years)
    frustrated = " ".join(bal.loc["1991":, "frustrated_ties"])
    assert frustrated.count("KOR-CHN") > frustrated.count("USA-KOR")


def test_japan_rok_cooperation_from_the_coded_episodes(tri):
    c = tri.cooperation_.set_index("year")
    # 2012: C023 GSOMIA, C024 Dokdo, N049 ICJ proposal down; N048 trilateral exercise up
    assert c.loc[2012, "episodes_down"] == 3 and c.loc[2012, "episode_net"] == -2
    assert c.loc[2013, "episode_net"] == -1  # C029 Yasukuni
    assert [y for y in c.index if c.loc[y, "episodes_up"] and c.loc[y, "episodes_up"] > 0] == [
        1993, 1995, 1998, 1999, 2010, 2011, 2012, 2014, 2015]
    assert "C023" in c.loc[2012, "agreements"] and "C034" in c.loc[2014, "agreements"]
    # outside the years the episodes cover (1991-2016) counts are missing, not zero
    assert np.isnan(c.loc[2017, "episode_net"]) and np.isnan(c.loc[2019, "episode_net"])
    assert c.loc[1991:2016, "episode_net"].notna().all()
    assert c.loc[1991:2019, "vote_kappa"].notna().all()


def test_abandonment_proxies_are_documented_and_the_rapprochements_shared(tri):
    p = tri.proxies_
    # the three UN-vote proxies, and the US-to-ally event proxy from netify's dyad-years (2005-2014: 2002 + 3)
    assert set(p.proxy) == {"us_ally_divergence", "us_china_rapprochement", "us_dprk_rapprochement",
                            "us_cooperation_events"}
    assert sorted(p[p.proxy == "us_cooperation_events"].year.unique()) == list(range(2005, 2015))
    assert p.description.str.len().min() > 40
    for proxy in ("us_china_rapprochement", "us_dprk_rapprochement"):
        j = p[(p.ally == "JPN") & (p.proxy == proxy)].set_index("year").signal
        k = p[(p.ally == "KOR") & (p.proxy == proxy)].set_index("year").signal
        assert j.equals(k)
    div = p[(p.ally == "KOR") & (p.proxy == "us_ally_divergence")].set_index("year")
    assert (np.sign(div.signal) == -np.sign(div.change)).all()  # a fall in US-ROK kappa raises the fear
    # the rapprochement proxies exist before Seoul joined the UN (US-China kappa from 1971 + 3 trailing years);
    # US-ROK divergence only from 1994 (1991 + 3)
    assert tri.fear_.groupby("ally").year.min().to_dict() == {"JPN": 1960, "KOR": 1974}
    assert div.index.min() == 1994


def test_cha_test_reports_estimate_interval_n_and_an_honest_verdict(tri):
    cha = tri.cha_.set_index("outcome")
    ep = cha.loc["episode_net"]
    assert ep.n_years == 26 and ep.years == "1991-2016" and ep.years_with_signal == 12
    assert ep.verdict.startswith("inconclusive")
    vk = cha.loc["vote_kappa"]
    assert vk.n_years == 29 and vk.years == "1991-2019"
    for row in (ep, vk):
        assert row.joint_lower < row.joint_coef < row.joint_upper
        assert row.asymmetry_lower < row.asymmetry_coef < row.asymmetry_upper
        assert row.n_both + row.n_one + row.n_neither == row.n_years
    assert vk.verdict == "inconclusive"  # both intervals straddle zero
    # without coded events, Japan-ROK events come from netify's ICEWS dyad-years, and the test says so
    ev = cha.loc["events_net"]
    assert (ev.n_years, ev.years) == (13, "2002-2014") and "ICEWS dyad-year counts (netify)" in ev.description
    assert ev.joint_lower < ev.joint_coef < ev.joint_upper and ev.verdict == "inconclusive"
    assert tri.events_status_ == "icews_dyad_year"
    coop = tri.cooperation_.set_index("year")
    assert (coop.loc[2005, "events_coop"], coop.loc[2005, "events_conflict"]) == (5908, 1459)  # netify, both ways
    assert coop.loc[2001:2014, "events_n"].notna().sum() == 13 and coop.loc[2015:, "events_n"].isna().all()
    assert set(tri.proxies_.proxy) >= {"us_cooperation_events"}


# ------------------------------------------------------------------------------------------------ the home front


def test_salience_series_has_no_missing_year_that_the_speeches_cover(dom, store):
    covered = store.query("SELECT iso3, min(year) AS first, max(year) AS last, count(*) AS n FROM speeches "
                          "WHERE iso3 IN ('JPN', 'KOR') GROUP BY iso3").to_pandas().set_index("iso3")
    cov = dom.coverage().set_index("ally")
    for ally in ("JPN", "KOR"):
        assert cov.loc[ally, "missing"] == []
        assert (cov.loc[ally, "first"], cov.loc[ally, "last"]) == (covered.loc[ally, "first"],
                                                                   covered.loc[ally, "last"])
        e = dom.elite_[dom.elite_.ally == ally]
        years = sorted(e.year.unique())
        assert years == list(range(covered.loc[ally, "first"], covered.loc[ally, "last"] + 1))
        assert len(e) == 6 * len(years)  # every category every year
        assert (e.words > 500).all()
        assert ((e.lower <= e.rate + 1e-12) & (e.rate <= e.upper + 1e-12)).all()
    assert (cov.loc["JPN", "first"], cov.loc["KOR", "first"]) == (1957, 1991)


def test_what_the_speeches_show(dom):
    e = dom.elite_.pivot_table(index=["ally", "year"], columns="category", values="rate")
    kor, jpn = e.loc["KOR"], e.loc["JPN"]
    # Seoul's leaders speak of North Korea far more than of China, in nearly every year
    assert (kor.north_korea > kor.china).mean() > 0.9
    # North Korea's salience peaks in the 2016-2018 crisis for both allies (Abe's 2017 speech above all)
    assert kor.loc[2016:2018, "north_korea"].min() > kor.loc[1991:2015, "north_korea"].median() * 2
    assert jpn.north_korea.idxmax() == 2017
    # Japan's leaders rarely name China at the General Assembly, even as the public's view of China soured
    assert (jpn.loc[2012:2024, "china"] == 0).mean() > 0.7


def test_public_perception_series_and_composite(dom):
    p = dom.public_
    comp = p[p.series == "composite"]
    jc = comp[(comp.ally == "JPN") & (comp.target == "CHN")]
    assert len(jc) >= 18 and jc.year.min() <= 2005
    # series with fewer than three years are kept but flagged and left out of the composite
    prk = p[(p.ally == "KOR") & (p.target == "PRK")]
    assert len(prk) and not prk.usable.any()
    assert comp[(comp.ally == "KOR") & (comp.target == "PRK")].empty
    # Pew's flagged 2013 China item is not used
    pew = p[(p.series == "pew_unfavorable_chn") & (p.year == 2013)]
    assert pew.empty or (pew.source != "pew_favorability").all()
    # Pew aggregates carry a sampling interval
    pk = p[(p.series == "pew_unfavorable_chn") & (p.ally == "KOR") & (p.source == "pew_favorability")]
    assert ((pk.lower < pk.value) & (pk.value < pk.upper)).all()
    # South Koreans' unfavourable view of China rose after THAAD (2017) above every earlier Pew wave
    assert pk[pk.year >= 2017].value.min() > pk[pk.year < 2017].value.max()


def test_elite_public_gap_says_how_many_years_have_both(dom):
    s = dom.gap_summary_.set_index(["ally", "source"])
    for ally in ("JPN", "KOR"):
        g = dom.gap_[(dom.gap_.ally == ally) & (dom.gap_.source == "CHN")]
        assert s.loc[(ally, "CHN"), "years_both"] == len(g) >= 10
        assert s.loc[(ally, "CHN"), "status"] == "computed"
        assert g.gap.to_numpy() == pytest.approx((g.elite_z - g.public_z_common).to_numpy())
        assert g.gap.mean() == pytest.approx(0, abs=1e-9)  # both standardised over the same years
        assert ((g.gap_lower <= g.gap + 1e-9) & (g.gap <= g.gap_upper + 1e-9)).all()
        lo, r, hi = s.loc[(ally, "CHN"), ["correlation_lower", "correlation", "correlation_upper"]]
        assert -1 <= lo < r < hi <= 1
        # no poll of the public on North Korea has three years: no gap, and the summary says why
        assert s.loc[(ally, "PRK"), "years_both"] == 0
        assert s.loc[(ally, "PRK"), "status"].startswith("not computed")


def test_protest_without_coded_events_is_a_stated_proxy(dom, empty_store):
    pr = dom.protest_
    assert set(pr.ally) == {"JPN", "KOR"} and (pr.status == PROTEST_PROXY).all()
    assert (pr.dataset == "icews_dyad_year").all() and set(pr.year) == set(range(2002, 2015))
    kor = pr[pr.ally == "KOR"].set_index("year")
    assert kor.loc[2002, "events"] == 129  # netify KOR->USA material conflict in 2002 (the year of the protests)
    assert 0 < kor.loc[2002, "share"] < 1
    # with neither coded events nor the aggregates, a row saying so, never an invented zero
    none = protest_against_patron(Store(empty_store), ("JPN", "KOR"))
    assert none.events.isna().all() and (none.status == EVENTS_NEEDED).all()


def test_identity_friction_from_the_coded_episodes(store):
    f = identity_friction(store)
    ep = f[(f.measure == "identity_episodes") & (f.dyad == "JPN-KOR")].set_index("year")
    assert ep.loc[2012, "value"] == 2 and "C024" in ep.loc[2012, "source"] and "N049" in ep.loc[2012, "source"]
    assert ep.loc[2013, "value"] == 1 and "C029" in ep.loc[2013, "source"]
    assert ep.value.sum() == 10
    assert f[(f.measure == "identity_episodes") & (f.dyad == "JPN-CHN")].value.sum() == 0
    ev = f[f.measure == "events_disapprove_reject"]
    assert set(ev.dyad) == {"JPN-KOR", "JPN-CHN", "KOR-CHN"} and ev.value.isna().all()
    assert (ev.status == CODED_EVENTS_NEEDED).all()
    vc = f[(f.measure == "icews_verbal_conflict") & (f.dyad == "JPN-KOR")].set_index("year")
    assert list(vc.index) == list(range(2002, 2015)) and (vc.source == "icews_dyad_year").all()
    assert vc.loc[2005, "value"] == pytest.approx(1222 / 7367) and vc.loc[2005, "status"].startswith("1222 of 7367")
    gw = f[(f.measure == "gdelt_weight") & (f.dyad == "JPN-KOR")].set_index("year")
    assert list(gw.index) == list(range(2018, 2025)) and (gw.source == "gdelt_pairs").all()
    co = f[f.measure.str.contains("no affinity with South Korea")]
    assert len(co) >= 8
    e = identity_episodes(store).set_index("episode_id")
    assert e.loc["C024", "cooperation_down_within_window"] == 1  # the GSOMIA failure six weeks earlier
    assert "C023" in e.loc["C024", "cooperation_within_window"]


# ---------------------------------------------------------------------------------------------------- the CLI


def test_cli_triangle_json(store):
    code, out, _ = run("triangle", "--store", str(store.path), "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["source"] == "votes+ideal_points" and d["states"] == ["USA", "JPN", "KOR", "CHN", "PRK"]
    assert d["events"] == "icews_dyad_year"  # no coded events: the dyad-year aggregates stand in
    periods = {p["period"]: p for p in d["periods"]}
    assert periods["2022"]["share_balanced"] == 1.0 and periods["1995"]["triads"] == 10
    names = {t["triad"] for t in d["triads"]}
    assert {"USA-JPN-KOR", "JPN-KOR-CHN", "KOR-CHN-PRK"} <= names
    assert d["calibration"]["sign_agreement_clear"] > 0.95
    assert any("Estrada" in r for r in d["references"])


def test_cli_triangle_table_and_filters(store):
    code, out, err = run("triangle", "--store", str(store.path), "--from", "2015", "--to", "2016",
                         "--triad", "USA-JPN-KOR")
    assert code == 0
    assert "Structural balance" in out and "2015" in out and "2014" not in out
    assert "+++ B" in out
    assert "calibrated ideal-point" in " ".join(err.split())
    # without coded events, --source events is the yearly network of the ICEWS dyad-year counts
    code, out, err = run("triangle", "--store", str(store.path), "--source", "events", "--from", "2010", "--to",
                         "2010")
    assert code == 0 and "icews_dyad_year" in out and "2011" not in out


def test_cli_domestic_kor_json(store):
    code, out, _ = run("domestic", "--ally", "KOR", "--store", str(store.path), "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["allies"] == ["KOR"] and d["wordlist"] == "salience_v1"
    assert {r["ally"] for r in d["elite"]} == {"KOR"}
    assert d["coverage"][0]["missing"] == [] and d["coverage"][0]["first"] == 1991
    assert {r["source"] for r in d["gap_summary"]} == {"CHN", "PRK"}
    assert d["protest"][0]["status"] == PROTEST_PROXY
    code, _, err = run("domestic", "--ally", "XXX", "--store", str(store.path))
    assert code == 2 and "--ally" in err


def test_cli_japan_rok_and_identity(store):
    code, out, _ = run("japan-rok", "--store", str(store.path), "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert {r["outcome"] for r in d["cha_test"]} == {"episode_net", "vote_kappa", "events_net"}
    assert set(d["proxy_definitions"]) == {"us_ally_divergence", "us_china_rapprochement", "us_dprk_rapprochement"}
    code, out, _ = run("identity", "--store", str(store.path), "--dyad", "JPN-KOR", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert {r["episode_id"] for r in d["identity_episodes"]} == {"C024", "C029", "N005", "N012", "N021",
                                                                "N022", "N030", "N045", "N049", "N056"}  # N006: MULTI


def test_yearly_event_network_from_the_dyad_years(store):
    m = TriangleModel(source="events").fit(store)
    assert m.source_ == "events" and set(m.ties_.source) == {"icews_dyad_year"}
    assert sorted(m.ties_.period.unique()) == [str(y) for y in range(2002, 2015)]
    t = m.ties_.set_index(["period", "a", "b"])
    # 2010, the year of the Cheonan sinking and the Yeonpyeong shelling: the Korean tie turns negative
    assert t.loc[("2010", "KOR", "PRK"), "weight"] < 0 < t.loc[("2007", "KOR", "PRK"), "weight"]
    assert t.loc[("2010", "KOR", "PRK"), "n"] == 842 + 13 + 745 + 1845 + 1612 + 48 + 948 + 269  # both ways


# ------------------------------------------------------------------------------------ with event data loaded


@pytest.fixture(scope="module")
def event_store(store, tmp_path_factory) -> Store:
    """The default dataset plus the ICEWS fixture (500 real events of June 2018, 132 among the five states)."""
    import shutil
    from pathlib import Path

    from dualthreat import ingest

    path = tmp_path_factory.mktemp("events") / "store.duckdb"
    shutil.copyfile(store.path, path)
    st = Store(path)
    st.load([ingest.read("icews", Path(__file__).parent / "fixtures" / "icews" / "events.2018.sample.cut.tab")],
            kind="icews")
    return st


def test_with_event_data_the_network_is_monthly_from_the_event_index(event_store):
    m = TriangleModel().fit(event_store)
    assert m.source_ == "events" and m.events_status_ == "events"
    assert set(m.ties_.period) == {"2018-06"} and set(m.ties_.source) == {"events"}
    # a tie is the pair's net cooperation share, both directions: check one against the events table
    q = event_store.query(
        "SELECT count(DISTINCT event_id) FILTER (WHERE quad_class IN (1, 2)) AS coop, "
        "count(DISTINCT event_id) AS n FROM events WHERE (source = 'USA' AND target = 'CHN') "
        "OR (source = 'CHN' AND target = 'USA')").to_pylist()[0]
    t = m.ties_[(m.ties_.a == "USA") & (m.ties_.b == "CHN")].iloc[0]
    assert t.n == q["n"] and t.weight == pytest.approx((2 * q["coop"] - q["n"]) / q["n"])
    assert t.lower <= t.weight <= t.upper and 0 <= t.p_positive <= 1
    assert ((m.ties_.weight >= -1) & (m.ties_.weight <= 1)).all()
    assert len(m.balance_) == 1 and m.balance_.period.iloc[0] == "2018-06"
    # no Japan-ROK event in the fixture: the event outcome of Cha's test says so instead of running on nothing
    cha = m.cha_.set_index("outcome")
    assert cha.loc["events_net"].verdict == "not run: event data are loaded but hold no Japan-ROK event"
    # the yearly UN-vote network stays available
    assert TriangleModel(source="votes").fit(event_store).source_ == "votes"


def test_with_event_data_protest_and_identity_report_counts(event_store):
    pr = DomesticModel().fit(event_store, ("KOR",)).protest_
    assert list(pr.ally.unique()) == ["KOR"] and (pr.status == "events").all()
    row = pr[(pr.year == 2018) & (pr.dataset == "icews")].iloc[0]
    assert row.events == 0  # no protest (CAMEO 14) by South Koreans against the US in the fixture
    f = identity_friction(event_store)
    ev = f[(f.measure == "events_disapprove_reject") & (f.year == 2018)]
    assert set(ev.dyad) == {"JPN-KOR", "JPN-CHN", "KOR-CHN"}
    assert (ev.value == 0).all() and (ev.status == "no event between them").all()
