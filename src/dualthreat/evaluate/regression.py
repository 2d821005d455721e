"""Least squares for the time-series tests, with standard errors robust to autocorrelation.

* One series (one ally): Newey-West (HAC, Bartlett kernel, 2 lags; Newey & West 1987, *Econometrica* 55(3)).
* A panel (both allies stacked): Driscoll-Kraay (1998, *Review of Economics and Statistics* 80(4)), i.e. HAC
  over the year sums of the scores, robust to the two allies' residuals being correlated within a year as
  well as over time (statsmodels' ``hac-groupsum``).

Inference is normal (large-sample), as statsmodels does for robust covariances. A linear combination of the
coefficients (:meth:`OLSFit.combination`) is returned as a :class:`dualthreat.stats.Estimate`; a coefficient
can first be put in standard-deviation units of its regressor and of the outcome (beta x sd(x) / sd(y), sd
over the estimation sample: :meth:`OLSFit.standard_scale`), the scale of the equivalence margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dualthreat.stats import LEVEL, Estimate, normal_estimate

MAXLAGS = 2


@dataclass
class OLSFit:
    params: pd.Series
    cov: pd.DataFrame
    n: int
    sd: pd.Series  # sd of the outcome and of each regressor over the estimation sample
    outcome: str

    def combination(self, weights: dict[str, float], level: float = LEVEL,
                    scale: dict[str, float] | None = None) -> Estimate:
        """``sum(weights[c] x scale[c] x beta_c)`` with its interval; ``scale`` (default 1) puts a coefficient
        in other units, e.g. :meth:`standard_scale` for standardised coefficients."""
        cols = list(self.params.index)
        scale = scale or {}
        w = np.array([weights.get(c, 0.0) * scale.get(c, 1.0) for c in cols], dtype=float)
        if not np.isfinite(w).all():
            return normal_estimate(float("nan"), float("nan"), self.n, level)
        est = float(w @ self.params.to_numpy())
        se = float(np.sqrt(max(w @ self.cov.to_numpy() @ w, 0.0)))
        return normal_estimate(est, se, self.n, level)

    def standard_scale(self) -> dict[str, float]:
        """sd(x) / sd(y) per regressor: multiplies a coefficient into standard-deviation units."""
        return {c: float(self.sd[c] / self.sd[self.outcome]) for c in self.sd.index if c != self.outcome}

    def coef(self, name: str) -> float:
        return float(self.params.get(name, np.nan))


def ols(d: pd.DataFrame, y: str, x: list[str], fixed_effects: bool = False,
        interactions: dict[str, pd.Series] | None = None) -> OLSFit | None:
    """OLS of ``y`` on ``x`` and a constant (plus ally dummies with ``fixed_effects`` when several allies are
    stacked, and any extra ``interactions`` columns); None with fewer than ``len(x) + 3`` rows or a singular
    design. Rows of several allies get Driscoll-Kraay errors, one ally's Newey-West errors."""
    import statsmodels.api as sm

    X = d[x].astype(float)
    for name, col in (interactions or {}).items():
        X[name] = col.astype(float)
    if len(d) < X.shape[1] + 3:
        return None
    pooled = "ally" in d and d["ally"].nunique() > 1
    if fixed_effects and pooled:
        X = pd.concat([X, pd.get_dummies(d["ally"], drop_first=True, dtype=float)], axis=1)
    X = sm.add_constant(X, has_constant="add")
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        return None
    model = sm.OLS(d[y].astype(float), X)
    if pooled:
        time = (d["year"] - d["year"].min()).astype(int).to_numpy()
        res = model.fit(cov_type="hac-groupsum", cov_kwds={"time": time, "maxlags": MAXLAGS,
                                                            "use_correction": "hac"})
    else:
        res = model.fit(cov_type="HAC", cov_kwds={"maxlags": MAXLAGS})
    sd = pd.concat([d[[y]].astype(float), X.drop(columns="const")], axis=1).std(ddof=1)
    return OLSFit(res.params, pd.DataFrame(res.cov_params(), index=X.columns, columns=X.columns), len(d), sd, y)


def nan_estimate(n: int) -> Estimate:
    nan = float("nan")
    return Estimate(nan, nan, nan, nan, n)
