"""``dualthreat theater``: the theater file (patron, allies, sources, indicator map)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from dualthreat.cli.options import (
    FormatOpt,
    OutputFormat,
    console,
    emit,
    fail,
    progress,
)

_fail, _progress = fail, progress

app = typer.Typer()


@app.command()
def theater(file: Annotated[Optional[Path], typer.Option("--file", help="A theater TOML file (default: the "
                                                         "packaged Northeast Asia theater).")] = None,
            fmt: FormatOpt = OutputFormat.table) -> None:
    """Show a theater: patron, allies, threat sources, and which indicator measures which component."""
    from dualthreat.theater import TheaterError, load_theater

    try:
        th = load_theater(file)
    except TheaterError as exc:
        _fail(str(exc), 2)
    if fmt is OutputFormat.table:
        console.print(f"[bold]{th.name}[/bold]: patron {th.patron}; allies {', '.join(th.allies)}; "
                      f"threat sources {', '.join(th.sources)}; levels {', '.join(th.levels)}")
    emit([{"component": ".".join(i.component), "indicator": i.id, "table": i.table, "series": i.series,
           "sign": i.sign, "note": i.note} for i in th.indicators], fmt, title="Indicators by threat component")

