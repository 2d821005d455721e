"""The ``dualthreat`` command line: a thin layer over the Python API (no logic lives only here).

One module per command group; each defines its own Typer app, imports only :mod:`dualthreat.cli.options`
from the CLI, and keeps heavy imports (DuckDB, pandas, the model) inside its commands so that ``--help`` is fast.
How the help pages and usage errors are drawn, and what the start-up avoids importing: :mod:`dualthreat.cli.shell`.
The command modules do not use ``from __future__ import annotations``: Typer would evaluate every option's
annotation text twice per command at each start (tests/test_cli_startup.py).
"""

from __future__ import annotations

import typer

from dualthreat.cli import (
    shell,
    data,
    evaluate,
    events,
    home,
    model,
    report,
    scenario,
    serve,
    theater,
    triangle,
)

app = typer.Typer(
    cls=shell.Group,  # help and usage errors drawn by cli/shell.py (start-up: see its docstring)
    help="Measure the dual threat framework of Japanese and South Korean alliance thinking (or of another theater) from cited data.\n\n"
         "Start with `dualthreat run`: it builds the store from the default dataset, fits the framework, tests "
         "the paper's hypotheses, forecasts the decision episodes and writes report.html. Then look closer: "
         "`dualthreat threats`, `posture`, `hypotheses`, `triangle`, `domestic --ally ALLY`; "
         "`dualthreat data list` shows what the store holds and where it came from.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
for _group in (report, data, theater, model, evaluate, triangle, home, events, scenario, serve):
    app.add_typer(_group.app)
shell.adopt(app)  # every command and group of every module: shell.Command / shell.Group


if __name__ == "__main__":  # pragma: no cover
    app()
