"""``dualthreat triangle`` and ``japan-rok``: the US-Japan-ROK triangle among the five states.

Thin layers over :class:`TriangleModel`; heavy imports stay inside the commands."""

import math
from typing import Annotated, Optional

import typer

from dualthreat.cli.options import (
    TheaterOpt,
    period,
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

REFERENCES = [
    "Heider, F. (1946). Attitudes and cognitive organization. The Journal of Psychology 21, 107-112.",
    "Cartwright, D. & Harary, F. (1956). Structural balance: a generalization of Heider's theory. "
    "Psychological Review 63(5), 277-293.",
    "Estrada, E. & Benzi, M. (2014). Walk-based measure of balance in signed networks: Detecting lack of "
    "balance in social networks. Physical Review E 90, 042802.",
    "Aref, S. & Wilson, M. C. (2018). Measuring partial balance in signed networks. Journal of Complex "
    "Networks 6(4), 566-595.",
    "Cohen (1960) kappa and Wilson (1927) intervals: see dualthreat.measure.unga.",
    "Bailey, M. A., Strezhnev, A. & Voeten, E. (2017). Estimating dynamic state preferences from United "
    "Nations voting data. Journal of Conflict Resolution 61(2), 430-456.",
]


app = typer.Typer()


def _register(app: typer.Typer) -> None:

    @app.command()
    def triangle(
        source: Annotated[str, typer.Option("--source", help="Ties from: auto (events per month when loaded, "
                                            "else UN votes per year with ideal points after the last roll "
                                            "call), votes, ideal_points, events.")] = "auto",
        view: Annotated[str, typer.Option("--view", help="summary (balance per period; in table format also "
                                          "the triads), triads or ties.")] = "summary",
        triad: Annotated[Optional[list[str]], typer.Option("--triad", help="Only this triad, e.g. PATRON-ALLY-ALLY in the theater's codes "
                                                           "(repeatable).", show_default=False)] = None,
        start: Annotated[Optional[str], typer.Option("--from", help="First period (YYYY or YYYY-MM).",
                                                     callback=period, show_default=False)] = None,
        end: Annotated[Optional[str], typer.Option("--to", help="Last period (YYYY or YYYY-MM).", callback=period,
                                                   show_default=False)] = None,
        store: StoreOpt = None,
        theater: TheaterOpt = None,
        fmt: FormatOpt = OutputFormat.table,
    ) -> None:
        """Signed network among the theater's states and its structural balance, per triad and overall.

        Ties are Cohen's kappa of UN votes per year (positive = agreement above chance), calibrated ideal-point
        distances after the roll calls end (2020-), or monthly event indices when event data are loaded. A
        triad is balanced when the product of its signs is positive (Heider; Cartwright & Harary); overall:
        share of balanced triads (plain and weighted by tie strength), Estrada & Benzi's walk-based balance,
        and the frustration of the best split into two camps. Method: docs/triangle-and-home-front.md.
        """
        from dualthreat.model.triangle import TriangleModel
        from dualthreat.theater import load_theater

        st, StoreError = _store(store)
        if view not in ("summary", "triads", "ties"):
            _fail(f"--view must be summary, triads or ties, not {view!r}", 2)
        try:
            m = TriangleModel(load_theater(theater), source=source).fit(st)
        except (StoreError, ValueError) as exc:
            _fail(str(exc), 2)
        bal, tri, ties = m.balance_, m.triads_, m.ties_
        def keep(df):  # noqa: ANN001, ANN202 - pandas DataFrame
            if df.empty:
                return df
            mask = df.period.notna()
            if start:
                mask &= df.period >= start
            if end:
                mask &= df.period <= end
            return df[mask]

        bal, tri, ties = keep(bal), keep(tri), keep(ties)
        if bal.empty:
            _fail(f"no period in the range asked for has ties among three states (ties from: {m.source_})", 1)
        if triad:
            wanted = [set(t.upper().split("-")) for t in triad]
            tri = tri[[{a, b, c} in wanted for a, b, c in zip(tri.a, tri.b, tri.c)]]
        bal = bal.assign(camps=bal.camp_a + " | " + bal.camp_b)
        if fmt is OutputFormat.json:
            payload = {"source": m.source_, "states": list(m.states_), "notes": m.notes_,
                       "events": m.events_status_, "calibration": m.calibration_.as_dict(),
                       "references": REFERENCES}
            if view in ("summary", "triads"):
                payload["periods"] = records(bal)
                payload["triads"] = records(tri)
            if view == "ties":
                payload["ties"] = records(ties)
            _json(payload)
            return
        if fmt is OutputFormat.csv:
            emit(records({"summary": bal, "triads": tri, "ties": ties}[view]), fmt)
            return
        if view == "ties":
            emit(records(ties.assign(weight=[_interval(w, lo, hi) for w, lo, hi in
                                             zip(ties.weight, ties.lower, ties.upper)])
                         [["period", "a", "b", "weight", "p_positive", "n", "source"]]), fmt,
                 title="Signed ties (kappa, or kappa-equivalent for ideal points) [90% interval]")
            return
        if view == "summary":
            short = {"un_votes": "votes", "ideal_points": "ideal pts", "events": "events"}
            rows = [{"period": r["period"], "ties\nfrom": short.get(r["source"], r["source"]),
                     "triads\nbalanced": f"{r['balanced_triads']}/{r['triads']}",
                     "weighted\nshare": r["weighted_share_balanced"],
                     "expected\nshare": r.get("expected_share_balanced"),
                     "walk\nbalance": r["walk_balance"],
                     "frustration\nbalance": r["frustration_balance_weighted"],
                     "camps": r["camps"], "frustrated ties": r["frustrated_ties"] or None}
                    for r in records(bal)]
            emit(rows, fmt, title="Structural balance of the signed network per period (1 = balanced; "
                                  "camps = best split into two blocs)")
        if not tri.empty:
            p_bal = tri["p_balanced"] if "p_balanced" in tri else [None] * len(tri)
            cells = [f"{s} {'B' if b else 'U'}" + ("" if p is None or not math.isfinite(p) else f" {p:.2f}")
                     for s, b, p in zip(tri.signs, tri.balanced, p_bal)]
            grid = tri.assign(cell=cells).pivot(index="period", columns="triad", values="cell")
            grid = grid[list(dict.fromkeys(tri.triad))].reset_index()
            grid.columns = ["period"] + [c.replace("-", "\n") for c in grid.columns[1:]]
            emit(records(grid), fmt, title="Triads: signs of (a-b, a-c, b-c), B balanced / U unbalanced, "
                                           "P(balanced)")
        c = m.calibration_
        err_console.print(f"\nsource: {m.source_}. {' '.join(m.notes_)} Ideal-point ties: kappa ~ pair intercept "
                          f"+ {c.slope:.3f} x distance, fitted on {c.n} pair-years {c.years} (R² {c.r2:.2f}; "
                          f"sign agrees with kappa in {c.sign_agreement:.0%} of pair-years, "
                          f"{c.sign_agreement_clear:.0%} where kappa's interval excludes 0).",
                          markup=False, highlight=False)

    @app.command("japan-rok")
    def japan_rok(store: StoreOpt = None, theater: TheaterOpt = None, fmt: FormatOpt = OutputFormat.table,
                  view: Annotated[str, typer.Option("--view", help="For csv: cooperation, fear, proxies or cha."
                                                    )] = "cooperation") -> None:
        """Japan-ROK cooperation per year and the test of Cha's quasi-alliance argument (H18).

        Cooperation: coded episodes (japan_rok_up / japan_rok_down, incl. the intelligence-sharing agreements),
        Japan-ROK UN vote kappa, and events when loaded. Abandonment fear of each ally from UN votes: US-ally
        divergence, US-China and US-DPRK rapprochement. Cha predicts more cooperation when both fear
        abandonment (joint) and less when only one does (asymmetry).
        """
        from dualthreat.model.triangle import PROXIES, TriangleModel
        from dualthreat.theater import load_theater

        st, StoreError = _store(store)
        try:
            m = TriangleModel(load_theater(theater)).fit(st)
        except (StoreError, ValueError) as exc:
            _fail(str(exc), 2)
        fear = m.fear_.pivot(index="year", columns="ally", values="fear").reset_index()
        if fmt is OutputFormat.json:
            _json({"cooperation": records(m.cooperation_), "fear": records(m.fear_), "proxies": records(m.proxies_),
                   "proxy_definitions": {k: v[2] for k, v in PROXIES.items()}, "cha_test": records(m.cha_),
                   "events": m.events_status_})
            return
        if fmt is OutputFormat.csv:
            tables = {"cooperation": m.cooperation_, "fear": m.fear_, "proxies": m.proxies_, "cha": m.cha_}
            if view not in tables:
                _fail(f"--view must be one of {', '.join(tables)}", 2)
            emit(records(tables[view]), fmt)
            return
        coop = m.cooperation_.merge(fear, on="year", how="left")
        coop = coop.assign(vote_kappa=[_interval(v, lo, hi) for v, lo, hi in
                                       zip(coop.vote_kappa, coop.vote_kappa_lower, coop.vote_kappa_upper)])
        cols = ["year", "episode_net", "episodes", "vote_kappa"] + [a for a in m.theater_.allies if a in coop]
        emit(records(coop[cols].rename(columns={a: f"fear_{a}" for a in m.theater_.allies})), fmt,
             title="Japan-ROK cooperation and each ally's abandonment fear (mean z of the proxies; + = more fear)",
             max_width=70)
        cha = m.cha_.copy()
        rows = []
        for r in records(cha):
            rows.append({"outcome": r["outcome"], "years": r.get("years"), "N": r["n_years"],
                         "joint (Cha: +)": _interval(r.get("joint_coef"), r.get("joint_lower"), r.get("joint_upper")),
                         "asymmetry (Cha: -)": _interval(r.get("asymmetry_coef"), r.get("asymmetry_lower"),
                                                         r.get("asymmetry_upper")),
                         "mean: both / one / neither": None if r.get("mean_both") is None and r.get("mean_one") is None
                         else " / ".join("—" if r.get(f"mean_{g}") is None else
                                         f"{r[f'mean_{g}']:.2f} (n={int(r.get(f'n_{g}') or 0)})"
                                         for g in ("both", "one", "neither")),
                         "verdict": r["verdict"]})
        emit(rows, fmt, title="Cha's quasi-alliance test (H18): OLS of cooperation on joint fear and asymmetry, "
                              "90% intervals", max_width=80)



_register(app)
