"""The home front: elite threat salience, public threat perception, the elite-public gap, and protest.

``DomesticModel().fit(store)`` holds, as tidy tables:

* ``elite_``: per ally, year and word-list category (china, north_korea, united_states, threat,
  missile_nuclear, alliance): matches, words, rate per 1,000 words with a 90% interval, from the ally's UN
  General Debate statements (:mod:`dualthreat.measure.text`, word list ``salience_v1`` by default);
* ``public_``: per ally, target and year, each poll series of the theater's ``[[public]]`` (value, its sampling
  interval where the sample size is known, its z-score) and their ``composite``;
* ``gap_``: per ally, threat source and year where both exist, ``elite_z - public_z`` (both standardised over
  the years they share); ``gap_summary_``: per ally and source, the years with both and the correlation of
  the two series with a 90% interval;
* ``protest_``: CAMEO 14 (protest) events against the United States in each ally, per year, when coded events
  are loaded; without them, a stated proxy from the ICEWS dyad-year counts (netify, 2002-2014): the ally's
  material conflict toward the patron (CAMEO 14-20, of which protest is one root), marked as such; otherwise a
  row saying that event data are needed.

Which poll series measure what, and which word-list category is the elite salience of which state, is in the
theater file (``[[public]]``, ``[[elite]]``; see docs/theaters.md) and docs/triangle-and-home-front.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dualthreat.measure.text import DEFAULT_WORDLIST, load_wordlist, score_texts
from dualthreat.stats import fisher_z_interval, z_quantile
from dualthreat.store import Store
from dualthreat.theater import PublicSeries, Theater, load_theater  # PublicSeries: a [[public]] entry

MIN_SERIES_YEARS = 3  # a poll series needs this many years to be standardised
MIN_GAP_YEARS = 3  # years with both elite and public measures needed for a gap


# --------------------------------------------------------------------------------------------------------------
# elite salience


def elite_salience(store: Store, allies: tuple[str, ...], wordlist: str = DEFAULT_WORDLIST,
                   dispersion_adjusted: bool = True) -> pd.DataFrame:
    """Salience per ally, year and category from the UN General Debate statements in the store."""
    wl = load_wordlist(wordlist)
    texts = store.query(f"SELECT iso3 AS ally, year, text FROM speeches WHERE iso3 IN ({', '.join('?' * len(allies))})",
                        list(allies)).to_pandas()
    out = score_texts(texts, ["ally", "year"], wl, dispersion_adjusted=dispersion_adjusted)
    out["year"] = out["year"].astype(int)
    out["source"] = "speeches (UN General Debate Corpus)"
    return out


# --------------------------------------------------------------------------------------------------------------
# public perception


def _series_values(store: Store, spec: PublicSeries, resolved: pd.DataFrame, pew: pd.DataFrame) -> pd.DataFrame:
    """One value per year for one poll series: ``year, value, lower, upper, n_polls, source``."""
    frames = []
    if spec.table == "pew_favorability":
        p = pew[(pew.respondent_iso3 == spec.ally) & (pew.target == spec.target) & pew.quality_flag.isna()]
        p = p.dropna(subset=[spec.series])
        share = p[spec.series] / 100
        half = z_quantile() * np.sqrt(share * (1 - share) / p["n_respondents"].where(p["n_respondents"] > 0))
        frames.append(pd.DataFrame({"year": p.wave.astype(int), "value": p[spec.series],
                                    "lower": 100 * (share - half), "upper": 100 * (share + half), "n_polls": 1,
                                    "source": "pew_favorability"}))
    name = spec.series if spec.table == "indicators" else spec.backfill
    if name:
        r = resolved[(resolved.series == name) & (resolved.actor == spec.ally) & (resolved.target == spec.target)]
        if len(r):
            r = r.assign(year=pd.to_datetime(r["end_date"]).dt.year)
            g = r.groupby("year").agg(value=("value", "mean"), n_polls=("value", "size")).reset_index()
            g["lower"], g["upper"], g["source"] = np.nan, np.nan, "indicators:" + name
            if frames:  # backfill: only years the Pew aggregates lack
                g = g[~g.year.isin(frames[0].year)]
            frames.append(g)
    cols = ["year", "value", "lower", "upper", "n_polls", "source"]
    return pd.concat(frames, ignore_index=True)[cols].sort_values("year") if frames else pd.DataFrame(columns=cols)


def public_perception(store: Store, allies: tuple[str, ...], series: tuple[PublicSeries, ...] | None = None
                      ) -> pd.DataFrame:
    """Every poll series per ally, target and year, z-scored over its own years (signed so that higher = more
    threat, or warmer for the patron), and per year the ``composite``: the mean z of the series available."""
    from dualthreat.measure.indicators import resolve_indicators

    series = load_theater().public if series is None else series
    resolved = resolve_indicators(store)
    pew = store.query("SELECT wave, respondent_iso3, target, n_respondents, pct_favorable, pct_unfavorable, "
                      "quality_flag FROM pew_favorability").to_pandas()
    rows = []
    for spec in series:
        if spec.ally not in allies:
            continue
        v = _series_values(store, spec, resolved, pew)
        usable = v.year.nunique() >= MIN_SERIES_YEARS
        mean, sd = v.value.mean(), v.value.std(ddof=1)
        z = spec.sign * (v.value - mean) / sd if usable and sd > 0 else pd.Series(np.nan, index=v.index)
        rows.append(v.assign(ally=spec.ally, target=spec.target, series=spec.id, sign=spec.sign, z=z,
                             usable=usable, note=spec.note))
    cols = ["ally", "target", "year", "series", "value", "lower", "upper", "n_polls", "sign", "z", "usable",
            "source", "note"]
    per = pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
    comp = (per[per.usable].groupby(["ally", "target", "year"])
            .agg(z=("z", "mean"), n_polls=("series", "size"),
                 note=("series", lambda s: "mean z of: " + ", ".join(sorted(s))))
            .reset_index())
    comp = comp.assign(series="composite", value=np.nan, lower=np.nan, upper=np.nan, sign=1, usable=True,
                       source="composite")
    out = pd.concat([per, comp[cols]], ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out.sort_values(["ally", "target", "series", "year"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------------
# the gap


def elite_public_gap(elite: pd.DataFrame, public: pd.DataFrame, sources: tuple[str, ...],
                     categories: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per ally, source and year with both: elite salience and public perception, each standardised over the
    years they share, and ``gap = elite_z - public_z`` (positive: the leaders speak of the source more, relative
    to their own average, than the public's threat perception is, relative to its own average), with a 90%
    interval from the speech counts' interval; ``categories`` names the word-list category of each source (a
    source without one has no gap). The summary says how many years have both and how the two
    series co-move (Pearson correlation, Fisher-z interval)."""
    rows, summary = [], []
    comp = public[public.series == "composite"]
    for ally in sorted(set(elite.ally.unique()) | set(public.ally.unique())):
        for source in sources:
            if source not in categories or ally not in set(elite.ally):
                why = ("no word-list category for the elite salience of this source ([[elite]] in the theater "
                       "file)" if source not in categories else "no UN General Debate statements of the ally")
                summary.append({"ally": ally, "source": source, "elite_measure": None,
                                "public_measure": "composite of polls (see public)", "years_elite": 0,
                                "years_public": int(comp[(comp.ally == ally) & (comp.target == source)].z.notna()
                                                    .sum()), "years_both": 0, "first": None, "last": None,
                                "correlation": None, "correlation_lower": None, "correlation_upper": None,
                                "status": f"not computed: {why}"})
                continue
            cat = categories[source]
            e = elite[(elite.ally == ally) & (elite.category == cat)].set_index("year")["rate"]
            p = comp[(comp.ally == ally) & (comp.target == source)].set_index("year")["z"]
            both = pd.concat([e.rename("elite"), p.rename("public")], axis=1).dropna()
            n = len(both)
            info = {"ally": ally, "source": source, "elite_measure": f"{cat} mentions per 1,000 words",
                    "public_measure": "composite of polls (see public)", "years_elite": int(e.notna().sum()),
                    "years_public": int(p.notna().sum()), "years_both": n,
                    "first": int(both.index.min()) if n else None, "last": int(both.index.max()) if n else None}
            if n < MIN_GAP_YEARS or both["elite"].std(ddof=1) == 0 or both["public"].std(ddof=1) == 0:
                status = ("not computed: no usable poll series (each has fewer than "
                          f"{MIN_SERIES_YEARS} years in the store)" if not info["years_public"] else
                          f"not computed: {n} year(s) with both (need {MIN_GAP_YEARS})" if n < MIN_GAP_YEARS else
                          "not computed: a series does not vary")
                summary.append({**info, "correlation": None, "correlation_lower": None, "correlation_upper": None,
                                "status": status})
                continue
            ez = (both["elite"] - both["elite"].mean()) / both["elite"].std(ddof=1)
            pz = (both["public"] - both["public"].mean()) / both["public"].std(ddof=1)
            r = float(np.corrcoef(ez, pz)[0, 1])
            lo, hi = fisher_z_interval(r, n)
            summary.append({**info, "correlation": r, "correlation_lower": lo, "correlation_upper": hi,
                            "status": "computed"})
            bounds = elite[(elite.ally == ally) & (elite.category == cat)].set_index("year")[["lower", "upper"]]
            e_mean, e_sd = both["elite"].mean(), both["elite"].std(ddof=1)
            for year in both.index:
                # the interval carries the uncertainty of the speech counts (the polls' is not propagated)
                lo_z = (bounds.at[year, "lower"] - e_mean) / e_sd
                hi_z = (bounds.at[year, "upper"] - e_mean) / e_sd
                rows.append({"ally": ally, "source": source, "year": int(year), "elite_rate": both.at[year, "elite"],
                             "public_z": both.at[year, "public"], "elite_z": ez[year], "public_z_common": pz[year],
                             "gap": ez[year] - pz[year], "gap_lower": lo_z - pz[year],
                             "gap_upper": hi_z - pz[year]})
    gap_cols = ["ally", "source", "year", "elite_rate", "public_z", "elite_z", "public_z_common", "gap",
                "gap_lower", "gap_upper"]
    summary = pd.DataFrame(summary, columns=["ally", "source", "elite_measure", "public_measure", "years_elite",
                                             "years_public", "years_both", "first", "last", "correlation",
                                             "correlation_lower", "correlation_upper", "status"])
    for col in ("first", "last"):
        summary[col] = summary[col].astype("Int64")
    return pd.DataFrame(rows, columns=gap_cols), summary


# --------------------------------------------------------------------------------------------------------------
# protest against the United States


PROTEST_PROXY = ("proxy: material conflict (CAMEO 14-20: protest, force posture, reduced relations, coercion, "
                 "assault, fight) from the ally to the patron, ICEWS dyad-year counts (netify); not protest alone")


def protest_against_patron(store: Store, allies: tuple[str, ...], patron: str | None = None) -> pd.DataFrame:
    """CAMEO 14 (protest) events by actors of each ally against the patron, per year and event dataset
    (:func:`dualthreat.measure.events.protest_counts`), when coded events are loaded; else, per year, the stated
    proxy ``PROTEST_PROXY`` from netify's ICEWS dyad-years (``events`` = material conflict, ``share`` = its
    share of all the dyad's events); otherwise one row per ally saying they are needed (never an invented
    zero). With coded events, a zero is a real zero for the months the loaded files cover."""
    from dualthreat.measure import events as ev
    from dualthreat.measure.aggregates import dyad_year_series
    from dualthreat.model.triangle import EVENTS_NEEDED

    patron = patron or load_theater().patron
    cols = ["ally", "target", "year", "events", "share", "dataset", "status"]
    if ev.events_loaded(store):
        out = ev.protest_counts(store, actors=allies, target=patron)
        return out.assign(status="events").reindex(columns=cols)
    rows = []
    for ally in allies:
        y = dyad_year_series(store, ally, patron)
        rows += [{"ally": ally, "target": patron, "year": int(r.year), "events": int(r.material_conflict),
                  "share": r.material_conflict / r.events if r.events else None, "dataset": "icews_dyad_year",
                  "status": PROTEST_PROXY} for r in y.itertuples()]
    if rows:
        return pd.DataFrame(rows, columns=cols)
    return pd.DataFrame([{"ally": a, "target": patron, "year": None, "events": None, "share": None,
                          "dataset": None, "status": EVENTS_NEEDED} for a in allies], columns=cols)


# --------------------------------------------------------------------------------------------------------------


class DomesticModel:
    """Elite salience, public perception, their gap, and protest against the patron, for the theater's allies."""

    def __init__(self, theater: Theater | None = None, wordlist: str = DEFAULT_WORDLIST,
                 dispersion_adjusted: bool = True) -> None:
        self.theater = theater
        self.wordlist = wordlist
        self.dispersion_adjusted = dispersion_adjusted

    def fit(self, store: Store, allies: tuple[str, ...] | None = None) -> DomesticModel:
        theater = self.theater or load_theater()
        self.theater_ = theater
        allies = tuple(allies or theater.allies)
        self.allies_ = allies
        self.wordlist_ = load_wordlist(self.wordlist)
        self.elite_ = elite_salience(store, allies, self.wordlist, self.dispersion_adjusted)
        self.public_ = public_perception(store, allies, theater.public)
        self.gap_, self.gap_summary_ = elite_public_gap(self.elite_, self.public_, tuple(theater.sources),
                                                        {e.state: e.category for e in theater.elite})
        self.protest_ = protest_against_patron(store, allies, theater.patron)
        return self

    def coverage(self) -> pd.DataFrame:
        """Per ally: the years the speeches cover and any year in that range without a salience value."""
        rows = []
        for ally, g in self.elite_.groupby("ally"):
            years = set(g.year)
            span = range(min(years), max(years) + 1)
            rows.append({"ally": ally, "first": min(years), "last": max(years), "years": len(years),
                         "missing": [y for y in span if y not in years]})
        return pd.DataFrame(rows)
