"""One threat component T[ally, level, source] as a latent monthly series, from mixed-frequency indicators.

The model (a local level with temporal aggregation; Harvey 1989, *Forecasting, Structural Time Series Models
and the Kalman Filter*; Durbin & Koopman 2012, *Time Series Analysis by State Space Methods*):

    x_t = x_{t-1} + eta_t,                eta_t ~ N(0, q)             latent threat, month t
    y_{i,t} = s_i * mean(x_{t-L_i+1..t}) + eps_{i,t},  eps ~ N(0, r_i)   indicator i, covering L_i months

Every indicator is first standardised (z-score) against the reference window, and ``s_i`` is its sign. The
state vector holds the last 12 months of ``x`` so that an observation covering L <= 12 months is the average
of the months it covers: an annual or April-March fiscal-year figure constrains that period and nothing
else, and a month without any figure is simply missing (the Kalman filter skips it and the band widens).

``q`` and the ``r_i`` are estimated by maximum likelihood on the reference window only, so that data after
the window never changes them; the filter then runs over the whole range. Filtered estimates at month t use
observations up to t; smoothed estimates use all of them. Both are computed with statsmodels' Kalman filter
and smoother.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from statsmodels.tsa.statespace.mlemodel import MLEModel

LAGS = 12
Q_BOUNDS = (1e-3, 0.5)
R_BOUNDS = (0.02, 4.0)
R_DEFAULT = 0.5  # observation variance of a column with too few reference-window observations to estimate one
MIN_REFERENCE_OBS = 3
PRIOR_VAR = 1.0


def _bounded(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return lo + (hi - lo) * expit(u)


def _unbounded(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return logit(np.clip((np.asarray(v) - lo) / (hi - lo), 1e-6, 1 - 1e-6))


class AggregatedLocalLevel(MLEModel):
    """A local-level state observed through column-specific averages over the last ``lengths[i]`` months."""

    def __init__(self, endog: np.ndarray, lengths: list[int], signs: list[float], fixed_r: list[bool]) -> None:
        super().__init__(endog, k_states=LAGS, k_posdef=1)
        self.lengths, self.fixed_r = lengths, fixed_r
        design = np.zeros((len(lengths), LAGS))
        for i, (length, sign) in enumerate(zip(lengths, signs)):
            design[i, :length] = sign / length
        self["design"] = design
        transition = np.eye(LAGS, k=-1)
        transition[0, 0] = 1.0
        self["transition"] = transition
        selection = np.zeros((LAGS, 1))
        selection[0, 0] = 1.0
        self["selection"] = selection
        self.ssm.initialize_known(np.zeros(LAGS), PRIOR_VAR * np.ones((LAGS, LAGS)) + 1e-8 * np.eye(LAGS))

    @property
    def param_names(self) -> list[str]:
        return ["q"] + [f"r{i}" for i in range(len(self.lengths))]

    @property
    def start_params(self) -> np.ndarray:
        return np.array([0.02] + [R_DEFAULT] * len(self.lengths))

    def transform_params(self, unconstrained: np.ndarray) -> np.ndarray:
        out = np.empty_like(unconstrained)
        out[0] = _bounded(unconstrained[0], *Q_BOUNDS)
        out[1:] = _bounded(unconstrained[1:], *R_BOUNDS)
        out[1:][np.array(self.fixed_r, dtype=bool)] = R_DEFAULT
        return out

    def untransform_params(self, constrained: np.ndarray) -> np.ndarray:
        out = np.empty_like(constrained)
        out[0] = _unbounded(constrained[0], *Q_BOUNDS)
        out[1:] = _unbounded(constrained[1:], *R_BOUNDS)
        return out

    def update(self, params: np.ndarray, **kwargs: object) -> None:
        params = super().update(params, **kwargs)
        self["state_cov", 0, 0] = params[0]
        self["obs_cov"] = np.diag(params[1:])


@dataclass
class Column:
    """One observed column: an indicator at one aggregation length (a figure kind it reports)."""

    indicator: str
    months: int
    sign: float
    values: pd.Series  # standardised, indexed by month (Period)
    raw: pd.Series
    reference_mean: float
    reference_sd: float
    reference: str  # "reference window" or "first observations" (outside the window)


@dataclass
class ComponentFit:
    """The fitted component: estimates, parameters, and what fed it."""

    months: pd.PeriodIndex
    columns: list[Column]
    params: np.ndarray | None
    filtered: pd.DataFrame  # month, mean, sd
    smoothed: pd.DataFrame
    model: AggregatedLocalLevel | None = field(default=None, repr=False)

    def weights(self) -> pd.DataFrame:
        """Each indicator's share of the information the component gets: the precision 1/r of its columns,
        times the number of its observations, normalised to sum to 1."""
        if self.params is None or not self.columns:
            return pd.DataFrame(columns=["indicator", "weight"])
        rows = [(c.indicator, c.values.notna().sum() / self.params[1 + i]) for i, c in enumerate(self.columns)]
        df = pd.DataFrame(rows, columns=["indicator", "precision"]).groupby("indicator", as_index=False).sum()
        df["weight"] = df["precision"] / df["precision"].sum()
        return df[["indicator", "weight"]]

    def contributions(self, month: pd.Period, smoothed: bool = False) -> pd.DataFrame:
        """What each indicator contributed to the estimate at ``month``: the sum over its observations of
        (weight of the observation in the estimate) x (standardised value); plus the prior's share.
        The contributions add up to the estimate."""
        from statsmodels.tsa.statespace.tools import compute_smoothed_state_weights

        if self.params is None or month not in self.months:
            return pd.DataFrame(columns=["indicator", "contribution", "observations_used"])
        t = self.months.get_loc(month)
        endog = self.model.endog if smoothed else self.model.endog[: t + 1]
        model = AggregatedLocalLevel(endog, [c.months for c in self.columns], [c.sign for c in self.columns],
                                     [True] * len(self.columns))
        res = model.smooth(self.params, transformed=True)
        weights, _, prior = compute_smoothed_state_weights(res, compute_t=[t])
        w = np.nan_to_num(weights[0 if weights.shape[0] == 1 else t, :, 0, :])  # (time j, column)
        y = np.nan_to_num(endog)
        rows = []
        for i, col in enumerate(self.columns):
            used = int((~np.isnan(endog[:, i]) & (w[:, i] != 0)).sum())
            rows.append((col.indicator, float((w[:, i] * y[:, i]).sum()), used))
        df = pd.DataFrame(rows, columns=["indicator", "contribution", "observations_used"])
        df = df.groupby("indicator", as_index=False).sum()
        # the prior mean is zero, so the prior contributes nothing to the mean
        return df.sort_values("contribution", key=np.abs, ascending=False).reset_index(drop=True)


def standardise(values: pd.Series, reference: tuple[pd.Period, pd.Period]) -> tuple[pd.Series, float, float, str]:
    """z-scores against the observations inside the reference window.

    An indicator with fewer than three observations there is standardised on its first three observations
    instead, and enters the model only from the third one on (the first two serve as the basis): so no
    estimate ever depends on data published after it."""
    values = values.dropna().sort_index()
    inside = values[(values.index >= reference[0]) & (values.index <= reference[1])]
    basis, label = inside, "reference window"
    if len(inside) < MIN_REFERENCE_OBS:
        basis, label = values.iloc[:MIN_REFERENCE_OBS], "first observations"
        if len(basis) < MIN_REFERENCE_OBS:  # not enough published yet to put it on a scale
            return values.iloc[:0], float("nan"), float("nan"), "too few observations"
        values = values[values.index >= basis.index[-1]]
    mean = float(basis.mean()) if len(basis) else 0.0
    sd = float(basis.std(ddof=1)) if len(basis) > 1 else 0.0
    if not np.isfinite(sd) or sd < 1e-9:
        sd = 1.0
        label += " (no spread: sd set to 1)"
    return (values - mean) / sd, mean, sd, label


_ESTIMATES: dict[tuple, np.ndarray] = {}


def _estimate(ref_endog: np.ndarray, lengths: tuple, signs: tuple, fixed: tuple) -> np.ndarray:
    """Maximum-likelihood q and r on the reference window (memoised: the same data give the same fit)."""
    key = (ref_endog.shape, np.nan_to_num(ref_endog, nan=np.inf).tobytes(), lengths, signs, fixed)
    if key not in _ESTIMATES:
        model = AggregatedLocalLevel(ref_endog, list(lengths), list(signs), list(fixed))
        _ESTIMATES[key] = np.asarray(model.fit(disp=False, maxiter=200, method="lbfgs").params)
        if len(_ESTIMATES) > 512:
            _ESTIMATES.pop(next(iter(_ESTIMATES)))
    return _ESTIMATES[key].copy()


def fit_component(columns: list[Column], months: pd.PeriodIndex,
                  reference: tuple[pd.Period, pd.Period]) -> ComponentFit:
    """Estimate q and r on the reference window, then filter and smooth over ``months``."""
    empty = pd.DataFrame({"month": months, "mean": np.nan, "sd": np.nan})
    if not columns:
        return ComponentFit(months, columns, None, empty, empty.copy())
    endog = np.column_stack([c.values.reindex(months).to_numpy(dtype=float) for c in columns])
    lengths, signs = [c.months for c in columns], [c.sign for c in columns]
    in_ref = np.asarray((months >= reference[0]) & (months <= reference[1]))
    fixed = [int(np.isfinite(endog[in_ref, i]).sum()) < 5 for i in range(len(columns))]
    ref_endog = endog[in_ref]
    if np.isfinite(ref_endog).sum() >= 5:
        params = _estimate(ref_endog, tuple(lengths), tuple(signs), tuple(fixed))
    else:
        params = np.array([0.05] + [R_DEFAULT] * len(columns))
    model = AggregatedLocalLevel(endog, lengths, signs, [True] * len(columns))
    out = model.smooth(params, transformed=True)
    filt = pd.DataFrame({"month": months, "mean": out.filtered_state[0],
                         "sd": np.sqrt(np.maximum(out.filtered_state_cov[0, 0], 0))})
    smooth = pd.DataFrame({"month": months, "mean": out.smoothed_state[0],
                           "sd": np.sqrt(np.maximum(out.smoothed_state_cov[0, 0], 0))})
    return ComponentFit(months, columns, params, filt, smooth, model)
