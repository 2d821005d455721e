"""What every command module of the CLI shares: the --store and --format options, the error exit and the
progress bar. (Kept apart from cli.py so that command modules registered on the app can import it.)"""

from __future__ import annotations

from typing import Annotated, NoReturn, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from dualthreat.output import OutputFormat, err_console

StoreOpt = Annotated[Optional[str], typer.Option("--store", help="Store file (default: $DUALTHREAT_STORE or "
                                                 "./dualthreat.duckdb).", show_default=False)]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output: table for people, csv or json "
                                                 "for programs.")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` (never read as markup) on stderr and exit with ``code``."""
    err_console.print("[bold red]error:[/bold red] ", end="")
    err_console.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def progress() -> Progress:
    """A transient progress bar on stderr."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)
