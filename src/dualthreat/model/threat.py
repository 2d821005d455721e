"""One threat component T[ally, level, source] as a latent monthly series, from mixed-frequency indicators.

Perception with memory: the latent threat is a slowly moving **level** plus a **transient** that a rare,
severe event (a nuclear test, a sinking, a shelling, an island crisis) can raise in its month and that then
fades. A basic structural model with an AR(1) cycle-like term, observed through temporal aggregation
(Harvey 1989, *Forecasting, Structural Time Series Models and the Kalman Filter*, ch. 2 and 6; Durbin &
Koopman 2012, *Time Series Analysis by State Space Methods*, 2nd ed., sec. 3.2 and 6.3):

    x_t   = mu_t + c_t                               latent threat, month t
    mu_t  = mu_{t-1} + eta_t,      eta_t ~ N(0, q)   level (random walk): the lasting part
    c_t   = phi c_{t-1} + kappa_t, kappa_t ~ N(0, k) transient (AR(1), 0 <= phi < 1): the part that fades
    y_i,t = s_i * mean(x_{t-L_i+1..t}) + eps_i,t,    eps_i,t ~ N(0, r_i)   indicator i, covering L_i months

A pure random walk with Gaussian noise (the previous model) explains a one-month spike in sparse counts as
observation noise, because a jump of the level would have to persist; the transient gives the spike a place
to go (a large variance ``k`` for one month, decaying at rate ``phi``), so that the month moves and then
relaxes. Every indicator is standardised beforehand (see :func:`standardise`) and ``s_i`` is its sign. The
state vector holds ``mu_t``, ``c_t`` and the last eleven months of ``x`` so that an observation covering
L <= 12 months is the average of the months it covers: an annual or April-March fiscal-year figure
constrains that period and nothing else, and a month without any figure is simply missing (the Kalman
filter skips it and the band widens).

``q``, ``phi``, ``k`` and the ``r_i`` are estimated by maximum likelihood (statsmodels) on the reference
window only, within bounds the caller may change; the filter then runs over the whole range. Filtered
estimates at month t use observations up to t; smoothed estimates use all of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.special import gammaln

try:  # the optional C extension (setup.py): the same log-likelihood, many times faster
    from dualthreat.model import _kalman
except ImportError:  # no C compiler at install: the Python loops of LevelTransient
    _kalman = None

LAGS = 12  # the longest period an observation may cover, in months
K_STATES = 2 + LAGS - 1  # mu_t, c_t, x_{t-1} .. x_{t-11}
Q_BOUNDS = (1e-3, 0.5)  # level variance per month
K_BOUNDS = (1e-3, 4.0)  # transient variance per month
PHI_BOUNDS = (0.0, 0.95)  # transient persistence (half-life below 14 months, so it cannot mimic the level)
R_BOUNDS = (0.02, 4.0)  # observation variance
R_DEFAULT = 0.5  # observation variance of a column with too few reference-window observations to estimate one
MIN_REFERENCE_OBS = 5  # a column needs this many reference-window observations for its own r
MIN_BASIS_OBS = 5  # an indicator needs this many observations, spanning BASIS_MONTHS, to be put on a scale
BASIS_MONTHS = 60
PRIOR_VAR = 1.0
DEFAULT_PARAMS = (0.05, 0.5, 0.05)  # q, phi, k where the reference window holds too little to estimate them


@dataclass(frozen=True)
class Bounds:
    """The box the maximum-likelihood estimates are kept in (``q``, ``k``, ``r``: variances; ``phi``: decay)."""

    q: tuple[float, float] = Q_BOUNDS
    phi: tuple[float, float] = PHI_BOUNDS
    k: tuple[float, float] = K_BOUNDS
    r: tuple[float, float] = R_BOUNDS

    def __post_init__(self) -> None:
        for name in ("q", "phi", "k", "r"):
            lo, hi = getattr(self, name)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(f"{name} bounds must be finite with lower < upper, got {(lo, hi)}")
            if name != "phi" and lo <= 0:
                raise ValueError(f"{name} bounds must be positive variances, got {(lo, hi)}")
        if not (0.0 <= self.phi[0] and self.phi[1] < 1.0):
            raise ValueError(f"phi bounds must lie in [0, 1), got {self.phi}")


ALPHA_BOUNDS = (-12.0, 4.0)  # log event rate per month of a count column
NEWTON_STEPS = 30


def _count_update(y: float, al: float, m: float, F: float) -> tuple[float, float, float]:
    """A count ``y`` with log-rate offset ``al`` on a state predicted at ``m`` with variance ``F``: the Laplace
    approximation at the posterior mode (a damped Newton search; Durbin & Koopman 2012, ch. 10). Returns the
    log-likelihood term and the Gaussian pseudo-observation (value, and its variance plus ``F``) that gives the
    same update. ``model/_kalman.c`` does the same operations in the same order."""
    exp = math.exp
    z = m
    for _ in range(NEWTON_STEPS):
        lam = exp(min(al + z, 30.0))
        step = (y - lam - (z - m) / F) / (lam + 1.0 / F)
        step = 5.0 if step > 5.0 else (-5.0 if step < -5.0 else step)
        z += step
        if -1e-10 < step < 1e-10:
            break
    lam = exp(min(al + z, 30.0))
    post = 1.0 / (lam + 1.0 / F)
    term = (y * (al + z) - lam - math.lgamma(y + 1.0) - (z - m) ** 2 / (2 * F)
            - 0.5 * math.log(F) + 0.5 * math.log(post))
    return term, z + (y - lam) / lam, F + 1.0 / lam


class LevelTransient:
    """Level + AR(1) transient, observed through Gaussian columns (each the average of the last ``lengths[i]``
    months) and count columns (monthly Poisson counts with log-rate ``alpha_i + sign_i * x_t``).

    The filter is causal and processes the columns of a month one at a time (Koopman & Durbin 2000, "Fast
    filtering and smoothing for multivariate state space models", *Journal of Time Series Analysis* 21). A
    Gaussian column updates the state exactly; a count column by its posterior mode given the prediction and
    the Gaussian approximation there (the posterior mode filter of Fahrmeir 1992, "Posterior mode estimation by
    extended Kalman filtering for multivariate dynamic generalized linear models", *JASA* 87; Durbin & Koopman
    2012, ch. 10), whose log-likelihood is the Laplace approximation. Under a count likelihood a single event in
    a quiet series is informative and a month without events only weakly so; under a Gaussian one the many
    zero months would dominate and the model would read every rare event as noise.

    Parameters (in order): ``q``, ``phi``, ``k``, one ``r`` per Gaussian column not fixed, one ``alpha`` per
    count column not fixed (``fixed_r`` / ``fixed_alpha`` give the values of the others)."""

    def __init__(self, endog: np.ndarray, lengths: Sequence[int], signs: Sequence[float],
                 counts: Sequence[bool] | None = None, fixed_r: Sequence[float | None] | None = None,
                 fixed_alpha: Sequence[float | None] | None = None, bounds: Bounds = Bounds()) -> None:
        self.endog = np.asarray(endog, dtype=float)
        if self.endog.ndim == 1:
            self.endog = self.endog[:, None]
        n = self.endog.shape[1]
        self.lengths, self.signs = [int(x) for x in lengths], [float(x) for x in signs]
        self.counts = [bool(c) for c in (counts if counts is not None else [False] * n)]
        self.fixed_r = list(fixed_r) if fixed_r is not None else [None] * n
        self.fixed_alpha = list(fixed_alpha) if fixed_alpha is not None else [None] * n
        self.bounds = bounds
        for length, count in zip(self.lengths, self.counts):
            if not 1 <= length <= LAGS:
                raise ValueError(f"an observation may cover 1 to {LAGS} months, not {length}")
            if count and length != 1:
                raise ValueError("a count column covers one month")
        longest = max([1] + [ln for ln, c in zip(self.lengths, self.counts) if not c])
        self.k_states = 2 + longest - 1
        d = self.k_states
        self.design = np.zeros((n, d))
        for i, (length, sign) in enumerate(zip(self.lengths, self.signs)):
            self.design[i, 0] = self.design[i, 1] = sign / length  # this month's x = mu + c
            self.design[i, 2:2 + length - 1] = sign / length  # and the previous length - 1 months
        self.transition = np.zeros((d, d))
        self.transition[0, 0] = 1.0
        if d > 2:
            self.transition[2, 0] = self.transition[2, 1] = 1.0  # x_{t-1} = mu_{t-1} + c_{t-1}
            for j in range(3, d):
                self.transition[j, j - 1] = 1.0
        # prior: the level (and the months before the sample, which equal it) and the transient, independent
        # N(0, PRIOR_VAR): the reference average, one standard deviation of uncertainty
        lev = [0] + list(range(2, d))
        self.prior_cov = np.zeros((d, d))
        self.prior_cov[np.ix_(lev, lev)] = PRIOR_VAR
        self.prior_cov[1, 1] = PRIOR_VAR
        self._count_flags = np.asarray(self.counts, dtype=np.uint8)  # for the C extension (_compiled_columns)
        self._sign_array = np.asarray(self.signs, dtype=np.float64)
        self.free_r = [i for i in range(n) if not self.counts[i] and self.fixed_r[i] is None]
        self.free_alpha = [i for i in range(n) if self.counts[i] and self.fixed_alpha[i] is None]

    # -- parameters --------------------------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return ["q", "phi", "k"] + [f"r{i}" for i in self.free_r] + [f"alpha{i}" for i in self.free_alpha]

    def param_bounds(self) -> list[tuple[float, float]]:
        b = self.bounds
        return [b.q, b.phi, b.k] + [b.r] * len(self.free_r) + [ALPHA_BOUNDS] * len(self.free_alpha)

    def start_params(self) -> np.ndarray:
        b = self.bounds
        start = [np.clip(0.02, *b.q), np.clip(0.6, *b.phi), np.clip(0.2, *b.k)]
        start += [np.clip(R_DEFAULT, *b.r)] * len(self.free_r)
        for i in self.free_alpha:
            y = self.endog[:, i]
            rate = np.nanmean(y) if np.isfinite(y).any() else 0.1
            start.append(float(np.clip(np.log(max(rate, 1e-3)), *ALPHA_BOUNDS)))
        return np.array(start, dtype=float)

    def unpack(self, params: np.ndarray) -> tuple[float, float, float, np.ndarray, np.ndarray]:
        params = np.asarray(params, dtype=float)
        n = self.endog.shape[1]
        r = np.array([np.nan if f is None else f for f in self.fixed_r], dtype=float)
        alpha = np.array([np.nan if f is None else f for f in self.fixed_alpha], dtype=float)
        j = 3
        for i in self.free_r:
            r[i] = params[j]
            j += 1
        for i in self.free_alpha:
            alpha[i] = params[j]
            j += 1
        r[np.array(self.counts, dtype=bool)] = np.nan
        assert j == len(params) and len(r) == n
        return float(params[0]), float(params[1]), float(params[2]), r, alpha

    # -- the filter --------------------------------------------------------------------------------
    def filter(self, params: np.ndarray, endog: np.ndarray | None = None, track: bool = False,
               compiled: bool = True) -> dict:
        """Run the filter. Returns ``loglike`` and, with ``track``, the filtered and predicted moments, each
        observation's pseudo-value (the value a Gaussian observation would need to give the same update) and
        each column's contribution to the filtered state. Without ``track`` the log-likelihood comes from the
        optional C extension :mod:`dualthreat.model._kalman` when it is built (``compiled``), else from the
        Python loops below, which the tests compare it with."""
        y_all = self.endog if endog is None else np.asarray(endog, dtype=float)
        if self.k_states == 2 and not track:
            return {"loglike": self._loglike_monthly(params, y_all, compiled)}
        q, phi, k, r, alpha = self.unpack(params)
        if compiled and not track and _kalman is not None:
            y, signs, al, ri, counts = self._compiled_columns(y_all, r, alpha)
            return {"loglike": _kalman.loglike_general(
                float(q), float(phi), float(k), NEWTON_STEPS, y.shape[0], y.shape[1], self.k_states, y, signs, al,
                ri, counts, self.design, self.prior_cov)}
        T, d, n = y_all.shape[0], self.k_states, y_all.shape[1]
        tr = self.transition.copy()
        tr[1, 1] = phi
        trT = tr.T.copy()
        a = np.zeros(d)
        P = self.prior_cov + 1e-9 * np.eye(d)
        ll = 0.0
        out = {}
        if track:
            a_f, P_f = np.zeros((T, d)), np.zeros((T, d, d))
            a_p, P_p = np.zeros((T, d)), np.zeros((T, d, d))
            contrib = np.zeros((T, d, n))
            C = np.zeros((d, n))
            pseudo = np.full((T, n), np.nan)
            pseudo_var = np.full((T, n), np.nan)
        observed = [np.flatnonzero(np.isfinite(row)).tolist() for row in y_all]
        design, counts, signs = self.design, self.counts, self.signs
        log = math.log
        for t in range(T):
            if t > 0:
                if d == 2:
                    a = np.array([a[0], phi * a[1]])
                    P = np.array([[P[0, 0] + q, phi * P[0, 1]], [phi * P[1, 0], phi * phi * P[1, 1] + k]])
                else:
                    a = tr @ a
                    P = tr @ P @ trT
                    P[0, 0] += q
                    P[1, 1] += k
                if track:
                    C = tr @ C
            if track:
                a_p[t], P_p[t] = a, P
            for i in observed[t]:
                y = float(y_all[t, i])
                if counts[i]:  # the design row is sign * (1, 1, 0, ...): x = mu + c
                    sg = signs[i]
                    Ph = sg * (P[:, 0] + P[:, 1])
                    F = sg * float(Ph[0] + Ph[1])
                    m = sg * float(a[0] + a[1])
                    term, value, S = _count_update(y, float(alpha[i]), m, F)
                    ll += term
                else:
                    h = design[i]
                    Ph = P @ h
                    F = float(h @ Ph)
                    m = float(h @ a)
                    value, S = y, F + float(r[i])
                    ll += -0.5 * (log(2 * math.pi * S) + (y - m) ** 2 / S)
                K = Ph / S
                a = a + K * (value - m)
                P = P - np.outer(K, Ph)
                if track:
                    pseudo[t, i] = value
                    pseudo_var[t, i] = S - F
                    C = C - np.outer(K, design[i] @ C)
                    C[:, i] += K * value
            if track:
                a_f[t], P_f[t] = a, P
                contrib[t] = C
        out["loglike"] = ll
        if track:
            out.update(a_f=a_f, P_f=P_f, a_p=a_p, P_p=P_p, contrib=contrib, pseudo=pseudo, pseudo_var=pseudo_var,
                       transition=tr)
        return out

    def _compiled_columns(self, y_all: np.ndarray, r: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, ...]:
        """The buffers the C extension reads: the data, the signs, each count column's alpha and each Gaussian
        column's r (0 where a column is of the other kind), the count flags."""
        counts = self._count_flags
        return (np.ascontiguousarray(y_all, dtype=np.float64), self._sign_array,
                np.where(counts == 1, np.nan_to_num(alpha), 0.0), np.where(counts == 1, 0.0, r), counts)

    def _loglike_monthly(self, params: np.ndarray, y_all: np.ndarray, compiled: bool = True) -> float:
        """The same log-likelihood as :meth:`filter` when every column is monthly (two states), in plain
        floats: the maximum-likelihood search calls it hundreds of times. With ``compiled`` (and the optional
        C extension :mod:`dualthreat.model._kalman` built) the same operations run in C, in the same order."""
        q, phi, k, r, alpha = self.unpack(params)
        if compiled and _kalman is not None:
            y, signs, al, ri, counts = self._compiled_columns(y_all, r, alpha)
            return _kalman.loglike_monthly(float(q), float(phi), float(k), PRIOR_VAR, NEWTON_STEPS, y.shape[0],
                                           y.shape[1], y, signs, al, ri, counts)
        log = math.log
        a0 = a1 = 0.0
        p00, p01, p11 = PRIOR_VAR + 1e-9, 0.0, PRIOR_VAR + 1e-9
        ll = 0.0
        rows = [[(i, float(v)) for i, v in enumerate(row) if v == v] for row in y_all]
        cols = [(self.counts[i], self.signs[i], float(alpha[i]) if self.counts[i] else 0.0,
                 0.0 if self.counts[i] else float(r[i])) for i in range(y_all.shape[1])]
        for t, row in enumerate(rows):
            if t > 0:
                a1 *= phi
                p00, p01, p11 = p00 + q, phi * p01, phi * phi * p11 + k
            for i, y in row:
                count, sg, al, ri = cols[i]
                h0 = sg * (p00 + p01)  # P h, h = sg * (1, 1)
                h1 = sg * (p01 + p11)
                F = sg * (h0 + h1)
                m = sg * (a0 + a1)
                if count:
                    term, value, S = _count_update(y, al, m, F)
                    ll += term
                else:
                    value, S = y, F + ri
                    ll += -0.5 * (log(2 * math.pi * S) + (y - m) ** 2 / S)
                k0, k1 = h0 / S, h1 / S
                v = value - m
                a0, a1 = a0 + k0 * v, a1 + k1 * v
                p00, p01, p11 = p00 - k0 * h0, p01 - k0 * h1, p11 - k1 * h1
        return ll

    def loglike(self, params: np.ndarray) -> float:
        return self.filter(params)["loglike"]

    def smooth(self, params: np.ndarray, endog: np.ndarray | None = None) -> dict:
        """Filter, then the fixed-interval (Rauch-Tung-Striebel) smoother on the filter's Gaussian
        approximation, with each column's contribution to the smoothed state."""
        f = self.filter(params, endog, track=True)
        a_f, P_f, a_p, P_p, tr = f["a_f"], f["P_f"], f["a_p"], f["P_p"], f["transition"]
        T, d = a_f.shape
        a_s, P_s, c_s = a_f.copy(), P_f.copy(), f["contrib"].copy()
        for t in range(T - 2, -1, -1):
            J = np.linalg.solve(P_p[t + 1] + 1e-10 * np.eye(d), tr @ P_f[t]).T
            a_s[t] = a_f[t] + J @ (a_s[t + 1] - a_p[t + 1])
            P_s[t] = P_f[t] + J @ (P_s[t + 1] - P_p[t + 1]) @ J.T
            c_s[t] = f["contrib"][t] + J @ (c_s[t + 1] - tr @ f["contrib"][t])
        f.update(a_s=a_s, P_s=P_s, contrib_s=c_s)
        return f

    def fit(self, start: np.ndarray | None = None) -> np.ndarray:
        """Maximum-likelihood parameters (L-BFGS-B within the bounds), from ``start`` if given."""
        from scipy.optimize import minimize

        def nll(p: np.ndarray) -> float:
            value = -self.loglike(p)
            return value if np.isfinite(value) else 1e12

        with np.errstate(all="ignore"):
            x0 = self.start_params() if start is None else np.clip(start, *np.array(self.param_bounds()).T)
            # converged tightly: where the likelihood is flat (Japan's local China component), the looser
            # ftol 1e-8 / gtol 1e-5 stopped at points that differed with the CPU's BLAS kernels by up to 0.018 in
            # the estimates; with these the kernels agree to 3e-5 (measured 2026-12-03, docs/threat-model.md)
            res = minimize(nll, x0, method="L-BFGS-B", bounds=self.param_bounds(),
                           options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9})
        return np.asarray(res.x, dtype=float)


@dataclass
class Column:
    """One observed column: an indicator at one aggregation length (a figure kind it reports).

    A Gaussian column holds standardised values; a count column (``count=True``, dated events per month)
    holds the counts themselves, and ``reference_mean`` is then the log of its basis rate (events per month)."""

    indicator: str
    months: int
    sign: float
    values: pd.Series  # standardised (Gaussian) or counts (count column), indexed by month (Period)
    raw: pd.Series
    reference_mean: float
    reference_sd: float
    reference: str  # how the scale was set (see standardise)
    count: bool = False

    def with_values(self, values: pd.Series) -> Column:
        """The same column with other values on the model's scale (for scenarios: shock, then
        :meth:`ComponentFit.refilter`)."""
        return replace(self, values=values)

    def to_scale(self, value: float | pd.Series) -> float | pd.Series:
        """A value on the indicator's model scale: a count stays a count; any other value (after the
        indicator's transformation, e.g. log1p of a rate) becomes z units."""
        return value if self.count else (value - self.reference_mean) / self.reference_sd


def _frames(months: pd.PeriodIndex, res: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Filtered and smoothed x_t = mu_t + c_t, with sd, and the level and transient parts."""
    out = []
    for a_key, p_key in (("a_f", "P_f"), ("a_s", "P_s")):
        a, P = res[a_key], res[p_key]
        var = P[:, 0, 0] + P[:, 1, 1] + 2 * P[:, 0, 1]
        out.append(pd.DataFrame({"month": months, "mean": a[:, 0] + a[:, 1], "sd": np.sqrt(np.maximum(var, 0)),
                                 "level": a[:, 0], "transient": a[:, 1]}))
    return out[0], out[1]


def _endog(columns: Sequence[Column], months: pd.PeriodIndex) -> np.ndarray:
    return np.column_stack([c.values.reindex(months).to_numpy(dtype=float) for c in columns])


@dataclass
class ComponentFit:
    """The fitted component: estimates, parameters, and what fed it."""

    months: pd.PeriodIndex
    columns: list[Column]
    params: np.ndarray | None
    filtered: pd.DataFrame  # month, mean, sd, level, transient
    smoothed: pd.DataFrame
    model: LevelTransient | None = field(default=None, repr=False)
    bounds: Bounds = field(default_factory=Bounds)
    result: dict | None = field(default=None, repr=False)

    @property
    def q(self) -> float:
        return float(self.params[0]) if self.params is not None else float("nan")

    @property
    def phi(self) -> float:
        return float(self.params[1]) if self.params is not None else float("nan")

    @property
    def k(self) -> float:
        return float(self.params[2]) if self.params is not None else float("nan")

    def parameters(self) -> dict[str, float]:
        """The fitted parameters by name (r and alpha of each column: fitted or fixed)."""
        if self.params is None or self.model is None:
            return {}
        q, phi, k, r, alpha = self.model.unpack(self.params)
        out = {"q": q, "phi": phi, "k": k}
        for i, c in enumerate(self.columns):
            key = f"{c.indicator}[{c.months}]"
            out[f"alpha {key}" if c.count else f"r {key}"] = float(alpha[i] if c.count else r[i])
        return out

    def refilter(self, columns: Sequence[Column] | None = None,
                 months: pd.PeriodIndex | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Filter and smooth again with the fitted parameters, on other values of the same columns (same
        indicators, lengths and signs, in the same order; e.g. ``[c.with_values(shocked) for c in fit.columns]``)
        and optionally over other months (e.g. extended into the future). Returns (filtered, smoothed)."""
        columns = list(self.columns if columns is None else columns)
        months = self.months if months is None else months
        if self.params is None or self.model is None:
            empty = pd.DataFrame({"month": months, "mean": np.nan, "sd": np.nan, "level": np.nan,
                                  "transient": np.nan})
            return empty, empty.copy()
        if [(c.indicator, c.months, c.sign, c.count) for c in columns] != [
                (c.indicator, c.months, c.sign, c.count) for c in self.columns]:
            raise ValueError("refilter needs the fitted columns (same indicators, lengths and signs, same order)")
        return _frames(months, self.model.smooth(self.params, _endog(columns, months)))

    def project(self, horizon: int, columns: Sequence[Column] | None = None) -> pd.DataFrame:
        """The filtered state carried ``horizon`` months beyond the last month with the fitted dynamics and no
        new data: the level stays, the transient decays by ``phi`` a month, and the band widens (q + k per
        month, the transient's part bounded by its stationary variance). Columns: month, mean, sd, level,
        transient, horizon."""
        if horizon < 1:
            raise ValueError("horizon must be at least one month")
        last = self.months[-1]
        future = pd.period_range(self.months[0], last + horizon, freq="M")
        filtered, _ = self.refilter(columns, future)
        out = filtered[filtered.month > last].reset_index(drop=True)
        return out.assign(horizon=np.arange(1, horizon + 1))

    def weights(self) -> pd.DataFrame:
        """Each indicator's share of the information the component gets: the sum of its observations'
        precisions (1/r for a Gaussian observation; the posterior event rate for a count), normalised to 1."""
        if self.params is None or not self.columns or self.result is None:
            return pd.DataFrame(columns=["indicator", "weight"])
        prec = np.nansum(1.0 / self.result["pseudo_var"], axis=0)
        df = pd.DataFrame({"indicator": [c.indicator for c in self.columns], "precision": prec})
        df = df.groupby("indicator", as_index=False).sum()
        df["weight"] = df["precision"] / df["precision"].sum()
        return df[["indicator", "weight"]]

    def contributions(self, month: pd.Period, smoothed: bool = False) -> pd.DataFrame:
        """What each indicator contributed to the estimate at ``month``: the filter (and smoother) are linear
        in the observations given their gains (for a count, in its pseudo-value), so the estimate splits into
        one part per column (Koopman & Harvey 2003, "Computing observation weights for signal extraction and
        filtering", *Journal of Economic Dynamics and Control*). The prior mean is zero, so the
        contributions add up to the estimate."""
        if self.params is None or self.result is None or month not in self.months:
            return pd.DataFrame(columns=["indicator", "contribution", "observations_used"])
        t = self.months.get_loc(month)
        c = self.result["contrib_s" if smoothed else "contrib"][t]
        x = c[0] + c[1]  # x = mu + c
        seen = np.isfinite(self.result["pseudo"])
        used = seen.sum(axis=0) if smoothed else seen[: t + 1].sum(axis=0)
        df = pd.DataFrame({"indicator": [col.indicator for col in self.columns], "contribution": x,
                           "observations_used": used.astype(int)})
        df = df.groupby("indicator", as_index=False).sum()
        return df.sort_values("contribution", key=np.abs, ascending=False).reset_index(drop=True)


@dataclass(frozen=True)
class Scale:
    """How an indicator is put on the model's scale: z = (value - mean) / sd, with the basis it rests on."""

    mean: float
    sd: float
    label: str
    basis_published: pd.Timestamp | None  # when the last value of the basis was published
    basis_obs: int


def standardise(obs: pd.DataFrame, start: pd.Period | None = None, min_obs: int = MIN_BASIS_OBS,
                basis_months: int = BASIS_MONTHS, rescale: bool = True) -> Scale | None:
    """One reference scale per indicator that never moves with the as-of date, and never looks ahead.

    ``obs`` has one row per observation: ``end`` (Period), ``months`` (length), ``value`` and optionally
    ``first_value`` and ``first_published`` (its first release, see :mod:`dualthreat.measure.series`).

    The **basis** is the first set of observations (of periods ending at or after ``start``, the reference
    window's first month) to be *published* that holds at least ``min_obs`` observations spanning at least
    ``basis_months`` months; it is taken as first released (a later revision does not move the scale). The
    scale is the mean and standard deviation of the basis. Because the basis is fixed by publication dates,
    every fit made after it was published finds the same scale, and a fit made before finds none: the
    indicator then does not enter (``None`` is returned). Without publication dates, a period counts as
    published at its end.

    ``rescale=False`` (counts of dated events, already on the common ``log1p`` scale: one event = 0.69, a
    doubling = +0.69) centres on the basis mean without dividing by its spread: a quiet basis (one test in
    three years) would otherwise turn a single later event into an extreme value."""
    obs = obs.dropna(subset=["value"])
    if start is not None:
        obs = obs[obs["end"] >= start]
    if obs.empty:
        return None
    first = obs["first_value"] if "first_value" in obs else obs["value"]
    pub = (pd.to_datetime(obs["first_published"]) if "first_published" in obs
           else obs["end"].map(lambda p: p.to_timestamp(how="end")))
    lengths = obs["months"] if "months" in obs else pd.Series(1, index=obs.index)
    order = pd.DataFrame({"pub": pub, "end": obs["end"], "len": lengths.astype(int), "first": first})
    order = order.dropna(subset=["first"]).sort_values(["pub", "end"]).reset_index(drop=True)
    if order.empty:
        return None
    # the vintages at which new observations became public, in order: the basis is everything public at the
    # first vintage where the basis is big and long enough
    ends = order["end"].map(lambda p: p.ordinal).to_numpy()
    starts = ends - order["len"].to_numpy() + 1
    last_of_vintage = ~order["pub"].duplicated(keep="last").to_numpy()
    span = np.maximum.accumulate(ends) - np.minimum.accumulate(starts) + 1
    size = np.arange(1, len(order) + 1)
    ok = np.flatnonzero(last_of_vintage & (size >= min_obs) & (span >= basis_months))
    if len(ok):
        basis = order.iloc[: ok[0] + 1]
        when = basis["pub"].iloc[-1]
        b = basis["first"].astype(float)
        mean = float(b.mean())
        sd = float(b.std(ddof=1)) if len(b) > 1 else 0.0
        label = (f"basis: {len(b)} observations {basis['end'].min()}..{basis['end'].max()}, "
                 f"published by {pd.Timestamp(when).date()}")
        if not rescale:
            sd = 1.0
            label += " (event counts: centred, not rescaled)"
        elif not np.isfinite(sd) or sd < 1e-9:
            sd = 1.0
            label += " (no spread: sd set to 1)"
        return Scale(mean, sd, label, pd.Timestamp(when), len(b))
    return None


_ESTIMATES: dict[tuple, np.ndarray] = {}


def _estimate(model: LevelTransient, names: tuple) -> np.ndarray:
    """Maximum-likelihood parameters, memoised (the same data and settings give the same fit). Every search
    starts from the model's own default start: a warm start from an earlier fit (of another as-of date, say)
    made the estimate depend on what the process had fitted before, by up to ~1e-3, and a fit as of an early
    date after a fit on all data would have started from later data."""
    structure = (names, tuple(model.lengths), tuple(model.signs), tuple(model.counts),
                 tuple(f is None for f in model.fixed_r), tuple(f is None for f in model.fixed_alpha), model.bounds)
    key = (structure, model.endog.shape, np.nan_to_num(model.endog, nan=np.inf).tobytes(),
           tuple(model.fixed_r), tuple(model.fixed_alpha))
    if key not in _ESTIMATES:
        _ESTIMATES[key] = model.fit(None)
        if len(_ESTIMATES) > 512:
            _ESTIMATES.pop(next(iter(_ESTIMATES)))
    return _ESTIMATES[key].copy()


def _settings(columns: Sequence[Column], ref: np.ndarray, bounds: Bounds) -> tuple[list, list]:
    """Which observation variances and count rates are fixed rather than estimated: a Gaussian column with
    fewer than MIN_REFERENCE_OBS reference-window observations gets R_DEFAULT; a count column keeps its basis
    rate if it is the component's first count column (the anchor of the latent scale), or if the reference
    window holds fewer than MIN_REFERENCE_OBS of its months or none of its events."""
    fixed_r, fixed_alpha = [], []
    anchored = False
    for i, c in enumerate(columns):
        seen = np.isfinite(ref[:, i])
        if c.count:
            fixed_r.append(None)
            few = seen.sum() < MIN_REFERENCE_OBS or np.nansum(ref[:, i]) <= 0
            fixed_alpha.append(float(np.clip(c.reference_mean, *ALPHA_BOUNDS)) if (few or not anchored) else None)
            anchored = True
        else:
            fixed_alpha.append(None)
            fixed_r.append(float(np.clip(R_DEFAULT, *bounds.r)) if seen.sum() < MIN_REFERENCE_OBS else None)
    return fixed_r, fixed_alpha


def fit_component(columns: list[Column], months: pd.PeriodIndex, reference: tuple[pd.Period, pd.Period],
                  bounds: Bounds = Bounds()) -> ComponentFit:
    """Estimate the parameters on the reference window, then filter and smooth over ``months``."""
    empty = pd.DataFrame({"month": months, "mean": np.nan, "sd": np.nan, "level": np.nan, "transient": np.nan})
    if not columns:
        return ComponentFit(months, columns, None, empty, empty.copy(), None, bounds)
    endog = _endog(columns, months)
    in_ref = np.asarray((months >= reference[0]) & (months <= reference[1]))
    ref = endog[in_ref]
    fixed_r, fixed_alpha = _settings(columns, ref, bounds)
    spec = dict(lengths=[c.months for c in columns], signs=[c.sign for c in columns],
                counts=[c.count for c in columns], fixed_r=fixed_r, fixed_alpha=fixed_alpha, bounds=bounds)
    model = LevelTransient(endog, **spec)
    if np.isfinite(ref).sum() >= MIN_REFERENCE_OBS:
        params = _estimate(LevelTransient(ref, **spec), tuple(c.indicator for c in columns))
    else:
        q, phi, k = DEFAULT_PARAMS
        params = np.concatenate([[np.clip(q, *bounds.q), np.clip(phi, *bounds.phi), np.clip(k, *bounds.k)],
                                 model.start_params()[3:]])
    res = model.smooth(params)
    filt, smooth = _frames(months, res)
    return ComponentFit(months, columns, params, filt, smooth, model, bounds, res)
