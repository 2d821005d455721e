"""Vintages: the date each stored row became public, and the store as it stood on a date.

A forecast for a date may use only what was public before it. Every canonical table has a rule giving the
publication date of each of its rows (``RULES``; the table of rules is in ``docs/threat-model.md``):

* where a row carries ``source_date`` (the curated figures), that date: the page the figure was read in was
  public then (an upper bound on when the figure became public: it may have been published earlier
  elsewhere). A year-month or a year alone counts as its last day;
* a dated event (a test, a provocation, an overflight) is public the day it happens, whatever the date of the
  list it was read from; the value attached to it (a magnitude, a yield) is not used by the model;
* otherwise a documented release lag per dataset (SIPRI: 30 April of the next year; Pew: the end of the
  survey year; UN speeches: 31 October of their year, after the General Debate; votes: their date; ICEWS
  counts: not before the public release of 27 March 2015; GDELT daily pair weights: the next day);
* estimates re-estimated on later data (the UNGA ideal points of Bailey, Strezhnev & Voeten, Miller's latent
  territorial threat) and data sets held only in a release long after their years (COW NMC v7.0) are not
  usable out of time: every row is dated at the release the store holds, so a fit as of an earlier date
  does not see them.

:func:`snapshot` is the **one** place where the ``as_of`` cut is applied: it gives an :class:`AsOfStore`, in which
every table is a view of the source store's table keeping only the rows published before the date; the model
then reads that store only, so that no standardisation, scaling or estimate can see a later row. Nothing is
copied: the views are made in an in-memory DuckDB database beside the source store, attached read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from dualthreat.store import LOADS_SQL, REJECTIONS_SQL, Store, StoreError
from dualthreat.tables import TABLES

ICEWS_PUBLIC_RELEASE = "2015-03-27"  # ICEWS Coded Event Data, Harvard Dataverse doi:10.7910/DVN/28075
IDEAL_POINTS_RELEASE = "2025-07-28"  # Voeten, UNGA ideal points, version of 28 July 2025 (the one stored)
TERRITORIAL_THREAT_RELEASE = "2022-12-31"  # Miller (2022), latent external territorial threat, 1816-2010
NMC_RELEASE = "2023-12-31"  # COW NMC v7.0 (to 2022): the end of the year after its last year, at the earliest

_SOURCE_DATE = ("CASE length(t.source_date) WHEN 10 THEN TRY_CAST(t.source_date AS DATE) "
                "WHEN 7 THEN last_day(TRY_CAST(t.source_date || '-01' AS DATE)) "
                "WHEN 4 THEN make_date(TRY_CAST(t.source_date AS INTEGER), 12, 31) END")


@dataclass(frozen=True)
class Rule:
    """How a table's rows get their publication date: an SQL expression over the row ``t`` (and ``join``)."""

    published: str | None  # None: a reference table with no time (always visible)
    rule: str  # in words, for the docs
    join: str = ""
    usable_out_of_time: bool = True


RULES: dict[str, Rule] = {
    "indicators": Rule(
        f"CASE WHEN t.period_type = 'date' AND t.unit NOT LIKE '%cumulative%' THEN t.start_date "
        f"ELSE coalesce({_SOURCE_DATE}, t.end_date + INTERVAL 1 MONTH) END",
        "source_date of the page the figure was read in (year-month or year: its last day); a dated event: its "
        "own date; no source_date: the end of the period plus one month"),
    "episodes": Rule("t.date", "the decision's date"),
    "un_votes": Rule("r.date", "the date of the roll call", "JOIN src.un_roll_calls r USING (rcid)"),
    "un_roll_calls": Rule("t.date", "the date of the roll call"),
    "un_roll_call_issues": Rule("r.date", "the date of the roll call", "JOIN src.un_roll_calls r USING (rcid)"),
    "ideal_points": Rule(f"DATE '{IDEAL_POINTS_RELEASE}'",
                         "not usable out of time: re-estimated jointly over all years (dynamic model with bridge "
                         "votes); every row dated at the release held, 28 July 2025", usable_out_of_time=False),
    "missile_tests": Rule("t.test_date", "the test's date (public the day it happens)"),
    "missile_types": Rule(None, "reference list of missile classes (no time)"),
    "speeches": Rule("make_date(t.year, 10, 31)", "31 October of its year (the General Debate is held in late "
                                                   "September; a speech is public when delivered)"),
    "pew_favorability": Rule("make_date(t.wave, 12, 31)", "the end of the survey year (Pew publishes its spring "
                                                           "waves' results during the year)"),
    "military_spending": Rule("make_date(t.year + 1, 4, 30)", "30 April of the next year (SIPRI's annual release "
                                                               "is in late April); values are the 2025 revision"),
    "capabilities": Rule(f"DATE '{NMC_RELEASE}'",
                         "not usable out of time: COW NMC v7.0 only (its values revise earlier versions, released "
                         "years after their years); every row dated at the end of the year after its last year "
                         "(v7.0's release date is not in the provenance)", usable_out_of_time=False),
    "alliances": Rule("make_date(t.year, 12, 31)", "the end of its year (ATOP; not read by the threat model)"),
    "rivalries": Rule("make_date(coalesce(t.end_year, t.start_year), 12, 31)",
                      "the end of the spell's last year (not read by the threat model)"),
    "territorial_threat": Rule(f"DATE '{TERRITORIAL_THREAT_RELEASE}'",
                               "not usable out of time: a latent estimate over all years (Miller 2022); every row "
                               "dated at the end of its publication year", usable_out_of_time=False),
    "events": Rule(f"CASE WHEN t.dataset LIKE 'icews%' THEN greatest(t.date, DATE '{ICEWS_PUBLIC_RELEASE}') "
                   f"ELSE coalesce(t.date_added, t.date) END",
                   "GDELT: the date the event was added; ICEWS: the event's date, not before the public "
                   "release of 27 March 2015"),
    "event_month_totals": Rule(
        f"CASE WHEN t.file ILIKE '%icews%' THEN greatest(last_day(CAST(t.month || '-01' AS DATE)), "
        f"DATE '{ICEWS_PUBLIC_RELEASE}') ELSE last_day(CAST(t.month || '-01' AS DATE)) END",
        "the end of the month (ICEWS files: not before 27 March 2015)"),
    "icews_dyad_month": Rule(
        f"greatest(last_day(CAST(t.month || '-01' AS DATE)), DATE '{ICEWS_PUBLIC_RELEASE}')",
        "ICEWS counts were not public before the Dataverse release of 27 March 2015 (this extract is an internal "
        "2014 version): the later of the month's end and that date"),
    "icews_dyad_month_coverage": Rule(
        f"greatest(last_day(CAST(t.month || '-01' AS DATE)), DATE '{ICEWS_PUBLIC_RELEASE}')",
        "as icews_dyad_month"),
    "icews_dyad_year": Rule(f"greatest(make_date(t.year, 12, 31), DATE '{ICEWS_PUBLIC_RELEASE}')",
                            "the later of the year's end and the ICEWS public release of 27 March 2015"),
    "gdelt_pairs": Rule("t.date + INTERVAL 1 DAY", "the next day (GDELT 2.0 publishes every 15 minutes; a day's "
                                                   "sum is complete at its end)"),
    "gdelt_pairs_days": Rule("t.date + INTERVAL 1 DAY", "as gdelt_pairs"),
}


class VintageError(ValueError):
    """A table has no publication rule."""


def rule(table: str) -> Rule:
    if table not in RULES:
        raise VintageError(f"table {table!r} has no publication-date rule in dualthreat.measure.vintage.RULES: "
                           "add one before the model reads it")
    return RULES[table]


def published_sql(table: str) -> str:
    """The SQL expression of a row's publication date, over the row aliased ``t`` (joins: :func:`join_sql`)."""
    expr = rule(table).published
    return "NULL::DATE" if expr is None else expr.replace("src.", "")


def join_sql(table: str) -> str:
    """The join a table's rule needs (e.g. the roll calls' dates for the votes), or ''."""
    return rule(table).join.replace("src.", "")


def published_rows(store: Store, table: str, columns: str = "t.*") -> pd.DataFrame:
    """The rows of ``table`` with their publication date (column ``published``)."""
    return store.query(f'SELECT {columns}, {published_sql(table)} AS published FROM "{table}" t '
                       f'{join_sql(table)}').to_pandas()


SOURCE_CATALOG = "asof_source"  # the source store, attached read-only beside an as-of store's views


def _view_sql(table: str, day: str) -> str:
    r = rule(table)
    cut = "" if r.published is None else f"WHERE ({r.published}) < DATE '{day}'"
    sql = f'CREATE VIEW "{table}" AS SELECT t.* FROM src."{table}" t {r.join} {cut}'
    return sql.replace("src.", f"{SOURCE_CATALOG}.")


class AsOfStore(Store):
    """The store as it stood on ``as_of`` (made by :func:`snapshot`): each canonical table is a view of the
    ``source`` store's table holding only the rows published before that date (a table the source lacks is
    empty). Read-only, with no file of its own: a reader that opens a path, or names a table as every reader
    does (unqualified), gets the views. The source is attached as the catalog :data:`SOURCE_CATALOG`, which the
    views need; only a query naming that catalog, or one going through ``source``, reads its later rows, and
    no measure or model does (``tests/test_vintage.py`` scans them). Its data version is that of an empty load
    log, the same at every date: nothing may be cached under it.

    ``public_rows(table)``: how many rows of a table the date lets through. Rows become public once and stay
    public, so for the same source data the counts name the rows exactly: two dates with the same counts in
    the tables a measure reads give that measure the same rows (what :class:`~dualthreat.model.SharedFits`
    keys its reuse across dates on)."""

    def __init__(self, source: Store, as_of: str | pd.Timestamp) -> None:
        if not source.exists():
            raise StoreError(f"no store at {source.path}; run `dualthreat build` first (or pass --store PATH)")
        self.source = source
        self.as_of = pd.Timestamp(as_of).date().isoformat()
        self._counts: dict[str, int] | None = None
        self._series_counts: dict[str, dict[str, int]] = {}
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH '{source.path}' AS {SOURCE_CATALOG} (READ_ONLY)")
            present = {r[0] for r in con.execute(
                f"SELECT table_name FROM information_schema.tables WHERE table_catalog = '{SOURCE_CATALOG}'"
            ).fetchall()}
            for name, table in TABLES.items():
                con.execute(_view_sql(name, self.as_of) if name in present else table.create_sql())
            con.execute(LOADS_SQL)
            con.execute(REJECTIONS_SQL)
        except BaseException:
            con.close()
            raise
        self._reader = con

    @property
    def path(self) -> Any:  # noqa: ANN401 - a property that refuses
        raise StoreError(f"the store as of {self.as_of} has no file of its own: read it with query() or "
                         "connect(read_only=True), never through the source's path (that would see later rows)")

    def exists(self) -> bool:
        return True

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A cursor on the views (read-only: an as-of store is never written)."""
        if not read_only or self._reader is None:
            raise StoreError(f"the store as of {self.as_of} is read-only and open only inside its snapshot")
        return self._reader.cursor()

    def __enter__(self) -> AsOfStore:
        return self

    def __exit__(self, *exc: object) -> None:  # the connection lives as long as the snapshot
        return None

    def load(self, *args: object, **kwargs: object) -> Any:  # noqa: ANN401
        raise StoreError(f"cannot load into the store as of {self.as_of}: load into {self.source.path}")

    def public_rows(self, table: str, series: str | None = None) -> int:
        """The number of rows of ``table`` (of its rows of ``series``, if given) public before ``as_of``. The
        tables are counted in one query, and a table's series in one more, the first time they are asked for."""
        if series is None:
            if self._counts is None:
                union = " UNION ALL ".join(f"SELECT '{n}' AS name, count(*) AS n FROM \"{n}\"" for n in TABLES)
                self._counts = {r["name"]: int(r["n"]) for r in self.query(union).to_pylist()}
            return self._counts[table]
        if table not in self._series_counts:
            self._series_counts[table] = {r["series"]: int(r["n"]) for r in self.query(
                f'SELECT series, count(*) AS n FROM "{table}" GROUP BY series').to_pylist()}
        return self._series_counts[table].get(series, 0)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


@contextmanager
def snapshot(store: Store, as_of: str | pd.Timestamp | None) -> Iterator[Store]:
    """The store as it stood on ``as_of``: an :class:`AsOfStore` whose tables hold only the rows published
    before that date (the cut applied once, before anything is read). ``as_of=None`` gives the store itself."""
    if as_of is None:
        yield store
        return
    snap = AsOfStore(store, as_of)
    try:
        yield snap
    finally:
        snap.close()
