"""``dualthreat build``, ``ingest`` and ``data list|show``: the store and what goes into it."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from dualthreat.cli.options import (
    KIND_HELP,
    FormatOpt,
    OutputFormat,
    StoreOpt,
    TheaterOpt,
    emit,
    err_console,
    fail,
    progress,
)

_fail, _progress = fail, progress

app = typer.Typer()
data_app = typer.Typer(help="Look at the tables in the store.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@app.command()
def build(store: StoreOpt = None,
          data_dir: Annotated[Optional[Path], typer.Option("--data", help="Default-dataset folder (default: the "
                                                           "project's data/).")] = None,
          fmt: FormatOpt = OutputFormat.table, theater: TheaterOpt = None) -> None:
    """Load the default dataset (data/, derived from cited public sources) into the store.

    Works offline and without ../shared. Running it again adds nothing. With --theater, also says which
    tables the theater's indicators read and how many rows the store holds for each (every theater reads
    the same default dataset).
    """
    from dualthreat.store import Store, StoreError
    from dualthreat.store.defaults import DefaultDataError
    from dualthreat.store.defaults import build as build_default

    st = Store(store)
    try:
        with _progress() as progress:
            task = progress.add_task("loading the default dataset", total=None)
            reports = build_default(st, data_dir, progress=lambda t: progress.update(task, description=f"reading {t}"))
    except (DefaultDataError, StoreError) as exc:
        _fail(str(exc))
    rows = [{"table": r.table, "rows": r.loaded, "added": r.added,
             "status": "already loaded" if r.already_loaded else "loaded"} for r in reports]
    emit(rows, fmt, title=f"Default dataset → {st.path}")
    if theater is not None and fmt is OutputFormat.table:
        from dualthreat.theater import load_theater

        th = load_theater(theater)
        held = {r["table"]: r["rows"] for r in st.summary()}
        used: dict[str, int] = {}
        for ind in (*th.indicators, *th.backing):
            used[ind.table] = used.get(ind.table, 0) + 1
        emit([{"table": t, "indicators": n, "rows in the store": held.get(t, 0)} for t, n in sorted(used.items())],
             fmt, title=f"Theater {th.name}: the tables its indicators read")


@app.command()
def ingest(
    kind: Annotated[str, typer.Argument(help="What the files hold: " + "; ".join(
        f"{k}: {v}" for k, v in KIND_HELP.items()) + ".", show_default=False)],
    paths: Annotated[list[Path], typer.Argument(help="Files to read (a folder for speeches).", show_default=False)],
    store: StoreOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Load nothing if any row is rejected.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Read files of one KIND, check every row, and add the good rows to the store.

    Every rejected row is reported with file, line, field and reason, and rows in = loaded + rejected.
    A file that is not of the kind asked for is refused as a whole (exit status 2) and the store is left
    unchanged; so is the whole ingest with --strict when any row is rejected. Loading the same file twice
    adds nothing.
    """
    from dualthreat import ingest as readers
    from dualthreat.store import Store, StoreError

    if kind not in readers.all_kinds():
        _fail(f"unknown kind {kind!r}; choose one of: {', '.join(readers.all_kinds())}", 2)
    results = []
    try:
        with _progress() as progress:
            task = progress.add_task("reading", total=len(paths))
            for path in paths:
                progress.update(task, description=f"reading {path.name}")
                results.append(readers.read(kind, path))
                progress.advance(task)
    except readers.FileRefused as exc:
        _fail(f"{exc.file}: refused: {exc.reason}. Nothing was stored.", 2)
    except readers.ScannerError as exc:
        _fail(f"{exc}. Nothing was stored.", 2)
    rejections = [r for res in results for r in res.rejections]
    rows_in = sum(r.rows_in for r in results)
    loaded = sum(r.loaded for r in results)
    if strict and rejections:
        _report_ingest(fmt, rows_in, loaded, rejections, [], stored=False)
        _fail(f"{len(rejections)} row(s) rejected and --strict is set; nothing was stored.", 2)
    try:
        reports = Store(store).load(results, kind=kind)
    except StoreError as exc:
        _fail(str(exc))
    _report_ingest(fmt, rows_in, loaded, rejections, reports, stored=True)


def _report_ingest(fmt: OutputFormat, rows_in: int, loaded: int, rejections: list, reports: list,
                   stored: bool) -> None:
    added = sum(r.added for r in reports)
    if fmt is OutputFormat.json:
        print(json.dumps({"rows_in": rows_in, "loaded": loaded, "rejected": len(rejections), "added": added,
                          "files": [{"file": r.file, "table": r.table, "rows_in": r.rows_in, "loaded": r.loaded,
                                     "rejected": r.rejected, "added": r.added,
                                     "already_loaded": r.already_loaded} for r in reports],
                          "rejections": [r.as_dict() for r in rejections]}, ensure_ascii=False))
        return
    if fmt is OutputFormat.csv:
        emit([r.as_dict() for r in rejections], fmt, columns=["file", "line", "field", "reason"])
    elif rejections:
        emit([r.as_dict() for r in rejections[:50]], fmt, title="Rejected rows", columns=["file", "line", "field", "reason"])
        if len(rejections) > 50:
            err_console.print(f"... and {len(rejections) - 50} more rejected rows (use --format json for all)")
    for r in reports:
        note = " (already loaded: nothing added)" if r.already_loaded else ""
        err_console.print(f"{r.file} → {r.table}: {r.rows_in} in = {r.loaded} loaded + {r.rejected} rejected; "
                          f"{r.added} new rows stored{note}", markup=False, highlight=False)
    err_console.print(f"total: {rows_in} rows in = {loaded} loaded + {len(rejections)} rejected"
                      + ("" if stored else "; nothing stored"), markup=False, highlight=False)


@data_app.command("list")
def data_list(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Each table in the store: rows, time coverage and sources."""
    from dualthreat.store import Store, StoreError

    try:
        rows = Store(store).summary()
    except StoreError as exc:
        _fail(str(exc))
    if fmt is OutputFormat.table:
        emit(rows, fmt, title="Tables in the store",
             columns=["table", "rows", "start", "end", "datasets", "source_urls", "rows_without_url"])
    else:
        emit(rows, fmt)


@data_app.command("show")
def data_show(table: Annotated[str, typer.Argument(help="Table name (see `dualthreat data list`).")],
              limit: Annotated[int, typer.Option("--limit", "-n", help="Rows to print.")] = 20,
              store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Print the first rows of a table."""
    from dualthreat.store import Store, StoreError

    try:
        rows = Store(store).read_table(table, limit=limit).to_pylist()
    except StoreError as exc:
        _fail(str(exc))
    emit(rows, fmt, title=f"{table} (first {limit} rows)", max_width=40)


