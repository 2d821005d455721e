"""``dualthreat theater [list|show NAME]``: the packaged theaters and what a theater file says (patron, allies,
sources and their roles, indicator map)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from dualthreat.cli.options import FormatOpt, OutputFormat, console, emit, fail

theater_app = typer.Typer(help="The theaters: `theater list` shows the packaged ones, `theater show NAME` one "
                               "of them (or a file); plain `theater` shows the default.",
                          invoke_without_command=True)
app = typer.Typer()
app.add_typer(theater_app, name="theater")


def _load(name: str | Path | None):  # noqa: ANN202 - Theater
    from dualthreat.theater import TheaterError, load_theater

    try:
        return load_theater(name)
    except TheaterError as exc:
        fail(str(exc), 2)


def _show(name: str | Path | None, fmt: OutputFormat) -> None:
    th = _load(name)
    if fmt is OutputFormat.table:
        console.print(f"[bold]{th.name}[/bold]: patron {th.patron}; allies {', '.join(th.allies)}; "
                      f"threat sources {', '.join(th.sources)} (great power {th.great_power}, client {th.client}); "
                      f"levels {', '.join(th.levels)}", markup=True, highlight=False)
    emit([{"component": ".".join(i.component), "indicator": i.id, "table": i.table, "series": i.series,
           "sign": i.sign, "note": i.note} for i in th.indicators], fmt, title="Indicators by threat component")


@theater_app.callback()
def theater(ctx: typer.Context,
            file: Annotated[Optional[Path], typer.Option("--file", help="A theater TOML file (default: the "
                                                         "packaged Northeast Asia theater).")] = None,
            fmt: FormatOpt = OutputFormat.table) -> None:
    """Show a theater: patron, allies, threat sources, and which indicator measures which component."""
    if ctx.invoked_subcommand is None:
        _show(file, fmt)


@theater_app.command("list")
def theater_list(fmt: FormatOpt = OutputFormat.table) -> None:
    """The packaged theaters: name, file, patron, allies and threat sources."""
    from dualthreat.theater import packaged_theaters

    rows = []
    for name in packaged_theaters():
        th = _load(name)
        rows.append({"name": name, "title": th.name, "file": th.file, "patron": th.patron,
                     "allies": list(th.allies), "sources": list(th.sources), "great_power": th.great_power,
                     "client": th.client, "indicators": len(th.indicators)})
    if fmt is OutputFormat.table:
        rows = [{**r, "allies": ", ".join(r["allies"]), "sources": ", ".join(r["sources"])} for r in rows]
    emit(rows, fmt, title="Packaged theaters (use one with --theater NAME)")


@theater_app.command("show")
def theater_show(name: Annotated[str, typer.Argument(help="A packaged theater's name (see `theater list`) or a "
                                                     "theater TOML file.")],
                 fmt: FormatOpt = OutputFormat.table) -> None:
    """One theater: its states and roles, and every indicator with the component it measures."""
    _show(name, fmt)
