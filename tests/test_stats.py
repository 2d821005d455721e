"""The shared statistics against values worked out by hand (the arithmetic is in each comment)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dualthreat import stats
from dualthreat.stats import (CONTRADICTED, INCONCLUSIVE, MIN_N, NEGATIVE, POSITIVE, SUPPORTED, Claim,
                              bh_qvalues, claim_p_value, equivalence, non_inferiority, verdict)


def test_quantiles_come_from_the_level():
    assert stats.z_quantile(0.90) == pytest.approx(1.6448536269514722, abs=1e-12)
    assert stats.z_quantile(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert stats.t_quantile(0.90, 4) == pytest.approx(2.1318467863266495, abs=1e-12)
    with pytest.raises(ValueError, match="level"):
        stats.z_quantile(90)


def test_mean_interval_by_hand():
    # 1..5: mean 3, sd sqrt(2.5), se sqrt(2.5 / 5) = 0.707107, t(0.95, 4) = 2.131847 -> 3 -+ 1.5074433191
    e = stats.mean_interval([1, 2, 3, 4, 5, float("nan")])
    assert (e.estimate, e.n, e.df) == (3.0, 5, 4)
    assert e.lower == pytest.approx(1.4925566809, abs=1e-9)
    assert e.upper == pytest.approx(4.5074433191, abs=1e-9)
    one = stats.mean_interval([2.0])
    assert one.estimate == 2.0 and math.isnan(one.lower) and one.n == 1


def test_fisher_z_interval_and_its_edge_cases():
    # r = 0.5, n = 28: z = atanh(0.5) = 0.549306, se = 1/5, half = 1.644854 / 5 = 0.328971
    # -> tanh(0.220335) = 0.216838, tanh(0.878277) = 0.705555
    lo, hi = stats.fisher_z_interval(0.5, 28)
    assert lo == pytest.approx(0.21683773274503054, abs=1e-12)
    assert hi == pytest.approx(0.7055550296135783, abs=1e-12)
    assert all(math.isnan(v) for v in stats.fisher_z_interval(0.5, 3))  # n < 4: no interval
    assert stats.fisher_z_interval(1.0, 10) == (1.0, 1.0)  # |r| = 1: the limit
    assert stats.fisher_z_interval(-1.0, 10) == (-1.0, -1.0)
    assert all(math.isnan(v) for v in stats.fisher_z_interval(float("nan"), 10))


def test_correlation_p_value_is_on_the_z_scale():
    x = np.arange(10.0)
    y = np.array([0, 2, 1, 3, 5, 4, 6, 8, 7, 9.0])
    e = stats.correlation(x, y)
    r = np.corrcoef(x, y)[0, 1]
    assert e.estimate == pytest.approx(r)
    # two-sided p of rho = 0 on the z scale: 2 (1 - Phi(atanh(r) sqrt(7)))
    from scipy.stats import norm
    assert e.p_value(POSITIVE) == pytest.approx(2 * (1 - norm.cdf(math.atanh(r) * math.sqrt(7))))
    assert stats.correlation([1, 2], [2, 1]).n == 2 and math.isnan(stats.correlation([1, 2], [2, 1]).estimate)


def test_benjamini_hochberg_by_hand():
    # sorted 0.01, 0.03, 0.04, 0.20 (m = 4): m p / rank = 0.04, 0.06, 0.0533, 0.20; running minimum from the
    # top: 0.04, 0.0533, 0.0533, 0.20
    q = bh_qvalues([0.01, 0.04, 0.03, 0.20, float("nan")])
    assert q[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert math.isnan(q[4])
    assert bh_qvalues([0.9, 0.95]) == pytest.approx([0.95, 0.95])
    assert bh_qvalues([]).size == 0
    with pytest.raises(ValueError):
        bh_qvalues([1.5])


def test_tost_by_hand():
    # estimate 0.05, se 0.1, margin 0.3 (normal): p(theta <= -0.3) = 1 - Phi(3.5) = 0.000233,
    # p(theta >= 0.3) = Phi(-2.5) = 0.006210; TOST p = the larger
    p, p_lo, p_hi = stats.tost(0.05, 0.1, 0.3)
    assert p_lo == pytest.approx(0.0002326290790355401, abs=1e-12)
    assert p_hi == pytest.approx(0.006209665325776132, abs=1e-12)
    assert p == p_hi
    # and the claim p-value of |theta| < 0.3 is twice the TOST p (module notes)
    assert claim_p_value(0.05, 0.1, equivalence(0.3)) == pytest.approx(2 * p_hi)


def test_claim_p_value_agrees_with_the_interval():
    z = stats.z_quantile(0.90)
    # for theta > 0 it is the two-sided p of zero: estimate 1, se 1 -> 2 (1 - Phi(1)) = 0.317311
    assert claim_p_value(1.0, 1.0, POSITIVE) == pytest.approx(0.31731050786291415)
    assert claim_p_value(-1.0, 1.0, POSITIVE) == claim_p_value(-1.0, 1.0, NEGATIVE)
    # an estimate whose 90% interval just touches a bound of the region, from inside or from outside, has
    # p = 0.10 (the far bound, if any, well away)
    for claim, est, se in ((POSITIVE, z, 1.0), (POSITIVE, -z, 1.0), (equivalence(0.5), 0.5 - 0.1 * z, 0.1),
                           (equivalence(0.5), 0.5 + 0.1 * z, 0.1), (equivalence(0.5), -0.5 - 0.1 * z, 0.1),
                           (non_inferiority(0.3), -0.3 + z, 1.0), (non_inferiority(0.3), -0.3 - z, 1.0)):
        assert claim_p_value(est, se, claim) == pytest.approx(0.10), (claim, est)
    # a wide interval straddling both margins decides nothing: 2 (1 - Phi(0.5)) = 0.617075
    assert claim_p_value(0.0, 1.0, equivalence(0.5)) == pytest.approx(0.6170750774519738)
    assert math.isnan(claim_p_value(float("nan"), 1.0, POSITIVE))


@pytest.mark.parametrize(("lower", "upper", "n", "claim", "q", "expected"), [
    (0.1, 0.5, MIN_N, POSITIVE, None, SUPPORTED),
    (-0.5, -0.1, MIN_N, POSITIVE, None, CONTRADICTED),
    (-0.5, -0.1, MIN_N, NEGATIVE, None, SUPPORTED),
    (-0.5, -0.1, MIN_N, -1, None, SUPPORTED),
    (-0.1, 0.5, MIN_N, POSITIVE, None, INCONCLUSIVE),
    (0.1, 0.5, MIN_N - 1, POSITIVE, None, INCONCLUSIVE),  # N too small
    (None, None, 100, POSITIVE, None, INCONCLUSIVE),
    (0.1, 0.5, MIN_N, POSITIVE, 0.10, SUPPORTED),
    (0.1, 0.5, MIN_N, POSITIVE, 0.11, INCONCLUSIVE),  # q too large
    (0.1, 0.5, MIN_N, POSITIVE, float("nan"), INCONCLUSIVE),
    (-0.2, 0.2, MIN_N, equivalence(0.3), None, SUPPORTED),  # no effect shown
    (-0.2, 0.4, MIN_N, equivalence(0.3), None, INCONCLUSIVE),  # a wide interval is not "no effect"
    (0.35, 0.9, MIN_N, equivalence(0.3), None, CONTRADICTED),  # an effect beyond the margin
    (-0.2, 3.0, MIN_N, non_inferiority(0.3), None, SUPPORTED),
    (-0.9, -0.4, MIN_N, non_inferiority(0.3), None, CONTRADICTED),
    (1.0, 1.0, MIN_N, POSITIVE, None, SUPPORTED),  # a descriptive record
    (0.0, 0.0, MIN_N, POSITIVE, None, CONTRADICTED),
    (1.0, 1.0, 4, POSITIVE, None, INCONCLUSIVE),  # four coded records
])
def test_the_verdict_rule(lower, upper, n, claim, q, expected):
    assert verdict(lower, upper, n, claim, q) == expected


def test_claims_are_checked():
    with pytest.raises(ValueError):
        Claim(1.0, 0.0)
    with pytest.raises(ValueError):
        equivalence(0.0)
    with pytest.raises(ValueError):
        stats.sign_claim(0)
    assert equivalence(0.3).text() == "|θ| < 0.3"
    assert POSITIVE.text() == "θ > 0"


def test_welch_and_proportions_by_hand():
    # a = 1..4 (var 5/3, /4 = 0.41667), b = 2, 4, 6 (var 4, /3 = 1.33333): se = sqrt(1.75),
    # df = 1.75^2 / (0.41667^2 / 3 + 1.33333^2 / 2) = 3.2347
    e = stats.welch_interval([1, 2, 3, 4], [2, 4, 6])
    assert e.estimate == pytest.approx(-1.5)
    assert e.se == pytest.approx(math.sqrt(1.75))
    assert e.df == pytest.approx(3.234718826405868)
    assert math.isnan(stats.welch_interval([1, 2], [3]).lower)
    # Wilson, p = 0.5, n = 10, z = 1.644854: centre 0.5, half 0.230728 -> 0.269272, 0.730728
    lo, hi = stats.wilson(0.5, 10)
    assert (lo, hi) == pytest.approx((0.2692718211382672, 0.7307281788617328))
    # Newcombe: equal shares give a symmetric interval around 0 from the two Wilson half-widths
    d = stats.newcombe_difference(5, 10, 5, 10)
    assert d.estimate == 0 and d.lower == pytest.approx(-math.sqrt(2) * (0.5 - lo)) and d.upper == -d.lower
    assert math.isnan(stats.newcombe_difference(0, 0, 1, 2).estimate)


def test_pooled_correlation_weights_n_minus_3():
    # two series r = 0.5 (n = 13) and r = 0 (n = 23): z = (10 atanh 0.5 + 20 x 0) / 30 = 0.183102
    e = stats.pooled_correlation([0.5, 0.0, 0.9], [13, 23, 3])
    assert e.estimate == pytest.approx(math.tanh(10 * math.atanh(0.5) / 30))
    assert e.se == pytest.approx(1 / math.sqrt(30))
    assert e.n == 39


def test_one_blas_thread_limits_the_pool_and_restores_it():
    from threadpoolctl import threadpool_info

    from dualthreat.stats import one_blas_thread

    def blas() -> set[int]:
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    before = blas()
    with one_blas_thread():
        assert blas() == {1}
        with one_blas_thread():  # nested: still one, and the outer block's limit survives the inner one's end
            assert blas() == {1}
        assert blas() == {1}
    assert blas() == before

