"""The adapter between scenarios and the fitted threat model: re-filter one component (or China's backing of
North Korea), with its fitted parameters, on altered observation columns, over months that may run past the
data (a projection).

Everything the scenario layer needs from :mod:`dualthreat.model.threat` goes through this module, so that a
change of the model's internals changes this file only.

* :func:`observation_matrix`: a component's columns as the model holds them (z-scores of Gaussian columns,
  counts of count columns) on a month grid;
* :func:`refilter`: the filter of the component's level + AR(1) transient model
  (:class:`~dualthreat.model.threat.LevelTransient`; Harvey 1989; Durbin & Koopman 2012, sec. 3.2, 6.3 and
  ch. 10 for the count columns' posterior-mode update), parameters as fitted (never re-estimated), on a given
  matrix: filtered mean and variance of the monthly threat ``x = level + transient``, and the one-step
  prediction of every column. Months past the data are missing rows, so the filter carries the state forward
  with the model's dynamics: the level stays, the transient decays by ``phi`` a month, and the variance grows
  (``q`` a month for the level, ``k`` for the transient up to its stationary variance ``k / (1 - phi^2)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dualthreat.model.dualthreat import NO_DATA_MONTHS
from dualthreat.model.threat import ComponentFit


@dataclass
class Filtered:
    """Filtered estimates of one component on a month grid."""

    months: pd.PeriodIndex
    mean: np.ndarray  # E[x_t | y_1..y_t]; NaN before the component's first observation (the prior only)
    var: np.ndarray  # Var[x_t | y_1..y_t]
    predicted: np.ndarray  # (months, columns): the one-step prediction of each column (z; a count: its rate)
    recent: np.ndarray  # an observation in the last NO_DATA_MONTHS months (the model's "data" coverage)


def observation_matrix(fit: ComponentFit, months: pd.PeriodIndex) -> np.ndarray:
    """The component's observed columns on ``months`` (NaN where a column has no figure)."""
    if not fit.columns:
        return np.empty((len(months), 0))
    return np.column_stack([c.values.reindex(months).to_numpy(dtype=float) for c in fit.columns])


def refilter(fit: ComponentFit, endog: np.ndarray, months: pd.PeriodIndex) -> Filtered:
    """Run the filter of ``fit`` with its fitted parameters on ``endog`` (rows = ``months``, which must start
    at the component's first month)."""
    n = len(months)
    if fit.params is None or fit.model is None or not fit.columns:
        nan = np.full(n, np.nan)
        return Filtered(months, nan, nan.copy(), np.full((n, len(fit.columns)), np.nan), np.zeros(n, bool))
    if months[0] != fit.months[0]:
        raise ValueError(f"the grid must start at the component's first month {fit.months[0]}, not {months[0]}")
    res = fit.model.filter(fit.params, endog, track=True)
    a_f, P_f, a_p = res["a_f"], res["P_f"], res["a_p"]
    mean = a_f[:, 0] + a_f[:, 1]
    var = np.maximum(P_f[:, 0, 0] + P_f[:, 1, 1] + 2 * P_f[:, 0, 1], 0.0)
    predicted = a_p @ fit.model.design.T  # a Gaussian column's expected value
    _, _, _, _, alpha = fit.model.unpack(fit.params)
    for i, c in enumerate(fit.columns):
        if c.count:  # a count column's expected count: its rate at the predicted state
            predicted[:, i] = np.exp(np.minimum(alpha[i] + predicted[:, i], 30.0))
    n_obs = np.isfinite(endog).sum(axis=1)
    seen = np.cumsum(n_obs) > 0
    recent = pd.Series(n_obs).rolling(NO_DATA_MONTHS, min_periods=1).sum().to_numpy() > 0
    return Filtered(months, np.where(seen, mean, np.nan), var, predicted, recent & seen)
