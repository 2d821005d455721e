"""``dualthreat hypotheses`` and ``episodes evaluate``: the paper tested against the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from dualthreat.cli.options import (
    FormatOpt,
    OutputFormat,
    StoreOpt,
    TheaterOpt,
    console,
    emit,
    err_console,
    fail,
    progress,
)

_fail, _progress = fail, progress

app = typer.Typer()


@app.command()
def hypotheses(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table,
               only: Annotated[Optional[str], typer.Option("--id", help="Only this hypothesis (e.g. H3).",
                                                           show_default=False)] = None,
               theater: TheaterOpt = None) -> None:
    """Every proposition of the paper tested against the record: estimate, 90% interval, verdict, N.

    Each row has a kind: interval (estimate, 90% interval, p-value and its Benjamini-Hochberg q-value over all
    interval tests), descriptive (counts of coded records), untestable (with the data it needs) or error.
    Verdicts: supported or contradicted (the interval on one side of the claim, at least 8 cases, q <= 0.10;
    a claim of no effect by an equivalence test), inconclusive, untestable. `periods` repeats each test on
    1996-2015 and 2016 on. With --theater, the propositions about an ally the theater gives no role
    ([hypotheses] in its file) are untestable. See docs/hypotheses.md and docs/theaters.md.
    """
    from dualthreat.evaluate.hypotheses import evaluate_hypotheses
    from dualthreat.model import DualThreatModel
    from dualthreat.store import Store, StoreError
    from dualthreat.theater import load_theater

    try:
        with _progress() as progress:
            progress.add_task("testing the hypotheses", total=None)
            model = None if theater is None else DualThreatModel(load_theater(theater)).fit(Store(store))
            table = evaluate_hypotheses(Store(store), model)
            results = table.to_records()
    except StoreError as exc:
        _fail(str(exc))
    if only:
        results = [r for r in results if r["id"] == only.upper()]
    if fmt is OutputFormat.table:
        emit(results, fmt, title="The paper's hypotheses against the record",
             columns=["id", "kind", "verdict", "estimate", "lower", "upper", "q_value", "n", "evidence"], max_width=90)
        if not only:
            console.print(", ".join(f"{n} {v}" for v, n in table.counts().items()))
    else:
        emit(results, fmt)


episodes_app = typer.Typer(help="Coded alliance decisions: list them, forecast them out of time.",
                            no_args_is_help=True)
app.add_typer(episodes_app, name="episodes")


@episodes_app.command("evaluate")
def episodes_evaluate(
    episodes: Annotated[Optional[Path], typer.Option("--episodes", help="A CSV in the format of "
                        "shared/data/episodes/calibration.csv (extra columns ignored). Default: the stored "
                        "calibration episodes.", show_default=False)] = None,
    min_train: Annotated[int, typer.Option("--min-train", help="Score only episodes with at least this many "
                                           "earlier episodes to learn from.")] = 10,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Forecast each decision from data dated before it, and score the forecasts against two baselines.

    For each episode in date order the framework is fitted as of its date, and a model trained on earlier
    episodes only predicts the probability of each direction. Scores: multi-class Brier (lower is better),
    log loss, accuracy; baselines: the base rate of directions (by actor and domain) and a single-threat
    model (one China threat per ally, no local/systemic split, no mediator).
    """
    from dualthreat.evaluate.episodes import evaluate, load_episodes
    from dualthreat.ingest import FileRefused
    from dualthreat.store import Store, StoreError

    try:
        frame = load_episodes(episodes) if episodes else None
    except FileRefused as exc:
        _fail(f"{exc.file}: refused: {exc.reason}", 2)
    if frame is not None and frame.attrs.get("rejections"):
        for r in frame.attrs["rejections"]:
            err_console.print(f"rejected {r.file}:{r.line} [{r.field}] {r.reason}", markup=False, highlight=False)
    try:
        with _progress() as progress:
            progress.add_task("fitting the framework as of each episode", total=None)
            ev = evaluate(Store(store), frame, min_train=min_train)
    except StoreError as exc:
        _fail(str(exc))
    if fmt is OutputFormat.json:
        print(json.dumps(ev.as_dict(), ensure_ascii=False))
        return
    if fmt is OutputFormat.csv:
        emit([{"id": e["id"], "date": e["date"], "observed": e["observed"], "predicted": e["predicted_direction"],
               **{f"p_{k}": v for k, v in e["predicted"].items()}} for e in ev.episodes], fmt)
        return
    rows = [{"model": "dual threat framework", "n": ev.n, **ev.framework}]
    rows += [{"model": name.replace("_", " ") + " (baseline)", "n": ev.n, **sc} for name, sc in ev.baselines.items()]
    emit(rows, fmt, title="Out-of-time forecasts of alliance decisions (lower Brier and log loss are better)")
    emit([{"id": e["id"], "date": e["date"], "actor": e["actor"], "observed": e["observed"],
           "predicted": e["predicted_direction"], "p(observed)": e["predicted"][e["observed"]]}
          for e in ev.episodes], fmt, title="Episodes")
    if ev.skipped:
        err_console.print(f"{len(ev.skipped)} early episodes not scored (fewer than {min_train} earlier episodes).")


