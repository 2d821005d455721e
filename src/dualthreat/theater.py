"""Theaters: which patron, allies, threat sources and levels, and which indicator measures which threat
component T[ally, level, source]; and which indicators measure the threat source's backing of its client
(the mediator's second factor). Loaded from TOML and validated, with errors that name the bad key.

The ``[mediator]`` table names the roles of the sources: the ``client`` (North Korea in Northeast Asia), whose
threat works through the ``backer``'s (the great power's, China's) backing. Packaged theaters live in
``dualthreat/theaters/``; :func:`load_theater` takes a packaged theater's name or a file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported only when a month is parsed (readers import this module)
    import pandas as pd

from dualthreat import countries
from dualthreat.tables import TABLES

LEVELS = ("local", "systemic")
TRANSFORMS = ("difference",)
# The named series an indicator can read from each table other than `indicators` (whose series are the values
# of its `series` column); dualthreat.measure.series computes them (tests/test_theater.py checks they agree).
NAMED_SERIES: dict[str, tuple[str, ...]] = {
    "missile_tests": ("tests_all", "tests_landing_sea_of_japan_or_pacific", "tests_short_range", "tests_medium_range",
                      "tests_long_range"),
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
PACKAGED = "theaters"
DEFAULT_THEATER = "northeast_asia"
BACKING = "backing"  # the pseudo-component of the backing indicators


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
    start: pd.Period | None = None  # first month used (for a list of dated events: complete from then on)
    end: pd.Period | None = None  # last month used
    transform: str | None = None  # "difference": the change from the previous period
    directed: bool = True  # an ICEWS dyad series from actor to target; False: the pair's events in both directions

    @property
    def component(self) -> tuple[str, str, str]:
        return (self.ally, self.level, self.source)


@dataclass(frozen=True)
class PublicSeries:
    """One poll series of the home front (``[[public]]``): where it is in the store, which way it points, and
    what it measures."""

    id: str
    ally: str  # the surveyed public
    target: str  # the country rated
    table: str  # "indicators" (curated figures) or "pew_favorability" (Pew aggregates)
    series: str  # indicators.series, or the pew_favorability column
    sign: int  # +1: higher = more threat / more unfavourable (for the patron: warmer); -1 the reverse
    note: str
    backfill: str | None = None  # an indicators series of the same survey used for years the table lacks


@dataclass(frozen=True)
class EliteCategory:
    """``[[elite]]``: the word-list category whose rate in an ally's UN General Debate statements is its
    leaders' salience of a state, and how a sentence names that state."""

    state: str
    category: str
    name: str


@dataclass(frozen=True)
class PublicView:
    """``[[identity.view]]``: a poll series of one public's view of another state, as reported."""

    actor: str
    target: str
    series: str  # an indicators series, or "pew:<pew_favorability column>"
    label: str


# The roles of the paper's hypotheses (``[hypotheses]``): which ally each proposition is about.
ROLES = {
    "great_power_ally": "the ally the paper expects to follow its local threat from the great power (Japan)",
    "client_ally": "the ally the paper expects to follow the client's threat, the great power entering through it "
                   "(South Korea)",
}


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
    backing: tuple[Indicator, ...] = field(default=())  # the source's backing of its client (the mediator)
    client: str | None = None  # the source whose threat the mediator carries (North Korea)
    backer: str | None = None  # the source whose backing of the client the mediator weighs (China)
    description: str = ""
    threat_label: str = ""  # how a sentence names the mediator's threat factor ("North Korean threat")
    backing_label: str = ""  # and its backing factor ("China's backing of the North")
    elite: tuple[EliteCategory, ...] = ()  # elite salience categories (home front)
    public: tuple[PublicSeries, ...] = ()  # poll series (home front)
    identity_dyads: tuple[tuple[str, str], ...] = ()  # dyads of the identity section
    identity_views: tuple[PublicView, ...] = ()  # polls of one side's view of the other
    roles: dict[str, str] = field(default_factory=dict)  # [hypotheses] roles: see ROLES
    powers: tuple[str, ...] = ()  # [hypotheses] powers: other powers whose favourability is set against the patron's
    affinity_series: str | None = None  # [hypotheses] affinity_series: the great-power ally's affinity with the other

    @property
    def key(self) -> str:
        """The theater's short name: the packaged name (``eastern_flank``) or its file's name without ``.toml``;
        what ``--theater``, a scenario file's ``theater`` key and ``report-<key>.html`` use."""
        return Path(self.file).stem if self.file else self.name

    def is_actor(self, actor: str) -> bool:
        """True for an episode actor of this theater: one of its allies, or a joint act of them (``A-B``)."""
        return set(str(actor).split("-")) <= set(self.allies)

    @property
    def great_power(self) -> str | None:
        """The great power among the sources: the backer of the client."""
        return self.backer

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

    def pair_label(self, a: str, b: str) -> str:
        """How sentences name two states together: ``[labels] "A-B"`` if the file gives it (Northeast Asia:
        "Japan-ROK"), else their two names joined by '-'."""
        return self.labels.get(f"{a}-{b}") or f"{self.label(a)}-{self.label(b)}"

    def role(self, name: str) -> str | None:
        """The ally given the hypotheses' role ``name`` (see :data:`ROLES`), or None if the theater gives none."""
        return self.roles.get(name)

    @property
    def other_ally(self) -> dict[str, str]:
        """For a theater of two allies, each ally's other one (empty otherwise)."""
        return {self.allies[0]: self.allies[1], self.allies[1]: self.allies[0]} if len(self.allies) == 2 else {}

    @property
    def mediator_text(self) -> tuple[str, str]:
        """How sentences name the mediator's two factors: the client's threat and the backer's backing."""
        client, backer = self.label(self.client or ""), self.label(self.backer or "")
        return (self.threat_label or f"threat from {client}",
                self.backing_label or f"{backer}'s backing of {client}")


_TOP_KEYS = {"name", "patron", "allies", "sources", "levels", "labels", "indicator", "backing", "mediator",
             "description", "elite", "public", "identity", "hypotheses"}
_PUBLIC_KEYS = {"id", "ally", "target", "table", "series", "sign", "note", "backfill"}
_PUBLIC_TABLES = ("indicators", "pew_favorability")
_IND_KEYS = {"id", "component", "table", "series", "actor", "target", "unit", "sign", "note", "start", "end",
             "transform", "directed"}
_DIRECTED_TABLES = ("icews_dyad_month", "icews_dyad_year")  # the tables with a direction (GDELT pairs have none)
_BACKING_KEYS = _IND_KEYS - {"component"}


def _fail(file: str, key: str, reason: str) -> TheaterError:
    return TheaterError(f"{file}: {key}: {reason}")


def _country(file: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not countries.is_known(value):
        raise _fail(file, key, f"{value!r} is not a known ISO3 country code")
    return value


def _month(file: str, key: str, value: Any) -> pd.Period | None:
    import pandas as pd

    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 7:
            raise ValueError
        return pd.Period(value, freq="M")
    except ValueError:
        raise _fail(file, key, f"{value!r} is not a month YYYY-MM") from None


def _indicator_fields(file: str, where: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The checked keys an indicator shares with a backing indicator (all but its component)."""
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
    transform = raw.get("transform")
    if transform is not None and transform not in TRANSFORMS:
        raise _fail(file, f"{where}.transform", f"{transform!r} is not one of {list(TRANSFORMS)}")
    start, end = _month(file, f"{where}.start", raw.get("start")), _month(file, f"{where}.end", raw.get("end"))
    if start is not None and end is not None and end < start:
        raise _fail(file, f"{where}.end", f"{end} is before start {start}")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise _fail(file, f"{where}.note", "must be a string")
    directed = raw.get("directed", True)
    if not isinstance(directed, bool):
        raise _fail(file, f"{where}.directed", f"{directed!r} must be true or false")
    if not directed and raw["table"] not in _DIRECTED_TABLES:
        raise _fail(file, f"{where}.directed", f"only a series of {' or '.join(_DIRECTED_TABLES)} has a direction "
                    f"to drop ({raw['table']} has none)")
    return {"table": raw["table"], "series": raw["series"], "actor": raw.get("actor"), "target": raw.get("target"),
            "unit": raw.get("unit"), "sign": sign, "note": note, "start": start, "end": end, "transform": transform,
            "directed": directed}


def _entries(file: str, data: dict[str, Any], key: str, allowed: set[str], required: tuple[str, ...],
             ids: set[str]) -> list[tuple[str, dict[str, Any]]]:
    raw_inds = data.get(key, [])
    if not isinstance(raw_inds, list):
        raise _fail(file, key, f"must be an array of tables ([[{key}]])")
    out = []
    for n, raw in enumerate(raw_inds):
        where = f"{key}[{n}]"
        if not isinstance(raw, dict):
            raise _fail(file, where, "must be a table")
        _strings(file, where, raw, tuple(required), allowed)
        where = f"{key}[{n}] ({raw['id']})"
        if raw["id"] in ids:
            raise _fail(file, f"{where}.id", "duplicate id")
        ids.add(raw["id"])
        out.append((where, raw))
    return out


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
    indicators, ids = [], set()
    for where, raw in _entries(file, data, "indicator", _IND_KEYS, ("id", "component", "table", "series"), ids):
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
        indicators.append(Indicator(raw["id"], ally, level, source, **_indicator_fields(file, where, raw)))
    mediator = data.get("mediator", {})
    if not isinstance(mediator, dict) or set(mediator) - {"client", "backer", "threat_label", "backing_label"}:
        raise _fail(file, "mediator", "must be a table with keys client and backer (threat sources), and "
                    "optionally threat_label and backing_label")
    for key in ("threat_label", "backing_label"):
        if not isinstance(mediator.get(key, ""), str):
            raise _fail(file, f"mediator.{key}", "must be a string")
    sources = groups["sources"]
    client = mediator.get("client", sources[-1])
    backer = mediator.get("backer", sources[0])
    for key, value in (("client", client), ("backer", backer)):
        if value not in sources:
            raise _fail(file, f"mediator.{key}", f"{value!r} is not in sources {list(sources)}")
    if len(sources) > 1 and client == backer:
        raise _fail(file, "mediator.client", f"{client!r} is also the backer; the client is another source")
    missing = [f"{a}.{lvl}.{src}" for a in groups["allies"] for lvl in LEVELS for src in sources
               if not any(i.component == (a, lvl, src) for i in indicators)]
    if missing:
        raise _fail(file, "indicator", f"component {missing[0]} has no indicator (every ALLY.level.SOURCE needs one; "
                    f"{len(missing)} without)")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(file, "description", "must be a string")
    backing = []
    for where, raw in _entries(file, data, "backing", _BACKING_KEYS, ("id", "table", "series"), ids):
        backing.append(Indicator(raw["id"], BACKING, BACKING, backer, **_indicator_fields(file, where, raw)))
    states = (patron, *groups["allies"], *sources)
    hyp = _hypotheses(file, data.get("hypotheses", {}), groups["allies"])
    return Theater(data["name"], patron, groups["allies"], groups["sources"], tuple(LEVELS), tuple(indicators),
                   dict(labels), file, tuple(backing), client, backer, description,
                   mediator.get("threat_label", ""), mediator.get("backing_label", ""),
                   _elite(file, data.get("elite", []), states), _public(file, data.get("public", []), groups["allies"]),
                   *_identity(file, data.get("identity", {})), **hyp)


def _table_list(file: str, key: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(file, key, f"must be an array of tables ([[{key}]])")
    return [(f"{key}[{n}]", v) for n, v in enumerate(value)]


def _strings(file: str, where: str, raw: dict[str, Any], required: tuple[str, ...], allowed: set[str]) -> None:
    bad = set(raw) - allowed
    if bad:
        raise _fail(file, f"{where}.{sorted(bad)[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for k in required:
        if not isinstance(raw.get(k), str) or not raw[k]:
            raise _fail(file, f"{where}.{k}", "missing or not a string")


def _elite(file: str, value: Any, states: tuple[str, ...]) -> tuple[EliteCategory, ...]:
    """``[[elite]]``: state, word-list category, name in sentences."""
    out = []
    for where, raw in _table_list(file, "elite", value):
        _strings(file, where, raw, ("state", "category", "name"), {"state", "category", "name"})
        if raw["state"] not in states:
            raise _fail(file, f"{where}.state", f"{raw['state']!r} is not a state of the theater {list(states)}")
        out.append(EliteCategory(raw["state"], raw["category"], raw["name"]))
    return tuple(out)


def _public(file: str, value: Any, allies: tuple[str, ...]) -> tuple[PublicSeries, ...]:
    """``[[public]]``: the home front's poll series."""
    out = []
    for where, raw in _table_list(file, "public", value):
        _strings(file, where, raw, ("id", "ally", "target", "table", "series", "note"), _PUBLIC_KEYS)
        if raw["ally"] not in allies:
            raise _fail(file, f"{where}.ally", f"{raw['ally']!r} is not in allies {list(allies)}")
        _country(file, f"{where}.target", raw["target"])
        if raw["table"] not in _PUBLIC_TABLES:
            raise _fail(file, f"{where}.table", f"{raw['table']!r} is not one of {list(_PUBLIC_TABLES)}")
        named = NAMED_SERIES["pew_favorability"]
        if raw["table"] == "pew_favorability" and raw["series"] not in named:
            raise _fail(file, f"{where}.series", f"{raw['series']!r} is not a series of pew_favorability "
                        f"(one of {', '.join(named)})")
        sign = raw.get("sign", 1)
        if isinstance(sign, bool) or sign not in (1, -1):
            raise _fail(file, f"{where}.sign", f"{sign!r} must be 1 or -1")
        backfill = raw.get("backfill")
        if backfill is not None and not isinstance(backfill, str):
            raise _fail(file, f"{where}.backfill", "must be a string (an indicators series)")
        out.append(PublicSeries(raw["id"], raw["ally"], raw["target"], raw["table"], raw["series"], sign,
                                raw["note"], backfill))
    return tuple(out)


def _identity(file: str, value: Any) -> tuple[tuple[tuple[str, str], ...], tuple[PublicView, ...]]:
    """``[identity]``: ``dyads = ["AAA-BBB", ...]`` and ``[[identity.view]]`` poll series."""
    if not isinstance(value, dict) or set(value) - {"dyads", "view"}:
        raise _fail(file, "identity", "must be a table with keys dyads and view")
    dyads = value.get("dyads", [])
    if not isinstance(dyads, list):
        raise _fail(file, "identity.dyads", "must be a list of \"AAA-BBB\" pairs")
    pairs = []
    for i, d in enumerate(dyads):
        parts = d.split("-") if isinstance(d, str) else []
        if len(parts) != 2:
            raise _fail(file, f"identity.dyads[{i}]", f"{d!r} is not a pair AAA-BBB of ISO3 codes")
        pairs.append((_country(file, f"identity.dyads[{i}]", parts[0]),
                      _country(file, f"identity.dyads[{i}]", parts[1])))
    views = []
    for where, raw in _table_list(file, "identity.view", value.get("view", [])):
        _strings(file, where, raw, ("actor", "target", "series", "label"), {"actor", "target", "series", "label"})
        if not any({raw["actor"], raw["target"]} == set(d) for d in pairs):
            raise _fail(file, f"{where}.actor", f"{raw['actor']}-{raw['target']} is not one of identity.dyads")
        views.append(PublicView(raw["actor"], raw["target"], raw["series"], raw["label"]))
    return tuple(pairs), tuple(views)


def _hypotheses(file: str, value: Any, allies: tuple[str, ...]) -> dict[str, Any]:
    """``[hypotheses]``: the roles of the paper's propositions (see :data:`ROLES`), ``powers`` and
    ``affinity_series``."""
    allowed = {*ROLES, "powers", "affinity_series"}
    if not isinstance(value, dict) or set(value) - allowed:
        bad = sorted(set(value) - allowed)[0] if isinstance(value, dict) else ""
        raise _fail(file, f"hypotheses.{bad}".rstrip("."), f"unknown key (allowed: {', '.join(sorted(allowed))})")
    roles = {}
    for role in ROLES:
        if role in value:
            if value[role] not in allies:
                raise _fail(file, f"hypotheses.{role}", f"{value[role]!r} is not in allies {list(allies)}")
            roles[role] = value[role]
    if len(set(roles.values())) < len(roles):
        raise _fail(file, "hypotheses", "great_power_ally and client_ally must be different allies")
    powers = value.get("powers", [])
    if not isinstance(powers, list):
        raise _fail(file, "hypotheses.powers", "must be a list of ISO3 codes")
    powers = tuple(_country(file, f"hypotheses.powers[{i}]", p) for i, p in enumerate(powers))
    affinity = value.get("affinity_series")
    if affinity is not None and not isinstance(affinity, str):
        raise _fail(file, "hypotheses.affinity_series", "must be a string (an indicators series)")
    return {"roles": roles, "powers": powers, "affinity_series": affinity}


def packaged_theaters() -> list[str]:
    """The names of the packaged theaters (their file names without ``.toml``), the default first."""
    names = sorted(p.name[:-5] for p in resources.files("dualthreat").joinpath(PACKAGED).iterdir()
                   if p.name.endswith(".toml"))
    return sorted(names, key=lambda n: n != DEFAULT_THEATER)


def theater_states(path: str | Path | None = None) -> tuple[str, ...]:
    """The patron, allies and threat sources of a theater (as :attr:`Theater.states`), read without parsing its
    indicators: what the event readers need, at a fraction of the cost (no pandas)."""
    name = DEFAULT_THEATER if path is None else str(path)
    if name in packaged_theaters() and not Path(name).exists():
        text = resources.files("dualthreat").joinpath(f"{PACKAGED}/{name}.toml").read_text("utf-8")
        data = tomllib.loads(text)
    else:
        return load_theater(path).states
    return tuple(dict.fromkeys((data["patron"], *data["allies"], *data["sources"])))


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
