"""A scenario's shocks and the scenario placed on the data's months (what :meth:`Scenario.resolve`
returns); the error every check of a scenario raises."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

Timing = str | int | None  # "YYYY-MM", months after start, or left out

class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file, line, field and value."""


@dataclass(frozen=True)
class Shock:
    """One alteration of one input over a run of months."""

    indicator: str
    operation: str  # add | add_sd | scale | set
    amount: float
    first: Timing  # ``month`` or ``from``
    last: Timing  # ``month`` or ``to``
    note: str = ""
    ranged: bool = False  # given as from/to (else month, or neither: the start month)
    index: int = 0  # position in the file (shock[index])
    line: int = 0  # line of its [[shock]] header

    def describe(self) -> str:
        op = {"add": "+{:g}", "add_sd": "{:+g} sd", "scale": "x{:g}", "set": "= {:g}"}[self.operation]
        return f"{self.indicator} {op.format(self.amount)}"


@dataclass(frozen=True)
class ResolvedShock:
    shock: Shock
    months: pd.PeriodIndex


@dataclass(frozen=True)
class Resolved:
    """A scenario placed on the data: its months, and whether it is a counterfactual."""

    start: pd.Period
    end: pd.Period
    last_data_month: pd.Period
    shocks: list[ResolvedShock]

    @property
    def counterfactual(self) -> bool:
        """A run that starts inside the data alters recorded inputs (a counterfactual history)."""
        return self.start <= self.last_data_month

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.start, self.end, freq="M")
