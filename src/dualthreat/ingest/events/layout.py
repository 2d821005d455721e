"""The event file layouts: GDELT 1.0 and 2.0 and ICEWS columns, what each file must look like, and the result of
reading one."""


from __future__ import annotations

from dataclasses import dataclass, field

from dualthreat.ingest.base import ReadResult

GDELT_URL = "https://www.gdeltproject.org/"
ICEWS_URL = "https://doi.org/10.7910/DVN/28075"
MAX_LINE_BYTES = 1 << 20

# GDELT 2.0 event export columns with their BigQuery types (GDELT 2.0 event codebook; header file
# GDELT_2.0_Events_Column_Labels_Header_Row_Sep2016.csv). GDELT 1.0 has the same columns without the three
# *_ADM2Code columns (58), and its historical back files also lack SOURCEURL (57).
GDELT2_COLUMNS: tuple[tuple[str, str], ...] = (
    ("GLOBALEVENTID", "INTEGER"), ("SQLDATE", "INTEGER"), ("MonthYear", "INTEGER"), ("Year", "INTEGER"),
    ("FractionDate", "FLOAT"),
    *[(f"Actor{i}{c}", "STRING") for i in (1, 2) for c in (
        "Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code", "Religion2Code",
        "Type1Code", "Type2Code", "Type3Code")],
    ("IsRootEvent", "INTEGER"), ("EventCode", "STRING"), ("EventBaseCode", "STRING"), ("EventRootCode", "STRING"),
    ("QuadClass", "INTEGER"), ("GoldsteinScale", "FLOAT"), ("NumMentions", "INTEGER"), ("NumSources", "INTEGER"),
    ("NumArticles", "INTEGER"), ("AvgTone", "FLOAT"),
    *[(f"{g}_{c}", t) for g in ("Actor1Geo", "Actor2Geo", "ActionGeo") for c, t in (
        ("Type", "INTEGER"), ("FullName", "STRING"), ("CountryCode", "STRING"), ("ADM1Code", "STRING"),
        ("ADM2Code", "STRING"), ("Lat", "FLOAT"), ("Long", "FLOAT"), ("FeatureID", "STRING"))],
    ("DATEADDED", "INTEGER"), ("SOURCEURL", "STRING"),
)
GDELT2_NAMES = [c for c, _ in GDELT2_COLUMNS]
GDELT1_NAMES = [c for c in GDELT2_NAMES if not c.endswith("_ADM2Code")]
assert len(GDELT2_NAMES) == 61 and len(GDELT1_NAMES) == 58

ICEWS_NAMES = ["Event ID", "Event Date", "Source Name", "Source Sectors", "Source Country", "Event Text",
               "CAMEO Code", "Intensity", "Target Name", "Target Sectors", "Target Country", "Story ID",
               "Sentence Number", "Publisher", "City", "District", "Province", "Country", "Latitude", "Longitude"]

GDELT_EXPECTED = ("a GDELT event file: tab-separated, no header, 57 or 58 fields per line (GDELT 1.0) or 61 "
                  "(GDELT 2.0 export), plain or zipped")
ICEWS_EXPECTED = ("an ICEWS event file (Harvard Dataverse .tab layout): tab-separated with the header row "
                  + ", ".join(ICEWS_NAMES[:8]) + ", ..., plain or zipped")


@dataclass
class EventReadResult(ReadResult):
    """One event file: the theater's events (``rows``, table ``events``) and, as a companion loaded in the same
    transaction, the month totals of all valid events in the file (table ``event_month_totals``).

    ``loaded`` counts every valid line (each is counted in the month totals); ``kept`` is how many of them are
    events between two of the theater's states, stored one by one. ``rows_in == loaded + rejected``.
    """

    valid: int = 0
    companions: list[ReadResult] = field(default_factory=list)
    states: tuple[str, ...] = ()

    @property
    def loaded(self) -> int:  # type: ignore[override]
        return self.valid

    @property
    def kept(self) -> int:
        return self.rows.num_rows


