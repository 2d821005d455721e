"""A scenario file (TOML): what is altered, where and when. Parsed and validated with errors that name the
file, the line, the field and the value.

```toml
name = "A further North Korean nuclear test"
theater = "northeast_asia"  # the theater whose indicators it shocks (default: the packaged default)
start = "next"            # first month of the run: "YYYY-MM", or "next" (the month after the data's last)
horizon = 12              # months simulated from start
note = "what the scenario represents"

[[shock]]
indicator = "dprk_nuclear_test_kor"   # an indicator id of the theater (or of its [[backing]])
month = 0                 # the month it applies: "YYYY-MM" or months after start (0 = start);
                          # or from/to for a run of months (either may be left out: start / end of run)
add = 1                   # exactly one of: add (raw units), add_sd (reference sds), scale (x), set (raw)
```

Parsing checks the file on its own and against the theater (known indicators); :meth:`Scenario.resolve`
checks the months against the data (a month outside the data or outside the run is refused).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dualthreat.scenario.resolved import Resolved, ResolvedShock, ScenarioError, Shock, Timing
from dualthreat.theater import DEFAULT_THEATER, Theater, TheaterError, load_theater

OPERATIONS = ("add", "add_sd", "scale", "set")
MAX_HORIZON = 120
_TOP_KEYS = {"name", "theater", "start", "horizon", "note", "shock"}
_SHOCK_KEYS = {"indicator", "month", "from", "to", "note", *OPERATIONS}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

@dataclass(frozen=True)
class Scenario:
    """A parsed, validated scenario. ``Scenario.from_file(path).run(model, store)`` runs it."""

    name: str
    start: str  # "YYYY-MM" or "next"
    horizon: int
    shocks: tuple[Shock, ...]
    note: str = ""
    file: str = "<scenario>"
    text: str = ""
    theater: str = DEFAULT_THEATER  # the theater whose indicators the shocks name (the file's ``theater`` key)

    # ------------------------------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path, theater: Theater | None = None) -> Scenario:
        """Read and validate a scenario file against ``theater`` (default: the theater the file names in its
        ``theater`` key, else the packaged default)."""
        file = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{file}: cannot be read ({exc})") from None
        return cls.from_text(text, file, theater)

    @classmethod
    def from_text(cls, text: str, file: str = "<scenario>", theater: Theater | None = None) -> Scenario:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{file}: not valid TOML ({exc})") from None
        named = data.get("theater")
        if theater is None:
            if named is not None and not isinstance(named, str):
                raise ScenarioError(f"{file}:{_Lines(text).top('theater')}: theater: {named!r} must be the name "
                                    "of a packaged theater or a theater file")
            try:
                theater = load_theater(named)
            except TheaterError as exc:
                raise ScenarioError(f"{file}:{_Lines(text).top('theater')}: theater: {exc}") from None
        return _parse(data, file, text, theater)

    # ------------------------------------------------------------------------------------------------
    def resolve(self, first_data_month: pd.Period, last_data_month: pd.Period) -> Resolved:
        """Place the scenario on the data's months: ``start`` must lie inside the data or be the month just
        after it, and every shock inside the run."""
        lines = _Lines(self.text)
        where = f"{self.file}:{lines.top('start')}: start"
        if self.start == "next":
            start = last_data_month + 1
        else:
            start = pd.Period(self.start, freq="M")
            if start < first_data_month + 1:
                raise ScenarioError(f"{where}: {self.start!r} is outside the data: the model's first month is "
                                    f"{first_data_month}, and a run needs at least one month before it")
            if start > last_data_month + 1:
                raise ScenarioError(f"{where}: {self.start!r} is outside the data: its last month is "
                                    f"{last_data_month}, so a run starts at the latest in {last_data_month + 1} "
                                    "(start = \"next\"; shocks can then be placed later with month = N)")
        end = start + self.horizon - 1
        resolved = []
        for s in self.shocks:
            first = self._month(s, s.first, "from" if s.ranged else "month", start, start, end, lines)
            last = self._month(s, s.last, "to" if s.ranged else "month", end, start, end, lines)
            if last < first:
                line = lines.shock(s.index, "to")
                raise ScenarioError(f"{self.file}:{line}: shock[{s.index}].to: {s.last!r} is before "
                                    f"from = {s.first!r}")
            resolved.append(ResolvedShock(s, pd.period_range(first, last, freq="M")))
        return Resolved(start, end, last_data_month, resolved)

    def _month(self, s: Shock, value: Timing, key: str, default: pd.Period, start: pd.Period, end: pd.Period,
               lines: _Lines) -> pd.Period:
        if value is None:
            return default
        m = start + value if isinstance(value, int) else pd.Period(value, freq="M")
        if not start <= m <= end:
            shown = f"{value!r}" + (f" (= {m})" if isinstance(value, int) else "")
            raise ScenarioError(f"{self.file}:{lines.shock(s.index, key)}: shock[{s.index}].{key}: {shown} is "
                                f"outside the run ({start} to {end}, start + horizon - 1)")
        return m

    def run(self, model: Any, store: Any, draws: int = 1000, seed: int = 0, replicates: int = 100) -> Any:
        """Run the scenario against the framework (see :func:`dualthreat.scenario.run.run_scenario`)."""
        from dualthreat.scenario.run import run_scenario

        return run_scenario(self, model, store, draws=draws, seed=seed, replicates=replicates)


# ----------------------------------------------------------------------------------------------------
class _Lines:
    """Line numbers of keys in the TOML text (tomllib gives none): top-level keys before the first table,
    and keys inside the n-th [[shock]] table."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i + 1 for i, ln in enumerate(self.lines) if re.match(r"^\s*\[\[\s*shock\s*\]\]", ln)]

    def _find(self, key: str, lo: int, hi: int) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for n in range(lo, min(hi, len(self.lines))):
            if pattern.match(self.lines[n]):
                return n + 1
        return None

    def top(self, key: str) -> int:
        hi = self.headers[0] - 1 if self.headers else len(self.lines)
        return self._find(key, 0, hi) or 1

    def shock(self, index: int, key: str | None = None) -> int:
        if index >= len(self.headers):
            return 1
        header = self.headers[index]
        if key is None:
            return header
        hi = self.headers[index + 1] - 1 if index + 1 < len(self.headers) else len(self.lines)
        return self._find(key, header, hi) or header


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _timing(value: Any, where: str) -> Timing:
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: {value!r} is not a month (\"YYYY-MM\") or a number of months after start")
    if isinstance(value, int):
        if value < 0:
            raise ScenarioError(f"{where}: {value!r} is not a number of months after start (0 = start)")
        return value
    if isinstance(value, str) and _MONTH.match(value):
        return value
    raise ScenarioError(f"{where}: {value!r} is not a month (\"YYYY-MM\") or a number of months after start")


def _parse(data: dict[str, Any], file: str, text: str, theater: Theater) -> Scenario:
    lines = _Lines(text)

    def top(key: str, reason: str) -> ScenarioError:
        return ScenarioError(f"{file}:{lines.top(key)}: {key}: {reason}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise top(unknown[0], f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("name", "start"):
        if key not in data:
            raise ScenarioError(f"{file}:1: {key}: missing")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise top("name", f"{name!r} must be a non-empty string")
    start = data["start"]
    if not (isinstance(start, str) and (start == "next" or _MONTH.match(start))):
        raise top("start", f"{start!r} is not a month (\"YYYY-MM\") or \"next\"")
    horizon = data.get("horizon", 12)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
        raise top("horizon", f"{horizon!r} must be a whole number of months from 1 to {MAX_HORIZON}")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise top("note", f"{note!r} must be a string")
    named = data.get("theater")  # a file that names no theater is checked against the one it is run in
    if named is not None and named not in (theater.key, theater.file):
        raise top("theater", f"the scenario is written for the theater {named!r}, not {theater.key!r}: run it "
                             f"with --theater {named}")
    raw_shocks = data.get("shock")
    if not isinstance(raw_shocks, list) or not raw_shocks or not all(isinstance(s, dict) for s in raw_shocks):
        raise ScenarioError(f"{file}:{lines.top('shock')}: shock: a scenario needs at least one [[shock]] table "
                            f"(found {raw_shocks!r})" if "shock" in data else
                            f"{file}:1: shock: missing (a scenario needs at least one [[shock]] table)")
    known = {i.id for i in theater.indicators} | {i.id for i in theater.backing}
    shocks = []
    for n, raw in enumerate(raw_shocks):
        def fail(key: str | None, reason: str, n: int = n) -> ScenarioError:
            field = f"shock[{n}]" + (f".{key}" if key else "")
            return ScenarioError(f"{file}:{lines.shock(n, key)}: {field}: {reason}")

        bad = sorted(set(raw) - _SHOCK_KEYS)
        if bad:
            raise fail(bad[0], f"unknown key (allowed: {', '.join(sorted(_SHOCK_KEYS))})")
        indicator = raw.get("indicator")
        if not isinstance(indicator, str):
            raise fail("indicator" if "indicator" in raw else None,
                       f"{indicator!r} is not an indicator id" if "indicator" in raw else "indicator: missing")
        if indicator not in known:
            close = difflib.get_close_matches(indicator, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise fail("indicator", f"{indicator!r} is not an indicator of the theater {theater.name}{hint}; "
                                    "`dualthreat theater show` lists them (the threat indicators and the "
                                    "[[backing]] ones of the mediator)")
        ops = [k for k in OPERATIONS if k in raw]
        if len(ops) != 1:
            raise fail(ops[1] if len(ops) > 1 else None,
                       f"needs exactly one of {', '.join(OPERATIONS)} (found "
                       f"{', '.join(ops) if ops else 'none'})")
        op, amount = ops[0], raw[ops[0]]
        if not _number(amount):
            raise fail(op, f"{amount!r} is not a finite number")
        if op == "scale" and amount < 0:
            raise fail(op, f"{amount!r}: a scale factor cannot be negative")
        if "month" in raw and ("from" in raw or "to" in raw):
            raise fail("month", "give either month or from/to, not both")
        if "month" in raw:
            first = last = _timing(raw["month"], f"{file}:{lines.shock(n, 'month')}: shock[{n}].month")
        else:
            first = _timing(raw["from"], f"{file}:{lines.shock(n, 'from')}: shock[{n}].from") if "from" in raw \
                else None
            last = _timing(raw["to"], f"{file}:{lines.shock(n, 'to')}: shock[{n}].to") if "to" in raw else None
            if first is None and last is None:
                first = last = 0  # neither month nor from/to: the start month
        if start == "next":
            for key in ("month", "from", "to"):
                if isinstance(raw.get(key), str):
                    raise fail(key, f"{raw[key]!r}: with start = \"next\" a shock's month is a number of months "
                                    "after start (0 = start)")
        note_s = raw.get("note", "")
        if not isinstance(note_s, str):
            raise fail("note", f"{note_s!r} must be a string")
        shocks.append(Shock(indicator, op, float(amount), first, last, note_s, "month" not in raw, n,
                            lines.shock(n)))
    return Scenario(name.strip(), start, horizon, tuple(shocks), note.strip(), file, text, theater.key)
