"""One shock applied to one observation, on the indicator's own scale.

The model sees an indicator as a z-score of a value on its scale (see :mod:`dualthreat.measure.series`):
``z = (value - reference_mean) / reference_sd``, where the value is ``log1p(count / months)`` for counts
over a period, ``log1p(events)`` for dated events, and the figure as reported otherwise. A shock works on
the figure as reported (the raw units):

* ``add``: the figure plus the amount (for a count: that many more, in the period the figure covers);
* ``scale``: the figure times the amount (2 = doubling);
* ``set``: the figure replaced by the amount;
* ``add_sd``: the z-score plus the amount (reference standard deviations, in the indicator's own direction:
  for an indicator of sign -1, a positive ``add_sd`` lowers the threat).

The altered figure is kept inside what the figure can be: a count is never negative, days never exceed the
days of the period, a percentage stays within 0-100 and a 0-10 score within 0-10 (``clipped`` says so); a
figure already beyond that range (a projection's expected value can be) is never moved against the shock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dualthreat.measure.series import EVENT_SCALE

COUNT_SCALE = "log1p(count per month)"
BOUNDS = {"percent": (0.0, 100.0), "score_0_10": (0.0, 10.0), "distance": (0.0, float("inf"))}


@dataclass(frozen=True)
class Scale:
    """How an indicator's figure becomes the model's z-score."""

    kind: str  # the scale label of measure.series
    mean: float  # reference mean and sd of the value on that scale
    sd: float
    unit: str | None = None

    def to_raw(self, z: float, months: int) -> float:
        value = z * self.sd + self.mean
        if self.kind == COUNT_SCALE:
            return float(np.expm1(value) * months)
        if self.kind == EVENT_SCALE:
            return float(np.expm1(value))
        return float(value)

    def to_z(self, raw: float, months: int) -> float:
        if self.kind == COUNT_SCALE:
            value = np.log1p(raw / months)
        elif self.kind == EVENT_SCALE:
            value = np.log1p(raw)
        else:
            value = raw
        return float((value - self.mean) / self.sd)

    def bounds(self, end: pd.Period, months: int) -> tuple[float, float]:
        if self.unit == "days":
            first = end - months + 1
            return 0.0, float(sum(m.days_in_month for m in pd.period_range(first, end, freq="M")))
        if self.kind in (COUNT_SCALE, EVENT_SCALE):
            return 0.0, np.inf
        return BOUNDS.get(self.unit or "", (-np.inf, np.inf))


def apply(operation: str, amount: float, z: float, scale: Scale, end: pd.Period, months: int) -> tuple[float, bool]:
    """The z-score of an observation (ending in ``end``, covering ``months``) after the shock, and whether the
    altered figure had to be clipped to its possible range."""
    raw = scale.to_raw(z, months)
    if operation == "add_sd":
        new = scale.to_raw(z + amount, months)
    else:
        new = {"add": raw + amount, "scale": raw * amount, "set": amount}[operation]
    lo, hi = scale.bounds(end, months)
    kept = min(max(new, lo), hi)
    if (kept - raw) * (new - raw) < 0:
        # the figure it alters was already beyond what is possible (a projection knows no bounds): clipping
        # must never move it against the shock, so it stays as it was
        return z, True
    if kept == new and operation == "add_sd":
        return z + amount, False  # exact, without a round trip through the figure's scale
    return scale.to_z(kept, months), kept != new
