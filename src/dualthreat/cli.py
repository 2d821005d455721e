"""The ``dualthreat`` command line: a thin layer over the Python API (no logic lives only here)."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from dualthreat import cli_options
from dualthreat.output import OutputFormat, console, emit, err_console, records

app = typer.Typer(
    help="Measure the dual threat framework of Japanese and South Korean alliance thinking from cited data.\n\n"
         "Start with `dualthreat run`: it builds the store from the default dataset, fits the framework, tests "
         "the paper's hypotheses, forecasts the decision episodes and writes report.html. Then look closer: "
         "`dualthreat threats`, `posture`, `hypotheses`, `triangle`, `domestic --ally KOR`; "
         "`dualthreat data list` shows what the store holds and where it came from.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Look at the tables in the store.", no_args_is_help=True)
app.add_typer(data_app, name="data")

StoreOpt, FormatOpt = cli_options.StoreOpt, cli_options.FormatOpt
_fail, _progress = cli_options.fail, cli_options.progress


@app.command()
def build(store: StoreOpt = None,
          data_dir: Annotated[Optional[Path], typer.Option("--data", help="Default-dataset folder (default: the "
                                                           "project's data/).")] = None,
          fmt: FormatOpt = OutputFormat.table) -> None:
    """Load the default dataset (data/, derived from cited public sources) into the store.

    Works offline and without ../shared. Running it again adds nothing.
    """
    from dualthreat.defaults import DefaultDataError, build as build_default
    from dualthreat.store import Store, StoreError

    st = Store(store)
    try:
        with _progress() as progress:
            task = progress.add_task("loading the default dataset", total=None)
            reports = build_default(st, data_dir, progress=lambda t: progress.update(task, description=f"reading {t}"))
    except (DefaultDataError, StoreError) as exc:
        _fail(str(exc))
    rows = [{"table": r.table, "rows": r.loaded, "added": r.added,
             "status": "already loaded" if r.already_loaded else "loaded"} for r in reports]
    emit(rows, fmt, title=f"Default dataset → {st.path}")


@app.command()
def ingest(
    kind: Annotated[str, typer.Argument(help="What the files hold: " + "; ".join(
        f"{k}: {v}" for k, v in cli_options.KIND_HELP.items()) + ".", show_default=False)],
    paths: Annotated[list[Path], typer.Argument(help="Files to read (a folder for speeches).", show_default=False)],
    store: StoreOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Load nothing if any row is rejected.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Read files of one KIND, check every row, and add the good rows to the store.

    Every rejected row is reported with file, line, field and reason, and rows in = loaded + rejected.
    A file that is not of the kind asked for is refused as a whole (exit status 2) and the store is left
    unchanged; so is the whole ingest with --strict when any row is rejected. Loading the same file twice
    adds nothing.
    """
    from dualthreat import ingest as readers
    from dualthreat.store import Store, StoreError

    if kind not in readers.all_kinds():
        _fail(f"unknown kind {kind!r}; choose one of: {', '.join(readers.all_kinds())}", 2)
    results = []
    try:
        with _progress() as progress:
            task = progress.add_task("reading", total=len(paths))
            for path in paths:
                progress.update(task, description=f"reading {path.name}")
                results.append(readers.read(kind, path))
                progress.advance(task)
    except readers.FileRefused as exc:
        _fail(f"{exc.file}: refused: {exc.reason}. Nothing was stored.", 2)
    except readers.ScannerError as exc:
        _fail(f"{exc}. Nothing was stored.", 2)
    rejections = [r for res in results for r in res.rejections]
    rows_in = sum(r.rows_in for r in results)
    loaded = sum(r.loaded for r in results)
    if strict and rejections:
        _report_ingest(fmt, rows_in, loaded, rejections, [], stored=False)
        _fail(f"{len(rejections)} row(s) rejected and --strict is set; nothing was stored.", 2)
    try:
        reports = Store(store).load(results, kind=kind)
    except StoreError as exc:
        _fail(str(exc))
    _report_ingest(fmt, rows_in, loaded, rejections, reports, stored=True)


def _report_ingest(fmt: OutputFormat, rows_in: int, loaded: int, rejections: list, reports: list,
                   stored: bool) -> None:
    added = sum(r.added for r in reports)
    if fmt is OutputFormat.json:
        print(json.dumps({"rows_in": rows_in, "loaded": loaded, "rejected": len(rejections), "added": added,
                          "files": [{"file": r.file, "table": r.table, "rows_in": r.rows_in, "loaded": r.loaded,
                                     "rejected": r.rejected, "added": r.added,
                                     "already_loaded": r.already_loaded} for r in reports],
                          "rejections": [r.as_dict() for r in rejections]}, ensure_ascii=False))
        return
    if fmt is OutputFormat.csv:
        emit([r.as_dict() for r in rejections], fmt, columns=["file", "line", "field", "reason"])
    elif rejections:
        emit([r.as_dict() for r in rejections[:50]], fmt, title="Rejected rows", columns=["file", "line", "field", "reason"])
        if len(rejections) > 50:
            err_console.print(f"... and {len(rejections) - 50} more rejected rows (use --format json for all)")
    for r in reports:
        note = " (already loaded: nothing added)" if r.already_loaded else ""
        err_console.print(f"{r.file} → {r.table}: {r.rows_in} in = {r.loaded} loaded + {r.rejected} rejected; "
                          f"{r.added} new rows stored{note}", markup=False, highlight=False)
    err_console.print(f"total: {rows_in} rows in = {loaded} loaded + {len(rejections)} rejected"
                      + ("" if stored else "; nothing stored"), markup=False, highlight=False)


@data_app.command("list")
def data_list(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Each table in the store: rows, time coverage and sources."""
    from dualthreat.store import Store, StoreError

    try:
        rows = Store(store).summary()
    except StoreError as exc:
        _fail(str(exc))
    if fmt is OutputFormat.table:
        emit(rows, fmt, title="Tables in the store",
             columns=["table", "rows", "start", "end", "datasets", "source_urls", "rows_without_url"])
    else:
        emit(rows, fmt)


@data_app.command("show")
def data_show(table: Annotated[str, typer.Argument(help="Table name (see `dualthreat data list`).")],
              limit: Annotated[int, typer.Option("--limit", "-n", help="Rows to print.")] = 20,
              store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Print the first rows of a table."""
    from dualthreat.store import Store, StoreError

    try:
        rows = Store(store).read_table(table, limit=limit).to_pylist()
    except StoreError as exc:
        _fail(str(exc))
    emit(rows, fmt, title=f"{table} (first {limit} rows)", max_width=40)


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


AllyOpt = Annotated[Optional[str], typer.Option("--ally", help="Only this ally (e.g. JPN or KOR).", show_default=False)]


def _fit(store: Optional[str], as_of: Optional[str] = None):  # noqa: ANN202 - DualThreatModel
    from dualthreat.model import DualThreatModel
    from dualthreat.store import Store, StoreError

    try:
        with _progress() as progress:
            progress.add_task("fitting the threat components", total=None)
            return DualThreatModel(as_of=as_of).fit(Store(store))
    except StoreError as exc:
        _fail(str(exc))


@app.command()
def threats(
    ally: AllyOpt = None,
    start: Annotated[Optional[str], typer.Option("--from", help="First month, YYYY-MM.", show_default=False)] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last month, YYYY-MM.", show_default=False)] = None,
    smoothed: Annotated[bool, typer.Option("--smoothed", help="Smoothed estimates (use all data) instead of "
                                           "filtered ones (data up to each month).")] = False,
    explain: Annotated[Optional[str], typer.Option("--explain", help="Instead, show what each indicator "
                                                   "contributed to each component at this month (YYYY-MM).",
                                                   show_default=False)] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """The threat components T[ally, level, source] per month, with 90% bands.

    Each ally perceives threats on two levels (local, systemic) from two sources (China, North Korea).
    Values are latent z-scores relative to the reference window 1996-2015 (0 = its average). The table
    view shows the latest month as each ally's 2x2 matrix; --from/--to or --format csv|json give the series.
    """
    model = _fit(store)
    if explain:
        rows = []
        for a, level, source in model.theater_.components():
            if ally and a != ally:
                continue
            for r in records(model.explain(a, level, source, explain, smoothed=smoothed)):
                rows.append({"ally": a, "level": level, "source": source, "month": explain, **r})
        emit(rows, fmt, title=f"What fed each threat component in {explain} "
                              f"({'smoothed' if smoothed else 'filtered'})")
        return
    t = model.threats(ally=ally, start=start, end=end, smoothed=smoothed)
    cols = ["ally", "level", "source", "month", "mean", "lower", "upper", "n_obs", "recent_data"]
    if fmt is OutputFormat.table and not (start or end):
        latest = t.month.max()
        t = t[t.month == latest]
        rows = []
        for (a, level), g in t.groupby(["ally", "level"], sort=False):
            row = {"ally": a, "level": level}
            for r in g.itertuples():
                row[model.theater_.label(r.source)] = f"{r.mean:+.2f} [{r.lower:+.2f}, {r.upper:+.2f}]"
            rows.append(row)
        emit(rows, fmt, title=f"Threat matrix, {latest} ({'smoothed' if smoothed else 'filtered'}; "
                              "z-scores vs 1996-2015, [90% band])")
        gaps = model.gaps_
        if not gaps.empty:
            emit(records(gaps), fmt, title="Periods without data (no observation in the previous 24 months)")
        return
    emit(records(t[cols]), fmt, title="Threat components")


@app.command()
def posture(
    ally: AllyOpt = None,
    measure: Annotated[Optional[str], typer.Option("--measure", help="Only this measure: ideal_point_distance, "
                                                   "vote_agreement, vote_kappa, alignment_gap, "
                                                   "alliance_scope_regional, alliance_scope_global.",
                                                   show_default=False)] = None,
    subset: Annotated[str, typer.Option("--subset", help="Roll calls for vote measures: all, important, or "
                                        "issue:me|nu|di|hr|co|ec.")] = "all",
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Each ally's position between the patron and China, per year, with 90% intervals.

    UN ideal-point distance (Bailey-Strezhnev-Voeten), UNGA vote agreement and Cohen's kappa with the USA
    and with China, the alignment gap, and the alliance's regional/global scope from the coded episodes.
    """
    from dualthreat.model.posture import posture as posture_table
    from dualthreat.store import Store, StoreError
    from dualthreat.theater import load_theater

    try:
        p = posture_table(load_theater(), Store(store))
    except StoreError as exc:
        _fail(str(exc))
    if ally:
        p = p[p.ally == ally]
    if measure:
        p = p[p.measure == measure]
    votes = p.measure.isin(["vote_agreement", "vote_kappa"])
    p = p[~votes | (p.subset == subset)]
    emit(records(p), fmt, title="Posture")


@app.command()
def mediator(ally: AllyOpt = None, smoothed: Annotated[bool, typer.Option("--smoothed")] = False,
             store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """The mediator M = T[ally, local, North Korea] x China's backing of North Korea, per month.

    Computed for both allies, so that the claim that it matters for Seoul and not for Tokyo can be tested.
    """
    model = _fit(store)
    m = model.mediator_[model.mediator_.estimate == ("smoothed" if smoothed else "filtered")]
    if ally:
        m = m[m.ally == ally]
    cols = ["ally", "month", "dprk_threat", "china_backing", "china_backing_year", "mean", "lower", "upper"]
    if fmt is OutputFormat.table:
        m = m[m.month.str.endswith("-12") | (m.month == m.month.max())]
    emit(records(m[cols]), fmt, title="Mediator (table view: Decembers and the last month)")


@app.command()
def hypotheses(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table,
               only: Annotated[Optional[str], typer.Option("--id", help="Only this hypothesis (e.g. H3).",
                                                           show_default=False)] = None) -> None:
    """Every proposition of the paper tested against the record: estimate, 90% interval, verdict, N.

    Verdicts: supported (the interval excludes zero in the direction the paper claims), contradicted (it
    excludes zero the other way), inconclusive (it does not, N is too small, or the data cannot test it,
    in which case `data_needed` says which data would). See docs/evaluation.md.
    """
    from dualthreat.evaluate.hypotheses import evaluate_hypotheses
    from dualthreat.store import Store, StoreError

    try:
        with _progress() as progress:
            progress.add_task("testing the hypotheses", total=None)
            results = [r.as_dict() for r in evaluate_hypotheses(Store(store))]
    except StoreError as exc:
        _fail(str(exc))
    if only:
        results = [r for r in results if r["id"] == only.upper()]
    if fmt is OutputFormat.table:
        emit(results, fmt, title="The paper's hypotheses against the record",
             columns=["id", "verdict", "estimate", "lower", "upper", "n", "evidence"], max_width=90)
        counts = {v: sum(r["verdict"] == v for r in results) for v in ("supported", "contradicted", "inconclusive")}
        console.print(", ".join(f"{n} {v}" for v, n in counts.items()))
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


class ReportFormat(str, enum.Enum):
    html = "html"
    md = "md"


def write_report(store: Optional[str], out: Path, fmt: ReportFormat, with_episodes: bool = True):  # noqa: ANN201
    """Fit everything and write the report (see :func:`dualthreat.report.build.make_report`)."""
    from dualthreat.report.build import make_report
    from dualthreat.report.render import render_html, render_markdown
    from dualthreat.store import Store

    with _progress() as progress:
        task = progress.add_task("fitting the threat components", total=4)
        steps = iter(range(4))

        def step(what: str) -> None:
            progress.update(task, completed=next(steps), description=what)

        model, hyps, evaluation, report = make_report(Store(store), with_episodes, step)
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt is ReportFormat.md:
            render_markdown(report, out)
        else:
            out.write_text(render_html(report), "utf-8")
        progress.update(task, completed=4)
    return model, hyps, evaluation, report


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the report.")] = Path("report.html"),
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html: one self-contained file that works "
                                              "offline; md: Markdown with SVG charts in <name>_files/.")]
    = ReportFormat.html,
    episodes: Annotated[bool, typer.Option("--episodes/--no-episodes", help="Include the out-of-time episode "
                                           "forecasts (about a minute).")] = True,
    store: StoreOpt = None,
) -> None:
    """Write the comparative report of Japan and South Korea, section by section as in the paper."""
    from dualthreat.store import StoreError

    try:
        write_report(store, out, fmt, episodes)
    except StoreError as exc:
        _fail(str(exc))
    console.print(f"report written to [bold]{out}[/bold]")


@app.command()
def run(store: StoreOpt = None,
        out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the report.")] = Path("report.html"),
        ) -> None:
    """The main job: build the store from the default dataset, fit the framework, test the hypotheses,
    forecast the episodes, write the report and print a summary."""
    from dualthreat.defaults import DefaultDataError, build as build_default
    from dualthreat.store import Store, StoreError

    try:
        with _progress() as progress:
            progress.add_task("loading the default dataset", total=None)
            reports = build_default(Store(store))
        err_console.print(f"store {Store(store).path}: {sum(r.added for r in reports)} rows added, "
                          f"{sum(r.loaded for r in reports)} in the default dataset", markup=False, highlight=False)
        model, hyps, evaluation, rep = write_report(store, out, ReportFormat.html)
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
    emit(rows, OutputFormat.table, title=f"Latest threat matrices, {latest.month.iloc[0]} (filtered; z vs 1996-2015; "
                                         "[90% band])")
    c = rep.verdict_counts
    console.print(f"Hypotheses: {c['supported']} supported, {c['contradicted']} contradicted, "
                  f"{c['inconclusive']} inconclusive (of {len(hyps)}).")
    if evaluation is not None:
        console.print(f"Episode forecasts (n={evaluation.n}): Brier {evaluation.framework['brier']:.3f} vs base rate "
                      f"{evaluation.baselines['base_rate']['brier']:.3f} and single threat "
                      f"{evaluation.baselines['single_threat']['brier']:.3f} (lower is better).")
    console.print(f"Report: [bold]{out}[/bold]")


from dualthreat.triangle_cli import register as _register_triangle; _register_triangle(app)  # noqa: E402, E702

from dualthreat.events_cli import register as _register_events; _register_events(app)  # noqa: E402, E702


if __name__ == "__main__":  # pragma: no cover
    app()
