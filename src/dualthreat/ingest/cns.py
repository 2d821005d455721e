"""Reader for the CNS North Korea Missile Test Database (James Martin Center for Nonproliferation Studies,
for NTI), in the flat layout of ``nagix/nk-missile-tests``: one row per missile test, plus the missile list.
"""

from __future__ import annotations

from typing import Any

import re

from dualthreat.ingest.base import Format, Record, RowError, choice, date, integer, number, parse_month, text

CNS_URL = "https://www.nti.org/analysis/articles/cns-north-korea-missile-test-database/"
OUTCOMES = ("success", "failure", "unknown")
LANDINGS = ("sea-of-japan", "yellow-sea", "pacific-ocean", "north-korea", "na", "unknown")
MISSILE_TYPES = ("SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "SLV", "SLCM", "LACM", "ASCM", "CM", "HGV", "MaRV", "unknown")


def _test(rec: Record) -> dict[str, Any]:
    raw = text(rec, "date")
    assert raw is not None
    # CNS enters some early tests with the month only ("1984-09"); they keep month precision.
    precision = "month" if re.fullmatch(r"\d{4}-\d{2}", raw) else "day"
    when = parse_month(raw, "date") if precision == "month" else date(rec, "date")
    assert when is not None
    if not 1984 <= when.year <= 2100:
        raise RowError("date", f"{when} is outside the database's years (1984, the first North Korean test, "
                               "to 2100)")
    bearing = number(rec, "bearing")
    if bearing is not None and not 0 <= bearing <= 360:
        raise RowError("bearing", f"{bearing} is not a bearing in degrees (0-360)")
    for col in ("apogee", "distance"):
        value = number(rec, col)
        if value is not None and value < 0:
            raise RowError(col, f"{value} is negative")
    return {
        "test_date": when,
        "date_precision": precision,
        "time_local": text(rec, "time", required=False),
        "series_no": integer(rec, "series"),
        "missile": text(rec, "missile"),
        "facility": text(rec, "facility", required=False),
        "landing": choice(rec, "landing", LANDINGS, required=False),
        "apogee_km": number(rec, "apogee"),
        "distance_km": number(rec, "distance"),
        "bearing_deg": bearing,
        "outcome": choice(rec, "outcome", OUTCOMES),
        "description": text(rec, "description", required=False),
    }


def _missile(rec: Record) -> dict[str, Any]:
    return {"missile": text(rec, "missile"), "name": text(rec, "name"),
            "type": text(rec, "type"), "maneuver": text(rec, "maneuver", required=False)}


MISSILE_TESTS = Format("CNS missile tests (tests_flat.en.csv)", "missile_tests", "cns_missiles",
                       ("date", "time", "series", "missile", "facility", "landing", "apogee", "distance", "bearing",
                        "outcome", "description"), _test, url=CNS_URL)
MISSILES = Format("CNS missile list (missiles.en.csv)", "missile_types", "cns_missiles",
                  ("missile", "name", "type"), _missile, key=("missile",), url=CNS_URL)
