"""CAMEO code tables for the event readers: actor country codes to ISO3, event codes to root, quad class and
Goldstein weight, and ICEWS country names to ISO3.

The packaged tables are derived from the GDELT project's CAMEO lookup files (which follow the CAMEO codebook,
Schrodt 2012) by ``python -m dualthreat.ingest.cameo --shared ../shared``:

* ``resources/cameo_countries.csv`` from ``CAMEO.country.txt`` (``shared/data/raw/gdelt/lookups/cameoCountry.txt``,
  https://www.gdeltproject.org/data/lookups/CAMEO.country.txt). CAMEO country codes are ISO 3166-1 alpha-3 codes
  with a few older or CAMEO-specific codes (``ROM`` Romania, ``TMP`` East Timor, ``MTN`` Montenegro, ``IMY`` Isle
  of Man, ``WSB``/``GZS`` West Bank/Gaza, ``BAG`` Baghdad) and region codes (``ASA`` Asia, ``EUR`` Europe, ...),
  which name no state and map to nothing.
* ``resources/cameo_events.csv`` from ``CAMEO.goldsteinscale.txt`` and ``CAMEO.eventcodes.txt``
  (``lookups/CAMEO.goldsteinscale.txt``, ``lookups/cameoEvent.txt``): the Goldstein (1992) weight GDELT assigns to
  each event code, with the root code and quad class.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from pathlib import Path

# CAMEO quad classes (GDELT event codebook, "QuadClass"): roots 01-05 verbal cooperation, 06-08 material
# cooperation, 09-13 verbal conflict, 14-20 material conflict.
QUAD_NAMES = {1: "verbal cooperation", 2: "material cooperation", 3: "verbal conflict", 4: "material conflict"}


def quad_of_root(root: int) -> int | None:
    if 1 <= root <= 5:
        return 1
    if 6 <= root <= 8:
        return 2
    if 9 <= root <= 13:
        return 3
    if 14 <= root <= 20:
        return 4
    return None


# CAMEO country codes that are not the ISO3 code of the same state.
CAMEO_TO_ISO3 = {
    "ROM": "ROU",  # Romania (pre-2002 ISO code kept by CAMEO)
    "TMP": "TLS",  # East Timor
    "MTN": "MNE",  # Montenegro
    "IMY": "IMN",  # Isle of Man
    "WSB": "PSE",  # West Bank
    "GZS": "PSE",  # Gaza Strip
    "BAG": "IRQ",  # Baghdad (a CAMEO code for the city)
}
# CAMEO region codes: an actor coded with one of these is not a state.
CAMEO_REGIONS = {
    "AFR", "ASA", "BLK", "CRB", "CAU", "CFR", "CAS", "CEU", "EIN", "EAF", "EEU", "EUR", "LAM", "MEA", "MDT",
    "NAF", "NMR", "PGS", "SCN", "SAM", "SAS", "SEA", "SAF", "WAF", "WST",
}

# ICEWS names countries in words; the spellings that differ from the GeoNames names used by dualthreat's
# country table (resources/countries.csv) are in resources/icews_country_aliases.csv.


@cache
def icews_aliases() -> dict[str, str]:
    """ICEWS country name -> ISO3 for the spellings that differ (``resources/icews_country_aliases.csv``)."""
    return {r["name"]: r["iso3"] for r in _read("icews_country_aliases.csv")}



def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("dualthreat").joinpath(f"resources/{name}").read_text("utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


@cache
def cameo_countries() -> dict[str, str]:
    """CAMEO country code -> ISO3, for every code that names a state or territory (regions excluded)."""
    return {r["cameo"]: r["iso3"] for r in _read("cameo_countries.csv") if r["iso3"]}


@cache
def cameo_events() -> dict[str, tuple[str, int, float]]:
    """CAMEO event code -> (description, quad class, Goldstein weight)."""
    return {r["code"]: (r["description"], int(r["quad_class"]), float(r["goldstein"])) for r in _read("cameo_events.csv")}


@cache
def icews_countries() -> dict[str, str]:
    """ICEWS country name -> ISO3: the GeoNames names of dualthreat's country table plus ICEWS spellings."""
    from dualthreat import countries

    out = {c.name: c.code for c in countries.countries() if c.iso}
    out.update(icews_aliases())
    return out


# --------------------------------------------------------------------------------------------------
# derivation of the packaged tables from the GDELT lookup files


def derive(shared: Path, out_dir: Path) -> None:
    from dualthreat import countries

    lookups = shared / "data" / "raw" / "gdelt" / "lookups"
    known = countries.by_code()
    rows = []
    with open(lookups / "cameoCountry.txt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            code, label = r["CODE"].strip(), r["LABEL"].strip()
            if code in CAMEO_REGIONS:
                iso3 = ""
            else:
                iso3 = CAMEO_TO_ISO3.get(code, code)
                if iso3 not in known:
                    raise SystemExit(f"CAMEO country code {code} ({label}) maps to {iso3}, unknown to countries.csv")
            rows.append((code, iso3, label))
    with open(out_dir / "cameo_countries.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write("# CAMEO actor country codes -> ISO3. Derived by `python -m dualthreat.ingest.cameo` from GDELT's\n"
                 "# CAMEO.country.txt (https://www.gdeltproject.org/data/lookups/CAMEO.country.txt; copy in\n"
                 "# shared/data/raw/gdelt/lookups/cameoCountry.txt). Empty iso3: a CAMEO region, not a state.\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["cameo", "iso3", "label"])
        w.writerows(sorted(rows))
    names: dict[str, str] = {}
    with open(lookups / "cameoEvent.txt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            # GDELT's file carries a mis-encoded "third" in code 044's description; repaired here.
            names[r["CAMEOEVENTCODE"].strip()] = r["EVENTDESCRIPTION"].strip().replace("\u00c3\u2019hird\u00c3\u201c",
                                                                                         "third ")
    events = []
    with open(lookups / "CAMEO.goldsteinscale.txt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            code = r["CAMEOEVENTCODE"].strip()
            quad = quad_of_root(int(code[:2]))
            events.append((code, code[:2], quad, float(r["GOLDSTEINSCALE"]), names.get(code, "")))
    with open(out_dir / "cameo_events.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write("# CAMEO event codes with root, quad class and Goldstein weight. Derived by\n"
                 "# `python -m dualthreat.ingest.cameo` from GDELT's CAMEO.goldsteinscale.txt and CAMEO.eventcodes.txt\n"
                 "# (https://www.gdeltproject.org/data/lookups/; copies in shared/data/raw/gdelt/lookups/).\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "root", "quad_class", "goldstein", "description"])
        w.writerows(events)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser(description="Derive the packaged CAMEO tables from GDELT's lookup files.")
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources")
    args = ap.parse_args()
    derive(args.shared, args.out)
