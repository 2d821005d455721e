"""Scoring rules and paired comparisons, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from dualthreat.evaluate import scoring


def test_brier_log_loss_and_accuracy_by_hand():
    classes = ["a", "b", "c"]
    p = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3]])
    s = scoring.scores(p, ["a", "c"], classes)
    # Brier: (0.3^2 + 0.2^2 + 0.1^2) = 0.14 and (0.2^2 + 0.5^2 + 0.7^2) = 0.78 -> mean 0.46
    assert s["brier"] == pytest.approx(0.46)
    assert s["log_loss"] == pytest.approx(-(np.log(0.7) + np.log(0.3)) / 2)
    assert s["accuracy"] == pytest.approx(0.5)
    # RPS over a, b, c in order: cumulative (0.7, 0.9, 1) vs (1, 1, 1) -> 0.09 + 0.01; (0.2, 0.7, 1) vs (0, 0, 1)
    assert s["rps"] == pytest.approx(((0.09 + 0.01) + (0.04 + 0.49)) / 2)


def test_rps_is_scored_within_each_axis():
    classes = ["toward_us", "toward_china", "hedge", "autonomy", "constrained", "japan_rok_up", "japan_rok_down"]
    # a Japan-ROK forecast: the alliance block is all zero and adds nothing
    p = np.array([[0, 0, 0, 0, 0, 0.8, 0.2]])
    o = scoring.onehot(["japan_rok_down"], classes)
    assert scoring.rps(p, o, classes)[0] == pytest.approx(0.8 ** 2)
    # on the alliance axis, mass next to the observed pole costs less than mass at the other pole
    near = np.array([[0.5, 0, 0, 0.5, 0, 0, 0]])
    far = np.array([[0.5, 0.5, 0, 0, 0, 0, 0]])
    o = scoring.onehot(["toward_us"], classes)
    assert scoring.rps(near, o, classes)[0] < scoring.rps(far, o, classes)[0]
    assert scoring.brier(near, o)[0] == pytest.approx(scoring.brier(far, o)[0])


def test_compare_separates_a_real_difference_and_not_noise():
    rng = np.random.default_rng(0)
    better = rng.uniform(0, 0.4, size=80)
    worse = better + 0.3 + rng.normal(0, 0.05, size=80)
    c = scoring.compare(better, worse)
    assert c["difference"] == pytest.approx(-0.3, abs=0.03)
    assert c["upper"] < 0 and c["p_value"] < 0.001
    same = scoring.compare(better, better + rng.normal(0, 0.1, size=80))
    assert same["lower"] < 0 < same["upper"] and same["p_value"] > 0.01


def test_diebold_mariano_matches_a_t_test_at_horizon_one():
    from scipy import stats

    d = np.array([0.1, -0.2, 0.3, 0.05, 0.2, -0.1, 0.15, 0.25])
    n = len(d)
    t = d.mean() / np.sqrt(d.var() / n) * np.sqrt((n - 1) / n)  # HLN factor at h = 1
    assert scoring.diebold_mariano(d) == pytest.approx(2 * stats.t.sf(abs(t), n - 1))
    assert t == pytest.approx(stats.ttest_1samp(d, 0).statistic)  # the same statistic as a one-sample t


def test_block_bootstrap_is_reproducible_and_covers_the_mean():
    d = np.linspace(-1, 1, 50) + 0.2
    a, b = scoring.block_bootstrap_interval(d), scoring.block_bootstrap_interval(d)
    assert a == b and a[0] < d.mean() < a[1]


def test_reliability_bins_count_every_possible_forecast():
    proba = np.array([[0.9, 0.1, 0.0], [0.3, 0.7, 0.0]])
    outcome = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    possible = np.array([[True, True, False], [True, True, False]])
    r = scoring.reliability(proba, outcome, possible)
    assert r["n"].sum() == 4
    top = r[r.bin_lower == 0.8].iloc[0]
    assert top.n == 1 and top.observed_frequency == 1.0 and top.lower < 1.0
