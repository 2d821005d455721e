"""The decision model: the base rate it starts from, the paper's signs, and what the threat band does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dualthreat.ingest.curated import DIRECTIONS
from dualthreat.model.decision import POSSIBLE, BaseRate, DecisionModel, framework_score


def _episodes(n: int, score: np.ndarray, direction: list[str], actor: str = "KOR",
              domain: str = "china_policy") -> tuple[pd.DataFrame, pd.Series]:
    X = pd.DataFrame({"date": pd.date_range("2005-01-01", periods=n, freq="MS"), "actor": actor,
                      "domain": domain, f"{actor}_mediator": score, f"{actor}_mediator_sd": 0.0,
                      f"{actor}_local_CHN": score, f"{actor}_local_CHN_sd": 0.0,
                      f"{actor}_local_PRK": score, f"{actor}_local_PRK_sd": 0.0})
    return X, pd.Series(direction)


def test_base_rate_pools_levels_and_respects_the_codebook():
    X = pd.DataFrame({"actor": ["KOR"] * 4 + ["JPN"] * 2, "domain": ["china_policy"] * 3 + ["alliance_scope"] * 3})
    y = ["hedge", "hedge", "toward_us", "toward_us", "toward_us", "toward_us"]
    br = BaseRate().fit(X, y)
    p = br.predict_proba(pd.DataFrame({"actor": ["KOR", "JPN"], "domain": ["china_policy", "japan_rok_cooperation"]}))
    assert p.sum(axis=1) == pytest.approx([1.0, 1.0])
    kor = dict(zip(DIRECTIONS, p[0]))
    assert kor["hedge"] > kor["toward_us"] > kor["toward_china"] > 0  # unseen but possible: smoothed mass
    assert kor["japan_rok_up"] == 0 and kor["japan_rok_down"] == 0  # impossible in the domain: none
    jpn = dict(zip(DIRECTIONS, p[1]))
    assert set(d for d, v in jpn.items() if v > 0) == set(POSSIBLE["japan_rok_cooperation"])


def test_an_impossible_coded_direction_is_refused():
    with pytest.raises(ValueError, match="not possible in domain"):
        BaseRate().fit(pd.DataFrame({"actor": ["JPN"], "domain": ["japan_rok_cooperation"]}), ["toward_us"])


def test_without_signal_the_model_is_the_base_rate():
    # every direction is seen as often with a high as with a low score: the score says nothing
    direction = ["hedge", "toward_us", "toward_china"] * 10
    score = np.repeat([1.0, -1.0], 3).tolist() * 5
    X, y = _episodes(30, np.array(score), direction)
    m = DecisionModel().fit(X, y)
    assert m.lambda_["KOR"] < 0.05
    assert np.abs(m.predict_proba(X) - m.base_rate_.predict_proba(X)).max() < 0.05


def test_a_score_that_predicts_in_the_papers_direction_is_learned_with_its_sign():
    score = np.tile([-1.5, 1.5], 15)
    X, y = _episodes(30, score, ["toward_china" if s < 0 else "toward_us" for s in score])
    m = DecisionModel().fit(X, y)
    assert m.lambda_["KOR"] > 0.5 and not m.at_zero_["KOR"]
    p = m.predict_proba(X.iloc[:2])
    us, cn = DIRECTIONS.index("toward_us"), DIRECTIONS.index("toward_china")
    assert p[1, us] > p[0, us] and p[0, cn] > p[1, cn]  # China backing the North (M > 0) -> toward Washington


def test_the_opposite_sign_is_not_learned():
    score = np.tile([-1.5, 1.5], 15)
    X, y = _episodes(30, score, ["toward_us" if s < 0 else "toward_china" for s in score])
    m = DecisionModel().fit(X, y)
    assert m.at_zero_["KOR"] and m.lambda_["KOR"] == pytest.approx(0.0, abs=1e-6)


def test_a_wide_threat_band_pulls_the_forecast_toward_the_base_rate():
    score = np.tile([-1.5, 1.5], 15)
    X, y = _episodes(30, score, ["toward_china" if s < 0 else "toward_us" for s in score])
    m = DecisionModel().fit(X, y)
    test = X.iloc[[1]].copy()
    sharp = m.predict_proba(test)[0]
    test["KOR_mediator_sd"] = 5.0
    wide = m.predict_proba(test)[0]
    base = m.base_rate_.predict_proba(test)[0]
    assert np.abs(wide - base).sum() < np.abs(sharp - base).sum()


def test_a_missing_score_falls_back_to_the_base_rate_never_to_zero():
    score = np.tile([-1.5, 1.5], 15)
    X, y = _episodes(30, score, ["toward_china" if s < 0 else "toward_us" for s in score])
    m = DecisionModel().fit(X, y)
    test = X.iloc[[1]].copy()
    test["KOR_mediator"] = np.nan
    assert not m.available(test)[0]
    assert m.predict_proba(test)[0] == pytest.approx(m.base_rate_.predict_proba(test)[0])


def test_japans_score_weighs_china_more_from_2010():
    X = pd.DataFrame({"date": pd.to_datetime(["2009-06-01", "2011-06-01"]),
                      "JPN_local_CHN": [1.0, 1.0], "JPN_local_CHN_sd": [0.0, 0.0],
                      "JPN_local_PRK": [0.0, 0.0], "JPN_local_PRK_sd": [0.0, 0.0]})
    mean, _ = framework_score(X, "JPN")
    assert mean == pytest.approx([2 / 3, 4 / 5])


def test_the_scores_follow_the_theaters_roles_not_country_names():
    """Swap the roles: Korea becomes the ally that follows its local great-power threat, Japan the mediator's;
    a theater without roles (the eastern flank) states no framework score, so the base rate forecasts."""
    import dataclasses

    from dualthreat.theater import load_theater

    th = load_theater()
    swapped = dataclasses.replace(th, roles={**th.roles, "great_power_ally": "KOR", "client_ally": "JPN"})
    X = pd.DataFrame({"date": pd.to_datetime(["2011-06-01"]),
                      "KOR_local_CHN": [1.0], "KOR_local_CHN_sd": [0.0], "KOR_local_PRK": [0.0],
                      "KOR_local_PRK_sd": [0.0], "JPN_mediator": [0.7], "JPN_mediator_sd": [0.1],
                      "KOR_mediator": [5.0], "KOR_mediator_sd": [0.0]})
    assert framework_score(X, "KOR", theater=swapped)[0] == pytest.approx([4 / 5])
    assert framework_score(X, "JPN", theater=swapped)[0] == pytest.approx([0.7])
    assert framework_score(X, "KOR", theater=th)[0] == pytest.approx([5.0])
    flank = load_theater("eastern_flank")
    assert not flank.roles.get("great_power_ally")
    assert np.isnan(framework_score(X, "KOR", theater=flank)[0]).all()


def _log_posterior(m: DecisionModel, X: pd.DataFrame, y: pd.Series, lam: dict[str, float]) -> float:
    """The model's log posterior at ``lam``, computed through its own prediction path (not the fit's)."""
    allies, c, mean, sd, ok = m._terms(X)
    pi = m.base_rate_.leave_one_out()[ok]
    p = m._proba(pi, m._side(X["domain"])[ok], c[ok], mean[ok], sd[ok], np.array([lam[a] for a in allies]))
    obs = np.array([DIRECTIONS.index(d) for d in y])[ok]
    return float(np.log(p[np.arange(len(obs)), obs]).sum() - sum(v ** 2 for v in lam.values()) / (2 * m.prior_sd ** 2))


def test_the_fit_finds_the_maximum_of_the_posterior_with_two_allies_and_wide_bands():
    rng = np.random.default_rng(7)
    n = 40
    kor = rng.normal(0, 1.5, n)
    jpn = rng.normal(0, 1.0, n)
    X = pd.DataFrame({"date": pd.date_range("2005-01-01", periods=n, freq="MS"),
                      "actor": ["KOR", "JPN", "JPN-KOR", "KOR"] * (n // 4), "domain": "china_policy",
                      "KOR_mediator": kor, "KOR_mediator_sd": rng.uniform(0.2, 2.0, n),
                      "JPN_local_CHN": jpn, "JPN_local_CHN_sd": rng.uniform(0.2, 1.0, n),
                      "JPN_local_PRK": -jpn, "JPN_local_PRK_sd": 0.5})
    X.loc[X.actor == "JPN-KOR", "domain"] = "japan_rok_cooperation"
    score = np.where(X.actor == "JPN", jpn, kor)
    noise = rng.normal(0, 1.0, n)
    y = pd.Series([("japan_rok_up" if s + e > 0 else "japan_rok_down") if a == "JPN-KOR"
                   else ("toward_us" if s + e > 0.7 else "toward_china" if s + e < -0.7 else "hedge")
                   for a, s, e in zip(X.actor, score, noise)])
    m = DecisionModel().fit(X, y)
    assert m.lambda_["KOR"] > 0.05 and m.lambda_["JPN"] > 0.05  # both off the bound: an interior maximum
    best = _log_posterior(m, X, y, m.lambda_)
    for ally in m.lambda_:
        for h in (-1e-3, 1e-3):
            moved = dict(m.lambda_, **{ally: m.lambda_[ally] + h})
            assert _log_posterior(m, X, y, moved) <= best + 1e-9
