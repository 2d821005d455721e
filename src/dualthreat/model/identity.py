"""Identity friction: history and identity disputes between the dyads the theater names (``[identity] dyads``;
in Northeast Asia, Japan and South Korea, and Japan or Korea and China).

Three kinds of evidence, per dyad and year, in one tidy table (:func:`identity_friction`):

* ``identity_episodes``: coded episodes of domain ``identity_history`` between the two (the 2012 Dokdo visit,
  the 2013 Yasukuni visit, ...), counted per year over the years the episodes cover;
* ``events_disapprove_reject``: CAMEO 11 (disapprove) and 12 (reject) events between the two, when coded
  events are loaded (otherwise a row saying they are needed; never an invented zero);
* from the event aggregates, whatever is loaded: ``icews_verbal_conflict``, verbal conflict between the two
  (both directions; the quad of CAMEO 09-13, which holds 11 and 12 among others) as a share of all their ICEWS
  events (netify dyad-years, 2002-2014), and ``gdelt_weight``, the pair's mean GDELT weight per covered day
  (2018-2024; negative = net conflict). Different scales, never joined; 2015-2017 has neither;
* public views of the other side from the polls the theater names (``[[identity.view]]``; in Northeast Asia
  Cabinet Office affinity, Genron NPO, Pew, Asan, SNU), as reported, one row per series and year.

:func:`identity_episodes` lists each identity episode with the Japan-ROK cooperation episodes coded within a
year of it, the descriptive evidence the paper gives for H19 (history disputes depress cooperation: the 2012
intelligence-sharing failure).
"""

from __future__ import annotations

import pandas as pd

from dualthreat.store import Store
from dualthreat.theater import Theater, load_theater

WINDOW_DAYS = 365
CODED_EVENTS_NEEDED = ("needs coded events (GDELT/ICEWS event files): CAMEO 11 and 12 are not separable in the "
                       "event aggregates (see icews_verbal_conflict); load events, then re-run")

def _dyad_of(actor: str, counterpart: str, theater: Theater) -> tuple[str, str] | None:
    members = set(actor.split("-")) | set(counterpart.split("-"))
    for d in theater.identity_dyads:
        if set(d) <= members and members <= set(d) | {"MULTI", theater.patron}:
            return d
    return None


def _of_allies(ep: pd.DataFrame, theater: Theater) -> pd.DataFrame:
    """The episodes decided by an ally of the theater (or jointly by its allies)."""
    return ep[[set(str(a).split("-")) <= set(theater.allies) for a in ep.actor]].copy()


def identity_episodes(store: Store, window_days: int = WINDOW_DAYS, theater: Theater | None = None) -> pd.DataFrame:
    """Each identity_history episode with the cooperation episodes between the two allies (up or down; coded
    ``japan_rok_up``/``japan_rok_down``) within ``window_days`` before or after it."""
    theater = theater or load_theater()
    ep = store.query("SELECT episode_id, date, actor, counterpart, domain, direction, outcome FROM episodes"
                     ).to_pandas()
    ep = _of_allies(ep, theater)
    ep["date"] = pd.to_datetime(ep["date"])
    ident = ep[ep.domain == "identity_history"]
    coop = ep[ep.direction.isin(["japan_rok_up", "japan_rok_down"]) & (ep.domain != "identity_history")]
    rows = []
    for r in ident.itertuples():
        d = _dyad_of(r.actor, r.counterpart, theater)
        near = coop[(coop.date - r.date).abs().dt.days <= window_days]
        rows.append({
            "episode_id": r.episode_id, "date": r.date.date().isoformat(), "dyad": "-".join(d) if d else None,
            "actor": r.actor, "outcome": r.outcome, "direction": r.direction,
            "cooperation_within_window": "; ".join(
                f"{c.episode_id} {c.date.date().isoformat()} {c.direction.removeprefix('japan_rok_')}: {c.outcome}"
                for c in near.itertuples()),
            "cooperation_down_within_window": int((near.direction == "japan_rok_down").sum()),
            "cooperation_up_within_window": int((near.direction == "japan_rok_up").sum()),
        })
    return pd.DataFrame(rows)


def identity_friction(store: Store, theater: Theater | None = None) -> pd.DataFrame:
    """Per dyad of the theater, year and measure: identity episodes, disapprove/reject events (or the need for
    them), and public views of the other side, as reported. Columns ``dyad, year, measure, value, unit, source,
    status``."""
    from dualthreat.measure.indicators import resolve_indicators

    theater = theater or load_theater()
    dyads = theater.identity_dyads
    rows = []
    ep = _of_allies(store.query("SELECT episode_id, date, actor, counterpart, domain FROM episodes").to_pandas(),
                    theater)
    ep["year"] = pd.to_datetime(ep["date"]).dt.year
    span = range(int(ep.year.min()), int(ep.year.max()) + 1) if len(ep) else range(0)
    ident = ep[ep.domain == "identity_history"].copy()
    ident["dyad"] = [_dyad_of(a, c, theater) for a, c in zip(ident.actor, ident.counterpart)]
    for d in dyads:
        name = "-".join(d)
        sub = ident[[x == d for x in ident.dyad]]
        for y in span:
            ids = sub[sub.year == y].episode_id.tolist()
            rows.append({"dyad": name, "year": y, "measure": "identity_episodes", "value": float(len(ids)),
                         "unit": "episodes", "source": "episodes " + " ".join(ids) if ids else "episodes",
                         "status": "coded"})
    rows += aggregate_friction(store, dyads)
    ev_rows = disapprove_reject(store, dyads)
    if ev_rows is None:
        for d in dyads:
            rows.append({"dyad": "-".join(d), "year": None, "measure": "events_disapprove_reject", "value": None,
                         "unit": "CAMEO 11-12 events", "source": "events", "status": CODED_EVENTS_NEEDED})
    else:
        rows += ev_rows

    resolved = resolve_indicators(store)
    pew = store.query("SELECT wave, respondent_iso3, target, pct_unfavorable, quality_flag FROM pew_favorability"
                      ).to_pandas()
    for actor, target, series, label in ((v.actor, v.target, v.series, v.label) for v in theater.identity_views):
        d = next((x for x in dyads if set(x) == {actor, target}), None)
        if d is None:
            continue
        if series.startswith("pew:"):
            col = series.split(":", 1)[1]
            p = pew[(pew.respondent_iso3 == actor) & (pew.target == target) & pew.quality_flag.isna()]
            vals = p.set_index("wave")[col].dropna()
            source = "pew_favorability"
        else:
            r = resolved[(resolved.series == series) & (resolved.actor == actor) & (resolved.target == target)]
            r = r.assign(year=pd.to_datetime(r["end_date"]).dt.year)
            vals = r.groupby("year")["value"].mean()
            source = "indicators:" + series
        for year, v in vals.items():
            rows.append({"dyad": "-".join(d), "year": int(year), "measure": f"public {actor} on {target}: {label}",
                         "value": float(v), "unit": "as reported", "source": source, "status": "reported"})
    out = pd.DataFrame(rows, columns=["dyad", "year", "measure", "value", "unit", "source", "status"])
    out["year"] = out["year"].astype("Int64")
    out["value"] = out["value"].astype(float)
    return out


def aggregate_friction(store: Store, dyads: tuple[tuple[str, str], ...]) -> list[dict]:
    """Per dyad and year, from the event aggregates: verbal conflict share of the dyad's ICEWS events (netify,
    both directions) and the pair's mean GDELT weight per covered day."""
    from dualthreat.measure.aggregates import dyad_year_series, gdelt_pair_yearly

    rows = []
    for a, b in dyads:
        both = pd.concat([dyad_year_series(store, a, b), dyad_year_series(store, b, a)])
        if not both.empty:
            g = both.groupby("year")[["verbal_conflict", "events"]].sum()
            for year, r in g[g["events"] > 0].iterrows():
                rows.append({"dyad": f"{a}-{b}", "year": int(year), "measure": "icews_verbal_conflict",
                             "value": float(r.verbal_conflict / r.events), "unit": "share of the dyad's ICEWS events",
                             "source": "icews_dyad_year",
                             "status": f"{int(r.verbal_conflict)} of {int(r.events)} events (CAMEO 09-13 quad)"})
        for r in gdelt_pair_yearly(store, a, b).itertuples():
            rows.append({"dyad": f"{a}-{b}", "year": int(r.year), "measure": "gdelt_weight",
                         "value": float(r.weight_mean), "unit": "mean GDELT weight per covered day",
                         "source": "gdelt_pairs", "status": f"{int(r.days)} covered days"})
    return rows


def disapprove_reject(store: Store, dyads: tuple[tuple[str, str], ...]) -> list[dict] | None:
    """CAMEO 11 (disapprove) and 12 (reject) events between the two states of each dyad (both directions), per
    year, and their share of all the dyad's events, counted on the events that
    :func:`dualthreat.measure.events.prepare` keeps (deduplicated as the event indices are). ``None`` when no
    event data are loaded. Years are those the loaded event files cover; a year without such an event is 0."""
    from dualthreat.measure import events as ev

    if not ev.events_loaded(store):
        return None
    import ibis

    states = sorted({s for d in dyads for s in d})
    con = ibis.duckdb.from_connection(store.connect(read_only=True))  # an as-of store: its views
    try:
        p = ev.prepare(con.table("events"), states)
        p = p.mutate(year=p.month.substr(0, 4).cast("int64"))
        agg = p.group_by(["year", "source", "target"]).aggregate(
            events=p.count(), disapprove_reject=p.count(where=p.root_code.isin(["11", "12"]))).to_pandas()
        years = sorted({int(m[:4]) for m in con.table("event_month_totals").month.to_pandas()})
    finally:
        con.disconnect()
    rows = []
    for d in dyads:
        sub = agg[agg.source.isin(d) & agg.target.isin(d)]
        for y in years:
            g = sub[sub.year == y]
            n, k = int(g.events.sum()), int(g.disapprove_reject.sum())
            rows.append({"dyad": "-".join(d), "year": y, "measure": "events_disapprove_reject", "value": float(k),
                         "unit": "CAMEO 11-12 events", "source": "events",
                         "status": f"{k} of {n} events between them" if n else "no event between them"})
    return rows
