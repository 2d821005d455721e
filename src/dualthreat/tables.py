"""The canonical tables of the store: their columns, types and time coverage.

Every reader turns its source into rows of one of these tables, and every table ends with the same
provenance columns (``dataset``, ``source_file``, ``source_line``, ``source_url``), so that any stored
number can be traced back to a dataset, a file, a line and, where the source gives one, a URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

PROVENANCE: tuple[tuple[str, str], ...] = (
    ("dataset", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_line", "BIGINT"),
    ("source_url", "VARCHAR"),
)

_ARROW = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
}


@dataclass(frozen=True)
class Table:
    """A canonical table: name, typed columns, and the SQL expressions that give its time coverage."""

    name: str
    description: str
    columns: tuple[tuple[str, str], ...]
    start: str  # SQL expression (over the table) giving the first date covered, as DATE
    end: str  # SQL expression giving the last date covered, as DATE

    @property
    def all_columns(self) -> tuple[tuple[str, str], ...]:
        return self.columns + PROVENANCE

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.all_columns]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(c, _ARROW[t]) for c, t in self.all_columns])

    def create_sql(self) -> str:
        cols = ", ".join(f'"{c}" {t}' for c, t in self.all_columns)
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" ({cols})'


def _year(col: str) -> tuple[str, str]:
    return f"make_date(min({col})::INT, 1, 1)", f"make_date(max({col})::INT, 12, 31)"


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "indicators",
            "Hand-collected figures (scrambles, incursions, tests, polls, spending), one source URL per row",
            (
                ("series", "VARCHAR"),
                ("actor", "VARCHAR"),
                ("target", "VARCHAR"),
                ("period_type", "VARCHAR"),
                ("period", "VARCHAR"),
                ("start_date", "DATE"),
                ("end_date", "DATE"),
                ("value", "DOUBLE"),
                ("unit", "VARCHAR"),
                ("status", "VARCHAR"),
                ("source_title", "VARCHAR"),
                ("source_date", "VARCHAR"),
                ("note", "VARCHAR"),
            ),
            "min(start_date)",
            "max(end_date)",
        ),
        Table(
            "episodes",
            "Coded alliance decisions of Japan and South Korea",
            (
                ("episode_id", "VARCHAR"),
                ("date", "DATE"),
                ("date_precision", "VARCHAR"),
                ("actor", "VARCHAR"),
                ("counterpart", "VARCHAR"),
                ("domain", "VARCHAR"),
                ("decision", "VARCHAR"),
                ("outcome", "VARCHAR"),
                ("direction", "VARCHAR"),
                ("framework_drivers", "VARCHAR"),
                ("source_title", "VARCHAR"),
                ("note", "VARCHAR"),
            ),
            "min(date)",
            "max(date)",
        ),
        Table(
            "un_votes",
            "UN General Assembly roll-call votes by country (yes / abstain / no)",
            (("rcid", "BIGINT"), ("iso3", "VARCHAR"), ("vote", "VARCHAR")),
            "NULL::DATE",
            "NULL::DATE",
        ),
        Table(
            "un_roll_calls",
            "UN General Assembly roll calls: session, date, resolution, important-vote flag",
            (
                ("rcid", "BIGINT"),
                ("session", "INTEGER"),
                ("date", "DATE"),
                ("important_vote", "BOOLEAN"),
                ("unres", "VARCHAR"),
                ("amend", "BOOLEAN"),
                ("para", "BOOLEAN"),
                ("short", "VARCHAR"),
                ("descr", "VARCHAR"),
            ),
            "min(date)",
            "max(date)",
        ),
        Table(
            "un_roll_call_issues",
            "Issue codes of UN roll calls (me, nu, di, hr, co, ec)",
            (("rcid", "BIGINT"), ("issue_code", "VARCHAR"), ("issue", "VARCHAR")),
            "NULL::DATE",
            "NULL::DATE",
        ),
        Table(
            "ideal_points",
            "UNGA ideal points (Bailey, Strezhnev & Voeten), country-year, with posterior quantiles",
            (
                ("iso3", "VARCHAR"),
                ("ccode", "INTEGER"),
                ("year", "INTEGER"),
                ("ideal_point", "DOUBLE"),
                ("q05", "DOUBLE"),
                ("q50", "DOUBLE"),
                ("q95", "DOUBLE"),
                ("n_votes", "INTEGER"),
                ("ideal_point_all", "DOUBLE"),
                ("q05_all", "DOUBLE"),
                ("q95_all", "DOUBLE"),
                ("n_votes_all", "INTEGER"),
            ),
            *_year("year"),
        ),
        Table(
            "missile_tests",
            "North Korean missile flight tests (CNS North Korea Missile Test Database)",
            (
                ("test_date", "DATE"),
                ("date_precision", "VARCHAR"),
                ("time_local", "VARCHAR"),
                ("series_no", "INTEGER"),
                ("missile", "VARCHAR"),
                ("facility", "VARCHAR"),
                ("landing", "VARCHAR"),
                ("apogee_km", "DOUBLE"),
                ("distance_km", "DOUBLE"),
                ("bearing_deg", "DOUBLE"),
                ("outcome", "VARCHAR"),
                ("description", "VARCHAR"),
            ),
            "min(test_date)",
            "max(test_date)",
        ),
        Table(
            "missile_types",
            "Missile ids of the CNS database with name and class (SRBM, MRBM, IRBM, ICBM, SLBM, SLV, ...)",
            (("missile", "VARCHAR"), ("name", "VARCHAR"), ("type", "VARCHAR"), ("maneuver", "VARCHAR")),
            "NULL::DATE",
            "NULL::DATE",
        ),
        Table(
            "speeches",
            "UN General Debate statements (UNGDC), full English text",
            (
                ("iso3", "VARCHAR"),
                ("session", "INTEGER"),
                ("year", "INTEGER"),
                ("words", "INTEGER"),
                ("text", "VARCHAR"),
            ),
            *_year("year"),
        ),
        Table(
            "pew_favorability",
            "Pew Global Attitudes favourability aggregates by wave, respondent country and rated target",
            (
                ("wave", "INTEGER"),
                ("respondent_iso3", "VARCHAR"),
                ("target", "VARCHAR"),
                ("n_respondents", "INTEGER"),
                ("pct_very_favorable", "DOUBLE"),
                ("pct_somewhat_favorable", "DOUBLE"),
                ("pct_somewhat_unfavorable", "DOUBLE"),
                ("pct_very_unfavorable", "DOUBLE"),
                ("pct_dk", "DOUBLE"),
                ("pct_favorable", "DOUBLE"),
                ("pct_unfavorable", "DOUBLE"),
                ("quality_flag", "VARCHAR"),
            ),
            *_year("wave"),
        ),
        Table(
            "military_spending",
            "Military expenditure as a share of GDP (SIPRI, via Our World in Data)",
            (("iso3", "VARCHAR"), ("year", "INTEGER"), ("share_gdp", "DOUBLE")),
            *_year("year"),
        ),
        Table(
            "capabilities",
            "COW National Material Capabilities v7.0 (CINC and its six components)",
            (
                ("iso3", "VARCHAR"),
                ("ccode", "INTEGER"),
                ("year", "INTEGER"),
                ("milex", "DOUBLE"),
                ("milper", "DOUBLE"),
                ("irst", "DOUBLE"),
                ("pec", "DOUBLE"),
                ("tpop", "DOUBLE"),
                ("upop", "DOUBLE"),
                ("cinc", "DOUBLE"),
            ),
            *_year("year"),
        ),
        Table(
            "alliances",
            "ATOP v5.1 directed dyad-year alliance obligations",
            (
                ("iso3_a", "VARCHAR"),
                ("iso3_b", "VARCHAR"),
                ("year", "INTEGER"),
                ("defense", "BOOLEAN"),
                ("offense", "BOOLEAN"),
                ("neutral", "BOOLEAN"),
                ("nonagg", "BOOLEAN"),
                ("consult", "BOOLEAN"),
            ),
            *_year("year"),
        ),
        Table(
            "rivalries",
            "Strategic rivalries (Thompson et al. 2021), one row per rivalry spell",
            (
                ("rivalry_id", "INTEGER"),
                ("rivalry", "VARCHAR"),
                ("iso3_a", "VARCHAR"),
                ("iso3_b", "VARCHAR"),
                ("start_year", "INTEGER"),
                ("end_year", "INTEGER"),
                ("positional", "BOOLEAN"),
                ("spatial", "BOOLEAN"),
                ("ideological", "BOOLEAN"),
                ("interventionary", "BOOLEAN"),
            ),
            "make_date(min(start_year)::INT, 1, 1)",
            "make_date(max(end_year)::INT, 12, 31)",
        ),
        Table(
            "territorial_threat",
            "Latent external territorial threat (Miller 2022), state-year with 90% interval",
            (
                ("iso3", "VARCHAR"),
                ("ccode", "INTEGER"),
                ("year", "INTEGER"),
                ("threat", "DOUBLE"),
                ("sd", "DOUBLE"),
                ("lower", "DOUBLE"),
                ("upper", "DOUBLE"),
            ),
            *_year("year"),
        ),
        # Event data (GDELT 1.0/2.0, ICEWS; see dualthreat.ingest.events)
        Table(
            "events",
            "Coded events (GDELT 1.0/2.0, ICEWS) between two different states of the theater, one row per event",
            (
                ("event_id", "BIGINT"),
                ("date", "DATE"),
                ("month", "VARCHAR"),
                ("source", "VARCHAR"),
                ("target", "VARCHAR"),
                ("source_actor", "VARCHAR"),
                ("target_actor", "VARCHAR"),
                ("country_from_code", "BOOLEAN"),
                ("event_code", "VARCHAR"),
                ("root_code", "VARCHAR"),
                ("quad_class", "INTEGER"),
                ("goldstein", "DOUBLE"),
                ("is_root", "BOOLEAN"),
                ("num_mentions", "INTEGER"),
                ("num_sources", "INTEGER"),
                ("num_articles", "INTEGER"),
                ("avg_tone", "DOUBLE"),
                ("date_added", "DATE"),
            ),
            "min(date)",
            "max(date)",
        ),
        Table(
            "event_month_totals",
            "All valid events read from each event file, by month of the event: the denominators of event shares",
            (
                ("file", "VARCHAR"),
                ("file_sha256", "VARCHAR"),
                ("month", "VARCHAR"),
                ("events", "BIGINT"),
                ("root_events", "BIGINT"),
                ("mentions", "BIGINT"),
                ("root_mentions", "BIGINT"),
            ),
            "min(CAST(month || '-01' AS DATE))",
            "max(last_day(CAST(month || '-01' AS DATE)))",
        ),
    ]
}

# Event aggregates (ICEWS dyad-months and dyad-years, GDELT country-pair days; see dualthreat.ingest.aggregates)
_MONTH_SPAN = ("min(CAST(month || '-01' AS DATE))", "max(last_day(CAST(month || '-01' AS DATE)))")
TABLES.update({t.name: t for t in [
    Table(
        "icews_dyad_month",
        "ICEWS directed dyad-month counts of conflict events (Ward Lab extract); an absent dyad-month inside a "
        "covered month is zero",
        (
            ("source", "VARCHAR"),
            ("target", "VARCHAR"),
            ("month", "VARCHAR"),
            ("conflict_total", "INTEGER"),
            ("verbal_conflict", "INTEGER"),
            ("material_conflict", "INTEGER"),
        ),
        *_MONTH_SPAN,
    ),
    Table(
        "icews_dyad_month_coverage",
        "Months an ICEWS dyad-month file covers (has rows in): inside them an absent dyad-month means 0 events",
        (("month", "VARCHAR"),),
        *_MONTH_SPAN,
    ),
    Table(
        "icews_dyad_year",
        "ICEWS directed dyad-year counts by quad class (netify package; full panel of its countries)",
        (
            ("source", "VARCHAR"),
            ("target", "VARCHAR"),
            ("year", "INTEGER"),
            ("verbal_coop", "INTEGER"),
            ("material_coop", "INTEGER"),
            ("verbal_conflict", "INTEGER"),
            ("material_conflict", "INTEGER"),
        ),
        *_year("year"),
    ),
    Table(
        "gdelt_pairs",
        "GDELT 2.0 daily signed, undirected country-pair weights (a < b; not counts), nonzero days only",
        (("date", "DATE"), ("a", "VARCHAR"), ("b", "VARCHAR"), ("weight", "DOUBLE")),
        "min(date)",
        "max(date)",
    ),
    Table(
        "gdelt_pairs_days",
        "Days a GDELT pair file covers: on them an absent pair weighs 0; a day not listed is unknown",
        (("date", "DATE"),),
        "min(date)",
        "max(date)",
    ),
]})

# un_votes' coverage comes from its roll calls; it has no date of its own.
TABLES["un_votes"] = Table(
    "un_votes",
    TABLES["un_votes"].description,
    TABLES["un_votes"].columns,
    "(SELECT min(r.date) FROM un_roll_calls r WHERE r.rcid IN (SELECT rcid FROM un_votes))",
    "(SELECT max(r.date) FROM un_roll_calls r WHERE r.rcid IN (SELECT rcid FROM un_votes))",
)
