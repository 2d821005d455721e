"""``dualthreat events ...`` and ``dualthreat fetch gdelt``: the command line of the event-data pipeline.

Every heavy import (DuckDB, Ibis, PySpark) happens inside
the commands, so that ``dualthreat --help`` stays fast.
"""

# No `from __future__ import annotations` here: Typer reads the option annotations of the commands defined
# inside register(), which must be evaluated where they are written.
import datetime as dt
import enum
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer


class Engine(str, enum.Enum):
    duckdb = "duckdb"
    spark = "spark"


class Dedup(str, enum.Enum):
    id = "id"
    daily = "daily"
    none = "none"


from dualthreat.cli import options as cli

app = typer.Typer()


def _register(app: typer.Typer) -> None:
    """Add ``events`` and ``fetch`` to ``app``."""
    
    events_app = typer.Typer(help="Event data (GDELT, ICEWS) in the store: monthly dyadic indices and protests.",
                             no_args_is_help=True)
    fetch_app = typer.Typer(help="Download raw event files from their publisher and ingest them.",
                            no_args_is_help=True)
    app.add_typer(events_app, name="events")
    app.add_typer(fetch_app, name="fetch")

    EngineOpt = Annotated[Engine, typer.Option("--engine", help="Where the aggregation runs: duckdb (the store) or "
                                               "spark (local PySpark; needs `pip install 'dualthreat[spark]'` "
                                               "and Java 17).")]
    RootOpt = Annotated[bool, typer.Option("--root-only/--all-events", help="Count only GDELT root events "
                                           "(IsRootEvent=1, coded from a lead paragraph) or all events. ICEWS "
                                           "has no root flag and keeps all its events.")]
    DedupOpt = Annotated[Dedup, typer.Option("--dedup", help="id: one row per event id (an event exported "
                                             "twice counts once); daily: also one event per day, dyad and CAMEO "
                                             "code (Schrodt's one-a-day filter for duplicate reports); none: "
                                             "every row.")]
    TheaterOpt = Annotated[Optional[Path], typer.Option("--theater", help="Theater file whose states form the "
                                                        "dyads (default: the packaged Northeast Asia theater).")]
    DatasetOpt = Annotated[Optional[str], typer.Option("--dataset", help="Only this dataset (gdelt1, gdelt2, "
                                                       "icews).")]
    SourceOpt = Annotated[Optional[str], typer.Option("--source", help="Only this source state (ISO3).")]
    TargetOpt = Annotated[Optional[str], typer.Option("--target", help="Only this target state (ISO3).")]
    FromOpt = Annotated[Optional[str], typer.Option("--from", help="First month, YYYY-MM.", callback=cli.month)]
    ToOpt = Annotated[Optional[str], typer.Option("--to", help="Last month, YYYY-MM.", callback=cli.month)]

    def _states(theater_file: Optional[Path]) -> tuple[str, ...]:
        # the states only: a packaged theater is not parsed (its indicators' months import pandas, 0.4 s)
        from dualthreat.theater import TheaterError, theater_states

        try:
            return theater_states(theater_file)
        except TheaterError as exc:
            cli.fail(str(exc), 2)
            raise  # unreachable

    def _measure(measure: str, store: Optional[str], engine: Engine, root_only: bool, dedup: Dedup,
                 theater_file: Optional[Path], filters: dict[str, Any], fmt: Any, columns: list[str] | None,
                 title: str) -> None:
        from dualthreat.cli.options import emit, err_console
        from dualthreat.store import resolve_store_path

        path = resolve_store_path(store)
        if not path.exists():
            cli.fail(f"no store at {path}; run `dualthreat build` and `dualthreat ingest gdelt FILES` first")
        if not _has_events(path):
            cli.fail(f"the store {path} holds no event data; run `dualthreat ingest gdelt|icews FILES` or "
                      "`dualthreat fetch gdelt --start ... --end ...` first")
        from dualthreat.measure.events import run_measure

        try:
            result = run_measure(measure, path, engine=engine.value, states=_states(theater_file),
                                 root_only=root_only, dedup=dedup.value)
        except RuntimeError as exc:
            cli.fail(str(exc))
        rows = [r for r in result.rows if _keep(r, filters)]
        d = result.dropped
        err_console.print(
            f"{d['theater_events']} events between the theater's states in the store; dropped "
            f"{d['duplicate_event_id']} repeated event ids, {d['one_a_day']} one-a-day duplicates, "
            f"{d['not_root']} non-root events; counted {d['counted']} (engine: {result.engine})",
            markup=False, highlight=False)
        emit(rows, fmt, title=title, columns=columns if fmt.value == "table" and columns else result.columns)

    @events_app.command("monthly")
    def monthly(store: cli.StoreOpt = None, engine: EngineOpt = Engine.duckdb, root_only: RootOpt = False,
                dedup: DedupOpt = Dedup.id, theater: TheaterOpt = None, dataset: DatasetOpt = None,
                source: SourceOpt = None, target: TargetOpt = None, start: FromOpt = None, end: ToOpt = None,
                fmt: cli.FormatOpt = cli.OutputFormat.table) -> None:
        """The dyad-month table: for each month and ordered pair of the theater's states, events, events per
        quad class (quad1 verbal cooperation, quad2 material cooperation, quad3 verbal conflict, quad4 material
        conflict), Goldstein sum and mean, net cooperation (quad1+quad2-quad3-quad4), their mention-weighted
        variants (*_m), and shares of all events coded that month (*_share).

        The table format shows the main columns; csv and json give all of them. What --dedup and --root-only
        drop is printed on stderr.
        """
        from dualthreat.measure.events import MONTHLY_COLUMNS

        _measure("monthly", store, engine, root_only, dedup, theater,
                 {"dataset": dataset, "source": source, "target": target, "from": start, "to": end}, fmt,
                 MONTHLY_COLUMNS, "Events by dyad and month")

    @events_app.command("protests")
    def protests(store: cli.StoreOpt = None, engine: EngineOpt = Engine.duckdb, root_only: RootOpt = False,
                 dedup: DedupOpt = Dedup.id, theater: TheaterOpt = None, dataset: DatasetOpt = None,
                 source: SourceOpt = None, target: TargetOpt = None, start: FromOpt = None, end: ToOpt = None,
                 fmt: cli.FormatOpt = cli.OutputFormat.table) -> None:
        """Protest events (CAMEO root 14) by the people and groups of one state against another, per month,
        with their mention-weighted count and their share of all events coded that month."""
        _measure("protests", store, engine, root_only, dedup, theater,
                 {"dataset": dataset, "source": source, "target": target, "from": start, "to": end}, fmt,
                 None, "Protests by country against a target, by month")

    @events_app.command("sql")
    def sql(measure: Annotated[str, typer.Argument(help="monthly or protests.")] = "monthly",
            table: Annotated[str, typer.Option("--table", help="BigQuery table of GDELT 2.0 events.")]
            = "gdelt-bq.gdeltv2.events",
            root_only: RootOpt = False, dedup: DedupOpt = Dedup.id, theater: TheaterOpt = None) -> None:
        """Print the BigQuery SQL of a measure over GDELT's public events table (the same Ibis expression as
        the store's; nothing is sent anywhere)."""
        import ibis

        from dualthreat.measure import events as m

        if measure not in ("monthly", "protests"):
            cli.fail(f"unknown measure {measure!r}; choose monthly or protests", 2)
        parts = table.split(".")
        if len(parts) != 3:
            cli.fail(f"--table {table!r} is not of the form project.dataset.table", 2)
        states = _states(theater)
        raw = m.gdelt_bigquery_table(name=parts[2], database=parts[1], catalog=parts[0])
        fn = m.dyad_month_expr if measure == "monthly" else m.protests_expr
        expr = fn(m.gdelt_events(raw, states), m.gdelt_totals(raw), states, root_only=root_only, dedup=dedup.value)
        print(ibis.to_sql(expr, dialect="bigquery"))

    @fetch_app.command("gdelt")
    def fetch_gdelt(
        start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.", callback=cli.date)],
        end: Annotated[str, typer.Option("--end", help="Last day, YYYY-MM-DD.", callback=cli.date)],
        version: Annotated[int, typer.Option("--version", help="GDELT 1 (daily/monthly/yearly files, 1979-) or "
                                             "2 (15-minute exports, 2015-02-18-).")] = 2,
        base_url: Annotated[Optional[str], typer.Option("--base-url", help="A mirror of GDELT's folder (default: "
                                                        "http://data.gdeltproject.org/gdeltv2/ or .../events/).")]
        = None,
        folder: Annotated[Optional[Path], typer.Option("--dir", help="Where the files go (default: "
                                                       "./gdelt/v1 or ./gdelt/v2).")] = None,
        ingest: Annotated[bool, typer.Option("--ingest/--no-ingest", help="Ingest what was fetched.")] = True,
        retries: Annotated[int, typer.Option("--retries", help="Retries per file after the first attempt.")] = 4,
        backoff: Annotated[float, typer.Option("--backoff", help="Seconds before the first retry; doubled at each "
                                               "retry.")] = 1.0,
        timeout: Annotated[float, typer.Option("--timeout", help="Network timeout in seconds.")] = 60.0,
        jobs: Annotated[int, typer.Option("--jobs", help="Files downloaded at once.")] = 4,
        theater: TheaterOpt = None,
        store: cli.StoreOpt = None,
        fmt: cli.FormatOpt = cli.OutputFormat.table,
    ) -> None:
        """Download GDELT event files for a date range and ingest them.

        Reads GDELT's master file list, downloads only the files of the range, checks each against the listed
        size and MD5, retries with backoff, resumes interrupted downloads, and refuses zip entries that would
        be written outside the folder. A second run fetches only what is missing. Exit status 1 if a file could
        not be fetched (the others are still ingested), 2 if a fetched file is not GDELT event data.
        """
        from dualthreat.cli.options import emit, err_console
        from dualthreat.ingest import fetch as f

        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        if version not in (1, 2):
            cli.fail(f"--version must be 1 or 2, not {version}", 2)
        target = folder or Path("gdelt") / f"v{version}"
        try:
            files, bad_lines = f.file_list(version, first, last, base_url, timeout=timeout)
        except f.FetchError as exc:
            cli.fail(str(exc))
        if bad_lines:
            err_console.print(f"warning: {bad_lines} line(s) of GDELT's file list could not be read and were "
                              "skipped", markup=False, highlight=False)
        err_console.print(f"{len(files)} GDELT {version}.0 event file(s) for {first} – {last} → {target}",
                          markup=False, highlight=False)
        total = sum(x.size or 0 for x in files) or None
        with cli.progress() as progress:
            task = progress.add_task("downloading", total=total)
            outcomes = f.fetch(files, target, retries=retries, backoff=backoff, timeout=timeout, jobs=jobs,
                               progress=lambda n: progress.advance(task, n))
        failed = [o for o in outcomes if o.status == "failed"]
        summary = {s: sum(1 for o in outcomes if o.status == s) for s in ("downloaded", "already fetched", "failed")}
        err_console.print(f"fetched: {summary['downloaded']} downloaded, {summary['already fetched']} already "
                          f"there, {summary['failed']} failed", markup=False, highlight=False)
        if failed and fmt.value == "table":
            emit([{"file": o.file.name, "error": o.error} for o in failed], fmt, title="Files not fetched")
        report: dict[str, Any] = {"files": [{"file": o.file.name, "status": o.status, "attempts": o.attempts,
                                             "error": o.error} for o in outcomes]}
        if ingest:
            paths = [p for o in outcomes if o.status != "failed" for p in o.paths]
            report.update(_ingest_paths(paths, theater, store, fmt))
        if fmt.value == "json":
            print(json.dumps(report, ensure_ascii=False))
        elif fmt.value == "csv":
            emit(report["files"], fmt)
        if failed:
            raise typer.Exit(1)

    def _ingest_paths(paths: list[Path], theater_file: Optional[Path], store: Optional[str], fmt: Any
                      ) -> dict[str, Any]:
        from dualthreat.cli.options import err_console
        from dualthreat.ingest.base import FileRefused
        from dualthreat.ingest.events import ScannerError, read_events
        from dualthreat.store import Store, StoreError

        states = _states(theater_file)
        st = Store(store)
        reports, rejections, rows_in, loaded = [], [], 0, 0
        batch = 64  # files per transaction: memory stays bounded over long ranges
        with cli.progress() as progress:
            task = progress.add_task("ingesting", total=len(paths))
            for i in range(0, len(paths), batch):
                part = paths[i:i + batch]
                try:
                    results = read_events("gdelt", part, states, progress=lambda p: progress.advance(task))
                except FileRefused as exc:
                    cli.fail(f"{exc.file}: refused: {exc.reason}. Files ingested before it stay stored.", 2)
                except ScannerError as exc:
                    cli.fail(f"{exc}. Files ingested before stay stored.", 2)
                try:
                    reports += st.load(results, kind="gdelt")
                except StoreError as exc:
                    cli.fail(str(exc))
                rejections += [r for res in results for r in res.rejections]
                rows_in += sum(r.rows_in for r in results)
                loaded += sum(r.loaded for r in results)
        events_added = sum(r.added for r in reports if r.table == "events")
        err_console.print(f"ingested {len(paths)} file(s): {rows_in} rows in = {loaded} loaded + "
                          f"{len(rejections)} rejected; {events_added} new events between the theater's states "
                          f"stored in {st.path}", markup=False, highlight=False)
        if rejections and fmt.value == "table":
            from dualthreat.cli.options import emit

            emit([r.as_dict() for r in rejections[:50]], fmt, title="Rejected rows",
                 columns=["file", "line", "field", "reason"])
            if len(rejections) > 50:
                err_console.print(f"... and {len(rejections) - 50} more rejected rows (use --format json for all)")
        return {"rows_in": rows_in, "loaded": loaded, "rejected": len(rejections), "events_added": events_added,
                "rejections": [r.as_dict() for r in rejections]}


def _has_events(path: Path) -> bool:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"events", "event_month_totals"} <= names:
            return False
        return con.execute("SELECT count(*) FROM event_month_totals").fetchall()[0][0] > 0
    finally:
        con.close()


def _keep(row: dict[str, Any], filters: dict[str, Any]) -> bool:
    for key in ("dataset", "source", "target"):
        if filters.get(key) and row.get(key) != filters[key]:
            return False
    if filters.get("from") and row["month"] < filters["from"]:
        return False
    if filters.get("to") and row["month"] > filters["to"]:
        return False
    return True


_register(app)
