"""``dualthreat hypotheses`` and ``episodes evaluate``: the paper tested against the record."""

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
    from dualthreat.model.cache import fit_cached
    from dualthreat.store import Store, StoreError
    from dualthreat.theater import load_theater

    try:
        with _progress() as progress:
            progress.add_task("testing the hypotheses", total=None)
            # the fit `dualthreat run` cached in the store, when the data have not changed since
            model = fit_cached(DualThreatModel(None if theater is None else load_theater(theater)), Store(store))
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
    min_train: Annotated[int, typer.Option("--min-train", min=1, help="Score only episodes with at least this "
                                           "many earlier episodes to learn from.")] = 10,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Processes for the as-of fits "
                       "(default: the machine's cores, at most 4). Results do not depend on it.",
                       show_default=False)] = None,
    shifts: Annotated[int, typer.Option("--shifts", min=0, help="Circular shifts of the threat series against "
                                        "the episodes for the permutation null (0: skip it).")] = 19,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Forecast each decision from data dated before it, and score the forecasts against two baselines.

    For each episode in date order the framework is fitted as of its date, and the decision model (the base
    rate tilted by the framework's threat score, signs fixed by the paper) is fitted on earlier episodes only.
    Scores: multi-class Brier, log loss, ranked probability score (lower is better), accuracy. Baselines: the
    base rate (by actor and domain) and a single-threat model (one China threat per ally). Comparisons:
    the per-episode difference with a 90% block-bootstrap interval, a Diebold-Mariano p-value and a
    permutation null. See docs/evaluation.md.
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
            task = progress.add_task("fitting the framework as of each episode date", total=None)
            ev = evaluate(Store(store), frame, min_train=min_train, workers=workers, permutation_shifts=shifts,
                          progress=lambda i: progress.update(task, completed=i))
    except StoreError as exc:
        _fail(str(exc))
    if fmt is OutputFormat.json:
        print(json.dumps(ev.as_dict(), ensure_ascii=False, default=str))
        return
    if fmt is OutputFormat.csv:
        emit([{"id": e["id"], "date": e["date"], "observed": e["observed"], "predicted": e["predicted_direction"],
               **{f"p_{k}": v for k, v in e["predicted"].items()}} for e in ev.episodes], fmt)
        return
    print_evaluation(ev)
    if ev.skipped:
        err_console.print(f"{len(ev.skipped)} episodes not scored (fewer than {min_train} earlier episodes, "
                          "or no source URL): see --format json, `skipped`.")


def print_evaluation(ev) -> None:  # noqa: ANN001 - an Evaluation
    """The scores, the paired comparisons and the subsets, as tables."""
    from dualthreat.evaluate.scoring import verdict

    cols = ["model", "n", "brier", "log_loss", "rps", "accuracy"]
    rows = [{"model": "dual threat framework", "n": ev.n, **ev.framework}]
    rows += [{"model": name.replace("_", " ") + " (baseline)", "n": ev.n, **sc} for name, sc in ev.baselines.items()]
    emit(rows, OutputFormat.table, columns=cols,
         title="Out-of-time forecasts of alliance decisions (lower Brier, log loss and RPS are better)")
    comp = [{"framework minus": name.replace("_", " "), "Brier difference": c["brier_difference"],
             "90% lower": c["lower"], "90% upper": c["upper"], "DM p": c["p_value"],
             "verdict": verdict(c["lower"], c["upper"])}
            for name, c in ev.comparison.items()]
    if comp:
        emit(comp, OutputFormat.table, title="Paired per-episode Brier differences (negative favours the framework)")
    sub = [{"episodes": label, "n": s["n"], "framework": s["framework"]["brier"],
            "base rate": s["baselines"]["base_rate"]["brier"],
            "single threat": s["baselines"]["single_threat"]["brier"]}
           for label, s in [("actor-domain pairs that vary", ev.varying),
                            *[(f"actor {a}", s) for a, s in ev.by_actor.items()]] if s.get("n")]
    if sub:
        emit(sub, OutputFormat.table, title="Brier by subset")
    perm = ev.permutation
    if perm.get("shifts"):
        console.print(f"Permutation null ({perm['shifts']} shifts of the threat series in time): p = "
                      f"{perm['p_value']:.2f} (median shifted Brier {perm['null_brier_median']:.3f}).")
    lam = ", ".join(f"{a} median {p['median']:.2f}, at the paper's bound 0 at {p['share_at_zero']:.0%} of origins"
                    for a, p in ev.parameters.items())
    if lam:
        console.print(f"Fitted tilt lambda: {lam}. {ev.fallback} episodes had no threat score and were forecast "
                      "by the base rate.")
