"""What every command module of the CLI shares: the --store, --format, month and date options, the error exit,
the progress bar, and printing tables (a Rich table for people, CSV or JSON for programs)."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

if TYPE_CHECKING:  # Rich's console, tables and progress bars are imported on first use: --help needs none
    from rich.console import Console
    from rich.progress import Progress
    from rich.text import Text


class OutputFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


class LazyConsole:
    """A Rich console made on first use (importing ``rich.console`` is a good part of the start-up that
    ``--help`` and argument errors do not need); attributes and methods are the console's."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            c = Console(stderr=self._stderr)
            if not c.is_terminal:  # piped or captured: do not squeeze tables, or wrap messages, at 80 columns
                c.width = max(c.width, 140)
            self._console = c
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


def plain(value: Any) -> Any:
    """A value as plain Python for JSON and tables: numpy scalars unboxed, NaN/NA/NaT -> None, dates as ISO
    text, lists and dicts converted element by element."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(x) for x in value]
    if isinstance(value, dict):
        return {k: plain(x) for k, x in value.items()}
    return value


def records(df: Any) -> list[dict[str, Any]]:
    """The rows of a pandas DataFrame as dicts of plain values."""
    return [{k: plain(v) for k, v in r.items()} for r in df.to_dict("records")]


def emit(rows: Sequence[dict[str, Any]], fmt: OutputFormat, title: str | None = None,
         columns: Sequence[str] | None = None, max_width: int = 60) -> None:
    """Print ``rows`` (a list of dicts) in the requested format."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps([{c: plain(r.get(c)) for c in columns} for r in rows], ensure_ascii=False,
                                    indent=1) + "\n")
        return
    if fmt is OutputFormat.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else plain(r.get(c)) for c in columns])
        return
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        numeric = any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows)
        table.add_column(c, justify="right" if numeric else "left", overflow="ellipsis", max_width=max_width)
    for r in rows:
        table.add_row(*[_cell(r.get(c), max_width) for c in columns])
    console.print(table)


def _cell(value: Any, max_width: int) -> Text:
    """A cell as plain Text, so that brackets in the data are never read as Rich markup."""
    from rich.text import Text

    if value is None:
        return Text("—", style="dim")
    if isinstance(value, float):
        return Text(f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}")
    text = str(plain(value)).replace("\n", " ")
    return Text(text if len(text) <= max_width else text[: max_width - 1] + "…")


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console.console, transient=True)


def month(value: Optional[str]) -> Optional[str]:
    """A month option (YYYY-MM), checked: a bad value exits with status 2 and names itself."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a month (YYYY-MM, e.g. 2010-09)") from None
    return parsed.strftime("%Y-%m")


def date(value: Optional[str]) -> Optional[str]:
    """A date option (YYYY-MM-DD), checked the same way as :func:`month`."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD, e.g. 2016-01-06)") from None


AllyOpt = Annotated[Optional[str], typer.Option("--ally", help="Only this ally of the theater.", show_default=False)]
FromOpt = Annotated[Optional[str], typer.Option("--from", help="First month, YYYY-MM.", callback=month,
                                                show_default=False)]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Last month, YYYY-MM.", callback=month, show_default=False)]
MonthOpt = Annotated[Optional[str], typer.Option(help="A month, YYYY-MM.", callback=month, show_default=False)]


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON of plain values on stdout."""
    sys.stdout.write(json.dumps(plain(obj), ensure_ascii=False, indent=1) + "\n")


def open_store(store: Optional[str]):  # noqa: ANN201 - (Store, StoreError)
    """The store at ``store``, or a clear error if there is none yet."""
    from dualthreat.store import Store, StoreError

    st = Store(store)
    if not st.exists():
        fail(f"no store at {st.path}; run `dualthreat build` first (or pass --store PATH)")
    return st, StoreError


def interval_text(v: Any, lo: Any, hi: Any, digits: int = 2) -> str | None:
    """``v [lo, hi]`` for tables (``v`` alone when the interval is missing)."""
    v, lo, hi = plain(v), plain(lo), plain(hi)
    if v is None:
        return None
    if lo is None or hi is None:
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def theater_name(value: Optional[str]) -> Optional[str]:
    """A --theater value, checked: a packaged theater's name or a theater file; a bad one exits with status 2."""
    if value is None:
        return None
    from dualthreat.theater import TheaterError, load_theater

    try:
        load_theater(value)
    except TheaterError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


TheaterOpt = Annotated[Optional[str], typer.Option("--theater", help="A packaged theater (see `dualthreat theater "
                                                   "list`: northeast_asia, the default, or eastern_flank) or a "
                                                   "theater TOML file.", callback=theater_name, show_default=False)]


def period(value: Optional[str]) -> Optional[str]:
    """A year or month option (YYYY or YYYY-MM), checked the same way as :func:`month`."""
    if value is None or (len(value) == 4 and value.isdigit()):
        return value
    try:
        return month(value)
    except typer.BadParameter:
        raise typer.BadParameter(f"{value!r} is not a year or a month (YYYY or YYYY-MM, e.g. 2010 or 2010-09)") from None
