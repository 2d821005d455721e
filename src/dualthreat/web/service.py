"""What the dashboard shows, computed once and answered from memory.

:class:`Dashboard` fits the framework at start-up (the threat components, mediator and posture, the triangle,
the home front and the hypothesis tests; the out-of-time episode forecasts in a background thread, as they take
about a minute) and answers every request from the fitted tables. It is the only module of the web layer that
calls the layers below; routes and templates see plain records. Parameters are checked here, so that the JSON
API and the pages refuse the same bad input with the same message (:class:`BadParameter`); a result that is
not there yet is :class:`Unavailable`.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dualthreat.store import Store
from dualthreat.theater import Theater, TheaterError, load_theater

log = logging.getLogger("dualthreat.web")

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MONTH_PATTERN = MONTH.pattern


class BadParameter(ValueError):
    """A request parameter is invalid; the message names it and says what is allowed."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class Unavailable(RuntimeError):
    """What was asked is not available (yet): still being computed, or not computed by this server."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# ----------------------------------------------------------------------------------------------------------
# plain values


def plain(value: Any) -> Any:
    """A value as plain JSON: numpy scalars unboxed, NaN/NA/NaT as None, dates as ISO text."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat() if value != value.normalize() else value.date().isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def records(df: pd.DataFrame | None, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """The rows of ``df`` as dicts of plain values."""
    if df is None or len(df) == 0:
        return []
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    return [{k: plain(v) for k, v in r.items()} for r in df.to_dict("records")]


def resolve_theater(name: str | None) -> Theater:
    """A packaged theater by name (``northeast_asia``), or a theater file; None is the default theater."""
    if not name:
        return load_theater()
    packaged = resources.files("dualthreat").joinpath("theaters")
    names = sorted(p.name[:-5] for p in packaged.iterdir() if p.name.endswith(".toml"))
    if name in names:
        return load_theater(Path(str(packaged.joinpath(f"{name}.toml"))))
    path = Path(name)
    if path.suffix == ".toml" and path.exists():
        return load_theater(path)
    raise TheaterError(f"{name}: no packaged theater of that name (packaged: {', '.join(names)}) and no such "
                       ".toml file")


# ----------------------------------------------------------------------------------------------------------
# provenance: where a number comes from

# which rows of a table feed an indicator of the theater (the same selection as measure/series.observations)
_ROWS_OF = {
    "pew_favorability": ("respondent_iso3 = ? AND target = ?", ("actor", "target")),
    "capabilities": ("iso3 = ?", ("actor",)),
    "territorial_threat": ("iso3 = ?", ("actor",)),
    "military_spending": ("iso3 = ?", ("actor",)),
    "events": ("source = ? AND target = ?", ("actor", "target")),
    "missile_tests": ("TRUE", ()),
}


def _indicator_filter(ind: Any) -> tuple[str, list[Any]]:
    if ind.table == "indicators":
        where, params = ["series = ?"], [ind.series]
        for col in ("actor", "target", "unit"):
            if getattr(ind, col):
                where.append(f"coalesce({col}, '') = ?")
                params.append(getattr(ind, col))
        return " AND ".join(where), params
    where, cols = _ROWS_OF.get(ind.table, ("FALSE", ()))
    return where, [getattr(ind, c) for c in cols]


def provenance(store: Store, theater: Theater, summary: list[dict[str, Any]]
               ) -> tuple[dict[str, list[dict]], dict[str, dict[str, Any]]]:
    """(per table: its datasets, files and source URLs; per indicator: its groups of source rows and, for the
    curated figures, every row with its period, value, status and URL)."""
    tables: dict[str, list[dict]] = {}
    for t in summary:
        rows = store.query(
            f'SELECT dataset, source_file, source_url, count(*) AS n_rows FROM "{t["table"]}" '
            "GROUP BY ALL ORDER BY n_rows DESC, source_file LIMIT 50").to_pandas()
        tables[t["table"]] = records(rows) if t["rows"] else []
    indicators: dict[str, dict[str, Any]] = {}
    for ind in theater.indicators:
        where, params = _indicator_filter(ind)
        groups = store.query(
            f'SELECT dataset, source_file, source_url, count(*) AS n_rows, min(source_line) AS first_line, '
            f'max(source_line) AS last_line FROM "{ind.table}" WHERE {where} GROUP BY ALL '
            "ORDER BY source_file, first_line LIMIT 200", params).to_pandas() if ind.table in tables else None
        rows = None
        if ind.table == "indicators":
            rows = store.query(
                f"SELECT period, start_date, end_date, value, unit, status, source_title, source_url, source_file, "
                f"source_line FROM indicators WHERE {where} ORDER BY end_date, source_line", params).to_pandas()
        indicators[ind.id] = {"groups": records(groups), "rows": records(rows)}
    return tables, indicators


# ----------------------------------------------------------------------------------------------------------
# scenarios (dualthreat.scenario)

SHOCK_KINDS = ("add", "add_sd", "scale", "set")


def scenario_toml(name: str, start: str, horizon: int, shocks: list[dict[str, Any]]) -> str:
    """A scenario file (the TOML format of ``dualthreat scenario run``) from composed shocks; every value is
    written as a TOML string or number, so no input can add keys or tables."""
    import json

    def s(x: str) -> str:
        return json.dumps(x, ensure_ascii=False)  # a JSON string is a valid TOML basic string

    lines = [f"name = {s(name)}", f"start = {s(start)}", f"horizon = {int(horizon)}"]
    for shock in shocks:
        lines += ["", "[[shock]]", f"indicator = {s(shock['indicator'])}"]
        for key in ("month", "from", "to"):
            if shock.get(key):
                lines.append(f"{key} = {s(shock[key])}")
        lines.append(f"{shock['kind']} = {float(shock['value'])!r}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------


@dataclass
class Background:
    """A result computed in a background thread: ``value`` once done, ``error`` if it failed."""

    what: str
    expected_seconds: int
    started: float = 0.0
    value: Any = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def start(self, fn: Callable[[], Any]) -> None:
        self.started = time.monotonic()

        def run() -> None:
            try:
                self.value = fn()
            except Exception as exc:  # noqa: BLE001 - reported to the client as unavailable, logged here
                log.exception("%s failed", self.what)
                self.error = f"{type(exc).__name__}: {exc}"
            finally:
                self.done.set()

        threading.Thread(target=run, name=f"dualthreat-{self.what}", daemon=True).start()

    def get(self) -> Any:
        if not self.done.is_set():
            if not self.started:
                raise Unavailable(f"the {self.what} are not computed by this server (started without them)")
            left = max(5, int(self.expected_seconds - (time.monotonic() - self.started)))
            raise Unavailable(f"the {self.what} are still being computed (started "
                              f"{int(time.monotonic() - self.started)} s ago); try again shortly", retry_after=left)
        if self.error:
            raise Unavailable(f"the {self.what} could not be computed: {self.error}")
        return self.value

    @property
    def status(self) -> str:
        if not self.started:
            return "off"
        return "computing" if not self.done.is_set() else ("failed" if self.error else "ready")


def json_text(obj: Any) -> str:
    """``obj`` as compact JSON, written exactly as Starlette's ``JSONResponse`` writes it."""
    import json

    return json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


@dataclass(frozen=True)
class ThreatRow:
    """One row of the threat components: the keys a request filters on, its plain values and its JSON text."""

    ally: str
    level: str
    source: str
    month: str
    record: dict[str, Any]
    json: str

    @classmethod
    def of(cls, record: dict[str, Any]) -> ThreatRow:
        return cls(record["ally"], record["level"], record["source"], record["month"], record, json_text(record))


class Dashboard:
    """The fitted framework of one store and theater, and every query the dashboard answers.

    Parameters
    ----------
    store : the store to read.
    theater : the theater (default: the packaged Northeast Asia theater).
    episodes : also forecast the decision episodes out of time (in a background thread after :meth:`load`).
    """

    def __init__(self, store: Store, theater: Theater | None = None, episodes: bool = True) -> None:
        self.store = store
        self.theater = theater
        self.with_episodes = episodes
        self.episodes_job = Background("episode forecasts", expected_seconds=90)
        self._scenario_lock = threading.Lock()
        self._explained: dict[tuple, pd.DataFrame] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------------------
    def load(self, say: Callable[[str], None] | None = None) -> Dashboard:
        """Fit everything the pages show (about 20 s on the default dataset) and start the episode forecasts."""
        from dualthreat.evaluate.evidence import Evidence
        from dualthreat.evaluate.hypotheses import evaluate_hypotheses
        from dualthreat.model import DualThreatModel
        from dualthreat.model.cache import fit_cached

        say = say or (lambda _: None)
        theater = self.theater or load_theater()
        self.theater_ = theater
        store = self.store
        say("fitting the threat components (or reading the fit `dualthreat run` cached in the store)")
        self.model_ = fit_cached(DualThreatModel(theater), store)
        say("fitting the triangle and the home front")
        evidence = Evidence(self.model_, store)  # the hypotheses read the same two fits
        self.triangle_ = evidence.triangle()
        self.domestic_ = evidence.domestic()
        say("testing the hypotheses")
        self.hypotheses_ = [r.as_dict() for r in evaluate_hypotheses(store, evidence=evidence)]
        say("reading the sources")
        self.store_summary_ = store.summary()
        self.table_sources_, self.indicator_sources_ = provenance(store, theater, self.store_summary_)
        self.episodes_table_ = store.query("SELECT * FROM episodes ORDER BY date, episode_id").to_pandas()
        self.months_ = [str(m) for m in self.model_.months_]
        say("indexing the threat components")
        self._threat_rows()
        self.loaded_at_ = time.strftime("%Y-%m-%d %H:%M:%S")
        if self.with_episodes:
            from dualthreat.evaluate.episodes import evaluate

            self.episodes_job.start(lambda: evaluate(store, theater=theater))
        return self

    # ------------------------------------------------------------------------------------------------------
    # parameters

    def check_ally(self, ally: str | None, required: bool = False) -> str | None:
        if ally is None or ally == "":
            if required:
                raise BadParameter("ally", f"required; one of {', '.join(self.theater_.allies)}")
            return None
        if ally not in self.theater_.allies:
            raise BadParameter("ally", f"{ally!r} is not an ally of the theater (one of "
                                       f"{', '.join(self.theater_.allies)})")
        return ally

    def check_component(self, ally: str, level: str, source: str) -> tuple[str, str, str]:
        self.check_ally(ally, required=True)
        if level not in self.theater_.levels:
            raise BadParameter("level", f"{level!r} is not a level (one of {', '.join(self.theater_.levels)})")
        if source not in self.theater_.sources:
            raise BadParameter("source", f"{source!r} is not a threat source (one of "
                                         f"{', '.join(self.theater_.sources)})")
        return ally, level, source

    def check_month(self, name: str, value: str | None, within: bool = False) -> str | None:
        """``value`` as YYYY-MM; with ``within``, one of the months the model estimated."""
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not MONTH.match(value):
            raise BadParameter(name, f"{value!r} is not a month (YYYY-MM, e.g. 2013-06)")
        if within and not (self.months_[0] <= value <= self.months_[-1]):
            raise BadParameter(name, f"{value} is outside the months estimated ({self.months_[0]} to "
                                     f"{self.months_[-1]})")
        return value

    # ------------------------------------------------------------------------------------------------------
    # threats

    @property
    def latest_month(self) -> str:
        return self.months_[-1]

    THREAT_COLUMNS = ("ally", "level", "source", "month", "estimate", "mean", "lower", "upper", "sd", "n_obs",
                      "recent_data")

    def _threat_rows(self) -> dict[bool, list[ThreatRow]]:
        """Every row of the threat components as plain values and as JSON text, built once (on the first
        request, or by :meth:`load`): a request then filters rows instead of converting a data frame."""
        rows = getattr(self, "threat_rows_", None)
        if rows is None:
            with self._lock:
                rows = getattr(self, "threat_rows_", None)
                if rows is None:
                    rows = {smoothed: [ThreatRow.of(r) for r in records(self.model_.threats(smoothed=smoothed),
                                                                         list(self.THREAT_COLUMNS))]
                            for smoothed in (False, True)}
                    self.threat_rows_ = rows
        return rows

    def _select_threats(self, ally: str | None, start: str | None, end: str | None, smoothed: bool,
                        level: str | None, source: str | None) -> list[ThreatRow]:
        ally = self.check_ally(ally)
        start, end = self.check_month("from", start), self.check_month("to", end)
        if start and end and start > end:
            raise BadParameter("from", f"{start} is after to={end}")
        if level is not None and level not in self.theater_.levels:
            raise BadParameter("level", f"{level!r} is not a level (one of {', '.join(self.theater_.levels)})")
        if source is not None and source not in self.theater_.sources:
            raise BadParameter("source", f"{source!r} is not a threat source (one of "
                                         f"{', '.join(self.theater_.sources)})")
        # the selection of DualThreatModel.threats (months are YYYY-MM text, compared as text), then level, source
        return [r for r in self._threat_rows()[bool(smoothed)]
                if (not ally or r.ally == ally) and (not start or r.month >= start) and (not end or r.month <= end)
                and (not level or r.level == level) and (not source or r.source == source)]

    def threats(self, ally: str | None = None, start: str | None = None, end: str | None = None,
                smoothed: bool = False, level: str | None = None, source: str | None = None) -> list[dict]:
        """The threat components per month (filtered, or smoothed), for one ally, level, source, month range."""
        return [dict(r.record) for r in self._select_threats(ally, start, end, smoothed, level, source)]

    def threats_json(self, ally: str | None = None, start: str | None = None, end: str | None = None,
                     smoothed: bool = False, level: str | None = None, source: str | None = None) -> bytes:
        """:meth:`threats` as the JSON the API answers (the bytes of Starlette's ``JSONResponse``), joined from
        each row's JSON text written once."""
        rows = self._select_threats(ally, start, end, smoothed, level, source)
        return ("[" + ",".join(r.json for r in rows) + "]").encode("utf-8")

    def matrix(self, at: str | None = None, smoothed: bool = False) -> dict[str, Any]:
        """Each ally's 2x2 matrix at month ``at`` (default: the last month), with bands and coverage."""
        at = self.check_month("at", at, within=True) or self.latest_month
        t = self.model_.threats(start=at, end=at, smoothed=smoothed)
        cells = records(t, ["ally", "level", "source", "mean", "lower", "upper", "n_obs", "recent_data"])
        th = self.theater_
        return {"month": at, "estimate": "smoothed" if smoothed else "filtered", "scale": self.scale,
                "allies": list(th.allies), "levels": list(th.levels), "sources": list(th.sources),
                "labels": {c: th.label(c) for c in (*th.allies, *th.sources, th.patron)}, "cells": cells}

    @property
    def scale(self) -> str:
        return self.model_.scale_label_

    def indicators(self, ally: str, level: str, source: str) -> list[dict]:
        """What feeds one component: every indicator with its table, scale, coverage, weight and sources."""
        ind = self.model_.indicators_
        ind = ind[(ind.ally == ally) & (ind.level == level) & (ind.source == source)]
        out = records(ind, ["indicator", "table", "series", "sign", "observations", "observations_used", "first",
                            "last", "scale", "standardised_on", "reference_mean", "reference_sd", "weight", "note"])
        for r in out:
            r["sources"] = self.indicator_sources_.get(r["indicator"], {}).get("groups", [])
        return out

    def explain(self, ally: str, level: str, source: str, at: str | None = None,
                smoothed: bool = False) -> dict[str, Any]:
        """What each indicator contributed to T[ally, level, source] at month ``at`` (they add up to it)."""
        ally, level, source = self.check_component(ally, level, source)
        at = self.check_month("at", at, within=True) or self.latest_month
        key = (ally, level, source, at, smoothed)
        c = self._explained.get(key)
        if c is None:  # seconds each (the Kalman smoother's weights), so kept once computed
            c = self.model_.explain(ally, level, source, at, smoothed=smoothed)
            with self._lock:
                self._explained[key] = c
                while len(self._explained) > 512:
                    self._explained.pop(next(iter(self._explained)))
        t = self.model_.threats(ally=ally, start=at, end=at, smoothed=smoothed)
        t = t[(t.level == level) & (t.source == source)]
        meta = {r["indicator"]: r for r in self.indicators(ally, level, source)}
        rows = records(c)
        for r in rows:
            m = meta.get(r["indicator"], {})
            r.update(table=m.get("table"), series=m.get("series"), note=m.get("note"), sources=m.get("sources", []))
        estimate = records(t, ["mean", "lower", "upper", "n_obs"])
        return {"ally": ally, "level": level, "source": source, "month": at,
                "estimate": "smoothed" if smoothed else "filtered", "value": estimate[0] if estimate else None,
                "total": float(c["contribution"].sum()) if len(c) else None, "contributions": rows}

    def indicator(self, indicator_id: str) -> dict[str, Any]:
        """One indicator of the theater: its place, its rows in the store and their sources."""
        ind = next((i for i in self.theater_.indicators if i.id == indicator_id), None)
        if ind is None:
            raise BadParameter("indicator", f"{indicator_id!r} is not an indicator of the theater "
                                            "(see /api/indicators)")
        fit = self.model_.indicators_
        row = records(fit[fit.indicator == indicator_id])
        return {"indicator": ind.id, "ally": ind.ally, "level": ind.level, "source": ind.source, "table": ind.table,
                "series": ind.series, "actor": ind.actor, "target": ind.target, "unit": ind.unit, "sign": ind.sign,
                "note": ind.note, "fit": row[0] if row else None, **self.indicator_sources_.get(ind.id, {})}

    def mediator(self, ally: str | None = None, smoothed: bool = False) -> list[dict]:
        ally = self.check_ally(ally)
        m = self.model_.mediator_
        m = m[m.estimate == ("smoothed" if smoothed else "filtered")]
        if ally:
            m = m[m.ally == ally]
        return records(m)

    # ------------------------------------------------------------------------------------------------------
    # posture, triangle, home front

    POSTURE_MEASURES = ("ideal_point_distance", "vote_agreement", "vote_kappa", "alignment_gap",
                        "alliance_scope_regional", "alliance_scope_global")

    def posture(self, ally: str | None = None, measure: str | None = None, subset: str = "all") -> list[dict]:
        ally = self.check_ally(ally)
        p = self.model_.posture_
        if p is None:
            raise Unavailable("the posture measures were not computed")
        if measure is not None and measure not in self.POSTURE_MEASURES:
            raise BadParameter("measure", f"{measure!r} is not a posture measure (one of "
                                          f"{', '.join(self.POSTURE_MEASURES)})")
        subsets = sorted(set(p.loc[p.measure.isin(["vote_agreement", "vote_kappa"]), "subset"].dropna()))
        if subset not in subsets:
            raise BadParameter("subset", f"{subset!r} is not a roll-call subset (one of {', '.join(subsets)})")
        if ally:
            p = p[p.ally == ally]
        if measure:
            p = p[p.measure == measure]
        votes = p.measure.isin(["vote_agreement", "vote_kappa"])
        return records(p[~votes | (p.subset == subset)])

    # ------------------------------------------------------------------------------------------------------
    # hypotheses and episodes

    def hypotheses(self, verdict: str | None = None) -> list[dict]:
        verdicts = sorted({h["verdict"] for h in self.hypotheses_})
        if verdict is not None and verdict not in verdicts:
            raise BadParameter("verdict", f"{verdict!r} is not a verdict of these results (one of "
                                          f"{', '.join(verdicts)})")
        return [plain(h) for h in self.hypotheses_ if verdict is None or h["verdict"] == verdict]

    def episodes(self) -> dict[str, Any]:
        """The out-of-time forecasts: scores, baselines, every episode's forecast against what happened, the
        reliability table when the evaluation has one, and each episode's record and source."""
        ev = self.episodes_job.get()
        d = plain(ev.as_dict())
        table = self.episodes_table_.set_index("episode_id")
        for e in d["episodes"]:
            rec = table.loc[e["id"]] if e["id"] in table.index else None
            e["p_observed"] = (e.get("predicted") or {}).get(e["observed"])
            e["hit"] = e.get("predicted_direction") == e["observed"]
            if rec is not None:
                e.update(decision=plain(rec.get("decision")), outcome=plain(rec.get("outcome")),
                         source_title=plain(rec.get("source_title")), source_url=plain(rec.get("source_url")),
                         source_file=plain(rec.get("source_file")), source_line=plain(rec.get("source_line")))
        rel = getattr(ev, "reliability", None)
        d["reliability"] = {k: records(v) if isinstance(v, pd.DataFrame) else plain(v)
                            for k, v in (rel or {}).items()}
        return d

    def episode_records(self) -> list[dict]:
        return records(self.episodes_table_)

    # ------------------------------------------------------------------------------------------------------
    # scenarios

    def scenarios(self) -> list[dict[str, Any]]:
        """The packaged scenarios of the theater (name, title, note, start, horizon, shocks)."""
        return [self._describe(p) for p in self._packaged()]

    def _packaged(self) -> list[Path]:
        from dualthreat.scenario import packaged

        return sorted(Path(s.file) for s in packaged(self.theater_).values())

    @staticmethod
    def _describe(path: Path) -> dict[str, Any]:
        import tomllib

        data = tomllib.loads(path.read_text("utf-8"))
        return {"name": path.stem, "title": data.get("name", path.stem), "note": data.get("note", ""),
                "start": data.get("start"), "horizon": data.get("horizon"), "shocks": data.get("shock", [])}

    def run_scenario(self, packaged: str | None = None, start: str | None = None, horizon: int | None = None,
                     shocks: list[dict[str, Any]] | None = None, name: str = "composed") -> dict[str, Any]:
        """Run a packaged scenario by name, or one composed of shocks; baseline and scenario side by side."""
        if packaged:
            paths = {p.stem: p for p in self._packaged()}
            if packaged not in paths:
                raise BadParameter("scenario", f"{packaged!r} is not a packaged scenario (one of "
                                               f"{', '.join(paths) or 'none'})")
            return self._run(paths[packaged], label=packaged)
        start = self.check_month("start", start)
        if not start:
            raise BadParameter("start", "required (YYYY-MM), or name a packaged scenario")
        if horizon is None or not 1 <= int(horizon) <= 120:
            raise BadParameter("horizon", "required, a number of months from 1 to 120")
        if not shocks:
            raise BadParameter("shocks", "at least one shock is needed")
        ids = {i.id for i in self.theater_.indicators}
        for n, s in enumerate(shocks):
            if s.get("indicator") not in ids:
                raise BadParameter(f"shocks[{n}].indicator", f"{s.get('indicator')!r} is not an indicator of the "
                                                             "theater (see /api/indicators)")
            if s.get("kind") not in SHOCK_KINDS:
                raise BadParameter(f"shocks[{n}].kind", f"{s.get('kind')!r} is not one of {', '.join(SHOCK_KINDS)}")
            for key in ("month", "from", "to"):
                self.check_month(f"shocks[{n}].{key}", s.get(key))
            if not (s.get("month") or (s.get("from") and s.get("to"))):
                raise BadParameter(f"shocks[{n}].month", "a month, or from and to, is required")
            v = s.get("value")
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or abs(v) > 1e6:
                raise BadParameter(f"shocks[{n}].value", f"{v!r} is not a finite number (|value| <= 1e6)")
        import tempfile

        text = scenario_toml(name, start, int(horizon), shocks)
        with tempfile.TemporaryDirectory(prefix="dualthreat-web-") as d:
            path = Path(d) / "scenario.toml"
            path.write_text(text, "utf-8")
            return self._run(path, label="form", hide=str(path))

    def _run(self, path: Path, label: str, hide: str | None = None) -> dict[str, Any]:
        from dualthreat.scenario import Scenario, ScenarioError

        try:
            with self._scenario_lock:  # one simulation at a time: each takes the two cores for seconds
                scenario = Scenario.from_file(path, self.theater_)
                result = scenario.run(self.model_, self.store)
        except (ScenarioError, ValueError, KeyError) as exc:
            message = str(exc).replace(hide, "<form>") if hide else str(exc)
            raise BadParameter("scenario", message) from None
        return {"scenario": label, **scenario_result(result)}


def scenario_result(result: Any) -> dict[str, Any]:
    """A :class:`~dualthreat.scenario.run.ScenarioResult` as plain tables: ``threats`` and ``decisions``, and
    what the run was (``scenario``)."""
    return {"threats": records(result.threats), "decisions": records(result.decisions),
            "scenario": plain(result.scenario)}
