"""``dualthreat domestic`` and ``identity``: the home front (elite salience, public perception, protest) and
history and identity disputes. Thin layers over :class:`DomesticModel` and :mod:`dualthreat.model.identity`."""

import math
from typing import Annotated, Optional

import typer

from dualthreat.cli.options import (
    TheaterOpt,
    FormatOpt,
    OutputFormat,
    StoreOpt,
    emit,
    err_console,
    fail,
    records,
)
from dualthreat.cli.options import interval_text as _interval
from dualthreat.cli.options import open_store as _store
from dualthreat.cli.options import print_json as _json

_fail = fail

app = typer.Typer()


def _register(app: typer.Typer) -> None:
    @app.command()
    def domestic(
        ally: Annotated[Optional[str], typer.Option("--ally", help="An ally of the theater (default: every ally).",
                                                    show_default=False)] = None,
        wordlist: Annotated[str, typer.Option("--wordlist", help="Word list (packaged name or TOML file).")
                            ] = "salience_v1",
        view: Annotated[str, typer.Option("--view", help="For csv: elite, public, gap, gap_summary or protest."
                                          )] = "elite",
        store: StoreOpt = None,
        theater: TheaterOpt = None,
        fmt: FormatOpt = OutputFormat.table,
    ) -> None:
        """The home front: elite threat salience, public threat perception, their gap, protest against the US.

        Elite salience: mentions per 1,000 words in the ally's UN General Debate statements (versioned word
        lists, 90% interval). Public perception: the poll series in the store (Pew, Genron NPO, Cabinet Office,
        Asan, ...) and their composite z-score. Gap: both standardised over the years they share, elite minus
        public. Protest: CAMEO 14 events against the US, when event data are loaded.
        """
        from dualthreat.measure.text import WordlistError
        from dualthreat.model.domestic import DomesticModel

        st, StoreError = _store(store)
        from dualthreat.theater import load_theater

        theater = load_theater(theater)
        if ally and ally.upper() not in theater.allies:
            _fail(f"--ally must be one of {', '.join(theater.allies)}, not {ally!r}", 2)
        allies = (ally.upper(),) if ally else None
        try:
            m = DomesticModel(theater, wordlist=wordlist).fit(st, allies)
        except (StoreError, WordlistError) as exc:
            _fail(str(exc), 2)
        tables = {"elite": m.elite_, "public": m.public_, "gap": m.gap_, "gap_summary": m.gap_summary_,
                  "protest": m.protest_}
        if fmt is OutputFormat.json:
            _json({"allies": list(m.allies_), "wordlist": m.wordlist_.id,
                   "categories": {c.name: c.measures for c in m.wordlist_.categories},
                   "coverage": records(m.coverage()), **{k: records(v) for k, v in tables.items()}})
            return
        if fmt is OutputFormat.csv:
            if view not in tables:
                _fail(f"--view must be one of {', '.join(tables)}", 2)
            emit(records(tables[view]), fmt)
            return
        for a in m.allies_:
            e = m.elite_[m.elite_.ally == a]
            wide = {}
            for r in e.itertuples():
                row = wide.setdefault(r.year, {"year": r.year, "words": r.words})
                row[r.category] = _interval(r.rate, r.lower, r.upper)
            emit(list(wide.values()), fmt, title=f"{a}: elite salience, mentions per 1,000 words [90% interval] "
                                                 f"in UN General Debate statements ({m.wordlist_.id})")
            p = m.public_[(m.public_.ally == a)]
            if not p.empty:
                p = p.assign(col=[t + "\n" + s.removesuffix("_" + t.lower()).replace("_", "\n")
                                  for t, s in zip(p.target, p.series)],
                             cell=[f"{z:+.2f}" if s == "composite" and z is not None and math.isfinite(z)
                                   else (f"{v:.1f}" if v is not None and math.isfinite(v) else None)
                                   for s, z, v in zip(p.series, p.z, p.value)])
                grid = p.pivot_table(index="year", columns="col", values="cell", aggfunc="first").reset_index()
                emit(records(grid), fmt, title=f"{a}: public perception per year (poll values as reported; "
                                              "TARGET:composite = mean z, + = more threat / warmer to the US)",
                     max_width=30)
                unusable = sorted(set(p[~p.usable.astype(bool)].series))
                if unusable:
                    err_console.print(f"{a}: series with fewer than 3 years, left out of the composite: "
                                      f"{', '.join(unusable)}", markup=False, highlight=False)
            g = m.gap_[m.gap_.ally == a]
            if not g.empty:
                g = g.assign(gap=[_interval(v, lo, hi) for v, lo, hi in zip(g.gap, g.gap_lower, g.gap_upper)])
                emit(records(g[["source", "year", "elite_rate", "elite_z", "public_z_common", "gap"]]), fmt,
                     title=f"{a}: elite-public gap (z over the shared years; + = leaders more salient than the "
                           "public's threat perception) [90% interval from the speech counts]")
            emit(records(m.gap_summary_[m.gap_summary_.ally == a][["source", "years_elite", "years_public",
                                                                  "years_both", "first", "last", "correlation",
                                                                  "correlation_lower", "correlation_upper",
                                                                  "status"]]), fmt,
                 title=f"{a}: years with both measures, and their correlation [90% interval]")
            pr = m.protest_[m.protest_.ally == a]
            emit(records(pr), fmt, title=f"{a}: protest against the US (CAMEO 14)")

    @app.command()
    def identity(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table,
                 dyad: Annotated[Optional[str], typer.Option("--dyad", help="A dyad of the theater's [identity] "
                                                             "(e.g. the two allies, A-B).", show_default=False)] = None,
                 theater: TheaterOpt = None) -> None:
        """Identity friction: history and identity disputes (coded episodes; CAMEO 11/12 disapprove/reject
        events when loaded) and public views of the other side, for the theater's dyads (Japan-ROK, Japan-China
        and ROK-China in Northeast Asia)."""
        from dualthreat.model.identity import identity_episodes, identity_friction
        from dualthreat.theater import load_theater

        st, StoreError = _store(store)
        th = load_theater(theater)
        try:
            f, e = identity_friction(st, th), identity_episodes(st, theater=th)
        except StoreError as exc:
            _fail(str(exc), 2)
        if dyad:
            f = f[f.dyad == dyad.upper()]
            e = e[e.dyad == dyad.upper()] if len(e) else e
        if fmt is OutputFormat.json:
            _json({"friction": records(f), "identity_episodes": records(e)})
            return
        if fmt is OutputFormat.csv:
            emit(records(f), fmt)
            return
        emit(records(e), fmt, title="Identity episodes and Japan-ROK cooperation episodes within a year of them",
             max_width=70)
        shown = f[(f.measure != "identity_episodes") | (f.value.fillna(0).astype(float) > 0)]
        emit(records(shown[["dyad", "year", "measure", "value", "source", "status"]]), fmt,
             title="Identity friction by dyad (years without an identity episode are omitted here; "
                   "--format json lists them)", max_width=90)



_register(app)
