"""``dualthreat report`` and ``dualthreat run`` (the main job)."""

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from dualthreat.cli.options import (
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


class ReportFormat(str, enum.Enum):
    html = "html"
    md = "md"


def report_path(out: Optional[Path], theater: Optional[str]) -> Path:
    """Where the report goes: ``--out`` if given, else ``report.html`` for the default theater and
    ``report-<theater>.html`` for another (the packaged name, or the theater file's name without ``.toml``), so
    that it never overwrites the Northeast Asia report."""
    if out is not None:
        return out
    from dualthreat.theater import DEFAULT_THEATER

    stem = DEFAULT_THEATER if theater is None else Path(theater).stem
    return Path("report.html") if stem == DEFAULT_THEATER else Path(f"report-{stem}.html")


STEPS = 5  # fit, hypotheses, their sensitivity, episode forecasts, the report


def write_report(store: Optional[str], out: Path, fmt: ReportFormat, with_episodes: bool = True,
                 theater: Optional[str] = None):  # noqa: ANN201
    """Fit everything and write the report (see :func:`dualthreat.report.build.make_report`)."""
    from dualthreat.report.build import make_report
    from dualthreat.report.render import render_html, render_markdown
    from dualthreat.store import Store

    with _progress() as progress:
        task = progress.add_task("fitting the threat components", total=STEPS)
        done = [0]

        def step(what: str) -> None:  # one call per stage of make_report
            progress.update(task, completed=min(done[0], STEPS - 1), description=what)
            done[0] += 1

        from dualthreat.theater import load_theater

        model, hyps, evaluation, report = make_report(Store(store), with_episodes, step,
                                                      theater=load_theater(theater))
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt is ReportFormat.md:
            render_markdown(report, out)
        else:
            out.write_text(render_html(report), "utf-8")
        progress.update(task, completed=STEPS)
    return model, hyps, evaluation, report


OutOpt = Annotated[Optional[Path], typer.Option("--out", "--output", "-o", help="Where to write the report (default: "
                                                "report.html; report-THEATER.html for a theater other than "
                                                "northeast_asia).", show_default=False)]


@app.command()
def report(
    out: OutOpt = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html: one self-contained file that works "
                                              "offline; md: Markdown with SVG charts in <name>_files/.")]
    = ReportFormat.html,
    episodes: Annotated[bool, typer.Option("--episodes/--no-episodes", help="Include the out-of-time episode "
                                           "forecasts (about a minute).")] = True,
    store: StoreOpt = None,
    theater: TheaterOpt = None,
) -> None:
    """Write the comparative report of the theater's allies (Japan and South Korea by default), section by
    section as in the paper."""
    from dualthreat.store import StoreError

    out = report_path(out, theater)
    try:
        write_report(store, out, fmt, episodes, theater)
    except StoreError as exc:
        _fail(str(exc))
    console.print(f"report written to [bold]{out}[/bold]")


@app.command()
def run(store: StoreOpt = None, out: OutOpt = None, theater: TheaterOpt = None) -> None:
    """The main job: build the store from the default dataset, fit the framework of the theater (default:
    northeast_asia), test the hypotheses, forecast the episodes, write the report and print a summary."""
    from dualthreat.store import Store, StoreError
    from dualthreat.store.defaults import DefaultDataError
    from dualthreat.store.defaults import build as build_default

    try:
        with _progress() as progress:
            progress.add_task("loading the default dataset", total=None)
            reports = build_default(Store(store))
        err_console.print(f"store {Store(store).path}: {sum(r.added for r in reports)} rows added, "
                          f"{sum(r.loaded for r in reports)} in the default dataset", markup=False, highlight=False)
        out = report_path(out, theater)
        model, hyps, evaluation, rep = write_report(store, out, ReportFormat.html, theater=theater)
    except (DefaultDataError, StoreError) as exc:
        _fail(str(exc))
    th = model.theater_
    latest = rep.latest
    rows = []
    for ally in th.allies:
        for level in th.levels:
            row = {"ally": ally, "level": level}
            for source in th.sources:
                r = latest[(latest.ally == ally) & (latest.level == level) & (latest.source == source)].iloc[0]
                row[th.label(source)] = f"{r['mean']:+.2f} [{r.lower:+.2f}, {r.upper:+.2f}]"
            rows.append(row)
    emit(rows, OutputFormat.table, title=f"Latest threat matrices, {latest.month.iloc[0]} (filtered; {model.scale_label_}; "
                                         "[90% band])")
    c = rep.verdict_counts
    console.print(f"Hypotheses: {c['supported']} supported, {c['contradicted']} contradicted, "
                  f"{c['inconclusive']} inconclusive, {c['untestable']} untestable"
                  + (f", {c['error']} errored" if c.get("error") else "") + f" (of {len(hyps)}).")
    if evaluation is not None:
        console.print(f"Episode forecasts (n={evaluation.n}): Brier {evaluation.framework['brier']:.3f} vs base rate "
                      f"{evaluation.baselines['base_rate']['brier']:.3f} and single threat "
                      f"{evaluation.baselines['single_threat']['brier']:.3f} (lower is better).")
    console.print(f"Report: [bold]{out}[/bold]")
