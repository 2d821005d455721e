"""Theaters: which patron, allies, threat sources and levels, and which indicator measures which threat
component T[ally, level, source]. Loaded from TOML and validated, with errors that name the bad key.

A theater also names the roles of its sources: the ``great_power`` (China in Northeast Asia) and its ``client``
(North Korea), whose threat works through the great power's backing (the mediator). Packaged theaters live in
``dualthreat/theaters/``; :func:`load_theater` takes a packaged theater's name or a file.
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
# The named series an indicator can read from each table other than `indicators` (whose series are the values
# of its `series` column); dualthreat.measure.series computes them (tests/test_theater.py checks they agree).
NAMED_SERIES: dict[str, tuple[str, ...]] = {
    "missile_tests": ("tests_all", "tests_landing_sea_of_japan_or_pacific", "tests_short_range", "tests_long_range"),
    "capabilities": ("cinc", "cinc_ratio_to_patron"),
    "military_spending": ("share_gdp",),
    "territorial_threat": ("threat",),
    "pew_favorability": ("pct_favorable", "pct_unfavorable", "pct_very_favorable", "pct_somewhat_favorable",
                         "pct_somewhat_unfavorable", "pct_very_unfavorable", "pct_dk"),
    "icews_dyad_month": ("conflict_total", "verbal_conflict", "material_conflict"),
    "icews_dyad_year": ("verbal_coop", "material_coop", "verbal_conflict", "material_conflict", "net_cooperation",
                        "cooperation_share", "conflict_share"),
    "gdelt_pairs": ("weight_mean", "weight_sum"),
}


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
    great_power: str = ""
    client: str = ""
    description: str = ""

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


_TOP_KEYS = {"name", "patron", "allies", "sources", "levels", "labels", "indicator", "great_power", "client",
             "description"}
PACKAGED = "theaters"
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
        named = NAMED_SERIES.get(raw["table"])
        if named is not None and raw["series"] not in named:
            raise _fail(file, f"{where}.series", f"{raw['series']!r} is not a series of {raw['table']} "
                        f"(one of {', '.join(named)})")
        for key in ("actor", "target"):
            if key in raw:
                _country(file, f"{where}.{key}", raw[key])
        sign = raw.get("sign", 1)
        if isinstance(sign, bool) or not isinstance(sign, int) or sign not in (1, -1):
            raise _fail(file, f"{where}.sign", f"{sign!r} must be 1 or -1")
        indicators.append(Indicator(raw["id"], ally, level, source, raw["table"], raw["series"], raw.get("actor"),
                                    raw.get("target"), raw.get("unit"), sign, raw.get("note", "")))
    roles = {}
    for key, default in (("great_power", groups["sources"][0]), ("client", groups["sources"][-1])):
        value = data.get(key, default)
        if value not in groups["sources"]:
            raise _fail(file, key, f"{value!r} is not in sources {list(groups['sources'])}")
        roles[key] = value
    if len(groups["sources"]) > 1 and roles["great_power"] == roles["client"]:
        raise _fail(file, "client", f"{roles['client']!r} is also the great_power; the client is another source")
    missing = [f"{a}.{lvl}.{src}" for a in groups["allies"] for lvl in LEVELS for src in groups["sources"]
               if not any(i.component == (a, lvl, src) for i in indicators)]
    if missing:
        raise _fail(file, "indicator", f"component {missing[0]} has no indicator (every ALLY.level.SOURCE needs one; "
                    f"{len(missing)} without)")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(file, "description", "must be a string")
    return Theater(data["name"], patron, groups["allies"], groups["sources"], tuple(LEVELS), tuple(indicators),
                   dict(labels), file, roles["great_power"], roles["client"], description)


def packaged_theaters() -> list[str]:
    """The names of the packaged theaters (their file names without ``.toml``), the default first."""
    names = sorted(p.name[:-5] for p in resources.files("dualthreat").joinpath(PACKAGED).iterdir()
                   if p.name.endswith(".toml"))
    return sorted(names, key=lambda n: n != DEFAULT_THEATER)


DEFAULT_THEATER = "northeast_asia"


def load_theater(path: str | Path | None = None) -> Theater:
    """Load a theater: a packaged theater's name (see :func:`packaged_theaters`), a TOML file, or by default
    the packaged ``northeast_asia``."""
    name = DEFAULT_THEATER if path is None else str(path)
    if name in packaged_theaters() and not Path(name).exists():
        ref = resources.files("dualthreat").joinpath(f"{PACKAGED}/{name}.toml")
        text, file = ref.read_text("utf-8"), f"{PACKAGED}/{name}.toml"
    elif path is not None and not Path(path).exists() and Path(str(path)).suffix != ".toml":
        raise TheaterError(f"{path}: no such theater; packaged theaters: {', '.join(packaged_theaters())} "
                           "(or give a .toml file)")
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
