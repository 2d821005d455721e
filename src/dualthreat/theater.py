"""Theaters: which patron, allies, threat sources and levels, and which indicator measures which threat
component T[ally, level, source]. Loaded from TOML and validated, with errors that name the bad key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from dualthreat import countries
from dualthreat.tables import TABLES

LEVELS = ("local", "systemic")


class TheaterError(ValueError):
    """A theater file is invalid; the message names the file and key."""


@dataclass(frozen=True)
class Indicator:
    id: str
    ally: str
    level: str
    source: str
    table: str
    series: str
    actor: str | None = None
    target: str | None = None
    unit: str | None = None
    sign: int = 1
    note: str = ""

    @property
    def component(self) -> tuple[str, str, str]:
        return (self.ally, self.level, self.source)


@dataclass(frozen=True)
class Theater:
    name: str
    patron: str
    allies: tuple[str, ...]
    sources: tuple[str, ...]
    levels: tuple[str, ...]
    indicators: tuple[Indicator, ...]
    labels: dict[str, str]
    file: str = ""

    @property
    def states(self) -> tuple[str, ...]:
        """The patron, the allies and the threat sources, in that order."""
        return tuple(dict.fromkeys((self.patron, *self.allies, *self.sources)))

    def components(self) -> list[tuple[str, str, str]]:
        return [(a, lvl, s) for a in self.allies for lvl in self.levels for s in self.sources]

    def indicators_for(self, ally: str, level: str, source: str) -> list[Indicator]:
        return [i for i in self.indicators if i.component == (ally, level, source)]

    def label(self, code: str) -> str:
        return self.labels.get(code, code)


_TOP_KEYS = {"name", "patron", "allies", "sources", "levels", "labels", "indicator"}
_IND_KEYS = {"id", "component", "table", "series", "actor", "target", "unit", "sign", "note"}


def _fail(file: str, key: str, reason: str) -> TheaterError:
    return TheaterError(f"{file}: {key}: {reason}")


def _country(file: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not countries.is_known(value):
        raise _fail(file, key, f"{value!r} is not a known ISO3 country code")
    return value


def parse_theater(data: dict[str, Any], file: str = "<theater>") -> Theater:
    """Validate a parsed theater document."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail(file, sorted(unknown)[0], f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("name", "patron", "allies", "sources", "levels"):
        if key not in data:
            raise _fail(file, key, "missing")
    if not isinstance(data["name"], str) or not data["name"]:
        raise _fail(file, "name", "must be a non-empty string")
    patron = _country(file, "patron", data["patron"])
    groups = {}
    for key in ("allies", "sources"):
        value = data[key]
        if not isinstance(value, list) or not value:
            raise _fail(file, key, "must be a non-empty list of ISO3 codes")
        groups[key] = tuple(_country(file, f"{key}[{i}]", v) for i, v in enumerate(value))
    levels = data["levels"]
    if not isinstance(levels, list) or sorted(levels) != sorted(LEVELS):
        raise _fail(file, "levels", f"must be {list(LEVELS)}")
    labels = data.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise _fail(file, "labels", "must map country codes to names")
    raw_inds = data.get("indicator", [])
    if not isinstance(raw_inds, list):
        raise _fail(file, "indicator", "must be an array of tables ([[indicator]])")
    indicators, ids = [], set()
    for n, raw in enumerate(raw_inds):
        where = f"indicator[{n}]"
        if not isinstance(raw, dict):
            raise _fail(file, where, "must be a table")
        bad = set(raw) - _IND_KEYS
        if bad:
            raise _fail(file, f"{where}.{sorted(bad)[0]}", f"unknown key (allowed: {', '.join(sorted(_IND_KEYS))})")
        for key in ("id", "component", "table", "series"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise _fail(file, f"{where}.{key}", "missing or not a string")
        where = f"indicator[{n}] ({raw['id']})"
        if raw["id"] in ids:
            raise _fail(file, f"{where}.id", "duplicate id")
        ids.add(raw["id"])
        parts = raw["component"].split(".")
        if len(parts) != 3:
            raise _fail(file, f"{where}.component", f"{raw['component']!r} is not of the form ALLY.level.SOURCE")
        ally, level, source = parts
        if ally not in groups["allies"]:
            raise _fail(file, f"{where}.component", f"ally {ally!r} is not in allies {list(groups['allies'])}")
        if level not in LEVELS:
            raise _fail(file, f"{where}.component", f"level {level!r} is not one of {list(LEVELS)}")
        if source not in groups["sources"]:
            raise _fail(file, f"{where}.component", f"source {source!r} is not in sources {list(groups['sources'])}")
        if raw["table"] not in TABLES:
            raise _fail(file, f"{where}.table", f"{raw['table']!r} is not a table (one of {', '.join(TABLES)})")
        for key in ("actor", "target"):
            if key in raw:
                _country(file, f"{where}.{key}", raw[key])
        sign = raw.get("sign", 1)
        if isinstance(sign, bool) or not isinstance(sign, int) or sign not in (1, -1):
            raise _fail(file, f"{where}.sign", f"{sign!r} must be 1 or -1")
        indicators.append(Indicator(raw["id"], ally, level, source, raw["table"], raw["series"], raw.get("actor"),
                                    raw.get("target"), raw.get("unit"), sign, raw.get("note", "")))
    return Theater(data["name"], patron, groups["allies"], groups["sources"], tuple(LEVELS), tuple(indicators),
                   dict(labels), file)


def load_theater(path: str | Path | None = None) -> Theater:
    """Load a theater file; by default the packaged ``northeast_asia.toml``."""
    if path is None:
        ref = resources.files("dualthreat").joinpath("theaters/northeast_asia.toml")
        text, file = ref.read_text("utf-8"), "theaters/northeast_asia.toml"
    else:
        file = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TheaterError(f"{file}: cannot be read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TheaterError(f"{file}: not valid TOML ({exc})") from None
    return parse_theater(data, file)
