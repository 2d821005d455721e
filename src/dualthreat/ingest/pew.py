"""Reader for the Pew Global Attitudes favourability aggregates (see ``pew_global_attitudes/PROVENANCE.md``).

The ``quality_flag`` column is kept: the 2013 China item is mis-mapped in the harmonised source and its rows
are flagged "suspect"; measurement drops flagged rows (:mod:`dualthreat.measure`).
"""

from __future__ import annotations

from typing import Any

from dualthreat.ingest.base import Format, Record, RowError, country, integer, number, text, year

PEW_URL = "https://www.pewresearch.org/global/"
PCTS = ("pct_very_favorable", "pct_somewhat_favorable", "pct_somewhat_unfavorable", "pct_very_unfavorable",
        "pct_dk", "pct_favorable", "pct_unfavorable")


def _pew(rec: Record) -> dict[str, Any]:
    row: dict[str, Any] = {
        "wave": year(rec, "wave", 2002, 2100),
        "respondent_iso3": country(rec, "respondent_country_iso3"),
        "target": country(rec, "target", aggregates=True),
        "n_respondents": integer(rec, "n_respondents", required=True),
        "quality_flag": text(rec, "quality_flag", required=False),
    }
    for col in PCTS:
        value = number(rec, col)
        if value is not None and not 0 <= value <= 100:
            raise RowError(col, f"{value} is not a percentage")
        row[col] = value
    return row


PEW = Format("Pew favourability aggregates (pew_favorability_by_country_wave.csv)", "pew_favorability", "pew",
             ("wave", "respondent_country_iso3", "target", "n_respondents") + PCTS + ("quality_flag",), _pew,
             key=("wave", "respondent_iso3", "target"), url=PEW_URL)
