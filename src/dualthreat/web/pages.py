"""The dashboard's pages: server-rendered Jinja2 templates (free text escaped), each over the same
:class:`~dualthreat.web.service.Dashboard` queries as the JSON API, with its charts as Vega-Lite specs drawn by
the bundle the app serves. A page depends only on the fitted model and its parameters, so each rendering is
kept (a bounded cache) and answered from memory the next time."""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from dualthreat.report import charts as report_charts
from dualthreat.web import charts
from dualthreat.web.service import SHOCK_KINDS, BadParameter, Dashboard, Unavailable

router = APIRouter(include_in_schema=False)

NAV = [("overview", "/", "Overview"), ("posture", "/posture", "Posture"),
       ("triangle", "/triangle", "Triangle & home front"), ("hypotheses", "/hypotheses", "Hypotheses"),
       ("episodes", "/episodes", "Episodes"), ("scenarios", "/scenarios", "Scenarios"),
       ("sources", "/sources", "Sources"), ("docs", "/docs", "API")]
SHOCK_ROWS = 3
THREAT_COLUMNS = ["ally", "level", "source", "month", "estimate", "mean", "lower", "upper", "n_obs"]


# ---------------------------------------------------------------------------------------------------------
# templates and their filters


def num(x: Any, fmt: str = "+.2f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    try:
        return format(x, fmt)
    except (TypeError, ValueError):
        return str(x)


def web_urls(text: Any) -> list[str]:
    """The http(s) URLs in a source field (several may be separated by spaces); anything else (a
    ``javascript:`` URL, a path) is not a link."""
    if not text or not isinstance(text, str):
        return []
    out = []
    for part in text.split():
        u = urlsplit(part)
        if u.scheme in ("http", "https") and u.netloc:
            out.append(part)
    return out


def query(base: str, **params: Any) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return base + ("?" + urlencode(kept) if kept else "")


def templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.PackageLoader("dualthreat.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = num
    env.filters["urls"] = web_urls
    env.globals["query"] = query
    env.globals["nav"] = NAV
    return Jinja2Templates(env=env)


def _spec_json(spec: dict[str, Any]) -> Markup:
    """A spec as JSON that cannot close the <script> element it sits in."""
    text = json.dumps(spec, ensure_ascii=False, allow_nan=False)
    return Markup(text.replace("</", "<\\/").replace("<!--", "<\\u0021--"))


class PageCache:
    """Rendered pages by path and query (bounded, oldest dropped first)."""

    def __init__(self, size: int = 256) -> None:
        self.size, self.pages, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: str) -> str | None:
        with self.lock:
            if key in self.pages:
                self.pages.move_to_end(key)
                return self.pages[key]
        return None

    def put(self, key: str, html: str) -> None:
        with self.lock:
            self.pages[key] = html
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


def _dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard


def _render(request: Request, template: str, page: str, context: Callable[[Dashboard], dict[str, Any]],
            status: int = 200, cache: bool = True) -> HTMLResponse:
    """Render ``template`` with ``context(dashboard)`` (charts as (id, caption, spec) triples), from the cache
    when the same page was rendered before."""
    app = request.app
    if not hasattr(app.state, "pages"):
        app.state.pages = PageCache()
    key = request.url.path + "?" + "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    html = app.state.pages.get(key) if cache else None
    if html is None:
        d = _dashboard(request)
        ctx = context(d)
        chart_list = [{"id": cid, "caption": caption, "json": _spec_json(spec)}
                      for cid, caption, spec in ctx.pop("charts", [])]
        t = app.state.templates.get_template(template)
        html = t.render(page=page, charts=chart_list, theater=d.theater_, store=str(d.store.path),
                        loaded_at=d.loaded_at_, scale=d.scale, **ctx)
        if cache and status == 200:
            app.state.pages.put(key, html)
    return HTMLResponse(html, status_code=status)


def _flag(value: str | None) -> bool:
    if value in (None, "", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise BadParameter("smoothed", f"{value!r} is not a yes/no value (true or false)")


# ---------------------------------------------------------------------------------------------------------
# pages


@router.get("/")
def overview(request: Request, at: str | None = None, smoothed: str | None = None) -> HTMLResponse:
    smooth = _flag(smoothed)

    def context(d: Dashboard) -> dict[str, Any]:
        m = d.matrix(at, smooth)
        cells = {(c["ally"], c["level"], c["source"]): c for c in m["cells"]}
        threats = d.model_.threats_[THREAT_COLUMNS].round({"mean": 3, "lower": 3, "upper": 3})
        return {"matrix": m, "cells": cells, "smoothed": smooth, "gaps": d.model_.gaps_.to_dict("records"),
                "months": d.months_,
                "charts": [("threat-matrix", "The 2x2 threat matrix of each ally over time "
                            f"({'smoothed' if smooth else 'filtered'}, 90% bands)",
                            report_charts.threat_matrix(threats, smoothed=smooth, scale=d.model_.scale_label_).to_dict())]}

    return _render(request, "overview.html.j2", "overview", context)


@router.get("/component/{ally}/{level}/{source}")
def component(request: Request, ally: str, level: str, source: str, at: str | None = None,
              smoothed: str | None = None) -> HTMLResponse:
    smooth = _flag(smoothed)

    def context(d: Dashboard) -> dict[str, Any]:
        ex = d.explain(ally, level, source, at, smooth)
        series = d.threats(ally, level=level, source=source) + d.threats(ally, level=level, source=source,
                                                                         smoothed=True)
        gaps = d.model_.gaps_
        gaps = gaps[(gaps.ally == ally) & (gaps.level == level) & (gaps.source == source)]
        chart_list = [("series", f"T[{ally}, {level}, {source}]: filtered and smoothed, 90% bands; the dashed "
                       f"line marks {ex['month']}", charts.component_series(series, ex["month"], d.scale))]
        if ex["contributions"]:
            chart_list.append(("contributions", f"What each indicator contributed in {ex['month']} "
                               f"({ex['estimate']})", charts.contributions(ex["contributions"], ex["month"])))
        return {"ex": ex, "indicators": d.indicators(ally, level, source), "gaps": gaps.to_dict("records"),
                "smoothed": smooth, "months": d.months_, "charts": chart_list,
                "label": d.theater_.label}

    return _render(request, "component.html.j2", "overview", context)


@router.get("/indicator/{indicator_id}")
def indicator(request: Request, indicator_id: str) -> HTMLResponse:
    return _render(request, "indicator.html.j2", "overview", lambda d: {"ind": d.indicator(indicator_id)})


@router.get("/posture")
def posture(request: Request) -> HTMLResponse:
    def context(d: Dashboard) -> dict[str, Any]:
        p, th = d.model_.posture_, d.theater_
        med = d.model_.mediator_
        dist = p[p.measure == "ideal_point_distance"].dropna(subset=["value"])
        latest = dist[dist.year == dist.year.max()].sort_values(["ally", "partner"])
        kappa = p[(p.measure == "vote_kappa") & (p.subset == "all")].dropna(subset=["value"])
        kappa_latest = kappa[kappa.year == kappa.year.max()].sort_values(["ally", "partner"])
        last_med = med[(med.estimate == "filtered") & med["mean"].notna()].sort_values("month").groupby("ally").tail(1)
        scope = p[p.measure.str.startswith("alliance_scope")].dropna(subset=["value"])
        return {"distance": latest.to_dict("records"), "kappa": kappa_latest.to_dict("records"),
                "mediator": last_med.to_dict("records"), "scope": scope.to_dict("records"),
                "sources": d.table_sources_,
                "charts": [("posture-distance", f"UN ideal-point distance to the {th.label(th.patron)} and to "
                            f"{th.label(th.great_power or '')} (90% intervals)",
                            report_charts.posture_distance(p).to_dict()),
                           ("posture-kappa", "Chance-corrected UNGA vote agreement (Cohen's kappa), all roll calls",
                            report_charts.posture_kappa(p).to_dict()),
                           ("mediator", f"The mediator: {th.mediator_text[0]} x {th.mediator_text[1]} "
                            "(filtered, 90% band)", report_charts.mediator_chart(med).to_dict())]}

    return _render(request, "posture.html.j2", "posture", context)


@router.get("/triangle")
def triangle(request: Request) -> HTMLResponse:
    def context(d: Dashboard) -> dict[str, Any]:
        tr, dom = d.triangle_, d.domestic_
        b = tr.balance_
        recent = b[b.period.astype(str) >= "1991"].rename(columns={"period": "year"})
        chart_list = []
        if len(recent):
            chart_list.append(("balance", "Structural balance of the five-state network per year",
                               report_charts.yearly_lines(recent, "weighted_share_balanced",
                                                          "weighted share of balanced triads",
                                                          color="source").to_dict()))
        elite = dom.elite_
        sal = elite[(elite.year >= 1991) & elite.category.isin(["china", "north_korea", "united_states"])]
        if len(sal):
            chart_list.append(("elite-salience", "Elite salience: mentions per 1,000 words in UN General "
                               "Debate statements (90% intervals)",
                               report_charts.yearly_lines(sal, "rate", "mentions per 1,000 words",
                                                          band=("lower", "upper"), column="category").to_dict()))
        gap = dom.gap_.dropna(subset=["gap"])
        if len(gap):
            chart_list.append(("elite-public-gap", "Elite minus public threat (both standardised), by source",
                               report_charts.yearly_lines(gap, "gap", "elite z minus public z",
                                                          column="source").to_dict()))
        t = tr.triads_
        last_triads = t[t.period == t.period.max()] if len(t) else t
        return {"tri": tr, "balance_last": b.iloc[-1].to_dict() if len(b) else None,
                "cha": tr.cha_.to_dict("records"), "triads": last_triads.to_dict("records"),
                "triad_columns": [c for c in last_triads.columns if c != "period"][:8],
                "gap_summary": dom.gap_summary_.to_dict("records"),
                "protest": dom.protest_.to_dict("records")[:5], "sources": d.table_sources_,
                "charts": chart_list}

    return _render(request, "triangle.html.j2", "triangle", context)


@router.get("/hypotheses")
def hypotheses(request: Request) -> HTMLResponse:
    def context(d: Dashboard) -> dict[str, Any]:
        rows = d.hypotheses()
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        extra = [c for c in ("kind", "p_value", "q_value") if any(c in r for r in rows)]
        chart_list = [("hypotheses", "Estimates with 90% intervals (hypotheses with an estimate)",
                       charts.hypotheses_forest(rows))] if any(r.get("estimate") is not None for r in rows) else []
        return {"rows": rows, "counts": counts, "extra": extra, "charts": chart_list}

    return _render(request, "hypotheses.html.j2", "hypotheses", context)


@router.get("/episodes")
def episodes(request: Request) -> HTMLResponse:
    def context(d: Dashboard) -> dict[str, Any]:
        ev = d.episodes()
        scored = {e["id"]: e for e in ev["episodes"]}
        table = pd.DataFrame(d.episode_records())
        table = table.assign(
            expected=[scored[i]["predicted_direction"] if i in scored else "not scored" for i in table.episode_id],
            p_observed=[scored[i]["p_observed"] if i in scored else None for i in table.episode_id],
            scored=["yes" if i in scored else "no (too few earlier episodes)" for i in table.episode_id])
        chart_list = []
        if ev["episodes"]:
            chart_list.append(("forecasts", "The probability each forecast gave the direction that was observed",
                               charts.episode_forecasts(ev["episodes"], ev["directions"])))
        if any(ev["reliability"].values()):
            chart_list.append(("reliability", "Reliability: observed frequency against forecast probability "
                               "(90% intervals; the diagonal is perfect calibration)",
                               charts.reliability(ev["reliability"])))
        chart_list.append(("timeline", "Decision episodes, with what the model expected before each",
                           report_charts.episode_timeline(table).to_dict()))
        models = [("dual threat framework", {k: ev.get(k) for k in ("brier", "log_loss", "accuracy")})]
        models += [(name.replace("_", " "), sc) for name, sc in ev["baselines"].items()]
        return {"ev": ev, "models": models, "comparison": ev.get("comparison") or {}, "charts": chart_list}

    return _render(request, "episodes.html.j2", "episodes", context)


@router.get("/sources")
def sources(request: Request) -> HTMLResponse:
    return _render(request, "sources.html.j2", "sources",
                   lambda d: {"tables": d.store_summary_, "sources": d.table_sources_})


# ---------------------------------------------------------------------------------------------------------
# scenarios


def _form_context(d: Dashboard, form: dict[str, str] | None = None, result: dict | None = None,
                  error: str | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"packaged": d.scenarios()}
    ctx.update(form=form or {}, result=result, error=error, kinds=SHOCK_KINDS, rows=range(SHOCK_ROWS),
               indicators=[i.id for i in d.theater_.indicators], months=d.months_)
    if result and result.get("threats"):
        ctx["charts"] = [("scenario-threats", "Baseline (dashed) and scenario (solid, 90% band) per component",
                          charts.scenario_threats(result["threats"]))]
    return ctx


@router.get("/scenarios")
def scenarios_page(request: Request) -> HTMLResponse:
    return _render(request, "scenarios.html.j2", "scenarios", lambda d: _form_context(d), cache=False)


def parse_form(form: dict[str, str]) -> dict[str, Any]:
    """The scenario form's fields as the arguments of :meth:`Dashboard.run_scenario`."""
    if form.get("packaged"):
        return {"packaged": form["packaged"]}
    horizon = form.get("horizon", "").strip()
    if not horizon.isdigit():
        raise BadParameter("horizon", f"{horizon!r} is not a whole number of months")
    shocks = []
    for n in range(SHOCK_ROWS):
        ind = form.get(f"indicator_{n}", "").strip()
        if not ind:
            continue
        raw = form.get(f"value_{n}", "").strip()
        try:
            value = float(raw)
        except ValueError:
            raise BadParameter(f"shock {n + 1} value", f"{raw!r} is not a number") from None
        shocks.append({"indicator": ind, "kind": form.get(f"kind_{n}", ""), "value": value,
                       "month": form.get(f"month_{n}", "").strip() or None})
    return {"start": form.get("start", "").strip(), "horizon": int(horizon), "shocks": shocks,
            "name": (form.get("name") or "composed").strip()[:200]}


@router.post("/scenarios")
async def run_scenario(request: Request) -> HTMLResponse:
    d = _dashboard(request)
    form = {k: str(v)[:500] for k, v in (await request.form()).items()}
    try:
        args = parse_form(form)
        result = await run_in_threadpool(d.run_scenario, **args)
        error, status = None, 200
    except BadParameter as exc:
        result, error, status = None, str(exc), 400
    return _render(request, "scenarios.html.j2", "scenarios",
                   lambda d: _form_context(d, form, result, error), status=status, cache=False)
