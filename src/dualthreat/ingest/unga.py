"""Readers for UN General Assembly data: roll-call votes (Voeten et al., via the ``unvotes`` package),
roll calls and their issues, and ideal points (Bailey, Strezhnev & Voeten 2017, July 2025 release).
"""

from __future__ import annotations

from typing import Any

from dualthreat.ingest.base import (Format, Record, RowError, choice, country, country_cow, country_iso2, date,
                                    flag, integer, number, text, year)

DATAVERSE = "https://hdl.handle.net/1902.1/12379"


def _vote(rec: Record) -> dict[str, Any]:
    rcid = integer(rec, "rcid", required=True)
    return {"rcid": rcid, "iso3": country_iso2(rec, "country_code"),
            "vote": choice(rec, "vote", ("yes", "abstain", "no"))}


def _roll_call(rec: Record) -> dict[str, Any]:
    session = integer(rec, "session", required=True)
    assert session is not None
    if not 1 <= session <= 200:
        raise RowError("session", f"session {session} is outside 1-200")
    return {
        "rcid": integer(rec, "rcid", required=True),
        "session": session,
        "date": date(rec, "date"),
        "important_vote": flag(rec, "importantvote"),
        "unres": text(rec, "unres", required=False),
        "amend": flag(rec, "amend"),
        "para": flag(rec, "para"),
        "short": text(rec, "short", required=False),
        "descr": text(rec, "descr", required=False),
    }


ISSUES = {"me": "Palestinian conflict", "nu": "Nuclear weapons and nuclear material",
          "di": "Arms control and disarmament", "hr": "Human rights", "co": "Colonialism",
          "ec": "Economic development"}


def _issue(rec: Record) -> dict[str, Any]:
    return {"rcid": integer(rec, "rcid", required=True), "issue_code": choice(rec, "short_name", tuple(ISSUES)),
            "issue": text(rec, "issue")}


UN_VOTES = Format("UN votes (unvotes package: rcid, country, country_code, vote)", "un_votes", "unvotes",
                  ("rcid", "country_code", "vote"), _vote, key=("rcid", "iso3"), url=DATAVERSE)
UN_ROLL_CALLS = Format("UN roll calls (unvotes package)", "un_roll_calls", "unvotes",
                       ("rcid", "session", "importantvote", "date", "unres", "amend", "para", "short", "descr"),
                       _roll_call, key=("rcid",), url=DATAVERSE)
UN_ISSUES = Format("UN roll-call issues (unvotes package)", "un_roll_call_issues", "unvotes",
                   ("rcid", "short_name", "issue"), _issue, key=("rcid", "issue_code"), url=DATAVERSE)


def _ideal_point(rec: Record) -> dict[str, Any]:
    code, ccode = country_cow(rec, "ccode")  # the code of the COW state (one per state)
    if text(rec, "iso3c", required=False) is not None:
        country(rec, "iso3c")  # still checked: an unknown code in the file is an error
    point = number(rec, "idealpointfp")
    q05, q95 = number(rec, "q5fp"), number(rec, "q95fp")
    if point is not None and q05 is not None and q95 is not None and not q05 <= q95:
        raise RowError("q5fp", f"5% quantile {q05} exceeds 95% quantile {q95}")
    return {
        "iso3": code,
        "ccode": ccode,
        "year": year(rec, "year", 1946, 2100),
        "ideal_point": point,
        "q05": q05,
        "q50": number(rec, "q50fp"),
        "q95": q95,
        "n_votes": integer(rec, "nvotesfp"),
        "ideal_point_all": number(rec, "idealpointall"),
        "q05_all": number(rec, "q5all"),
        "q95_all": number(rec, "q95all"),
        "n_votes_all": integer(rec, "nvotesall"),
    }


IDEAL_POINTS = Format("UN ideal points (Bailey-Strezhnev-Voeten, IdealpointsJuly2025)", "ideal_points", "ideal_points",
                      ("ccode", "iso3c", "year", "idealpointfp", "q5fp", "q50fp", "q95fp", "nvotesfp"),
                      _ideal_point, key=("ccode", "year"), url=DATAVERSE)
