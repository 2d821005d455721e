"""The comparative report's content: sections that follow the paper, each with sentences generated from the
computed values, charts and tables. Renderers (:mod:`dualthreat.report.render`) turn it into one
self-contained HTML file or a Markdown file with SVG charts.

No number in a sentence is typed: every one is formatted from a value computed here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from dualthreat import __version__
from dualthreat.measure.milestones import dated_events
from dualthreat.report import charts
from dualthreat.stats import one_blas_thread
from dualthreat.store import Store
from dualthreat.theater import DEFAULT_THEATER, load_theater

@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]


@dataclass
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[tuple[str, str, alt.TopLevelMixin]] = field(default_factory=list)  # (id, caption, chart)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    title: str
    generated: str
    summary: list[str]
    sections: list[Section]
    verdict_counts: dict[str, int]
    latest: pd.DataFrame


def _f(x: float | None, fmt: str = "+.2f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, fmt)


def _band(row: Any) -> str:
    return f"{_f(row['mean'])} [{_f(row['lower'])}, {_f(row['upper'])}]"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    return df[columns].replace({np.nan: None}).to_dict("records")


SHORT_NAMES = {"United States": "US"}  # how a sentence names a state after "the", where it has a short form


def _names(theater: Any) -> str:
    """The allies' names in a sentence: "Japan and South Korea"."""
    names = [theater.label(a) for a in theater.allies]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _count(n: int) -> str:
    return {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}.get(n, str(n))


def theater_episodes(store: Store, theater: Any) -> pd.DataFrame:
    """The stored decision episodes of the theater's allies (an ally, or a joint act ``A-B`` of allies)."""
    from dualthreat.evaluate.evidence import episodes_of

    return episodes_of(store.query("SELECT * FROM episodes ORDER BY date").to_pandas(), theater).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------

def threat_section(model: Any) -> tuple[Section, pd.DataFrame]:
    th = model.theater_
    latest = model.latest(smoothed=False)
    month = latest.month.iloc[0]
    s = Section("threats", "Threat perceptions and alliance motivations")
    for ally in th.allies:
        a = latest[latest.ally == ally].sort_values("mean", ascending=False)
        top = a.iloc[0]
        s.paragraphs.append(
            f"In {month}, {th.label(ally)}'s highest threat component is {top.level} {th.label(top.source)} at "
            f"{_band(top)} (filtered, {model.scale_label_}, 90% band); its lowest is "
            f"{a.iloc[-1].level} {th.label(a.iloc[-1].source)} at {_band(a.iloc[-1])}.")
    s.paragraphs.append(
        "Each panel shows one component of the 2x2 matrix (level x source) for both allies: the smoothed estimate "
        f"(all data) with its 90% band, in {model.scale_label_}: zero is the average of those years; a band that "
        "widens marks months with no data. Method: docs/threat-model.md.")
    s.charts.append(("threat-matrix", "The 2x2 threat matrix of each ally over time (smoothed, 90% bands)",
                     charts.threat_matrix(model.threats_, scale=model.scale_label_)))
    rows = []
    for ally in th.allies:
        for level in th.levels:
            row: dict[str, Any] = {"ally": ally, "level": level}
            for source in th.sources:
                r = latest[(latest.ally == ally) & (latest.level == level) & (latest.source == source)].iloc[0]
                row[th.label(source)] = _band(r)
            rows.append(row)
    s.tables.append(Table(f"Latest state ({month}, filtered)", ["ally", "level", *[th.label(x) for x in th.sources]],
                          rows))
    expl = []
    for (ally, level, source) in th.components():
        c = model.explain(ally, level, source, month)
        for r in c.head(2).itertuples():
            expl.append({"component": f"{ally} · {level} · {source}", "indicator": r.indicator,
                         "contribution": _f(r.contribution), "observations used": int(r.observations_used)})
    s.tables.append(Table(f"What fed each component in {month} (the two largest contributions)",
                          ["component", "indicator", "contribution", "observations used"], expl))
    if len(model.gaps_):
        s.tables.append(Table("Periods without data (no observation in the previous 24 months)",
                              list(model.gaps_.columns), _records(model.gaps_, list(model.gaps_.columns))))
    return s, latest


def summary_paragraphs(model: Any) -> list[str]:
    """The summary's lines: for each ally, the threat the paper says drives its alliance policy (the theater's
    roles: the great-power ally's local threat from the great power; the client ally's mediator), its latest
    filtered value and where it stands in the ally's own monthly record (the share of earlier months with data
    below it); an ally without a role, its highest component."""
    th = model.theater_
    latest = model.latest(smoothed=False)
    month = latest.month.iloc[0]
    f = model.threats_[(model.threats_.estimate == "filtered") & (model.threats_.coverage == "data")]
    out = []
    for ally in th.allies:
        if th.roles.get("great_power_ally") == ally and th.great_power:
            driver, what = (ally, "local", th.great_power), f"local threat from {th.label(th.great_power)}"
            why = "the paper's driver of its alliance policy"
        elif th.roles.get("client_ally") == ally:
            driver, what = None, f"{th.mediator_text[0]} weighted by {th.mediator_text[1]} (the mediator)"
            why = "the paper's driver of its alliance policy"
        else:  # the highest component with recent data (a component carried forward from old data is no reading)
            mine = latest[(latest.ally == ally) & latest.recent_data.astype(bool)]
            if mine.empty:
                out.append(f"{th.label(ally)}: no threat component has data in the 24 months before {month}.")
                continue
            top = mine.sort_values("mean", ascending=False).iloc[0]
            driver, what, why = (ally, top.level, top.source), f"{top.level} threat from {th.label(top.source)}", \
                "its highest component"
        if driver is None:
            m = model.mediator_[(model.mediator_.estimate == "filtered") & (model.mediator_.ally == ally)]
            series, now = m.dropna(subset=["mean"]), m[m.month == month]
        else:
            c = f[(f.ally == driver[0]) & (f.level == driver[1]) & (f.source == driver[2])]
            now = latest[(latest.ally == ally) & (latest.level == driver[1]) & (latest.source == driver[2])]
            now = now[now.recent_data.astype(bool)]  # a value carried from data over 24 months old is no reading
            series = c.dropna(subset=["mean"])
        if now.empty or series.empty or not np.isfinite(now["mean"].iloc[0]):
            out.append(f"{th.label(ally)}: {why}, the {what}, has no recent data in {month}.")
            continue
        r = now.iloc[0]
        earlier = series[series.month < month]["mean"]
        if earlier.empty:
            rank = "its first month with data"
        else:
            below = float((earlier < r["mean"]).mean())
            rank = (f"its highest since {series.month.min()}" if below == 1 else
                    f"above {below:.0%} of its months since {series.month.min()}")
        out.append(f"{th.label(ally)}: {why}, the {what}, stands at {_band(r)} in {month} (filtered, 90% "
                   f"band), {rank}.")
    return out


def forecast_paragraphs(ev: Any) -> list[str]:
    """What the out-of-time forecasts showed, in words, with the interval of every difference."""
    from dualthreat.evaluate.scoring import verdict

    fw, br, st = ev.framework, ev.baselines["base_rate"], ev.baselines["single_threat"]
    out = [f"Forecast out of time (each episode from data published before it; the decision model fitted on "
           f"earlier episodes only), the framework scores a multi-class Brier score of {_f(fw['brier'], '.3f')} "
           f"(log loss {_f(fw['log_loss'], '.3f')}, RPS {_f(fw['rps'], '.3f')}, accuracy "
           f"{_f(fw['accuracy'], '.0%')}) on {ev.n} episodes; the base rate scores {_f(br['brier'], '.3f')} and "
           f"the single-threat model {_f(st['brier'], '.3f')} (lower is better)."]
    for name, label in (("base_rate", "the base rate"), ("single_threat", "the single-threat model")):
        c = ev.comparison.get(name)
        if c:
            out.append(f"Framework minus {label}: {_f(c['brier_difference'], '+.3f')} Brier per episode, 90% "
                       f"interval [{_f(c['lower'], '+.3f')}, {_f(c['upper'], '+.3f')}] (block bootstrap), "
                       f"Diebold-Mariano p = {_f(c['p_value'], '.2f')}: {verdict(c['lower'], c['upper'])}.")
    perm = ev.permutation
    if perm.get("shifts"):
        out.append(f"Shifting the threat series in time against the episodes ({perm['shifts']} shifts) gives a "
                   f"median Brier of {_f(perm['null_brier_median'], '.3f')}; permutation p = "
                   f"{_f(perm['p_value'], '.2f')} for the framework's timing.")
    lam = "; ".join(f"{a}: at zero at {p['share_at_zero']:.0%} of origins (median {p['median']:.2f})"
                    for a, p in ev.parameters.items())
    if lam:
        out.append(f"The only fitted parameters, each ally's tilt lambda (sign fixed by the paper), sit at the "
                   f"paper's bound of zero when the earlier episodes do not support the paper's direction: {lam}. "
                   f"{ev.fallback} episodes had no threat score as of their date (no data published then) and were "
                   "forecast by the base rate. Protocol and priors: docs/evaluation.md.")
    return out


def forecast_tables(ev: Any) -> list[Table]:
    """Scores per forecaster and subset, and the scores across specifications of the decision model."""
    cols = ["episodes", "model", "n", "brier", "log_loss", "rps", "accuracy"]
    rows = []
    for label, sub in [("all scored", {"n": ev.n, "framework": ev.framework, "baselines": ev.baselines}),
                       ("actor-domain pairs that vary", ev.varying),
                       *[(f"actor {a}", s) for a, s in ev.by_actor.items()]]:
        if not sub.get("n"):
            continue
        for name, sc in (("dual threat framework", sub["framework"]), ("base rate", sub["baselines"]["base_rate"]),
                         ("single threat", sub["baselines"]["single_threat"])):
            rows.append({"episodes": label, "model": name, "n": sub["n"],
                         **{k: _f(sc[k], ".0%" if k == "accuracy" else ".3f") for k in cols[3:]}})
    tables = [Table("Forecast scores by subset (lower Brier, log loss and RPS are better)", cols, rows)]
    if ev.sensitivity:
        scols = ["specification", "n", "framework", "base_rate", "difference", "lower", "upper", "verdict"]
        tables.append(Table("Sensitivity of the forecast comparison: framework against the base rate (Brier; 90% "
                            "block-bootstrap interval of the difference)", scols,
                            [{c: (_f(r.get(c), "+.3f") if c in ("difference", "lower", "upper") else
                                  _f(r.get(c), ".3f") if c in ("framework", "base_rate") else r.get(c, ""))
                              for c in scols} for r in ev.sensitivity]))
    return tables


def alliance_section(model: Any, evaluation: Any, episodes: pd.DataFrame) -> Section:
    th = model.theater_
    p = model.posture_
    s = Section("alliance", f"Defining the alliance and managing {th.label(th.great_power or '')}")
    dist = p[p.measure == "ideal_point_distance"].pivot_table(index=["ally", "year"], columns="partner",
                                                               values="value").dropna().reset_index()
    gp, gp_name, patron_name = th.great_power, th.label(th.great_power or ""), th.label(th.patron)
    for ally in th.allies:
        g = dist[(dist.ally == ally) & (dist.year >= 1991)].sort_values("year")
        if len(g) >= 2 and gp in g and th.patron in g:
            first, last = g.iloc[0], g.iloc[-1]
            s.paragraphs.append(
                f"In {int(last.year)}, {th.label(ally)}'s UN ideal point lay {_f(last[gp], '.2f')} from "
                f"{_possessive(gp_name)} and {_f(last[th.patron], '.2f')} from {_possessive(patron_name)} (in "
                f"{int(first.year)}: {_f(first[gp], '.2f')} and {_f(first[th.patron], '.2f')}).")
    s.charts.append(("posture-distance", f"UN ideal-point distance to the {patron_name} and to {gp_name} (90% "
                     "intervals)", charts.posture_distance(p)))
    s.charts.append(("posture-kappa", f"Chance-corrected UNGA vote agreement (Cohen's kappa) with the {patron_name} "
                     f"and {gp_name}", charts.posture_kappa(p)))
    med = model.mediator_
    threat_text, backing_text = th.mediator_text
    last = med[(med.estimate == "filtered") & med["mean"].notna()].sort_values("month").groupby("ally").tail(1)
    for r in last.itertuples():
        s.paragraphs.append(
            f"Mediator for {th.label(r.ally)} in {r.month}: {_f(r.mean)} [{_f(r.lower)}, {_f(r.upper)}] "
            f"({threat_text} {_f(r.dprk_threat)} x {backing_text} {_f(r.china_backing)}, "
            f"year {int(r.china_backing_year)}).")
    if last.empty:
        s.paragraphs.append(f"No mediator: {backing_text} has no observation in the data loaded.")
    s.charts.append(("mediator", f"The mediator: {threat_text} x {backing_text} (filtered, 90% band)",
                     charts.mediator_chart(med)))
    if evaluation is not None:
        s.paragraphs += forecast_paragraphs(evaluation)
        ep = {e["id"]: e for e in evaluation.episodes}
        episodes = episodes.assign(
            expected=[ep[i]["predicted_direction"] if i in ep else "not scored" for i in episodes.episode_id],
            p_observed=[ep[i]["predicted"][ep[i]["observed"]] if i in ep else None for i in episodes.episode_id],
            scored=["yes" if i in ep else "no (too few earlier episodes)" for i in episodes.episode_id])
        s.tables += forecast_tables(evaluation)
        if evaluation.reliability:
            s.charts.append(("reliability", "Reliability: observed frequency against forecast probability (every "
                             "possible direction of every scored episode; Wilson 90% intervals)",
                             charts.reliability(evaluation.reliability)))
    else:
        episodes = episodes.assign(expected="not evaluated", p_observed=None, scored="no")
    if episodes.empty:
        s.paragraphs.append(f"No coded decision episodes of {_names(th)}: the episode forecasts and the decision "
                            "table need them (a CSV in the format of shared/data/episodes/calibration.csv, loaded "
                            "with `dualthreat ingest episodes`).")
        return s
    s.charts.append(("episodes", "Decision episodes, with what the model expected before each", charts.episode_timeline(
        episodes)))
    s.tables.append(Table("Decision episodes", ["episode_id", "date", "actor", "domain", "decision", "direction",
                                                "expected", "p_observed"],
                          _records(episodes.assign(date=pd.to_datetime(episodes.date).dt.strftime("%Y-%m-%d"),
                                                   p_observed=episodes.p_observed.map(
                                                       lambda x: None if x is None or pd.isna(x) else round(x, 2))),
                                   ["episode_id", "date", "actor", "domain", "decision", "direction", "expected",
                                    "p_observed"])))
    return s


def domestic_section(domestic: Any, theater: Any) -> Section:
    s = Section("domestic", "Domestic constituencies and the elite-public gap")
    elite = domestic.elite_
    cats = theater.elite
    for ally in theater.allies:
        e = elite[(elite.ally == ally) & (elite.year >= 1991)]
        if e.empty or not cats:
            s.paragraphs.append(f"{theater.label(ally)}: no elite salience (" + (
                "no UN General Debate statements of it in the store)." if e.empty else
                "the theater file names no word-list categories, [[elite]]).") )
            continue
        mean = e.groupby("category")["rate"].mean()
        named = [f"{c.name} {_f(mean.get(c.category), '.2f')}" for c in cats]
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        s.paragraphs.append(
            f"Since 1991 {theater.label(ally)}'s UN General Debate statements mention {listed} times per 1,000 "
            f"words on average (word list {e.wordlist.iloc[0]}).")
    for r in domestic.gap_summary_.itertuples():
        if r.status == "computed":
            s.paragraphs.append(
                f"{theater.label(r.ally)}, threat from {theater.label(r.source)}: elite salience and public "
                f"perception correlate at r = {_f(r.correlation)} [{_f(r.correlation_lower)}, "
                f"{_f(r.correlation_upper)}] over {int(r.years_both)} years ({r.first}-{r.last}).")
        else:
            s.paragraphs.append(f"{theater.label(r.ally)}, threat from {theater.label(r.source)}: {r.status}.")
    sal = elite[(elite.year >= 1991) & elite.category.isin([c.category for c in cats])]
    if len(sal):
        s.charts.append(("elite-salience", "Elite salience: mentions per 1,000 words in UN General Debate statements "
                         "(90% intervals)", charts.yearly_lines(sal, "rate", "mentions per 1,000 words",
                                                                band=("lower", "upper"), column="category")))
    gap = domestic.gap_.dropna(subset=["gap"])
    if len(gap):
        s.charts.append(("elite-public-gap", "Elite minus public threat (both standardised), by source",
                         charts.yearly_lines(gap, "gap", "elite z minus public z", column="source")))
    protest = domestic.protest_
    status = protest["status"].dropna().unique() if "status" in protest else []
    patron = SHORT_NAMES.get(theater.label(theater.patron), theater.label(theater.patron))
    s.paragraphs.append(f"Protest against the {patron} (CAMEO 14): "
                        + (status[0] if len(status) else "see the table") + ".")
    return s


def triangle_section(triangle: Any, theater: Any) -> Section:
    s = Section("triangle", f"{'-'.join(theater.label(a) for a in theater.allies[:2])} relations and the triangle")
    b = triangle.balance_
    if len(b):
        recent = b[b.period.astype(str) >= "1991"]
        full = int((recent.share_balanced == 1).sum())
        last = b.iloc[-1]
        s.paragraphs.append(
            f"In the signed network of the {_count(len(theater.states))} states (ties from UN vote kappa, then ideal points), {full} of "
            f"{len(recent)} years since 1991 are fully balanced; in {last.period} the share of balanced triads is "
            f"{_f(last.share_balanced, '.2f')} and the best split is {last.camp_b} against {last.camp_a}.")
        s.charts.append(("balance", f"Structural balance of the {_count(len(theater.states))}-state network per year",
                         charts.yearly_lines(recent.rename(columns={"period": "year"}), "weighted_share_balanced",
                                             "weighted share of balanced triads", color="source")))
    for r in triangle.cha_.itertuples():
        s.paragraphs.append(f"Cha's quasi-alliance test on {r.description}: joint fear {_f(r.joint_coef)} "
                            f"[{_f(r.joint_lower)}, {_f(r.joint_upper)}], asymmetric fear {_f(r.asymmetry_coef)} "
                            f"[{_f(r.asymmetry_lower)}, {_f(r.asymmetry_upper)}]; {r.verdict}.")
    t = triangle.triads_
    if len(t):
        last_period = t.period.max()
        tt = t[t.period == last_period]
        s.tables.append(Table(f"Triads in {last_period}", [c for c in tt.columns if c not in ("period",)][:8],
                              _records(tt, [c for c in tt.columns if c not in ("period",)][:8])))
    return s


def identity_section(store: Store, theater: Any) -> Section:
    from dualthreat.model.identity import identity_episodes, identity_friction

    s = Section("identity", "National identity")
    if not theater.identity_dyads:
        s.paragraphs.append("The theater file names no dyads of history and identity disputes ([identity] dyads).")
        return s
    fr = identity_friction(store, theater)
    ep = identity_episodes(store, theater=theater)
    coded = fr[fr.measure == "identity_episodes"]
    for dyad, g in coded.groupby("dyad"):
        s.paragraphs.append(f"{dyad}: {int(g.value.sum())} coded history and identity disputes in "
                            f"{int(g.year.min())}-{int(g.year.max())}.")
    if coded.empty:
        s.paragraphs.append(f"No coded history and identity disputes of {', '.join('-'.join(d) for d in theater.identity_dyads)} "
                            "(coded episodes of the theater's allies are needed).")
    other = fr[fr.status != "coded"]["status"].dropna().unique()
    if len(other):
        s.paragraphs.append("Disapprove/reject events (CAMEO 11/12): " + str(other[0]) + ".")
    if len(ep):
        cols = [c for c in ("episode_id", "date", "dyad", "actor", "outcome", "direction",
                            "cooperation_within_window") if c in ep.columns]
        pair = theater.pair_label(*theater.allies[:2])
        s.tables.append(Table(f"History and identity episodes, and the {pair} cooperation around them", cols,
                              _records(ep.assign(date=ep.date.astype(str)), cols)))
    return s


#: Indicators left out one at a time in the report's sensitivity table (each costs one fit of the framework):
#: none by default, so the report runs the other reference windows and variance bounds; every indicator's
#: leave-one-out runs with ``SensitivityAnalysis().fit(store)`` (docs/hypotheses.md).
SENSITIVITY_INDICATORS: tuple[str, ...] = ()


def sensitivity_report_table(summary: pd.DataFrame) -> Table:
    """The verdicts across specifications: a verdict that flips in any is fragile."""
    cols = ["id", "baseline", "specifications", "verdicts", "flips", "flipped_by", "fragile"]
    rows = [{c: ("yes" if r[c] else "no") if c == "fragile" else r[c] for c in cols}
            for r in summary.to_dict("records")]
    return Table("Sensitivity: each verdict across other reference windows and variance bounds (fragile = flips "
                 "in at least one)", cols, rows)


def scenario_section(store: Store, model: Any, draws: int = 1000) -> Section:
    """The packaged scenarios run against the framework: what moves, for each ally, with 90% intervals."""
    from dualthreat.scenario import packaged

    th = model.theater_
    s = Section("scenarios", "What if: the packaged scenarios")
    s.paragraphs.append(
        "Each scenario shipped with dualthreat (listed by dualthreat scenario list) shocks the framework's inputs; the "
        f"threat components with a shocked indicator, and {th.mediator_text[1]}, are re-filtered with their "
        "fitted parameters (a shock enters in its month and fades at the fitted rate; past the data the state is "
        "projected with the model's dynamics), the mediator follows, and the decision model gives the probability of "
        "each direction. Every result is the difference from the baseline run with a 90% interval from simulation "
        f"(threat components in {model.scale_label_}). A scenario is conditional on the model: it says what the "
        "framework would estimate and forecast had the inputs been so, not what would happen. Method and limits: "
        "docs/scenarios.md.")
    rows = []
    for key, sc in packaged(th).items():
        r = sc.run(model, store, draws=draws)
        info, t, d = r.scenario, r.threats, r.decisions
        end = t[t.month == info["end"]]
        moved = t.groupby(["ally", "level", "source"], sort=False)["difference"].apply(lambda x: x.abs().max())
        moved = moved[moved > 1e-9]
        said = []
        for ally in th.allies:
            e = end[(end.ally == ally) & end.set_index(["ally", "level", "source"]).index.isin(moved.index)]
            if e.empty:
                said.append(f"{th.label(ally)}: no component moves")
                continue
            top = e.loc[e.difference.abs().idxmax()]
            dec = d[d.ally == ally]
            dtop = dec.loc[dec.difference.abs().idxmax()] if len(dec) else None
            text = (f"{th.label(ally)}: {top.level} {th.label(top.source)} {_f(top.baseline_mean)} -> "
                    f"{_f(top.scenario_mean)} by {info['end']} (difference {_f(top.difference)} "
                    f"[{_f(top.lower)}, {_f(top.upper)}])")
            if dtop is not None and abs(dtop.difference) < 5e-4:
                text += "; no decision probability moves by 0.0005 or more"
            elif dtop is not None:
                text += (f"; the largest change of a decision probability is P({dtop.direction} | {dtop.domain}) "
                         f"{_f(dtop.baseline_p, '.3f')} -> {_f(dtop.scenario_p, '.3f')} ({_f(dtop.difference, '+.3f')} "
                         f"[{_f(dtop.lower, '+.3f')}, {_f(dtop.upper, '+.3f')}])")
            said.append(text)
        s.paragraphs.append(f"{info['name']} ({info['kind']}, {info['start']} to {info['end']}; "
                            f"{key}): " + "; ".join(said) + f". Decisions: {info['decision_model']}.")
        panels = [" · ".join(k) for k in moved.index]
        backing = r.series[r.series.level == "backing"].pivot_table(index="month", columns="run", values="mean")
        if len(backing) and ((backing["scenario"] - backing["baseline"]).abs() > 1e-9).any():
            panels.append(" · ".join(["backing", th.backer or ""]))
        if panels:
            s.charts.append((f"scenario-{key}", f"{info['name']}: baseline and scenario, filtered, 90% bands "
                             f"({info['kind']} from {info['start']}; {model.scale_label_})",
                             charts.scenario_chart(r.series, panels)))
        for x in end.itertuples():
            if (x.ally, x.level, x.source) in moved.index:
                rows.append({"scenario": key, "ally": x.ally, "component": f"{x.level} · {x.source}",
                             "month": x.month, "baseline": _f(x.baseline_mean), "scenario run": _f(x.scenario_mean),
                             "difference [90%]": f"{_f(x.difference)} [{_f(x.lower)}, {_f(x.upper)}]"})
    s.tables.append(Table("Components that move, at the end of each run", ["scenario", "ally", "component", "month",
                          "baseline", "scenario run", "difference [90%]"], rows))
    return s


def hypotheses_section(results: Any) -> tuple[Section, dict[str, int]]:
    s = Section("hypotheses", "The paper's hypotheses against the record")
    counts = results.counts() if hasattr(results, "counts") else {
        v: sum(r.verdict == v for r in results) for v in ("supported", "contradicted", "inconclusive", "untestable")}
    counts.setdefault("error", 0)
    errored = f", and {counts['error']} errored (shown as errors, counted apart)" if counts["error"] else ""
    s.paragraphs.append(
        f"Of {len(results)} propositions, {counts['supported']} are supported, {counts['contradicted']} contradicted, "
        f"{counts['inconclusive']} inconclusive and {counts['untestable']} untestable with the loaded data (each "
        f"with the data that would test it){errored}. A decisive verdict needs its 90% interval on one side, at least "
        "8 cases and a Benjamini-Hochberg q-value of at most 0.10 over all interval tests; a claim of no effect "
        "needs an equivalence test. Method and reasons: docs/hypotheses.md.")
    s.tables.append(Table("Hypotheses", ["id", "kind", "verdict", "estimate", "interval", "q", "n", "evidence"], [
        {"id": r.id, "kind": getattr(r, "kind", None), "verdict": r.verdict, "estimate": _f(r.estimate),
         "interval": "—" if r.lower is None else f"[{_f(r.lower)}, {_f(r.upper)}]",
         "q": _f(getattr(r, "q_value", None)), "n": r.n, "evidence": r.evidence} for r in results]))
    return s, counts


def sources_section(store: Store) -> Section:
    from dualthreat.store.defaults import default_data_dir

    s = Section("sources", "Data and sources")
    summary = store.summary()
    s.paragraphs.append(f"The store holds {sum(r['rows'] for r in summary):,} rows in {len(summary)} tables; every "
                        "row keeps its dataset, source file, line and source URL.")
    s.tables.append(Table("Tables in the store", ["table", "rows", "start", "end", "datasets", "source_urls"],
                          [{k: r[k] for k in ("table", "rows", "start", "end", "datasets", "source_urls")}
                           for r in summary]))
    md = (default_data_dir() / "SOURCES.md").read_text("utf-8")
    lines = [ln for ln in md.splitlines() if ln.startswith("| `")]
    header = [h.strip() for h in next(ln for ln in md.splitlines() if ln.startswith("| table")).strip("|").split("|")]
    rows = []
    for ln in lines:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if len(cells) == len(header):
            rows.append({h: re.sub(r"[`*]", "", c) for h, c in zip(header, cells)})
    s.tables.append(Table("Datasets: producer, license, citation, coverage, URL", header, rows))
    return s


def methods_section(model: Any) -> Section:
    s = Section("methods", "Methods")
    th = model.theater_
    ind = model.indicators_
    s.paragraphs += [
        f"Threat components: {len(ind)} indicators mapped to {ind.groupby(['ally', 'level', 'source']).ngroups} "
        f"components by the theater file, standardised as {model.scale_label_} and combined by a state-space "
        "model with temporal aggregation (annual and fiscal-year figures constrain their period; dated events enter "
        "in their month), estimated by maximum likelihood on the reference window, filtered and smoothed with "
        "statsmodels' Kalman filter (docs/threat-model.md).",
        "Posture: UN ideal points (Bailey, Strezhnev & Voeten 2017), vote agreement and Cohen's kappa; mediator: "
        f"{th.mediator_text[0]} x {th.label(th.backer or '')}'s UN closeness to {th.label(th.client or '')}. "
        "Hypotheses: first-difference regressions with "
        "Newey-West errors, record counts and correlations, with one verdict rule (docs/evaluation.md). Episode "
        "forecasts: rolling origin, threats fitted as of each date, a decision model that tilts the pooled base rate by "
        "the framework's threat score (signs fixed by the paper), scored by Brier, log loss and RPS against two "
        "baselines with block-bootstrap intervals, Diebold-Mariano tests and a permutation null.",
    ]
    s.tables.append(Table("Indicators", ["ally", "level", "source", "indicator", "observations", "first", "last",
                                         "standardised_on", "weight"],
                          _records(ind.assign(weight=ind.weight.round(3)),
                                   ["ally", "level", "source", "indicator", "observations", "first", "last",
                                    "standardised_on", "weight"])))
    return s


def build_report(store: Store, model: Any = None, hypotheses: list[Any] | None = None, evaluation: Any = None,
                 extra_sections: list[Section] | None = None, sensitivity: pd.DataFrame | None = None,
                 scenarios: bool = True, evidence: Any = None) -> Report:
    """Assemble the report from a fitted model, the hypothesis results, the episode evaluation, the verdicts'
    sensitivity (:func:`dualthreat.evaluate.sensitivity.sensitivity_table`) and the packaged scenarios.
    ``evidence`` (the hypotheses' :class:`~dualthreat.evaluate.evidence.Evidence` of ``model``): its home-front
    and triangle fits are used, not fitted again."""
    from dualthreat.model import DualThreatModel
    from dualthreat.model.domestic import DomesticModel
    from dualthreat.model.triangle import TriangleModel
    from dualthreat.scenario import packaged as packaged_scenarios

    model = model or DualThreatModel().fit(store)
    th = model.theater_
    domestic = evidence.domestic() if evidence is not None else DomesticModel(th).fit(store)
    triangle = evidence.triangle() if evidence is not None else TriangleModel(th).fit(store)
    episodes = theater_episodes(store, th)
    threats, latest = threat_section(model)
    events = dated_events(store, th)
    if len(events):  # the record's dated events on the components they feed
        threats.charts.insert(1, ("milestones", "The record's dated events (dashed rules: "
                                  f"{', '.join(sorted(set(events.series)))}) on the components they feed: filtered "
                                  f"estimates with 90% bands, in {model.scale_label_}; solid orange rules: a main "
                                  "input (weight 0.10 or more) starts or ends",
                                  charts.milestones(model.threats_, events, model.input_changes_)))
    sections = [threats, alliance_section(model, evaluation, episodes),
                domestic_section(domestic, th),
                triangle_section(triangle, th),
                identity_section(store, th)]
    if scenarios and packaged_scenarios(th):  # the scenarios written for this theater (their `theater` key)
        sections.append(scenario_section(store, model))
    sections += list(extra_sections or [])
    counts = {"supported": 0, "contradicted": 0, "inconclusive": 0}
    summary = summary_paragraphs(model)
    if evaluation is not None:
        summary += [p for p in forecast_paragraphs(evaluation) if p.startswith("Framework minus the base rate")]
    if hypotheses is not None:
        hyp, counts = hypotheses_section(hypotheses)
        if sensitivity is not None and len(sensitivity):
            hyp.tables.append(sensitivity_report_table(sensitivity))
        sections.append(hyp)
        summary.append(hyp.paragraphs[0])
    sections += [sources_section(store), methods_section(model)]
    return Report(f"dualthreat: {_names(th)} side by side ({th.name})",
                  f"{dt.date.today().isoformat()}, dualthreat {__version__}", summary, sections, counts, latest)


def make_report(store: Store, with_episodes: bool = True,
                step: Callable[[str], None] | None = None, theater: Any = None) -> tuple[Any, list[Any], Any, Report]:
    """The whole chain behind the report of ``theater`` (default: Northeast Asia): fit the framework, test the
    hypotheses, forecast the episodes (if asked, and if the store holds coded episodes of its allies), assemble
    the report. Returns (model, hypotheses, evaluation or None, report); ``step`` is told what is being done."""
    with one_blas_thread():  # every fit of the chain works on small matrices (dualthreat.stats.one_blas_thread)
        return _make_report(store, with_episodes, step, theater)


def _make_report(store: Store, with_episodes: bool, step: Callable[[str], None] | None,
                 theater: Any) -> tuple[Any, list[Any], Any, Report]:
    from dualthreat.evaluate.episodes import evaluate, start_episode_features
    from dualthreat.evaluate.evidence import Evidence
    from dualthreat.evaluate.hypotheses import evaluate_hypotheses
    from dualthreat.evaluate.sensitivity import sensitivity_table, specifications
    from dualthreat.model import DualThreatModel
    from dualthreat.model.cache import fit_cached
    from dualthreat.model.dualthreat import SharedFits

    say = step or (lambda _: None)
    th = theater or load_theater()
    episodes = theater_episodes(store, th) if with_episodes else pd.DataFrame()
    # the forecasts' as-of fits start now, in worker processes, and run while this process does the rest
    pending = start_episode_features(store, th) if len(episodes) else None
    try:
        say("fitting the threat components")
        shared = SharedFits(store)  # the specifications of the sensitivity reuse what this fit reads
        model = fit_cached(DualThreatModel(theater), store, shared=shared)
        say("testing the hypotheses")
        evidence = Evidence(model, store)  # one triangle and one home front for the tests, the sensitivity, the report
        hyps = evaluate_hypotheses(store, evidence=evidence)
        sens = None
        if with_episodes and model.theater_.key == DEFAULT_THEATER:  # the sensitivity runs the default theater's registry
            say("refitting across specifications (verdicts' sensitivity)")
            sens = sensitivity_table(store, specifications(model.theater_, indicators=SENSITIVITY_INDICATORS), evidence,
                                     shared)
        del shared  # the specifications' fits (~90 MiB) are not needed further
        say("forecasting the episodes out of time")
        evaluation = evaluate(store, theater=theater, pending=pending) if len(episodes) else None
        pending = None  # collected (and closed) by the evaluation
    finally:
        if pending is not None:
            pending.close()
    say("writing the report")
    return model, hyps, evaluation, build_report(store, model, hyps, evaluation, sensitivity=sens, evidence=evidence)
