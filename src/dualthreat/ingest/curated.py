"""Readers for the hand-collected files: curated indicators and coded decision episodes.

Indicators follow ``shared/data/curated/README.md``: every row needs a source URL; the status markers at
the start of a note (PRELIMINARY, APPROXIMATE, LOWER BOUND, CONFLICT) become the ``status`` column, and the
choice between rows for one period is made later, by :mod:`dualthreat.measure.indicators`.
"""

from __future__ import annotations

import re
from typing import Any

from dualthreat import countries
from dualthreat.ingest.base import Format, Record, RowError, choice, country, date, number, parse_month, text
from dualthreat.ingest.periods import PERIOD_TYPES, period_bounds

STATUS_MARKERS = {
    "PRELIMINARY": "preliminary",
    "APPROXIMATE": "approximate",
    "LOWER BOUND": "lower_bound",
    "CONFLICT": "conflict",
}


def status_of(note: str | None) -> str:
    """``firm`` unless the note opens with one of the curated status markers."""
    m = re.match(r"\s*(PRELIMINARY|APPROXIMATE|LOWER BOUND|CONFLICT)\b", note or "")
    return STATUS_MARKERS[m.group(1)] if m else "firm"


# Units whose values cannot be negative: counts of events, days, ships, aircraft, missiles, people, and
# magnitudes (yields, money, a share of GDP, which can exceed 100: Kuwait 1991).
NONNEGATIVE_UNITS = {"aircraft", "occasions", "launch_events", "missiles", "tests", "event", "persons_killed",
                     "percent_of_gdp"}
NONNEGATIVE_PREFIXES = ("count", "days", "ship_count", "kiloton", "usd")


def check_unit(value: float, unit: str) -> None:
    """Reject a value its unit cannot take: a count, day count or ship count below zero, a percentage outside
    0-100, a share outside 0-1, a ``score_A_B`` outside A-B (item 5 of issue 12)."""
    if unit.startswith("score_"):
        bounds = unit.split("_")[1:]
        if len(bounds) == 2 and all(b.isdigit() for b in bounds):
            lo, hi = int(bounds[0]), int(bounds[1])
            if not lo <= value <= hi:
                raise RowError("value", f"{value:g} is outside {lo}-{hi} for unit {unit!r}")
        return
    if unit.startswith("percent") and unit != "percent_of_gdp":
        if not 0 <= value <= 100:
            raise RowError("value", f"{value:g} is outside 0-100 for a percentage (unit {unit!r})")
    elif unit.startswith("share"):
        if not 0 <= value <= 1:
            raise RowError("value", f"{value:g} is outside 0-1 for a share (unit {unit!r})")
    elif (unit in NONNEGATIVE_UNITS or unit.startswith(NONNEGATIVE_PREFIXES)) and value < 0:
        kind = ("day count" if unit.startswith("days") else "ship count" if unit.startswith("ship_count")
                else "magnitude" if unit.startswith(("kiloton", "usd", "percent_of_gdp")) else "count")
        raise RowError("value", f"{value:g} is a negative {kind} (unit {unit!r})")


def _indicator(rec: Record) -> dict[str, Any]:
    period_type = choice(rec, "period_type", PERIOD_TYPES)
    period = text(rec, "period")
    assert period_type is not None and period is not None
    start, end = period_bounds(period_type, period)
    url = text(rec, "source_url")
    assert url is not None
    if not re.match(r"https?://\S+$", url):
        raise RowError("source_url", f"{url[:60]!r} is not an http(s) URL")
    series = text(rec, "series")
    assert series is not None
    if not re.fullmatch(r"[a-z][a-z0-9_]*", series):
        raise RowError("series", f"{series[:40]!r} is not a snake_case series name")
    note = text(rec, "note", required=False)
    row = {
        "series": series,
        "actor": country(rec, "actor", aggregates=True),
        "target": country(rec, "target", aggregates=True, required=False),
        "period_type": period_type,
        "period": period,
        "start_date": start,
        "end_date": end,
        "value": number(rec, "value", required=True, na={""}),
        "unit": text(rec, "unit"),
        "status": status_of(note),
        "source_title": text(rec, "source_title"),
        "source_date": text(rec, "source_date", required=False),
        "note": note,
        "source_url": url,
    }
    check_unit(row["value"], row["unit"])
    return row


INDICATORS = Format(
    name="curated indicator table (shared/data/curated/*.csv)",
    table="indicators",
    dataset="curated",
    required=("series", "actor", "target", "period_type", "period", "value", "unit", "source_title", "source_url",
              "source_date", "note"),
    convert=_indicator,
    key=("series", "actor", "target", "period_type", "period", "value", "unit", "source_url"),
)

DIRECTIONS = ("toward_us", "toward_china", "hedge", "japan_rok_up", "japan_rok_down", "autonomy", "constrained")
DOMAINS = ("alliance_scope", "alliance_contribution", "missile_defense", "economic_alignment", "china_policy",
           "dprk_policy", "japan_rok_cooperation", "domestic_constraint", "identity_history")


def _actor(rec: Record) -> str:
    """The deciding state: an ally's ISO3 code, or two joined by '-' for a joint act of two allies."""
    value = text(rec, "actor")
    assert value is not None
    parts = value.split("-")
    if len(parts) > 2 or not all(countries.is_known(p) for p in parts):
        raise RowError("actor", f"{value[:40]!r} is not an ISO3 country code, or two joined by '-' (a joint act)")
    return value


def _episode_date(rec: Record) -> tuple[Any, str]:
    raw = text(rec, "date")
    assert raw is not None
    if re.fullmatch(r"\d{4}-\d{2}", raw):
        return parse_month(raw, "date"), "month"
    return date(rec, "date"), "day"


def _episode(rec: Record) -> dict[str, Any]:
    when, precision = _episode_date(rec)
    episode_id = text(rec, "episode_id")
    url = text(rec, "source_url", required=False)
    if url is not None and not re.match(r"https?://\S+$", url):
        raise RowError("source_url", f"{url[:60]!r} is not an http(s) URL")
    return {
        "episode_id": episode_id,
        "date": when,
        "date_precision": precision,
        "actor": _actor(rec),
        "counterpart": country(rec, "counterpart", aggregates=True),
        "domain": choice(rec, "domain", DOMAINS),
        "decision": text(rec, "decision"),
        "outcome": text(rec, "outcome", required=False),
        "direction": choice(rec, "direction", DIRECTIONS),
        "framework_drivers": text(rec, "framework_drivers", required=False),
        "source_title": text(rec, "source_title", required=False),
        "note": text(rec, "note", required=False),
        "source_url": url,
    }


EPISODES = Format(
    name="coded episode table (shared/data/episodes/calibration.csv)",
    table="episodes",
    dataset="episodes",
    required=("episode_id", "date", "actor", "counterpart", "domain", "decision", "direction"),
    convert=_episode,
    key=("episode_id",),
)
