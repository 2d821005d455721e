"""``dualthreat threats``, ``posture``, ``mediator``: the fitted framework."""

from typing import Annotated, Optional

import typer

from dualthreat.cli.options import (TheaterOpt, 
    AllyOpt,
    FormatOpt,
    FromOpt,
    OutputFormat,
    StoreOpt,
    ToOpt,
    emit,
    fail,
    month,
    progress,
    records,
)

_fail, _progress = fail, progress

app = typer.Typer()


def _fit(store: Optional[str], as_of: Optional[str] = None, theater: Optional[str] = None):  # noqa: ANN202
    from dualthreat.model import DualThreatModel
    from dualthreat.model.cache import fit_cached
    from dualthreat.store import Store, StoreError
    from dualthreat.theater import load_theater

    try:
        with _progress() as progress:
            progress.add_task("fitting the threat components (or reading the fit cached by the last run)", total=None)
            return fit_cached(DualThreatModel(load_theater(theater), as_of=as_of), Store(store))
    except StoreError as exc:
        _fail(str(exc))


@app.command()
def threats(
    ally: AllyOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    smoothed: Annotated[bool, typer.Option("--smoothed", help="Smoothed estimates (use all data) instead of "
                                           "filtered ones (data up to each month).")] = False,
    explain: Annotated[Optional[str], typer.Option("--explain", help="Instead, show what each indicator "
                                                   "contributed to each component at this month (YYYY-MM).",
                                                   callback=month, show_default=False)] = None,
    store: StoreOpt = None,
    theater: TheaterOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """The threat components T[ally, level, source] per month, with 90% bands.

    Each ally perceives threats on two levels (local, systemic) from two sources (China, North Korea).
    Values are latent z-scores: each indicator is standardised on its first five years of published data from
    1996 (0 = their average; the table title says which). The table
    view shows the latest month as each ally's 2x2 matrix; --from/--to or --format csv|json give the series.
    """
    model = _fit(store, theater=theater)
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
                              f"{model.scale_label_}, [90% band])")
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
    theater: TheaterOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Each ally's position between the patron and China, per year, with 90% intervals.

    UN ideal-point distance (Bailey-Strezhnev-Voeten), UNGA vote agreement and Cohen's kappa with the patron
    and with the great power (the US and China in Northeast Asia), the alignment gap, and the alliance's regional/global scope from the coded episodes.
    """
    from dualthreat.model.posture import posture as posture_table
    from dualthreat.store import Store, StoreError
    from dualthreat.theater import load_theater

    try:
        p = posture_table(load_theater(theater), Store(store))
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
             store: StoreOpt = None, theater: TheaterOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """The mediator M = T[ally, local, North Korea] x China's backing of North Korea, per month.

    Computed for both allies, so that the claim that it matters for Seoul and not for Tokyo can be tested.
    """
    model = _fit(store, theater=theater)
    m = model.mediator_[model.mediator_.estimate == ("smoothed" if smoothed else "filtered")]
    if ally:
        m = m[m.ally == ally]
    cols = ["ally", "month", "dprk_threat", "china_backing", "china_backing_year", "mean", "lower", "upper"]
    if fmt is OutputFormat.table:
        m = m[m.month.str.endswith("-12") | (m.month == m.month.max())]
    emit(records(m[cols]), fmt, title="Mediator (table view: Decembers and the last month)")

