"""Posture: where each ally stands between the patron and the great power (the theater's backer: China in
Northeast Asia; "China" below), and the reach of its alliance.

A tidy table with one row per ally, year, measure and partner:

* ``ideal_point_distance`` to the patron and to China (Bailey, Strezhnev & Voeten 2017), 90% interval;
* ``vote_agreement`` and ``vote_kappa`` with the patron and with China, for all roll calls, the US State
  Department's important votes and each issue (see :mod:`dualthreat.measure.unga`);
* ``alignment_gap``: distance to China minus distance to the patron (ideal points; positive = closer to
  the patron), and agreement with the patron minus agreement with China (votes);
* ``alliance_scope``: regional and global reach, from the alliance-scope decisions in the coded episodes
  (the coding and the text it rests on: ``resources/episode_scope.csv``);
* when event data are loaded, ``event_net_cooperation`` of the ally toward the patron and toward China
  (events in quad classes 1-2 minus 3-4, as a share of all events coded), and its ``alignment_gap``
  (toward the patron minus toward China), per year here and per month in :func:`event_posture`;
* without coded events, from the event aggregates (:func:`aggregate_posture`): ``icews_net_cooperation``, the
  ally's net cooperation toward each partner as a share of the dyad's ICEWS events (netify dyad-years,
  2002-2014), and ``gdelt_weight``, the pair's mean GDELT weight per covered day (undirected, 2018-2024), each
  with its own ``alignment_gap`` (subsets ``icews_dyad_year`` and ``gdelt_pairs``). The scales differ, so the
  two are never joined into one series; 2015-2017 has neither.
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pandas as pd

from dualthreat.measure.unga import ideal_point_distance, vote_agreement
from dualthreat.store import Store
from dualthreat.theater import Theater

COLUMNS = ["ally", "year", "measure", "partner", "subset", "value", "lower", "upper", "n", "source"]


def episode_scope(store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The scope of each ally's alliance after each coded alliance-scope decision."""
    text = resources.files("dualthreat").joinpath("resources/episode_scope.csv").read_text("utf-8")
    coding = pd.DataFrame(list(csv.DictReader(text.splitlines())))
    ep = store.query("SELECT episode_id, date FROM episodes").to_pandas()
    df = coding.merge(ep, on="episode_id", how="inner")
    if as_of is not None:
        df = df[pd.to_datetime(df["date"]) < as_of]
    df["regional"] = df["regional"].astype(int)
    df["global"] = df["global"].astype(int)
    return df.sort_values("date").reset_index(drop=True)


def _partners(theater: Theater) -> tuple[str, ...]:
    """The states the allies' posture is measured toward: the patron and the great power (the backer)."""
    return (theater.patron, theater.great_power) if theater.great_power else (theater.patron,)


def event_posture(theater: Theater, store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Per ally and month: net cooperation (share of all events coded) toward the patron and toward China,
    and the gap between them. Empty when the store holds no event data."""
    partners = list(_partners(theater))
    from dualthreat.measure.events import dyad_month, events_loaded

    if not events_loaded(store):
        return pd.DataFrame(columns=["ally", "month", "partner", "net_coop_share", "events"])

    d = dyad_month(store, states=tuple(dict.fromkeys([*theater.allies, *partners])))
    d = d[d.source.isin(theater.allies) & d.target.isin(partners)].copy()
    if as_of is not None:
        d = d[d.month < str(pd.Timestamp(as_of).to_period("M"))]
    # net cooperation over all events coded that month: net_coop x (events_share / events); 0 without events
    d["net_coop_share"] = np.where(d["events"] > 0, d["net_coop"] * d["events_share"] / d["events"].where(
        d["events"] > 0), 0.0)
    return d.rename(columns={"source": "ally", "target": "partner"})[
        ["ally", "month", "partner", "net_coop_share", "events"]].reset_index(drop=True)


def aggregate_posture(theater: Theater, store: Store) -> pd.DataFrame:
    """Per ally, partner (the patron, China) and year, from the event aggregates: ``icews_net_cooperation``
    (netify: (cooperation - conflict) / all events from the ally to the partner, n = those events) and
    ``gdelt_weight`` (mean GDELT weight of the pair per covered day, n = covered days)."""
    from dualthreat.measure.aggregates import dyad_year_series, gdelt_pair_yearly

    partners = list(_partners(theater))
    rows = []
    for ally in theater.allies:
        for partner in partners:
            y = dyad_year_series(store, ally, partner).dropna(subset=["cooperation_share"])
            rows += [{"ally": ally, "partner": partner, "year": int(r.year), "measure": "icews_net_cooperation",
                      "value": r.net_cooperation / r.events, "n": r.events, "source": "icews_dyad_year"}
                     for r in y.itertuples()]
            g = gdelt_pair_yearly(store, ally, partner)
            rows += [{"ally": ally, "partner": partner, "year": int(r.year), "measure": "gdelt_weight",
                      "value": r.weight_mean, "n": r.days, "source": "gdelt_pairs"} for r in g.itertuples()]
    return pd.DataFrame(rows, columns=["ally", "partner", "year", "measure", "value", "n", "source"])


def _by_partner(long: pd.DataFrame, value: str, partners: tuple[str, ...]) -> pd.DataFrame:
    """One row per ally and year with a column per partner, the years where every partner has a value (none
    when a partner has no data at all, as in a fit as of a date before a dataset was public)."""
    wide = long.pivot_table(index=["ally", "year"], columns="partner", values=value)
    wide = wide.reindex(columns=list(partners)).dropna().reset_index()
    return wide


def posture(theater: Theater, store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    partners = _partners(theater)
    frames = []
    dist = ideal_point_distance(store, theater.allies, partners)
    frames.append(pd.DataFrame({"ally": dist.ally, "year": dist.year, "measure": "ideal_point_distance",
                                "partner": dist.partner, "subset": "all", "value": dist.distance,
                                "lower": dist.distance_lower, "upper": dist.distance_upper, "n": np.nan,
                                "source": "ideal_points"}))
    if len(partners) == 2:
        wide = _by_partner(dist, "distance", partners)
        frames.append(pd.DataFrame({"ally": wide.ally, "year": wide.year, "measure": "alignment_gap",
                                    "partner": f"{partners[1]}-{partners[0]}", "subset": "ideal_points",
                                    "value": wide[partners[1]] - wide[partners[0]], "lower": np.nan,
                                    "upper": np.nan, "n": np.nan, "source": "ideal_points"}))
    votes = vote_agreement(store, theater.allies, partners)
    for measure, col in (("vote_agreement", "agreement"), ("vote_kappa", "kappa")):
        frames.append(pd.DataFrame({"ally": votes.ally, "year": votes.year, "measure": measure,
                                    "partner": votes.partner, "subset": votes.subset, "value": votes[col],
                                    "lower": votes[f"{col}_lower"], "upper": votes[f"{col}_upper"],
                                    "n": votes.n, "source": "un_votes"}))
    if len(partners) == 2 and not votes.empty:
        w = _by_partner(votes[votes.subset == "all"], "agreement", partners)
        frames.append(pd.DataFrame({"ally": w.ally, "year": w.year, "measure": "alignment_gap",
                                    "partner": f"{partners[0]}-{partners[1]}", "subset": "vote_agreement",
                                    "value": w[partners[0]] - w[partners[1]], "lower": np.nan, "upper": np.nan,
                                    "n": np.nan, "source": "un_votes"}))
    ev = event_posture(theater, store, as_of)
    if len(ev):
        ev["year"] = ev["month"].str[:4].astype(int)
        yearly = ev.groupby(["ally", "partner", "year"], as_index=False).agg(value=("net_coop_share", "mean"),
                                                                           n=("events", "sum"))
        frames.append(yearly.assign(measure="event_net_cooperation", subset="events", lower=np.nan, upper=np.nan,
                                    source="events"))
        if len(partners) == 2:
            w = _by_partner(yearly, "value", partners)
            frames.append(pd.DataFrame({"ally": w.ally, "year": w.year, "measure": "alignment_gap",
                                        "partner": f"{partners[0]}-{partners[1]}", "subset": "events",
                                        "value": w[partners[0]] - w[partners[1]], "lower": np.nan, "upper": np.nan,
                                        "n": np.nan, "source": "events"}))
    else:  # no coded events: the aggregates, each on its own scale (a year is known once it has ended)
        agg = aggregate_posture(theater, store)
        frames.append(agg.assign(subset=agg["source"], lower=np.nan, upper=np.nan))
        if len(partners) == 2:
            for (measure, src), part in agg.groupby(["measure", "source"]):
                w = _by_partner(part, "value", partners)
                frames.append(pd.DataFrame({"ally": w.ally, "year": w.year, "measure": "alignment_gap",
                                            "partner": f"{partners[0]}-{partners[1]}", "subset": src,
                                            "value": w[partners[0]] - w[partners[1]], "lower": np.nan,
                                            "upper": np.nan, "n": np.nan, "source": src}))
    scope = episode_scope(store, as_of)
    scope = scope[scope.ally.isin(theater.allies)]
    for flag in ("regional", "global"):
        frames.append(pd.DataFrame({"ally": scope.ally, "year": pd.to_datetime(scope.date).dt.year,
                                    "measure": f"alliance_scope_{flag}", "partner": theater.patron,
                                    "subset": scope.episode_id, "value": scope[flag].astype(float),
                                    "lower": np.nan, "upper": np.nan, "n": np.nan, "source": "episodes"}))
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    if as_of is not None:
        out = out[out.year < as_of.year]
    return out.sort_values(["ally", "measure", "partner", "subset", "year"]).reset_index(drop=True)
