"""The JSON API behind the pages (documented at ``/docs``). Every route reads the fitted
:class:`~dualthreat.web.service.Dashboard`; parameters are typed here (so the OpenAPI page shows them) and
checked against the theater there."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from dualthreat.web.service import MONTH_PATTERN, SHOCK_KINDS, Dashboard

router = APIRouter(prefix="/api", tags=["api"])

NAME = r"^[A-Za-z0-9_.:-]{1,64}$"
Ally = Annotated[str | None, Query(description="An ally of the theater (see /api/status); all when absent.",
                                   pattern=r"^[A-Z]{3}$")]
AllyRequired = Annotated[str, Query(description="An ally of the theater (see /api/status).", pattern=r"^[A-Z]{3}$")]
Level = Annotated[str, Query(description="local or systemic.", pattern=r"^[a-z]{1,16}$")]
Source = Annotated[str, Query(description="A threat source of the theater (see /api/status).", pattern=r"^[A-Z]{3}$")]
Month = Annotated[str | None, Query(description="A month, YYYY-MM.", pattern=MONTH_PATTERN)]
Smoothed = Annotated[bool, Query(description="Smoothed estimates (all data) instead of filtered ones (data up "
                                             "to each month).")]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A parameter is invalid (the message names it)."},
    422: {"description": "The request does not match this schema (the message names the field)."},
    503: {"description": "Not available yet (still being computed, with Retry-After)."},
}


def _dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard


def _json(obj: Any) -> JSONResponse:
    return JSONResponse(obj)


@router.get("/status", responses=ERRORS, summary="What the server holds")
def status(request: Request) -> JSONResponse:
    """The store and theater served, the months estimated, whether the episode forecasts are ready, and the
    theater's packaged scenarios."""
    d = _dashboard(request)
    return _json({"store": str(d.store.path), "theater": d.theater_.name, "loaded_at": d.loaded_at_,
                  "months": {"first": d.months_[0], "last": d.months_[-1]}, "scale": d.scale,
                  "allies": list(d.theater_.allies), "levels": list(d.theater_.levels),
                  "sources": list(d.theater_.sources), "episodes": d.episodes_job.status,
                  "scenarios": [s["name"] for s in d.scenarios()]})


@router.get("/threats", responses=ERRORS, summary="Threat components per month, with 90% bands")
def threats(request: Request, ally: Ally = None,
            start: Annotated[str | None, Query(alias="from", description="First month, YYYY-MM.",
                                               pattern=MONTH_PATTERN)] = None,
            end: Annotated[str | None, Query(alias="to", description="Last month, YYYY-MM.",
                                             pattern=MONTH_PATTERN)] = None,
            smoothed: Smoothed = False,
            level: Annotated[str | None, Query(description="Only this level.", pattern=r"^[a-z]{1,16}$")] = None,
            source: Annotated[str | None, Query(description="Only this threat source.",
                                                pattern=r"^[A-Z]{3}$")] = None) -> Response:
    """T[ally, level, source, month]: the latent threat (z-score against the reference window) with its 90%
    band, the observations behind each month and whether any fell in the previous 24 months."""
    return Response(_dashboard(request).threats_json(ally, start, end, smoothed, level, source),
                    media_type="application/json")


@router.get("/matrix", responses=ERRORS, summary="Both allies' 2x2 threat matrices at one month")
def matrix(request: Request, at: Month = None, smoothed: Smoothed = False) -> JSONResponse:
    """Each ally's matrix (levels x sources) at month ``at`` (default: the last month estimated)."""
    return _json(_dashboard(request).matrix(at, smoothed))


@router.get("/explain", responses=ERRORS, summary="What fed one threat component at one month")
def explain(request: Request, ally: AllyRequired, level: Level, source: Source, at: Month = None,
            smoothed: Smoothed = False) -> JSONResponse:
    """Each indicator's contribution to T[ally, level, source] at ``at`` (they add up to the estimate), with
    the indicator's table, series and sources."""
    return _json(_dashboard(request).explain(ally, level, source, at, smoothed))


@router.get("/indicators", responses=ERRORS, summary="The indicators of one threat component")
def indicators(request: Request, ally: AllyRequired, level: Level, source: Source) -> JSONResponse:
    d = _dashboard(request)
    return _json(d.indicators(*d.check_component(ally, level, source)))


@router.get("/indicators/{indicator_id}", responses=ERRORS, summary="One indicator: its rows and sources")
def indicator(request: Request,
              indicator_id: Annotated[str, Path(description="An indicator id of the theater.",
                                                pattern=NAME)]) -> JSONResponse:
    return _json(_dashboard(request).indicator(indicator_id))


@router.get("/mediator", responses=ERRORS, summary="North Korean threat x China's backing of the North")
def mediator(request: Request, ally: Ally = None, smoothed: Smoothed = False) -> JSONResponse:
    return _json(_dashboard(request).mediator(ally, smoothed))


@router.get("/posture", responses=ERRORS, summary="Each ally between the patron and China, per year")
def posture(request: Request, ally: Ally = None,
            measure: Annotated[str | None, Query(description="ideal_point_distance, vote_agreement, vote_kappa, "
                                                 "alignment_gap, alliance_scope_regional, alliance_scope_global.",
                                                 pattern=r"^[a-z_]{1,40}$")] = None,
            subset: Annotated[str, Query(description="Roll calls for the vote measures: all, important or "
                                         "issue:me|nu|di|hr|co|ec.", pattern=r"^[a-z:]{1,20}$")] = "all",
            ) -> JSONResponse:
    """UN ideal-point distance, vote agreement and Cohen's kappa with the patron and China (90% intervals),
    the alignment gap, and the alliance's scope from the coded episodes; ``source`` names the table."""
    return _json(_dashboard(request).posture(ally, measure, subset))


@router.get("/triangle", responses=ERRORS, summary="The five-state network's balance and Cha's test")
def triangle(request: Request) -> JSONResponse:
    from dualthreat.web.service import records

    t = _dashboard(request).triangle_
    return _json({"source": t.source_, "notes": t.notes_, "balance": records(t.balance_),
                  "cha": records(t.cha_), "cooperation": records(t.cooperation_)})


@router.get("/home-front", responses=ERRORS, summary="Elite salience, public perception, their gap")
def home_front(request: Request, ally: Ally = None) -> JSONResponse:
    from dualthreat.web.service import records

    d = _dashboard(request)
    ally = d.check_ally(ally)
    dom = d.domestic_

    def only(df: Any) -> Any:
        return df[df.ally == ally] if ally and "ally" in df.columns else df

    return _json({"elite": records(only(dom.elite_)), "gap": records(only(dom.gap_)),
                  "gap_summary": records(only(dom.gap_summary_)), "protest": records(only(dom.protest_))})


@router.get("/hypotheses", responses=ERRORS, summary="The paper's hypotheses against the record")
def hypotheses(request: Request,
               verdict: Annotated[str | None, Query(description="Only this verdict.",
                                                    pattern=r"^[a-z]{1,20}$")] = None) -> JSONResponse:
    """Each hypothesis: verdict, estimate with its 90% interval, n, coverage, the test and the evidence."""
    return _json(_dashboard(request).hypotheses(verdict))


@router.get("/episodes", responses=ERRORS, summary="Out-of-time forecasts of the decision episodes")
def episodes(request: Request) -> JSONResponse:
    """Scores of the framework and the baselines, each episode's forecast against the observed direction, the
    reliability table when the evaluation has one. 503 with Retry-After while still being computed."""
    return _json(_dashboard(request).episodes())


@router.get("/sources", responses=ERRORS, summary="Every table in the store and where its rows come from")
def sources(request: Request) -> JSONResponse:
    d = _dashboard(request)
    return _json([{**t, "sources": d.table_sources_.get(t["table"], [])} for t in d.store_summary_])


# ---------------------------------------------------------------------------------------------------------
# scenarios


class Shock(BaseModel):
    """One shock to one indicator, in the scenario file's terms."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    indicator: str = Field(description="An indicator id of the theater.", pattern=NAME)
    kind: Literal[SHOCK_KINDS] = Field(description="add (raw units), add_sd (reference standard deviations), "  # type: ignore[valid-type]
                                                   "scale (a factor) or set (a value).")
    value: float = Field(description="The amount.", allow_inf_nan=False, ge=-1e6, le=1e6)
    month: str | None = Field(None, description="The month it applies, YYYY-MM.", pattern=MONTH_PATTERN)
    from_: str | None = Field(None, alias="from", description="First month of a run of months.",
                              pattern=MONTH_PATTERN)
    to: str | None = Field(None, description="Last month of a run of months.", pattern=MONTH_PATTERN)


class ScenarioRequest(BaseModel):
    """A packaged scenario by name, or one composed of shocks."""

    model_config = ConfigDict(extra="forbid")
    packaged: str | None = Field(None, description="The name of a packaged scenario (see /api/scenarios).",
                                 pattern=NAME)
    name: str = Field("composed", description="A name for a composed scenario.", max_length=200)
    start: str | None = Field(None, description="First month of the run, YYYY-MM.", pattern=MONTH_PATTERN)
    horizon: int | None = Field(None, description="Months simulated from start.", ge=1, le=120)
    shocks: list[Shock] = Field(default_factory=list, max_length=20)


@router.get("/scenarios", responses=ERRORS, summary="The packaged scenarios")
def scenarios(request: Request) -> JSONResponse:
    return _json(_dashboard(request).scenarios())


@router.post("/scenario", responses=ERRORS, summary="Run a scenario: baseline and scenario side by side")
def scenario(request: Request, body: ScenarioRequest) -> JSONResponse:
    """Threat components and decision probabilities under the baseline and under the scenario, per ally,
    with the difference and its 90% interval."""
    shocks = [{**s.model_dump(exclude={"from_"}), "from": s.from_} for s in body.shocks]
    return _json(_dashboard(request).run_scenario(body.packaged, body.start, body.horizon, shocks, body.name))
