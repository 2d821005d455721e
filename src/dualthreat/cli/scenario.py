"""``dualthreat scenario run|list``: what if an indicator moved? Both allies side by side."""

from pathlib import Path
from typing import Annotated, Any

import typer

from dualthreat.cli.options import (
    FormatOpt,
    OutputFormat,
    StoreOpt,
    TheaterOpt,
    console,
    emit,
    fail,
    plain,
    print_json,
    progress,
)

app = typer.Typer()
scenario_app = typer.Typer(help="What if an indicator moved? Shock the framework's inputs and compare both "
                           "allies with the baseline.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")

CSV_COLUMNS = ["table", "ally", "level", "source", "month", "domain", "direction", "baseline", "scenario",
               "difference", "lower", "upper"]


def _load(file: str, theater: str | None) -> Any:  # noqa: ANN401 - Scenario
    from dualthreat.scenario import Scenario, ScenarioError, packaged_path
    from dualthreat.theater import load_theater

    path = Path(file)
    if not path.exists():
        path = packaged_path(file) or path
    if not path.exists():
        fail(f"{file}: no such file, and no packaged scenario of that name (see `dualthreat scenario list`)", 2)
    try:
        return Scenario.from_file(path, load_theater(theater) if theater else None)
    except ScenarioError as exc:
        fail(str(exc), 2)


@scenario_app.command("run")
def run(
    file: Annotated[str, typer.Argument(help="A scenario file (TOML), or the name of a packaged scenario.",
                                        show_default=False)],
    draws: Annotated[int, typer.Option("--draws", min=2, help="Simulation draws.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation and the bootstrap.")] = 0,
    replicates: Annotated[int, typer.Option("--replicates", min=1,
                                            help="Bootstrap fits of the decision model.")] = 100,
    store: StoreOpt = None,
    theater: TheaterOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Run a scenario: the allies' threat components, mediator and decision probabilities under the
    baseline and under the scenario, side by side, as differences with 90% intervals.

    A scenario that starts after the data projects the framework forward; one that starts inside the data
    is a counterfactual history (inputs from its start on altered, everything before as recorded). The
    method and its limits: docs/scenarios.md.
    """
    from dualthreat.model import DualThreatModel
    from dualthreat.scenario import ScenarioError
    from dualthreat.store import Store, StoreError
    from dualthreat.theater import load_theater

    scenario = _load(file, theater)  # without --theater: the theater the file names (default northeast_asia)
    try:
        with progress() as bar:
            bar.add_task(f"running {scenario.name}", total=None)
            result = scenario.run(DualThreatModel(load_theater(theater or scenario.theater), with_posture=False), Store(store), draws=draws, seed=seed,
                                  replicates=replicates)
    except ScenarioError as exc:
        fail(str(exc), 2)
    except StoreError as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        print_json(result.as_dict())
        return
    if fmt is OutputFormat.csv:
        rows = [{"table": "threats", **r, "baseline": r["baseline_mean"], "scenario": r["scenario_mean"]}
                for r in result.threats.to_dict("records")]
        rows += [{"table": "decisions", **r, "baseline": r["baseline_p"], "scenario": r["scenario_p"]}
                 for r in result.decisions.to_dict("records")]
        emit(rows, fmt, columns=CSV_COLUMNS)
        return
    _tables(result)


def _tables(result: Any) -> None:  # noqa: ANN401 - ScenarioResult
    info = result.scenario
    as_of = f"; framework as of {info['as_of']}" if info["as_of"] else ""
    console.print(f"[bold]{info['name']}[/bold] ({info['kind']}, {info['start']} to {info['end']}; data to "
                  f"{info['data_last_month']}{as_of}; {info['draws']} draws; intervals {info['interval']})",
                  highlight=False)
    if info["note"]:
        console.print(info["note"], markup=False, highlight=False)
    months = [info["start"], info["end"]]
    t = result.threats[result.threats.month.isin(months)]
    allies = list(dict.fromkeys(t.ally))
    rows = []
    for (level, source, month), g in t.groupby(["level", "source", "month"], sort=False):
        row: dict[str, Any] = {"level": level, "source": source, "month": month}
        for r in g.itertuples():
            row[r.ally] = _change(r.baseline_mean, r.scenario_mean, r.difference, r.lower, r.upper, "+.2f")
        rows.append(row)
    emit(rows, OutputFormat.table, title=f"Threat components and mediator, filtered ({info['scale']}): "
         "baseline -> scenario, difference [90%]; first and last month of the run (every month: --format "
         "csv|json)", columns=["level", "source", "month", *allies])
    d = result.decisions
    if d.empty:
        console.print("No decision probabilities: the theater has no coded decision episodes with a source URL "
                      "for the decision model to learn from.", markup=False, highlight=False)
    actors = list(dict.fromkeys(d.ally))
    rows = []
    for (domain, direction), g in d.groupby(["domain", "direction"], sort=False):
        row = {"domain": domain, "direction": direction}
        for r in g.itertuples():
            row[r.ally] = _change(r.baseline_p, r.scenario_p, r.difference, r.lower, r.upper, ".3f")
        rows.append(row)
    if rows:
        emit(rows, OutputFormat.table, title="Probability of each direction for a decision taken in a month of the "
             f"run: baseline -> scenario, difference [90%] ({info['decision_model']})",
             columns=["domain", "direction", *actors])
    if len(result.altered):
        emit(_runs(result.altered), OutputFormat.table,
             title="Figures the scenario altered (raw: as reported; model: the column's value, a z-score or, for a "
               "list of dated events, the count)")
    for line in info["unchanged"]:
        console.print(f"Unchanged: {line}.", markup=False, highlight=False)


def _runs(altered: Any) -> list[dict[str, Any]]:  # noqa: ANN401 - DataFrame
    """The altered figures, consecutive months with the same alteration shown as one row."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    same = ("indicator", "figure", "months_covered", "raw_before", "raw_after", "clipped")
    last = None
    for r in (dict(x) for x in altered.to_dict("records")):
        prev = rows[-1] if rows else None
        month = pd.Period(r["month"], freq="M")
        if prev and last is not None and month == last + 1 and all(prev[k] == r[k] for k in same):
            prev["month"] = prev["month"].split(" to ")[0] + " to " + r["month"]
        else:
            rows.append(r)
        last = month
    return [{k: plain(v) for k, v in r.items()} for r in rows]


def _change(base: float, scen: float, diff: float, lo: float, hi: float, f: str) -> str:
    if diff == 0 and lo == 0 and hi == 0:
        return f"{base:{f}} (unchanged)"
    return f"{base:{f}} -> {scen:{f}}, {diff:+.3f} [{lo:+.3f}, {hi:+.3f}]"


@scenario_app.command("list")
def list_(theater: TheaterOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """The packaged scenarios of a theater (default northeast_asia), from the paper's own questions; run one
    with `dualthreat scenario run NAME` (add --theater for another theater's)."""
    from dualthreat.scenario import ScenarioError, packaged
    from dualthreat.theater import load_theater

    try:
        scenarios = packaged(load_theater(theater))
    except ScenarioError as exc:
        fail(str(exc), 2)
    rows = [{"name": key, "title": s.name, "start": s.start, "horizon": s.horizon,
             "shocks": "; ".join(x.describe() for x in s.shocks), "note": s.note, "file": s.file}
            for key, s in scenarios.items()]
    if fmt is not OutputFormat.table:
        emit(rows, fmt)
        return
    emit(rows, fmt, title=f"Packaged scenarios of {load_theater(theater).name}", columns=["name", "title", "start", "horizon", "shocks"],
         max_width=70)
    for r in rows:
        console.print(f"\n[bold]{r['name']}[/bold]: ", end="", highlight=False)
        console.print(r["note"], markup=False, highlight=False)
