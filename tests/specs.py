"""What the tests know about each reader: its fixture, the rows it holds, and how to break it.

One :class:`ReaderSpec` per file layout a ``dualthreat ingest KIND`` accepts (``KINDS``) and one for the
speeches reader (``SPECIAL``); ``test_readers.test_every_reader_has_a_spec`` keeps the list complete.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
BAD_LINE = 3  # the physical line (second data row) that a row-level corruption hits


@dataclass(frozen=True)
class Corruption:
    """Set ``fields`` of the row on :data:`BAD_LINE`; the reader must reject it naming ``field``."""

    fields: dict[str, str]
    field: str
    reason: str  # a substring of the rejection reason


@dataclass(frozen=True)
class ReaderSpec:
    id: str
    kind: str
    fixture: str  # file (or folder, for speeches) under tests/fixtures
    format: str  # Format.name of the layout, or "speeches"
    table: str
    rows: int  # data rows in the fixture
    drop: str | None = None  # a required column to remove
    number: Corruption | None = None  # text where a number belongs
    country: Corruption | None = None  # unknown country code
    dates: dict[str, Corruption] = field(default_factory=dict)  # impossible dates (or years)
    companions: tuple[str, ...] = ()  # tables loaded with it from the same file (coverage), which may grow

    @property
    def path(self) -> Path:
        return FIXTURES / self.fixture


def _num(col: str) -> Corruption:
    return Corruption({col: "twelve"}, col, "'twelve' is not a number")


def _iso3(col: str) -> Corruption:
    return Corruption({col: "XYZ"}, col, "unknown country code 'XYZ'")


def _cow(col: str) -> Corruption:
    return Corruption({col: "999"}, col, "unknown Correlates of War country code 999")


def _year(col: str, lo: int) -> dict[str, Corruption]:
    return {"year_3019": Corruption({col: "3019"}, col, f"year 3019 is outside {lo}-2100")}


def _day_dates(col: str) -> dict[str, Corruption]:
    return {
        "feb_30": Corruption({col: "2019-02-30"}, col, "'2019-02-30' is not a valid date"),
        "month_13": Corruption({col: "2019-13-01"}, col, "'2019-13-01' is not a valid date"),
    }


# Formats' names, as in dualthreat.ingest (kept literal here so that a renamed format is noticed).
SPECS: list[ReaderSpec] = [
    ReaderSpec(
        "indicators", "indicators", "curated_indicators.csv", "curated indicator table (shared/data/curated/*.csv)",
        "indicators", 21, drop="value", number=_num("value"), country=_iso3("actor"),
        dates={
            "feb_30": Corruption({"period_type": "date", "period": "2019-02-30"}, "period",
                                 "'2019-02-30' is not a valid date period"),
            "month_13": Corruption({"period_type": "month", "period": "2019-13"}, "period",
                                   "'2019-13' is not a valid month period"),
        },
    ),
    ReaderSpec(
        "episodes", "episodes", "calibration.csv", "coded episode table (shared/data/episodes/calibration.csv)",
        "episodes", 11, drop="date", country=_iso3("counterpart"),
        dates={**_day_dates("date"),
               "month_only_13": Corruption({"date": "2019-13"}, "date", "'2019-13' is not a valid month")},
    ),
    ReaderSpec(
        "un_votes", "votes", "un_votes_5countries.csv", "UN votes (unvotes package: rcid, country, country_code, vote)",
        "un_votes", 28, drop="vote", number=_num("rcid"),
        country=Corruption({"country_code": "XX"}, "country_code", "unknown country code 'XX' (expected an ISO 3166-1 "
                                                                   "alpha-2 code)"),
    ),
    ReaderSpec(
        "un_roll_calls", "votes", "un_roll_calls.csv", "UN roll calls (unvotes package)", "un_roll_calls", 9,
        drop="date", number=_num("session"), dates=_day_dates("date"),
    ),
    ReaderSpec(
        "un_roll_call_issues", "votes", "un_roll_call_issues.csv", "UN roll-call issues (unvotes package)",
        "un_roll_call_issues", 10, drop="short_name", number=_num("rcid"),
    ),
    ReaderSpec(
        "ideal_points", "ideal-points", "IdealpointsJuly2025.csv",
        "UN ideal points (Bailey-Strezhnev-Voeten, IdealpointsJuly2025)", "ideal_points", 12, drop="idealpointfp",
        number=_num("idealpointfp"), country=_cow("ccode"), dates=_year("year", 1946),
    ),
    ReaderSpec(
        "missile_tests", "missiles", "tests_flat.en.csv", "CNS missile tests (tests_flat.en.csv)", "missile_tests", 21,
        drop="outcome", number=_num("apogee"),
        dates={**_day_dates("date"),
               "month_only_13": Corruption({"date": "2019-13"}, "date", "'2019-13' is not a valid month"),
               "before_1984": Corruption({"date": "1983-05-01"}, "date", "1983-05-01 is outside the database's "
                                                                         "years (1984")},
    ),
    ReaderSpec(
        "missile_types", "missiles", "missiles.en.csv", "CNS missile list (missiles.en.csv)", "missile_types", 12,
        drop="type",
    ),
    ReaderSpec(
        "speeches", "speeches", "speeches", "speeches", "speeches", 3,
    ),
    ReaderSpec(
        "pew", "pew", "pew_favorability_by_country_wave.csv",
        "Pew favourability aggregates (pew_favorability_by_country_wave.csv)", "pew_favorability", 12,
        drop="n_respondents", number=_num("pct_favorable"), country=_iso3("respondent_country_iso3"),
        dates=_year("wave", 2002),
    ),
    ReaderSpec(
        "sipri", "sipri", "military-spending-as-a-share-of-gdp-sipri.csv", "SIPRI military burden via Our World in Data",
        "military_spending", 14, drop="Year", number=_num("Military expenditure (% of GDP)"), country=_iso3("Code"),
        dates=_year("Year", 1900),
    ),
    ReaderSpec(
        "capabilities", "capabilities", "cow_nmc.csv", "COW National Material Capabilities (cow_nmc.csv)",
        "capabilities", 13, drop="cinc", number=_num("milex"), country=_cow("ccode"), dates=_year("year", 1816),
    ),
    ReaderSpec(
        "alliances", "alliances", "atop_alliance_5countries.csv", "ATOP directed dyad-years (atop_alliance*.csv)",
        "alliances", 12, drop="atop_defense", number=_num("atop_defense"), country=_cow("ccode2"),
        dates=_year("year", 1816),
    ),
    ReaderSpec(
        "rivalries", "rivalries", "tss_rivalries.csv", "Thompson et al. strategic rivalries (tss_rivalries.csv)",
        "rivalries", 8, drop="start", number=_num("start"), country=_cow("ccode1"),
        # line 3 is Britain-France 1, 1494-1716: an end before the start is impossible
        dates={"ends_before_start": Corruption({"end": "1400"}, "end", "ends (1400) before it starts (1494)")},
    ),
    ReaderSpec(
        "territorial_threat", "territorial-threat", "terrthreat.csv", "latent territorial threat (terrthreat.csv)",
        "territorial_threat", 10, drop="lterrthreat", number=_num("lterrthreat"), country=_cow("ccode"),
        dates=_year("year", 1816),
    ),
]
# Event aggregates (dualthreat.ingest.aggregates): the CSV layouts here; their Parquet files, the source's own
# layout, have their own bad-input cases in test_aggregates.py.
SPECS += [
    ReaderSpec(
        "icews_dyad_month", "icews-dyad-month", "icews_dyad_month_five_states.csv",
        "ICEWS dyad-month counts (Ward Lab extract: icews_dyad_month_*.parquet, five_states.csv)", "icews_dyad_month",
        12, drop="event09", number=_num("event01"),
        country=Corruption({"source": "XYZ"}, "source", "unknown Correlates of War letter code 'XYZ'"),
        dates={**_year("year", 1979), "month_13": Corruption({"month": "13"}, "month", "month 13 is not 1-12")},
        companions=("icews_dyad_month_coverage",),
    ),
    ReaderSpec(
        "icews_dyad_year", "icews-dyad-year", "icews_dyad_year_netify.csv",
        "ICEWS dyad-year quad counts (netify: icews_dyad_year_*.parquet)", "icews_dyad_year", 12,
        drop="matlConf", number=_num("verbCoop"), country=_iso3("i_iso3c"), dates=_year("year", 1979),
    ),
    ReaderSpec(
        "gdelt_pairs", "gdelt-pairs", "gdelt_pairs_daily.csv",
        "GDELT 2.0 daily country-pair weights (gdelt2_country_pair_daily_*.parquet)", "gdelt_pairs", 12,
        drop="weight", number=_num("weight"), country=_iso3("a"), dates=_day_dates("date"),
        companions=("gdelt_pairs_days",),
    ),
]
TABULAR = [s for s in SPECS if s.kind != "speeches"]
# Event-data readers (GDELT, ICEWS) belong to another issue and have their own tests; test_bad_input checks
# only that they refuse files of the wrong kind like every other reader.
EVENT_KINDS = ("gdelt", "icews")
SPEECHES = next(s for s in SPECS if s.kind == "speeches")


# --------------------------------------------------------------------------------------------------
# byte-level editing of a fixture (every line not touched stays byte-identical)


def lines_of(data: bytes) -> list[bytes]:
    """Physical lines, each with its own line ending (the fixtures hold no multi-line records)."""
    assert data.endswith(b"\n")
    return [part + b"\n" for part in data[:-1].split(b"\n")]


def _eol(line: bytes) -> str:
    return "\r\n" if line.endswith(b"\r\n") else "\n"


def _write_row(row: list[str], eol: str, delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=eol).writerow(row)
    return buf.getvalue().encode("utf-8")


def header_of(data: bytes) -> list[str]:
    return next(csv.reader([lines_of(data)[0].decode("utf-8")]))


def set_fields(data: bytes, line: int, values: dict[str, str]) -> bytes:
    """``data`` with the given columns of physical ``line`` (1-based) replaced."""
    lines = lines_of(data)
    header = header_of(data)
    row = next(csv.reader([lines[line - 1].decode("utf-8")]))
    for col, value in values.items():
        row[header.index(col)] = value
    lines[line - 1] = _write_row(row, _eol(lines[line - 1]))
    return b"".join(lines)


def first_rows(data: bytes, n: int) -> bytes:
    """The header and the first ``n`` data rows."""
    return b"".join(lines_of(data)[: n + 1])


def rewrite(data: bytes, delimiter: str = ",", drop: str | None = None) -> bytes:
    """Every row written again, with another delimiter or without one column."""
    lines = lines_of(data)
    eol = _eol(lines[0])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    keep = [i for i, name in enumerate(rows[0]) if name != drop]
    return b"".join(_write_row([r[i] for i in keep], eol, delimiter) for r in rows)


def truncate_last_row(data: bytes) -> bytes:
    """The file cut in the middle of its last row, as by an interrupted download (no final newline)."""
    lines = lines_of(data)
    n_fields = len(header_of(data))
    last = lines[-1].decode("utf-8").rstrip("\r\n")
    for cut in range(len(last) // 2, 0, -1):
        part = last[:cut]
        try:
            fields = next(csv.reader([part], strict=True))
        except csv.Error:  # cut inside a quoted field
            break
        if len(fields) < n_fields:
            break
    else:  # pragma: no cover - the fixtures all have several fields
        raise AssertionError("cannot cut the last row")
    return b"".join(lines[:-1]) + part.encode("utf-8")


def latin1_in_line(data: bytes, line: int) -> bytes:
    """Line ``line`` with a Latin-1 'é' (byte 0xe9) appended to its first field."""
    lines = lines_of(data)
    raw = lines[line - 1]
    cut = raw.index(b",")
    lines[line - 1] = raw[:cut] + "é".encode("latin-1") + raw[cut:]
    return b"".join(lines)


def duplicate_line(data: bytes, line: int) -> bytes:
    """The file with a copy of ``line`` appended at the end."""
    lines = lines_of(data)
    return data + lines[line - 1]
