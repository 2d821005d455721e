"""One shock applied to one observation, on the indicator's own scale.

The threat model reads an observation in one of two ways (see :mod:`dualthreat.measure.series` and
:mod:`dualthreat.model.threat`):

* a **Gaussian column** holds a z-score ``z = (value - reference_mean) / reference_sd`` of a value on the
  indicator's scale: ``log1p(count / months)`` for counts over a period, the figure as reported otherwise
  (or its change from the previous period, for an indicator with ``transform = "difference"``);
* a **count column** (a list of dated events) holds the monthly count of events itself, read with a count
  likelihood.

A shock works on the figure as reported (the raw units: events, ship-days, percent, the change of a ratio):

* ``add``: the figure plus the amount (for a count: that many more, in the period the figure covers);
* ``scale``: the figure times the amount (2 = doubling);
* ``set``: the figure replaced by the amount;
* ``add_sd``: the value on the model's scale plus the amount, in reference standard deviations of the
  indicator (its own direction: for an indicator of sign -1, a positive ``add_sd`` lowers the threat). For a
  count column, whose scale is centred but not rescaled, one "sd" is one unit of ``log1p(events)``.

The altered figure is kept inside what it can be: a count is never negative, days never exceed the days of
the period, a percentage stays within 0-100 and a 0-10 score within 0-10 (``clipped`` says so); a figure
already beyond that range (a projection's expected value can be) is never moved against the shock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COUNT_SCALE = "log1p(count per month)"
EVENTS = "events in the month (count likelihood)"
DIFFERENCE = ", change from the previous period"
BOUNDS = {"percent": (0.0, 100.0), "score_0_10": (0.0, 10.0)}


@dataclass(frozen=True)
class Scale:
    """How an indicator's figure becomes the value a model column holds.

    ``kind`` is :data:`EVENTS` (a count column), :data:`COUNT_SCALE` or any other scale label of
    :mod:`dualthreat.measure.series` (a figure used as reported); ``differenced``: the figure is a change
    from the previous period."""

    kind: str
    mean: float  # reference mean and sd of the value on its scale (a count column: unused)
    sd: float
    unit: str | None = None
    differenced: bool = False

    @property
    def raw_units(self) -> bool:
        """Whether the figure as reported can be recovered from the column's value (not for the change of a
        log count, whose raw change depends on the level)."""
        return not (self.differenced and self.kind == COUNT_SCALE)

    def to_raw(self, v: float, months: int) -> float:
        if self.kind == EVENTS:
            return float(v)
        value = v * self.sd + self.mean
        if self.kind == COUNT_SCALE and not self.differenced:
            return float(np.expm1(value) * months)
        return float(value)

    def to_value(self, raw: float, months: int) -> float:
        if self.kind == EVENTS:
            return float(raw)
        value = np.log1p(raw / months) if self.kind == COUNT_SCALE and not self.differenced else raw
        return float((value - self.mean) / self.sd)

    def bounds(self, end: pd.Period, months: int) -> tuple[float, float]:
        if self.differenced:
            return -np.inf, np.inf
        if self.unit == "days":
            first = end - months + 1
            return 0.0, float(sum(m.days_in_month for m in pd.period_range(first, end, freq="M")))
        if self.kind in (COUNT_SCALE, EVENTS):
            return 0.0, np.inf
        return BOUNDS.get(self.unit or "", (-np.inf, np.inf))


def apply(operation: str, amount: float, v: float, scale: Scale, end: pd.Period, months: int) -> tuple[float, bool]:
    """The column value of an observation (ending in ``end``, covering ``months``) after the shock, and whether
    the altered figure had to be clipped to its possible range."""
    if not scale.raw_units:
        if operation != "add_sd":
            raise ValueError(f"{operation} needs the figure as reported, which the change of a log count does "
                             "not give back; use add_sd")
        return v + amount, False  # a change has no bounds
    raw = scale.to_raw(v, months)
    if operation == "add_sd":
        new = float(np.expm1(np.log1p(max(raw, 0.0)) + amount)) if scale.kind == EVENTS else \
            scale.to_raw(v + amount, months)
    else:
        new = {"add": raw + amount, "scale": raw * amount, "set": amount}[operation]
    lo, hi = scale.bounds(end, months)
    kept = min(max(new, lo), hi)
    if (kept - raw) * (new - raw) < 0:
        # the figure it alters was already beyond what is possible (a projection knows no bounds): clipping
        # must never move it against the shock, so it stays as it was
        return v, True
    if kept == new and operation == "add_sd" and scale.kind != EVENTS:
        return v + amount, False
    return scale.to_value(kept, months), bool(kept != new)
