"""The dashboard's own charts (Vega-Lite specifications built with Altair); the report's charts
(:mod:`dualthreat.report.charts`) are reused for the matrix over time, the posture, the mediator, the episode
timeline and the yearly series. Every function takes plain records or tidy tables and returns a spec (a dict)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from dualthreat.report import charts as report_charts
from dualthreat.report.charts import ALLY_COLORS, WIDTH

VERDICT_COLORS = alt.Scale(domain=["supported", "contradicted", "inconclusive", "untestable", "error"],
                           range=["#1a7f37", "#b2182b", "#8a6d00", "#777777", "#444444"])


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite specification of ``chart``, with data inlined."""
    return chart.to_dict()


def component_series(rows: list[dict], at: str | None, scale: str) -> dict[str, Any]:
    """One threat component over time: filtered and smoothed means with their 90% bands; a rule at ``at``."""
    t = pd.DataFrame(rows)
    t["date"] = t["month"] + "-15"
    base = alt.Chart(t).encode(x=alt.X("date:T", title=None))
    color = alt.Color("estimate:N", scale=alt.Scale(domain=["filtered", "smoothed"], range=["#b2182b", "#555555"]))
    band = base.mark_area(opacity=0.15).encode(y=alt.Y("lower:Q", title=f"threat ({scale})"), y2="upper:Q",
                                               color=color)
    line = base.mark_line(strokeWidth=1.4).encode(
        y="mean:Q", color=color, tooltip=["month", "estimate", alt.Tooltip("mean:Q", format="+.2f"),
                                          alt.Tooltip("lower:Q", format="+.2f"),
                                          alt.Tooltip("upper:Q", format="+.2f"), "n_obs"])
    layers = [band, line]
    if at:
        layers.append(alt.Chart(pd.DataFrame({"date": [at + "-15"]})).mark_rule(color="#2166ac", strokeDash=[4, 3])
                      .encode(x="date:T"))
    return spec(alt.layer(*layers).properties(width=2 * WIDTH + 120, height=220))


def contributions(rows: list[dict], month: str) -> dict[str, Any]:
    """What each indicator contributed to a component in ``month`` (horizontal bars; they add up to it)."""
    c = pd.DataFrame(rows)[["indicator", "contribution", "observations_used"]]
    return spec(alt.Chart(c).mark_bar().encode(
        y=alt.Y("indicator:N", sort="-x", title=None),
        x=alt.X("contribution:Q", title=f"contribution to the estimate in {month}"),
        color=alt.condition("datum.contribution >= 0", alt.value("#b2182b"), alt.value("#2166ac")),
        tooltip=["indicator", alt.Tooltip("contribution:Q", format="+.3f"), "observations_used"],
    ).properties(width=2 * WIDTH, height=max(60, 24 * len(c))))


def hypotheses_forest(rows: list[dict]) -> dict[str, Any]:
    """Each hypothesis' estimate with its 90% interval, coloured by verdict (only those with an estimate)."""
    h = pd.DataFrame([r for r in rows if r.get("estimate") is not None])
    h = h[["id", "verdict", "estimate", "lower", "upper", "n"]]
    order = list(h["id"])
    base = alt.Chart(h).encode(y=alt.Y("id:N", sort=order, title=None),
                               color=alt.Color("verdict:N", scale=VERDICT_COLORS))
    rule = base.mark_rule(strokeWidth=2).encode(x=alt.X("lower:Q", title="estimate, 90% interval"), x2="upper:Q")
    point = base.mark_point(filled=True, size=60).encode(
        x="estimate:Q", tooltip=["id", "verdict", alt.Tooltip("estimate:Q", format="+.3f"),
                                 alt.Tooltip("lower:Q", format="+.3f"), alt.Tooltip("upper:Q", format="+.3f"), "n"])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#999").encode(x="x:Q")
    return spec(alt.layer(zero, rule, point).properties(width=2 * WIDTH, height=max(80, 18 * len(h))))


def episode_forecasts(rows: list[dict], directions: list[str]) -> dict[str, Any]:
    """Every scored episode: the probability the forecast gave the direction observed, against the date;
    filled when the most likely direction was the one observed."""
    e = pd.DataFrame(rows)[["id", "date", "actor", "observed", "predicted_direction", "p_observed", "hit"]]
    e["forecast"] = e["hit"].map({True: "most likely direction observed", False: "another direction observed"})
    return spec(alt.Chart(e).mark_point(size=70, filled=True).encode(
        x=alt.X("date:T", title=None), y=alt.Y("p_observed:Q", title="P(observed direction)",
                                              scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("observed:N", scale=alt.Scale(domain=directions), title="observed direction"),
        shape=alt.Shape("forecast:N", title=None),
        tooltip=["id", "date", "actor", "observed", "predicted_direction",
                 alt.Tooltip("p_observed:Q", format=".2f")],
    ).properties(width=2 * WIDTH + 60, height=200))


def reliability(tables: dict[str, list[dict]]) -> dict[str, Any]:
    """The report's reliability diagram (:func:`dualthreat.report.charts.reliability`), as a spec."""
    return spec(report_charts.reliability(tables))


def scenario_threats(rows: list[dict]) -> dict[str, Any]:
    """Baseline against scenario for each component and ally: the baseline (dashed), the scenario (solid) and
    the scenario's 90% band (the baseline plus the interval of the difference)."""
    t = pd.DataFrame(rows)
    t["date"] = t["month"].astype(str) + "-15"
    t["component"] = t["level"] + " · " + t["source"]
    t["scenario_lower"] = t["baseline_mean"] + t["lower"]
    t["scenario_upper"] = t["baseline_mean"] + t["upper"]
    base = alt.Chart().encode(x=alt.X("date:T", title=None), color=alt.Color("ally:N", scale=ALLY_COLORS))
    band = base.mark_area(opacity=0.15).encode(y=alt.Y("scenario_lower:Q", title="threat"), y2="scenario_upper:Q")
    baseline = base.mark_line(strokeDash=[4, 3]).encode(y="baseline_mean:Q")
    scenario = base.mark_line().encode(
        y="scenario_mean:Q", tooltip=["ally", "level", "source", "month",
                                      alt.Tooltip("baseline_mean:Q", format="+.2f"),
                                      alt.Tooltip("scenario_mean:Q", format="+.2f"),
                                      alt.Tooltip("difference:Q", format="+.2f")])
    return spec(alt.layer(band, baseline, scenario, data=t).properties(width=WIDTH, height=140).facet(
        facet=alt.Facet("component:N", title=None), columns=2))
