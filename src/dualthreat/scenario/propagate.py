"""The adapter between scenarios and the fitted threat model: re-filter one component, with its fitted
parameters, on altered observation columns, over months that may run past the data (a projection).

Everything the scenario layer needs from :mod:`dualthreat.model.threat` and :mod:`dualthreat.model.mediator`
goes through this module, so that a change of the model's internals changes this file only.

* :func:`observation_matrix`: a component's columns (standardised, sign not applied) on a month grid;
* :func:`refilter`: the Kalman filter of the component's state-space model, parameters as fitted (never
  re-estimated), on a given matrix: filtered mean and variance of the monthly threat, and the one-step
  prediction of every column. Months past the data are missing rows, so the filter carries the state
  forward with the model's dynamics (a local level: the mean stays, the variance grows by ``q`` a month);
* :func:`backing_by_month`: China's backing of North Korea in effect in each month for the filtered
  mediator (the previous year's value, the last one carrying on), with its sd and the distance behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dualthreat.model.mediator import china_backing
from dualthreat.model.threat import AggregatedLocalLevel, ComponentFit


@dataclass
class Filtered:
    """Filtered estimates of one component on a month grid."""

    months: pd.PeriodIndex
    mean: np.ndarray  # E[x_t | y_1..y_t]
    var: np.ndarray  # Var[x_t | y_1..y_t]
    predicted: np.ndarray  # (months, columns): E[y_t | y_1..y_{t-1}], the one-step prediction of each column


def observation_matrix(fit: ComponentFit, months: pd.PeriodIndex) -> np.ndarray:
    """The component's observed columns on ``months`` (NaN where a column has no figure)."""
    if not fit.columns:
        return np.empty((len(months), 0))
    return np.column_stack([c.values.reindex(months).to_numpy(dtype=float) for c in fit.columns])


def refilter(fit: ComponentFit, endog: np.ndarray, months: pd.PeriodIndex) -> Filtered:
    """Run the Kalman filter of ``fit`` with its fitted parameters on ``endog`` (rows = ``months``, which
    must start at the component's first month)."""
    if fit.params is None or not fit.columns:
        nan = np.full(len(months), np.nan)
        return Filtered(months, nan, nan.copy(), np.full((len(months), len(fit.columns)), np.nan))
    if months[0] != fit.months[0]:
        raise ValueError(f"the grid must start at the component's first month {fit.months[0]}, not {months[0]}")
    model = AggregatedLocalLevel(endog, [c.months for c in fit.columns], [c.sign for c in fit.columns],
                                 [True] * len(fit.columns))
    res = model.filter(fit.params, transformed=True, cov_type="none")
    return Filtered(months, np.asarray(res.filtered_state[0]), np.maximum(res.filtered_state_cov[0, 0], 0.0),
                    np.asarray(res.forecasts).T.copy())


def backing_by_month(store: Any, model: Any, months: pd.PeriodIndex) -> pd.DataFrame:
    """China's backing of North Korea in effect in each month of ``months`` for the filtered mediator: the
    previous year's value (a year's UN record is complete at its end), the last published year carrying on.
    Columns: month, year_used, backing (z), backing_sd, distance (ideal-point units), and the scale of the
    distance: ``distance_mean``, ``distance_sd`` (backing = -(distance - mean) / sd)."""
    theater = model.theater_
    src = "PRK" if "PRK" in theater.sources else theater.sources[-1]
    china = "CHN" if "CHN" in theater.sources else theater.sources[0]
    b = china_backing(store, model.reference, china, src)
    if model.as_of:
        b = b[b.year < pd.Timestamp(model.as_of).year]
    b = b.sort_values("year").reset_index(drop=True)
    out = pd.DataFrame({"month": months})
    if b.empty:
        return out.assign(year_used=-1, backing=np.nan, backing_sd=np.nan, distance=np.nan, distance_mean=np.nan,
                          distance_sd=np.nan)
    # backing is an affine function of the distance: recover its scale exactly from the table
    sd = float(b["distance"].std(ddof=1) / b["backing"].std(ddof=1)) if len(b) > 1 else 1.0
    mean = float((b["distance"] + b["backing"] * sd).mean())
    years = b["year"].to_numpy()
    wanted = np.array([m.year - 1 for m in months])
    pos = np.searchsorted(years, wanted, side="right") - 1
    ok = pos >= 0
    take = b.iloc[np.clip(pos, 0, None)].reset_index(drop=True)
    out["year_used"] = np.where(ok, take["year"], -1)
    for col in ("backing", "backing_sd", "distance"):
        out[col] = np.where(ok, take[col], np.nan)
    out["distance_mean"], out["distance_sd"] = mean, sd
    return out
