"""The shared statistics: quantiles from a coverage level, intervals, p-values for a claim, the
Benjamini-Hochberg adjustment, and THE verdict rule. The lowest layer: numpy and scipy only.

**Intervals.** Every interval is a two-sided interval of coverage ``level`` (default 0.90): a normal or t
interval ``estimate +- quantile x se``; a correlation's interval is built on Fisher's z scale (Fisher 1921,
"On the probable error of a coefficient of correlation", *Metron* 1); a proportion's is Wilson's (1927) score
interval, and a difference of two proportions Newcombe's (1998, "Interval estimation for the difference
between independent proportions", *Statistics in Medicine* 17(8), method 10) hybrid score interval.

**Claims.** A hypothesis claims that a quantity lies in a region (:class:`Claim`): above zero, below zero,
within an equivalence margin (``|theta| < delta``, "no effect") or above minus a margin (non-inferiority,
"no fall"). :func:`claim_p_value` gives one p-value for the claim, whichever way the data point:

    p = min(1, 2 x min(p_in, p_out))

``p_in`` tests H0 "theta is outside the region" (for ``|theta| < delta`` it is the two one-sided tests of
Schuirmann 1987, *J. Pharmacokinetics and Biopharmaceutics* 15(6): the larger of the two one-sided p-values);
``p_out`` tests H0 "theta is inside the region". For a claim "theta > 0" this is the usual two-sided p-value of
theta = 0. The factor 2 makes ``p < 1 - level`` exactly when the ``level`` interval lies wholly inside the
region or wholly outside it, so the p-value and the interval never disagree.

**The verdict rule** (:func:`verdict`), one for every hypothesis: *supported* when the interval lies wholly
inside the claimed region, *contradicted* when it lies wholly outside it, otherwise *inconclusive*; and
always *inconclusive* when fewer than ``MIN_N`` observations stand behind the estimate, when the interval is
not finite, or when the Benjamini-Hochberg q-value exceeds ``Q_MAX``.
"""

from __future__ import annotations

from typing import Any

import contextlib
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

_BLAS = threading.local()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread (threadpoolctl). The framework's matrices are tiny (a few states, a
    few dozen coefficients): a pool of BLAS threads only spins against the other processes on the cores. Measured
    on 8 refits of the threat model on 2 busy cores: 27.0 s with one thread against 48.2 s with OpenBLAS's default
    pool (bench/sharing.py). Nested blocks cost nothing (threadpoolctl is entered once per thread). The limit is
    the process's, and OpenBLAS restores a larger pool only from the thread that set it: blocks that overlap in
    two threads (the dashboard's fit and a scenario) may leave the process on one BLAS thread, which changes its
    speed only, never a result."""
    if getattr(_BLAS, "inside", False):
        yield
        return
    from threadpoolctl import threadpool_limits

    _BLAS.inside = True
    try:
        with threadpool_limits(1, user_api="blas"):
            yield
    finally:
        _BLAS.inside = False


LEVEL = 0.90  # coverage of every interval unless told otherwise
MIN_N = 8  # fewer observations than this: never a decisive verdict
Q_MAX = 0.10  # a decisive verdict needs a Benjamini-Hochberg q-value at or below this

SUPPORTED, CONTRADICTED, INCONCLUSIVE, UNTESTABLE = "supported", "contradicted", "inconclusive", "untestable"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, UNTESTABLE)

_NAN = float("nan")


# ------------------------------------------------------------------------------------------------------
# quantiles


def z_quantile(level: float = LEVEL) -> float:
    """The normal quantile of a two-sided interval of coverage ``level`` (0.90 -> 1.6449)."""
    _check_level(level)
    return float(_st.norm.ppf(0.5 + level / 2))


def t_quantile(level: float, df: float) -> float:
    """Student's t quantile of a two-sided interval of coverage ``level`` with ``df`` degrees of freedom."""
    _check_level(level)
    return float(_st.t.ppf(0.5 + level / 2, df))


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (exclusive), not {level!r}")


def _quantile(level: float, df: float | None) -> float:
    return z_quantile(level) if df is None or not np.isfinite(df) else t_quantile(level, df)


def _cdf(x: float, df: float | None) -> float:
    return float(_st.norm.cdf(x) if df is None or not np.isfinite(df) else _st.t.cdf(x, df))


def interval(estimate: float, se: float, level: float = LEVEL, df: float | None = None) -> tuple[float, float]:
    """``estimate +- q x se``, q the normal (``df`` None) or t quantile; NaN when the inputs are not finite."""
    if not (np.isfinite(estimate) and np.isfinite(se)) or se < 0:
        return _NAN, _NAN
    half = _quantile(level, df) * se
    return float(estimate - half), float(estimate + half)


def se_from_interval(lower: float, upper: float, level: float = LEVEL, df: float | None = None) -> float:
    """The standard error behind a symmetric ``level`` interval (normal, or t with ``df``)."""
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return _NAN
    return float((upper - lower) / (2 * _quantile(level, df)))


# ------------------------------------------------------------------------------------------------------
# claims and their p-values


@dataclass(frozen=True)
class Claim:
    """The region ``low < theta < high`` a hypothesis claims for a quantity (``low``/``high`` may be
    infinite). ``kind`` names the test: ``sign``, ``equivalence`` or ``non-inferiority``."""

    low: float
    high: float
    kind: str = "sign"

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"a claim needs low < high, not ({self.low}, {self.high})")

    def text(self) -> str:
        if self.kind == "equivalence":
            return f"|θ| < {self.high:g}"
        if math.isinf(self.high):
            return f"θ > {self.low:g}"
        if math.isinf(self.low):
            return f"θ < {self.high:g}"
        return f"{self.low:g} < θ < {self.high:g}"

    def contains(self, x: float) -> bool:
        return self.low < x < self.high


POSITIVE = Claim(0.0, math.inf)
NEGATIVE = Claim(-math.inf, 0.0)


def sign_claim(sign: int) -> Claim:
    """theta > 0 (``sign`` = 1) or theta < 0 (``sign`` = -1)."""
    if sign not in (1, -1):
        raise ValueError(f"sign must be 1 or -1, not {sign!r}")
    return POSITIVE if sign > 0 else NEGATIVE


def equivalence(margin: float) -> Claim:
    """"No effect": ``|theta| < margin`` (tested by TOST, :func:`tost`)."""
    if not margin > 0:
        raise ValueError(f"an equivalence margin must be positive, not {margin!r}")
    return Claim(-margin, margin, "equivalence")


def non_inferiority(margin: float) -> Claim:
    """"No fall": ``theta > -margin`` (the lower half of TOST)."""
    if not margin > 0:
        raise ValueError(f"a non-inferiority margin must be positive, not {margin!r}")
    return Claim(-margin, math.inf, "non-inferiority")


def _one_sided(estimate: float, se: float, bound: float, above: bool, df: float | None) -> float:
    """p-value of H0 "theta <= bound" (``above``: the alternative is theta > bound) or of H0 "theta >= bound"."""
    if math.isinf(bound):
        # H0 "theta <= -inf" or "theta >= +inf" is impossible (p = 0); "theta <= +inf" is certain (p = 1)
        return 0.0 if (bound < 0) == above else 1.0
    if se == 0:
        return 0.0 if (estimate > bound) == above and estimate != bound else 1.0
    t = (estimate - bound) / se
    return 1 - _cdf(t, df) if above else _cdf(t, df)


def claim_p_value(estimate: float, se: float, claim: Claim, df: float | None = None) -> float:
    """One p-value for ``claim`` (module notes): ``min(1, 2 min(p_in, p_out))``; NaN if not computable."""
    if not (np.isfinite(estimate) and np.isfinite(se)) or se < 0:
        return _NAN
    p_in = max(_one_sided(estimate, se, claim.low, True, df), _one_sided(estimate, se, claim.high, False, df))
    p_out = min(_one_sided(estimate, se, claim.high, True, df), _one_sided(estimate, se, claim.low, False, df))
    return float(min(1.0, 2 * min(p_in, p_out)))


def tost(estimate: float, se: float, margin: float, df: float | None = None) -> tuple[float, float, float]:
    """Schuirmann's two one-sided tests of equivalence ``|theta| < margin``: ``(p, p_lower, p_upper)`` with
    ``p_lower`` for H0 theta <= -margin, ``p_upper`` for H0 theta >= margin and ``p = max`` of the two.
    Equivalence is shown at level alpha when p < alpha, i.e. when the 1 - 2 alpha interval lies within
    (-margin, margin)."""
    if not margin > 0:
        raise ValueError(f"an equivalence margin must be positive, not {margin!r}")
    if not (np.isfinite(estimate) and np.isfinite(se)) or se < 0:
        return _NAN, _NAN, _NAN
    lo = _one_sided(estimate, se, -margin, True, df)
    hi = _one_sided(estimate, se, margin, False, df)
    return float(max(lo, hi)), float(lo), float(hi)


# ------------------------------------------------------------------------------------------------------
# estimates with intervals


@dataclass(frozen=True)
class Estimate:
    """An estimate, its ``level`` interval, its standard error (on the scale the test is run: Fisher's z for
    a correlation), degrees of freedom (None: normal) and N."""

    estimate: float
    lower: float
    upper: float
    se: float
    n: int
    df: float | None = None
    scale: str = "identity"  # "identity" or "fisher_z"

    def p_value(self, claim: Claim) -> float:
        """:func:`claim_p_value` on the test's scale (bounds mapped through arctanh for a correlation)."""
        if self.scale == "fisher_z":
            if not np.isfinite(self.estimate):
                return _NAN
            if abs(self.estimate) >= 1:  # a perfect correlation: the interval (r, r) decides either way
                return 0.0
            fz = Claim(_atanh(claim.low), _atanh(claim.high), claim.kind)
            return claim_p_value(float(np.arctanh(self.estimate)), self.se, fz, self.df)
        return claim_p_value(self.estimate, self.se, claim, self.df)


def _atanh(x: float) -> float:
    """Fisher's z of a bound of a claim on a correlation (a bound at or beyond +-1 is +-infinity)."""
    return math.copysign(math.inf, x) if abs(x) >= 1 else math.atanh(x)


def normal_estimate(estimate: float, se: float, n: int, level: float = LEVEL, df: float | None = None) -> Estimate:
    lo, hi = interval(estimate, se, level, df)
    return Estimate(float(estimate), lo, hi, float(se), int(n), df)


def mean_interval(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> Estimate:
    """Mean with its t interval (df = n - 1); NaN values are dropped; the interval is NaN below two values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return Estimate(float(x.mean()) if n else _NAN, _NAN, _NAN, _NAN, n)
    se = float(x.std(ddof=1) / math.sqrt(n))
    return normal_estimate(float(x.mean()), se, n, level, df=n - 1)


def welch_interval(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                   level: float = LEVEL) -> Estimate:
    """mean(a) - mean(b) with Welch's t interval (Welch-Satterthwaite df); NaN with fewer than two in a group."""
    x, y = (np.asarray(v, dtype=float) for v in (a, b))
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    n = len(x) + len(y)
    if len(x) < 2 or len(y) < 2:
        est = float(x.mean() - y.mean()) if len(x) and len(y) else _NAN
        return Estimate(est, _NAN, _NAN, _NAN, n)
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    if se == 0:
        return Estimate(float(x.mean() - y.mean()), _NAN, _NAN, _NAN, n)
    df = (vx + vy) ** 2 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1))
    return normal_estimate(float(x.mean() - y.mean()), se, n, level, df=df)


def fisher_z_interval(r: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Interval of a Pearson correlation on Fisher's z scale, se = 1 / sqrt(n - 3).

    Edge cases: n < 4 or a non-finite r -> (NaN, NaN) (no interval is defined); |r| = 1 with n >= 4 ->
    (r, r), the limit of the interval as |r| -> 1 (a perfect sample correlation)."""
    if n < 4 or not np.isfinite(r) or abs(r) > 1:
        return _NAN, _NAN
    if abs(r) == 1:
        return float(r), float(r)
    z, half = math.atanh(r), z_quantile(level) / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def correlation(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, level: float = LEVEL) -> Estimate:
    """Pearson r of the pairs where both are finite, with its Fisher-z interval (:func:`fisher_z_interval`)."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 3 or a.std() == 0 or b.std() == 0:
        return Estimate(_NAN, _NAN, _NAN, _NAN, n, scale="fisher_z")
    r = float(np.clip(np.corrcoef(a, b)[0, 1], -1, 1))
    lo, hi = fisher_z_interval(r, n, level)
    return Estimate(r, lo, hi, 1 / math.sqrt(n - 3) if n > 3 else _NAN, n, scale="fisher_z")


def pooled_correlation(rs: Sequence[float], ns: Sequence[int], level: float = LEVEL) -> Estimate:
    """Fixed-effect pooling of correlations on Fisher's z scale, weights n - 3 (Hedges & Olkin 1985,
    *Statistical Methods for Meta-Analysis*); series with n < 4 or |r| >= 1 are left out. N is the total."""
    r, n = np.asarray(rs, dtype=float), np.asarray(ns, dtype=float)
    keep = np.isfinite(r) & (np.abs(r) < 1) & (n >= 4)
    if not keep.any():
        return Estimate(_NAN, _NAN, _NAN, _NAN, int(n.sum()), scale="fisher_z")
    w = n[keep] - 3
    z = float((w * np.arctanh(r[keep])).sum() / w.sum())
    se = 1 / math.sqrt(w.sum())
    q = z_quantile(level)
    return Estimate(math.tanh(z), math.tanh(z - q * se), math.tanh(z + q * se), se, int(n.sum()), scale="fisher_z")


def wilson(p: float | np.ndarray, n: int | np.ndarray, level: float = LEVEL) -> tuple[Any, Any]:
    """Wilson's (1927) score interval of a proportion ``p`` out of ``n``; NaN when n = 0. Floats for a
    proportion, arrays for arrays of them."""
    pa, na = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    z = z_quantile(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (pa + z * z / (2 * na)) / (1 + z * z / na)
        half = z * np.sqrt(pa * (1 - pa) / na + z * z / (4 * na * na)) / (1 + z * z / na)
    bad = (na == 0) | ~np.isfinite(pa)
    lo, hi = np.where(bad, _NAN, centre - half), np.where(bad, _NAN, centre + half)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def newcombe_difference(a: int, n1: int, b: int, n2: int, level: float = LEVEL) -> Estimate:
    """a/n1 - b/n2 with Newcombe's hybrid score interval (method 10), from the two Wilson intervals."""
    if n1 == 0 or n2 == 0:
        return Estimate(_NAN, _NAN, _NAN, _NAN, n1 + n2)
    p1, p2 = a / n1, b / n2
    l1, u1 = wilson(p1, n1, level)
    l2, u2 = wilson(p2, n2, level)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Estimate(d, lower, upper, _NAN, n1 + n2)


# ------------------------------------------------------------------------------------------------------
# multiple testing


def bh_qvalues(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995, *JRSS B* 57(1)) adjusted p-values (q-values) of a family of tests:
    ``q_(i) = min over j >= i of m p_(j) / j``, capped at 1. NaN p-values are not tests: they stay NaN and do
    not count in m."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, _NAN)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(p[ok], kind="stable")
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    q[ok] = out
    return q


# ------------------------------------------------------------------------------------------------------
# the verdict rule


def verdict(lower: float | None, upper: float | None, n: int, claim: Claim | int = POSITIVE,
            q_value: float | None = None, min_n: int = MIN_N, q_max: float = Q_MAX) -> str:
    """THE verdict rule (module notes). ``claim`` is a :class:`Claim` or a sign (1: theta > 0, -1: theta < 0).
    A descriptive record without a sampling interval passes ``lower = upper = value`` and no q-value."""
    if not isinstance(claim, Claim):
        claim = sign_claim(int(claim))
    if lower is None or upper is None or not (np.isfinite(lower) and np.isfinite(upper)) or n < min_n:
        return INCONCLUSIVE
    if q_value is not None and not (np.isfinite(q_value) and q_value <= q_max):
        return INCONCLUSIVE
    lo, hi = min(lower, upper), max(lower, upper)
    if claim.low < lo and hi < claim.high:
        return SUPPORTED
    if hi <= claim.low or lo >= claim.high:
        return CONTRADICTED
    return INCONCLUSIVE
