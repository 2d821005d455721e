"""Country codes: ISO 3166-1 alpha-3 / alpha-2 and Correlates of War (COW) codes.

The packaged table ``resources/countries.csv`` is derived by ``scripts/build_default_dataset.py`` from the
GeoNames country table (ISO codes, CC BY 4.0), the COW state-system list (v2016) and the
Bailey-Strezhnev-Voeten ideal-point file (which pairs COW codes with ISO3). COW states that no longer exist
(e.g. 265, the German Democratic Republic) keep their COW code and a non-ISO three-letter code from the
ideal-point file or COW's own abbreviation, marked ``iso=False``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Codes used by sources for aggregates rather than states.
# Non-standard codes used by sources for a state, and the ISO3 code they stand for.
ALIASES = {
    "PLS": "PSE",  # Pew (harmonised pew_opi file): Palestinian territories
    "OWID_KOS": "XKX",  # Our World in Data: Kosovo (GeoNames' user-assigned code)
}
AGGREGATES = {"ALL": "total over all countries", "EU": "European Union", "UN": "United Nations", "MULTI": "several"}


@dataclass(frozen=True)
class Country:
    code: str  # ISO3 where one exists, else the historical three-letter code
    iso2: str
    ccode: int | None
    name: str
    iso: bool


@cache
def countries() -> tuple[Country, ...]:
    text = resources.files("dualthreat").joinpath("resources/countries.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        out.append(
            Country(
                code=row["code"],
                iso2=row["iso2"],
                ccode=int(row["ccode"]) if row["ccode"] else None,
                name=row["name"],
                iso=row["iso"] == "1",
            )
        )
    return tuple(out)


@cache
def by_code() -> dict[str, Country]:
    return {c.code: c for c in countries()}


@cache
def by_iso2() -> dict[str, Country]:
    return {c.iso2: c for c in countries() if c.iso2}


@cache
def by_ccode() -> dict[int, Country]:
    # A COW code may appear for several spells; keep the first row (the table lists the ISO row first).
    out: dict[int, Country] = {}
    for c in countries():
        if c.ccode is not None:
            out.setdefault(c.ccode, c)
    return out


def canonical(code: str) -> str:
    """The code dualthreat stores for ``code`` (resolves source-specific aliases)."""
    return ALIASES.get(code, code)


def is_known(code: str, aggregates: bool = False) -> bool:
    """True if ``code`` is a known country code (or an aggregate such as ``ALL`` when allowed)."""
    return code in by_code() or (aggregates and code in AGGREGATES)


@cache
def by_cow_abb() -> dict[str, Country]:
    """Correlates of War letter codes (``stateabb``: ROK, GMY, UKG, ...) to countries, through their COW number.

    ``resources/cow_abbreviations.csv`` is the (stateabb, ccode) pairs of the COW state-system list (v2016),
    written by ``scripts/build_default_dataset.py``. The letter codes are not ISO3: ROK is South Korea,
    AUS is Austria (AUT), GMY is Germany (DEU).
    """
    text = resources.files("dualthreat").joinpath("resources/cow_abbreviations.csv").read_text("utf-8")
    numbers = by_ccode()
    return {row["stateabb"]: numbers[int(row["ccode"])] for row in csv.DictReader(text.splitlines())
            if int(row["ccode"]) in numbers}
