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


# What each `dualthreat ingest KIND` reads (kept here, without the readers' imports, so that --help is fast;
# tests/test_readers.py checks it names exactly the kinds of dualthreat.ingest).
KIND_HELP = {
    "indicators": "curated figures (the CSV files of shared/data/curated)",
    "episodes": "coded decision episodes (CSV in the format of shared/data/episodes/calibration.csv)",
    "votes": "UN votes, roll calls or roll-call issues (unvotes package CSV or Parquet)",
    "ideal-points": "UN ideal points (IdealpointsJuly2025.csv)",
    "missiles": "CNS North Korea missile tests (tests_flat.en.csv) or missile list (missiles.en.csv)",
    "speeches": "UN General Debate statements (ISO_NN_YYYY.txt files or a folder of them)",
    "pew": "Pew favourability aggregates",
    "sipri": "SIPRI military burden (Our World in Data CSV)",
    "capabilities": "COW National Material Capabilities (cow_nmc.csv)",
    "alliances": "ATOP directed dyad-years",
    "rivalries": "strategic rivalries (tss_rivalries.csv)",
    "territorial-threat": "latent territorial threat (terrthreat.csv)",
    "gdelt": "GDELT 1.0 or 2.0 event files, plain or zipped, or a folder of them (read in parallel)",
    "icews": "ICEWS event files (Dataverse .tab layout), plain or zipped, or a folder of them",
    "icews-dyad-month": "ICEWS dyad-month conflict counts (Ward Lab Parquet, or the same table as CSV)",
    "icews-dyad-year": "ICEWS dyad-year quad counts (netify Parquet, or the same table as CSV)",
    "gdelt-pairs": "GDELT 2.0 daily country-pair weights (Parquet, or the same table as CSV)",
}


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` (never read as markup) on stderr and exit with ``code``."""
    err_console.print("[bold red]error:[/bold red] ", end="")
    err_console.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def progress() -> Progress:
    """A transient progress bar on stderr."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)
