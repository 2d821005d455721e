"""Printing tables: a Rich table for people, CSV or JSON for programs (``--format table|csv|json``)."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


class OutputFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


console = Console()
err_console = Console(stderr=True)
for _c in (console, err_console):
    if not _c.is_terminal:  # piped or captured: do not squeeze tables, or wrap messages, at 80 columns
        _c.width = max(_c.width, 140)


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
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        numeric = any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows)
        table.add_column(c, justify="right" if numeric else "left", overflow="ellipsis", max_width=max_width)
    for r in rows:
        table.add_row(*[_cell(r.get(c), max_width) for c in columns])
    console.print(table)


def _cell(value: Any, max_width: int) -> Text:
    """A cell as plain Text, so that brackets in the data are never read as Rich markup."""
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, float):
        return Text(f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}")
    text = str(plain(value)).replace("\n", " ")
    return Text(text if len(text) <= max_width else text[: max_width - 1] + "…")
