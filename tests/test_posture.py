"""UN alignment measures: Cohen's kappa, agreement intervals, ideal-point distances, posture table."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from dualthreat.measure.unga import VOTES, cohen_kappa, ideal_point_distance, vote_agreement, wilson
from dualthreat.model.posture import posture
from dualthreat.store import Store
from dualthreat.theater import load_theater


@pytest.fixture(scope="module")
def store(default_base) -> Store:
    """The session's default-dataset store (conftest.py), read only."""
    return Store(default_base.path)


def _table(a: list[str], b: list[str]) -> np.ndarray:
    t = np.zeros((3, 3))
    for x, y in zip(a, b):
        t[VOTES.index(x), VOTES.index(y)] += 1
    return t


def test_kappa_by_hand():
    # 10 roll calls: 6 yes/yes, 2 no/no, 1 yes/no, 1 abstain/yes.
    a = ["yes"] * 6 + ["no"] * 2 + ["yes", "abstain"]
    b = ["yes"] * 6 + ["no"] * 2 + ["no", "yes"]
    po, kappa, se, n = cohen_kappa(_table(a, b))
    # p_o = 8/10; margins a: yes .7, no .2, abstain .1; b: yes .7, no .3, abstain 0
    # p_e = .7*.7 + .2*.3 + .1*0 = .55; kappa = (.8 - .55) / .45 = 5/9
    assert n == 10
    assert po == pytest.approx(0.8)
    assert kappa == pytest.approx(5 / 9)
    assert se == pytest.approx(np.sqrt(0.8 * 0.2 / (10 * 0.45**2)))


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    a = list(rng.choice(VOTES, 200, p=[0.6, 0.25, 0.15]))
    b = [x if rng.random() < 0.6 else rng.choice(VOTES) for x in a]
    _, kappa, _, _ = cohen_kappa(_table(a, b))
    assert kappa == pytest.approx(cohen_kappa_score(a, b, labels=list(VOTES)))


def test_wilson_interval_contains_the_share_and_stays_in_0_1():
    lo, hi = wilson(0.95, 20)
    assert 0 <= lo < 0.95 < hi <= 1


def test_real_agreement_and_kappa_with_sklearn_on_one_year(store):
    votes = store.query("SELECT v.rcid, v.iso3, v.vote FROM un_votes v JOIN un_roll_calls r USING (rcid) "
                        "WHERE year(r.date) = 2015 AND v.iso3 IN ('KOR', 'CHN')").to_pandas()
    wide = votes.pivot(index="rcid", columns="iso3", values="vote").dropna()
    expected = cohen_kappa_score(wide["KOR"], wide["CHN"], labels=list(VOTES))
    got = vote_agreement(store, ("KOR",), ("CHN",))
    row = got[(got.year == 2015) & (got.subset == "all")].iloc[0]
    assert row.n == len(wide)
    assert row.kappa == pytest.approx(expected)
    assert row.agreement == pytest.approx((wide["KOR"] == wide["CHN"]).mean())
    assert row.agreement_lower < row.agreement < row.agreement_upper


def test_ideal_point_distance_has_an_interval_around_it(store):
    d = ideal_point_distance(store, ("JPN", "KOR"), ("USA", "CHN"))
    assert set(d.partner) == {"USA", "CHN"}
    assert (d.distance_lower <= d.distance + 1e-12).all() and (d.distance <= d.distance_upper + 1e-12).all()
    # what the data show: since both Koreas joined the UN (1991), Japan's and South Korea's ideal points lie
    # between China's and the US's every year, and (the US being an outlier in the Assembly) nearer China's
    wide = d[d.year >= 1991].pivot_table(index=["ally", "year"], columns="partner", values="distance")
    ip = store.query("SELECT iso3, year, ideal_point FROM ideal_points WHERE year >= 1991").to_pandas()
    ip = ip.pivot(index="year", columns="iso3", values="ideal_point")
    for ally in ("JPN", "KOR"):
        between = (ip[ally] > ip["CHN"]) & (ip[ally] < ip["USA"])
        assert between.dropna().all()
        assert (wide.loc[ally, "CHN"] < wide.loc[ally, "USA"]).mean() > 0.5


def test_posture_table_for_both_allies(store):
    p = posture(load_theater(), store)
    assert {"ideal_point_distance", "vote_agreement", "vote_kappa", "alignment_gap",
            "alliance_scope_regional", "alliance_scope_global"} <= set(p.measure)
    assert set(p.ally) == {"JPN", "KOR"}
    subsets = set(p[p.measure == "vote_kappa"].subset)
    assert {"all", "important"} <= subsets and any(s.startswith("issue:") for s in subsets)
    scope = p[p.measure == "alliance_scope_regional"].set_index(["ally", "year"])["value"]
    # the coded episodes: Japan's alliance regional since the 1997 guidelines; Korea's not regional
    assert scope.loc[("JPN", 1997)] == 1.0
    assert (scope.loc["KOR"] == 0.0).all()


def test_posture_without_coded_events_uses_the_aggregates_on_their_own_scales(store):
    import pandas as pd

    p = posture(load_theater(), store)
    icews = p[p.measure == "icews_net_cooperation"].set_index(["ally", "partner", "year"])
    assert set(icews.source) == {"icews_dyad_year"} and icews.index.get_level_values("year").max() == 2014
    # KOR->USA 2010 from netify: (verbal + material cooperation - conflict) / all four, n = all four
    row = icews.loc[("KOR", "USA", 2010)]
    q = store.query("SELECT verbal_coop + material_coop AS c, verbal_conflict + material_conflict AS f "
                    "FROM icews_dyad_year WHERE source = 'KOR' AND target = 'USA' AND year = 2010").to_pylist()[0]
    assert row.n == q["c"] + q["f"] and row.value == pytest.approx((q["c"] - q["f"]) / (q["c"] + q["f"]))
    gdelt = p[p.measure == "gdelt_weight"]
    assert set(gdelt.source) == {"gdelt_pairs"} and gdelt.year.min() == 2018
    # each source has its own alignment gap; none spans 2015-2017
    gaps = p[(p.measure == "alignment_gap") & p.subset.isin(["icews_dyad_year", "gdelt_pairs"])]
    assert set(gaps.subset) == {"icews_dyad_year", "gdelt_pairs"}
    assert not gaps.year.between(2015, 2017).any()
    # a year is used once it has ended
    cut = posture(load_theater(), store, as_of=pd.Timestamp("2011-01-01"))
    assert cut[cut.measure == "icews_net_cooperation"].year.max() == 2010


def test_a_fit_as_of_a_date_measures_posture_from_what_was_public_then(store):
    """The framework's posture, like its threats, is read from the as-of snapshot: in a fit as of 2012 there
    are no ICEWS aggregates (public from March 2015) and no ideal points (the release stored is of 2025), only
    what was public then (UN votes, coded scope decisions), for years that had ended; a fit on all the data
    has both, so the check can fail."""
    from dualthreat.model import DualThreatModel

    full = DualThreatModel(with_posture=True).fit(store).posture_
    cut = DualThreatModel(as_of="2012-01-01", with_posture=True).fit(store).posture_
    late = {"icews_dyad_year", "ideal_points", "gdelt_pairs"}
    assert late <= set(full.source) and full[full.source == "icews_dyad_year"].year.min() <= 2011
    assert not late & set(cut.source), sorted(set(cut.source))
    assert {"un_votes", "episodes"} <= set(cut.source) and cut.year.max() == 2011
    # what was public is measured the same way in both
    keys = ["ally", "measure", "partner", "subset", "year"]
    votes = full[(full.source == "un_votes") & (full.year < 2012)].merge(cut[cut.source == "un_votes"], on=keys)
    assert len(votes) == len(cut[cut.source == "un_votes"])
    assert np.allclose(votes.value_x.astype(float), votes.value_y.astype(float), equal_nan=True)
