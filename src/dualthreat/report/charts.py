"""The report's charts, as Vega-Lite specifications built with Altair (one function per chart).

Every chart takes tidy tables from the model and returns an Altair chart; the renderers embed the specs in
the HTML (Vega-Lite, its JavaScript inlined) or turn them into SVG files for the Markdown report.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

# the allies in the order of their codes (Vega-Lite sorts a nominal domain): the first red, the second blue
ALLY_COLORS = alt.Scale(range=["#b2182b", "#2166ac", "#1b7837", "#762a83"])
WIDTH = 300


def _ally_color(title: str = "ally") -> alt.Color:
    return alt.Color("ally:N", scale=ALLY_COLORS, title=title)


def threat_matrix(threats: pd.DataFrame, smoothed: bool = True, scale: str = "z-scores") -> alt.Chart:
    """The 2x2 matrix over time: one panel per level x source, both allies in each, with 90% bands; ``scale``
    is the model's ``scale_label_``."""
    t = threats[threats.estimate == ("smoothed" if smoothed else "filtered")].copy()
    t["date"] = t["month"] + "-15"
    t["component"] = t["level"] + " · " + t["source"]
    base = alt.Chart(t).encode(x=alt.X("date:T", title=None))
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("lower:Q", title="threat"), y2="upper:Q",
                                               color=_ally_color())
    line = base.mark_line(strokeWidth=1.4).encode(
        y="mean:Q", color=_ally_color(),
        tooltip=["ally", "level", "source", "month", alt.Tooltip("mean:Q", format="+.2f"),
                 alt.Tooltip("lower:Q", format="+.2f"), alt.Tooltip("upper:Q", format="+.2f"), "n_obs"])
    # the scale above the panels, not as the axis title: at its length it would squash every panel
    return (band + line).properties(width=WIDTH, height=150).facet(
        row=alt.Row("level:N", title=None, sort=["local", "systemic"]),
        column=alt.Column("source:N", title=None)).resolve_scale(y="independent").properties(
        title=alt.TitleParams(f"threat in {scale}", fontSize=11, fontWeight="normal", anchor="start"))


def milestones(threats: pd.DataFrame, events: pd.DataFrame, changes: pd.DataFrame | None = None) -> alt.Chart:
    """Each component that reads dated events: its filtered estimate (what was known each month) with its 90%
    band, and a rule at every event the store holds (:func:`dualthreat.measure.milestones.dated_events`), one
    panel per ally and component (the scale goes in the caption); the tooltip names the event and the URL it was
    read from. ``changes`` (the model's ``input_changes_``) adds a solid orange rule where a main input of the
    component starts or ends, so that a jump that comes from a change of inputs is not read as a threat."""
    def component(df: pd.DataFrame) -> pd.Series:
        return df["ally"] + " · " + df["level"] + " · " + df["source"]

    t = threats[threats.estimate == "filtered"].merge(events[["ally", "level", "source"]].drop_duplicates())
    e = events.assign(component=component(events))
    first = e.date.min()[:4] + "-01-01"
    t = t.assign(date=t["month"] + "-15", component=component(t))
    t = t[t.date >= first]
    c = (changes.assign(component=component(changes), date=changes["month"] + "-01") if changes is not None
         else pd.DataFrame(columns=["component"]))
    x = alt.X("date:T", title=None, scale=alt.Scale(domain=[first, t.date.max()]))
    panels = []
    for name, part in t.groupby("component", sort=True):
        base = alt.Chart(part).encode(x=x)
        band = base.mark_area(opacity=0.18).encode(y=alt.Y("lower:Q", title="threat"), y2="upper:Q",
                                                   color=_ally_color())
        line = base.mark_line(strokeWidth=1.2).encode(
            y="mean:Q", color=_ally_color(),
            tooltip=["component", "month", alt.Tooltip("mean:Q", format="+.2f"),
                     alt.Tooltip("lower:Q", format="+.2f"), alt.Tooltip("upper:Q", format="+.2f")])
        rules = alt.Chart(e[e.component == name]).mark_rule(color="#444", strokeDash=[3, 2], opacity=0.6)
        layers = band + line + rules.encode(x="date:T", tooltip=["component", "date", "series", "note", "source_url"])
        if (c.component == name).any():
            inputs = alt.Chart(c[c.component == name]).mark_rule(color="#d9822b", strokeWidth=1.5, opacity=0.8)
            layers += inputs.encode(x="date:T", tooltip=["component", "month", "change", "indicator",
                                                         alt.Tooltip("weight:Q", format=".2f")])
        panels.append(layers.properties(width=2 * WIDTH, height=110, title=name))
    return alt.vconcat(*panels)


def posture_distance(posture: pd.DataFrame) -> alt.Chart:
    p = posture[posture.measure == "ideal_point_distance"].copy()
    p = p[p.year >= 1991]
    base = alt.Chart(p).encode(x=alt.X("year:O", title=None, axis=alt.Axis(values=list(range(1991, 2030, 4)))))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("lower:Q", title="UN ideal-point distance"), y2="upper:Q",
                                              color=_ally_color())
    line = base.mark_line(point=True).encode(y="value:Q", color=_ally_color(),
                                             tooltip=["ally", "partner", "year", alt.Tooltip("value:Q", format=".2f")])
    return (band + line).properties(width=WIDTH, height=180).facet(
        column=alt.Column("partner:N", title="distance to"))


def posture_kappa(posture: pd.DataFrame) -> alt.Chart:
    p = posture[(posture.measure == "vote_kappa") & (posture.subset == "all") & (posture.n >= 10)].copy()
    p = p[p.year >= 1991]
    base = alt.Chart(p).encode(x=alt.X("year:O", title=None, axis=alt.Axis(values=list(range(1991, 2021, 4)))))
    rule = base.mark_rule(opacity=0.5).encode(y=alt.Y("lower:Q", title="Cohen's kappa, UNGA votes"), y2="upper:Q",
                                              color=_ally_color())
    pts = base.mark_line(point=True).encode(y="value:Q", color=_ally_color(),
                                            tooltip=["ally", "partner", "year", "n", alt.Tooltip("value:Q", format=".2f")])
    return (rule + pts).properties(width=WIDTH, height=180).facet(column=alt.Column("partner:N", title="agreement with"))


def mediator_chart(mediator: pd.DataFrame) -> alt.Chart:
    m = mediator[(mediator.estimate == "filtered") & mediator["mean"].notna()].copy()
    m["date"] = m["month"] + "-15"
    base = alt.Chart(m).encode(x=alt.X("date:T", title=None))
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("lower:Q", title="mediator (filtered)"), y2="upper:Q",
                                               color=_ally_color())
    line = base.mark_line().encode(y="mean:Q", color=_ally_color(),
                                   tooltip=["ally", "month", alt.Tooltip("mean:Q", format="+.2f"),
                                            alt.Tooltip("china_backing:Q", format="+.2f")])
    return (band + line).properties(width=2 * WIDTH, height=180)


def episode_timeline(episodes: pd.DataFrame) -> alt.Chart:
    e = episodes.copy()
    e["date"] = pd.to_datetime(e["date"]).dt.strftime("%Y-%m-%d")
    return alt.Chart(e).mark_point(filled=True, size=90).encode(
        x=alt.X("date:T", title=None), y=alt.Y("actor:N", title=None),
        color=alt.Color("direction:N", title="direction"),
        shape=alt.Shape("scored:N", title="forecast scored"),
        tooltip=["episode_id", "date", "actor", "domain", "decision", "direction", "expected",
                 alt.Tooltip("p_observed:Q", format=".2f")],
    ).properties(width=2 * WIDTH + 60, height=140)


def yearly_lines(df: pd.DataFrame, y: str, title: str, color: str = "ally", band: tuple[str, str] | None = None,
                 column: str | None = None) -> alt.Chart:
    """A generic per-year line chart (used for the home-front and triangle measures)."""
    base = alt.Chart(df).encode(x=alt.X("year:O", title=None))
    enc_color = _ally_color() if color == "ally" else alt.Color(f"{color}:N")
    layers = []
    if band:
        layers.append(base.mark_area(opacity=0.2).encode(y=alt.Y(f"{band[0]}:Q", title=title), y2=f"{band[1]}:Q",
                                                         color=enc_color))
    layers.append(base.mark_line(point=True).encode(y=alt.Y(f"{y}:Q", title=title), color=enc_color,
                                                    tooltip=list(df.columns[:6])))
    chart = alt.layer(*layers).properties(width=WIDTH, height=170)
    return chart.facet(column=alt.Column(f"{column}:N", title=None)) if column else chart


def reliability(tables: dict) -> alt.Chart:
    """Reliability diagram: observed frequency (with its Wilson interval) against the mean forecast probability,
    per bin, for each model; the dashed diagonal is perfect calibration. ``tables``: model -> rows (or a
    DataFrame) with ``n``, ``mean_predicted``, ``observed_frequency``, ``lower``, ``upper``."""
    frames = [pd.DataFrame(rows).assign(model=name) for name, rows in tables.items() if len(rows)]
    r = pd.concat(frames, ignore_index=True)
    r = r[r["n"] > 0]
    axis = alt.Scale(domain=[0, 1])
    diag = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(color="#999", strokeDash=[4, 3]) \
        .encode(x=alt.X("x:Q", title="mean forecast probability", scale=axis),
                y=alt.Y("y:Q", title="observed frequency", scale=axis))
    base = alt.Chart(r).encode(x="mean_predicted:Q", color=alt.Color("model:N", title="forecaster"))
    rule = base.mark_rule().encode(y="lower:Q", y2="upper:Q")
    pts = base.mark_point(filled=True).encode(
        y="observed_frequency:Q", size=alt.Size("n:Q", title="forecasts in bin"),
        tooltip=["model", "n", alt.Tooltip("mean_predicted:Q", format=".2f"),
                 alt.Tooltip("observed_frequency:Q", format=".2f")])
    return alt.layer(diag, rule, pts).properties(width=WIDTH + 60, height=WIDTH)


RUN_COLORS = alt.Scale(domain=["baseline", "scenario"], range=["#777777", "#e08214"])


def scenario_chart(series: pd.DataFrame, panels: list[str]) -> alt.Chart:
    """Baseline versus scenario with 90% bands, one panel per component (``ally · level · source``, or
    ``backing · source`` for China's backing of North Korea) in ``panels``, from a scenario run's ``series``."""
    s = series.copy()
    s["panel"] = (s["ally"] + " · ").where(s["ally"] != "", "") + s["level"] + " · " + s["source"]
    s = s[s.panel.isin(panels)]
    s["date"] = s["month"] + "-15"
    color = alt.Color("run:N", scale=RUN_COLORS, title="run")
    base = alt.Chart(s).encode(x=alt.X("date:T", title=None))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("lower:Q", title="filtered (90% band)"), y2="upper:Q",
                                              color=color)
    line = base.mark_line(strokeWidth=1.6).encode(
        y="mean:Q", color=color, tooltip=["panel", "month", "run", alt.Tooltip("mean:Q", format="+.2f"),
                                          alt.Tooltip("lower:Q", format="+.2f"), alt.Tooltip("upper:Q", format="+.2f")])
    return (band + line).properties(width=WIDTH * 2 // 3, height=140).facet(
        facet=alt.Facet("panel:N", title=None, sort=panels), columns=min(4, max(1, len(panels)))
    ).resolve_scale(y="independent")
