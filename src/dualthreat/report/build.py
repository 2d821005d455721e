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
from dualthreat.report import charts
from dualthreat.store import Store

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
            f"{_band(top)} (filtered, z-score against 1996-2015, 90% band); its lowest is "
            f"{a.iloc[-1].level} {th.label(a.iloc[-1].source)} at {_band(a.iloc[-1])}.")
    s.paragraphs.append(
        "Each panel shows one component of the 2x2 matrix (level x source) for both allies: the smoothed estimate "
        "(all data) with its 90% band. Zero is the 1996-2015 average of the component's indicators; a band that "
        "widens marks months with no data. Method: docs/threat-model.md.")
    s.charts.append(("threat-matrix", "The 2x2 threat matrix of each ally over time (smoothed, 90% bands)",
                     charts.threat_matrix(model.threats_)))
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


def alliance_section(model: Any, evaluation: Any, episodes: pd.DataFrame) -> Section:
    th = model.theater_
    p = model.posture_
    s = Section("alliance", "Defining the alliance and managing China")
    dist = p[p.measure == "ideal_point_distance"].pivot_table(index=["ally", "year"], columns="partner",
                                                               values="value").dropna().reset_index()
    for ally in th.allies:
        g = dist[(dist.ally == ally) & (dist.year >= 1991)].sort_values("year")
        if len(g) >= 2:
            first, last = g.iloc[0], g.iloc[-1]
            s.paragraphs.append(
                f"In {int(last.year)}, {th.label(ally)}'s UN ideal point lay {_f(last['CHN'], '.2f')} from China's and "
                f"{_f(last[th.patron], '.2f')} from {_possessive(th.label(th.patron))} (in {int(first.year)}: "
                f"{_f(first['CHN'], '.2f')} and {_f(first[th.patron], '.2f')}).")
    s.charts.append(("posture-distance", "UN ideal-point distance to the US and to China (90% intervals)",
                     charts.posture_distance(p)))
    s.charts.append(("posture-kappa", "Chance-corrected UNGA vote agreement (Cohen's kappa) with the US and China",
                     charts.posture_kappa(p)))
    med = model.mediator_
    last = med[(med.estimate == "filtered") & med["mean"].notna()].sort_values("month").groupby("ally").tail(1)
    for r in last.itertuples():
        s.paragraphs.append(
            f"Mediator for {th.label(r.ally)} in {r.month}: {_f(r.mean)} [{_f(r.lower)}, {_f(r.upper)}] "
            f"(North Korean threat {_f(r.dprk_threat)} x China's backing of the North {_f(r.china_backing)}, "
            f"year {int(r.china_backing_year)}).")
    s.charts.append(("mediator", "The mediator: North Korean threat x China's backing of the North (filtered, "
                     "90% band)", charts.mediator_chart(med)))
    if evaluation is not None:
        fw, br, st = evaluation.framework, evaluation.baselines["base_rate"], evaluation.baselines["single_threat"]
        better = "beats" if fw["brier"] < br["brier"] else "does not beat"
        s.paragraphs.append(
            f"Forecast out of time, the framework scores a multi-class Brier score of {_f(fw['brier'], '.3f')} "
            f"(log loss {_f(fw['log_loss'], '.3f')}, accuracy {_f(fw['accuracy'], '.0%')}) on {evaluation.n} "
            f"episodes; the base rate scores {_f(br['brier'], '.3f')} and the single-threat model "
            f"{_f(st['brier'], '.3f')}. The framework {better} the base rate on these episodes (lower is better).")
        ep = {e["id"]: e for e in evaluation.episodes}
        episodes = episodes.assign(
            expected=[ep[i]["predicted_direction"] if i in ep else "not scored" for i in episodes.episode_id],
            p_observed=[ep[i]["predicted"][ep[i]["observed"]] if i in ep else None for i in episodes.episode_id],
            scored=["yes" if i in ep else "no (too few earlier episodes)" for i in episodes.episode_id])
        s.tables.append(Table("Forecast scores (lower Brier and log loss are better)",
                              ["model", "n", "brier", "log_loss", "accuracy"],
                              [{"model": name, "n": evaluation.n, **{k: _f(v, '.3f') for k, v in sc.items()}}
                               for name, sc in (("dual threat framework", fw), ("base rate", br),
                                                ("single threat", st))]))
    else:
        episodes = episodes.assign(expected="not evaluated", p_observed=None, scored="no")
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
    for ally in theater.allies:
        e = elite[(elite.ally == ally) & (elite.year >= 1991)]
        if e.empty:
            continue
        mean = e.groupby("category")["rate"].mean()
        s.paragraphs.append(
            f"Since 1991 {theater.label(ally)}'s UN General Debate statements mention North Korea "
            f"{_f(mean.get('north_korea'), '.2f')}, China {_f(mean.get('china'), '.2f')} and the United States "
            f"{_f(mean.get('united_states'), '.2f')} times per 1,000 words on average (word list "
            f"{e.wordlist.iloc[0]}).")
    for r in domestic.gap_summary_.itertuples():
        if r.status == "computed":
            s.paragraphs.append(
                f"{theater.label(r.ally)}, threat from {theater.label(r.source)}: elite salience and public "
                f"perception correlate at r = {_f(r.correlation)} [{_f(r.correlation_lower)}, "
                f"{_f(r.correlation_upper)}] over {int(r.years_both)} years ({r.first}-{r.last}).")
        else:
            s.paragraphs.append(f"{theater.label(r.ally)}, threat from {theater.label(r.source)}: {r.status}.")
    sal = elite[(elite.year >= 1991) & elite.category.isin(["china", "north_korea", "united_states"])]
    s.charts.append(("elite-salience", "Elite salience: mentions per 1,000 words in UN General Debate statements "
                     "(90% intervals)", charts.yearly_lines(sal, "rate", "mentions per 1,000 words",
                                                            band=("lower", "upper"), column="category")))
    gap = domestic.gap_.dropna(subset=["gap"])
    if len(gap):
        s.charts.append(("elite-public-gap", "Elite minus public threat (both standardised), by source",
                         charts.yearly_lines(gap, "gap", "elite z minus public z", column="source")))
    protest = domestic.protest_
    status = protest["status"].dropna().unique() if "status" in protest else []
    s.paragraphs.append("Protest against the US (CAMEO 14): " + (status[0] if len(status) else "see the table") + ".")
    return s


def triangle_section(triangle: Any, theater: Any) -> Section:
    s = Section("triangle", "Japan-Korea relations and the triangle")
    b = triangle.balance_
    if len(b):
        recent = b[b.period.astype(str) >= "1991"]
        full = int((recent.share_balanced == 1).sum())
        last = b.iloc[-1]
        s.paragraphs.append(
            f"In the signed network of the five states (ties from UN vote kappa, then ideal points), {full} of "
            f"{len(recent)} years since 1991 are fully balanced; in {last.period} the share of balanced triads is "
            f"{_f(last.share_balanced, '.2f')} and the best split is {last.camp_b} against {last.camp_a}.")
        s.charts.append(("balance", "Structural balance of the five-state network per year",
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
    fr = identity_friction(store)
    ep = identity_episodes(store)
    coded = fr[fr.measure == "identity_episodes"]
    for dyad, g in coded.groupby("dyad"):
        s.paragraphs.append(f"{dyad}: {int(g.value.sum())} coded history and identity disputes in "
                            f"{int(g.year.min())}-{int(g.year.max())}.")
    other = fr[fr.status != "coded"]["status"].dropna().unique()
    if len(other):
        s.paragraphs.append("Disapprove/reject events (CAMEO 11/12): " + str(other[0]) + ".")
    if len(ep):
        cols = [c for c in ("episode_id", "date", "dyad", "actor", "outcome", "direction",
                            "cooperation_within_window") if c in ep.columns]
        s.tables.append(Table("History and identity episodes, and the Japan-ROK cooperation around them", cols,
                              _records(ep.assign(date=ep.date.astype(str)), cols)))
    return s


def scenario_section(store: Store, model: Any, draws: int = 1000) -> Section:
    """The packaged scenarios run against the framework: what moves, for each ally, with 90% intervals."""
    from dualthreat.scenario import packaged

    th = model.theater_
    s = Section("scenarios", "What if: the packaged scenarios")
    s.paragraphs.append(
        "Each scenario shipped with dualthreat (listed by dualthreat scenario list) shocks the framework's inputs; the "
        "threat components with a shocked indicator, and China's backing of North Korea, are re-filtered with their "
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
    ind = model.indicators_
    s.paragraphs += [
        f"Threat components: {len(ind)} indicators mapped to {ind.groupby(['ally', 'level', 'source']).ngroups} "
        "components by the theater file, standardised against 1996-2015 and combined by a local-level state-space "
        "model with temporal aggregation (annual and fiscal-year figures constrain their period; dated events enter "
        "in their month), estimated by maximum likelihood on the reference window, filtered and smoothed with "
        "statsmodels' Kalman filter (docs/threat-model.md).",
        "Posture: UN ideal points (Bailey, Strezhnev & Voeten 2017), vote agreement and Cohen's kappa; mediator: "
        "North Korean threat x China's UN closeness to North Korea. Hypotheses: first-difference regressions with "
        "Newey-West errors, record counts and correlations, with one verdict rule (docs/evaluation.md). Episode "
        "forecasts: rolling origin, fitted as of each date, scored by Brier score and log loss against two baselines.",
    ]
    s.tables.append(Table("Indicators", ["ally", "level", "source", "indicator", "observations", "first", "last",
                                         "standardised_on", "weight"],
                          _records(ind.assign(weight=ind.weight.round(3)),
                                   ["ally", "level", "source", "indicator", "observations", "first", "last",
                                    "standardised_on", "weight"])))
    return s


def build_report(store: Store, model: Any = None, hypotheses: list[Any] | None = None, evaluation: Any = None,
                 extra_sections: list[Section] | None = None, scenarios: bool = True) -> Report:
    """Assemble the report from a fitted model, the hypothesis results and the episode evaluation."""
    from dualthreat.model import DualThreatModel

    from dualthreat.model.domestic import DomesticModel
    from dualthreat.model.triangle import TriangleModel

    model = model or DualThreatModel().fit(store)
    th = model.theater_
    episodes = store.query("SELECT * FROM episodes ORDER BY date").to_pandas()
    threats, latest = threat_section(model)
    sections = [threats, alliance_section(model, evaluation, episodes),
                domestic_section(DomesticModel(th).fit(store), th),
                triangle_section(TriangleModel(th).fit(store), th),
                identity_section(store, th)]
    if scenarios:
        sections.append(scenario_section(store, model))
    sections += list(extra_sections or [])
    counts = {"supported": 0, "contradicted": 0, "inconclusive": 0}
    summary = list(threats.paragraphs[: len(model.theater_.allies)])
    if hypotheses is not None:
        hyp, counts = hypotheses_section(hypotheses)
        sections.append(hyp)
        summary.append(hyp.paragraphs[0])
    sections += [sources_section(store), methods_section(model)]
    return Report(f"dualthreat: Japan and South Korea side by side ({model.theater_.name})",
                  f"{dt.date.today().isoformat()}, dualthreat {__version__}", summary, sections, counts, latest)


def make_report(store: Store, with_episodes: bool = True,
                step: Callable[[str], None] | None = None) -> tuple[Any, list[Any], Any, Report]:
    """The whole chain behind the report: fit the framework, test the hypotheses, forecast the episodes (if
    asked), assemble the report. Returns (model, hypotheses, evaluation or None, report); ``step`` is told
    what is being done."""
    from dualthreat.evaluate.episodes import evaluate
    from dualthreat.evaluate.hypotheses import evaluate_hypotheses
    from dualthreat.model import DualThreatModel
    from dualthreat.model.cache import fit_cached

    say = step or (lambda _: None)
    say("fitting the threat components")
    model = fit_cached(DualThreatModel(), store)
    say("testing the hypotheses")
    hyps = evaluate_hypotheses(store, model)
    say("forecasting the episodes out of time")
    evaluation = evaluate(store) if with_episodes else None
    say("writing the report")
    return model, hyps, evaluation, build_report(store, model, hyps, evaluation)
