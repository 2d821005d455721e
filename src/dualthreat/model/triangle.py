"""The triangle: a signed network among the theater's states, its structural balance, the cooperation of its
two allies (Japan-ROK in Northeast Asia), and the test of Cha's quasi-alliance argument.

``TriangleModel().fit(store)`` holds, as tidy tables:

* ``ties_``: one row per period and pair of states: signed tie ``weight`` with its interval, the probability
  that the tie is positive ``p_positive``, the number of observations behind it and its ``source``;
* ``triads_``: one row per period and triangle of states (patron-ally-ally, ally-ally-great power, ...): signs, balanced or not, weight, probability of being balanced;
* ``balance_``: one row per period, whole-network balance (:func:`dualthreat.measure.network.balance_summary`);
* ``calibration_``: how ideal-point distances are turned into ties for the years without roll calls;
* ``cooperation_``: Japan-ROK cooperation per year (coded episodes, UN vote kappa, events when loaded);
* ``proxies_`` / ``fear_``: the abandonment-fear proxies of each ally per year and their average;
* ``cha_``: the test of Cha's argument (H18), one row per cooperation measure.

Ties (see docs/triangle-and-home-front.md):

* **UN votes** (per year, default until roll calls end in 2019): Cohen's kappa of the pair's votes
  (:func:`dualthreat.measure.unga.vote_agreement`, all roll calls): positive = agreement above what the two
  states' vote distributions give by chance, negative = below it; the strength is |kappa|. Years with fewer
  than ``MIN_ROLL_CALLS`` common roll calls are left out (the 2020 file holds one roll call).
* **Ideal points** (per year; used for the years after the roll calls end): the distance between the pair's
  Bailey-Strezhnev-Voeten ideal points, mapped to a kappa-equivalent tie by least squares on the pair-years
  that have both (``kappa ~ intercept[pair] + slope x distance``): the tie is positive while the pair is closer
  than its own zero point. Centring on the median pair was rejected: the US is an outlier in the Assembly, so
  that rule makes US-Japan and US-ROK negative in almost every year, against their kappa; one pooled intercept
  was rejected for the same reason in another form (it made Japan-DPRK strongly positive after 2019).
* **Events** (per month, when event data are loaded, through :func:`dualthreat.measure.events.dyad_month`):
  the pair's net cooperation share that month, both directions summed: (quad classes 1-2 minus 3-4) over all
  its events, in [-1, 1]; one dataset per month where several cover it. A pair with no event that month has
  no tie.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dualthreat.measure.network import balance_summary, signed_matrix, triads
from dualthreat.stats import verdict, z_quantile
from dualthreat.store import Store
from dualthreat.theater import Theater, load_theater

MIN_ROLL_CALLS = 20
TRAILING_YEARS = 3
MIN_YEARS = 10  # fewer years than this (or fewer than MIN_EPISODE_YEARS years with a coded episode) = N too small
MIN_EPISODE_YEARS = 10

EVENTS_NEEDED = ("needs event data: the store has no coded events (GDELT/ICEWS event files) and no ICEWS dyad-year "
                 "counts; load them, then re-run")
AGGREGATE_SOURCE = "icews_dyad_year"  # the status (and tie source) when the ties come from netify's dyad-years


# --------------------------------------------------------------------------------------------------------------
# event data: coded events when loaded, else netify's ICEWS dyad-year quad counts


def event_index(store: Store, states: tuple[str, ...]) -> tuple[pd.DataFrame | None, str]:
    """The event index and where it comes from: the dyad-month index of the coded events
    (:func:`dualthreat.measure.events.dyad_month`, status ``"events"``) when the store holds them; else the
    ICEWS dyad-year quad counts (netify, 2002-2014; status ``"icews_dyad_year"``), in the same columns, whose
    ``month`` column then holds the year (``"2010"``: each period is a year); else ``(None, reason)``.
    Nothing in the triangle and home-front modules fabricates event measures."""
    from dualthreat.measure import aggregates, events

    if events.events_loaded(store):
        return events.dyad_month(store, states=states), "events"
    panel = aggregates.quad_panel(store, states)
    if panel.empty:
        return None, EVENTS_NEEDED
    index = panel.rename(columns={"verbal_coop": "quad1", "material_coop": "quad2", "verbal_conflict": "quad3",
                                  "material_conflict": "quad4"})
    return index.assign(month=index["year"].astype(str), dataset=AGGREGATE_SOURCE).drop(columns="year"), \
        AGGREGATE_SOURCE


def _one_dataset_per_month(index: pd.DataFrame) -> pd.DataFrame:
    """Where several event datasets cover a month (GDELT 1.0, 2.0, ICEWS), keep the one with the most theater
    events that month, so that one event reported by two datasets is not counted twice."""
    if "dataset" not in index or index["dataset"].nunique() <= 1:
        return index
    size = index.groupby(["month", "dataset"])["events"].sum().reset_index()
    best = size.sort_values(["month", "events", "dataset"], ascending=[True, False, True]).drop_duplicates("month")
    return index.merge(best[["month", "dataset"]], on=["month", "dataset"])


def _coop_counts(index: pd.DataFrame) -> pd.DataFrame:
    d = _one_dataset_per_month(index)
    return d.assign(coop=d["quad1"] + d["quad2"], conflict=d["quad3"] + d["quad4"])


# --------------------------------------------------------------------------------------------------------------
# ties


def vote_ties(store: Store, states: tuple[str, ...], min_roll_calls: int = MIN_ROLL_CALLS) -> pd.DataFrame:
    """Signed ties per year from Cohen's kappa of UN votes (all roll calls). The contingency tables take a
    few seconds: fit the triangle once and share it (:meth:`dualthreat.evaluate.evidence.Evidence.triangle`)."""
    from scipy.stats import norm

    from dualthreat.measure.unga import vote_agreement

    frames = []
    for a, b in itertools.combinations(states, 2):
        v = vote_agreement(store, (a,), (b,))
        v = v[(v.subset == "all") & (v.n >= min_roll_calls) & v.kappa.notna()]
        if v.empty:
            continue
        se = (v.kappa_upper - v.kappa_lower) / (2 * z_quantile())
        frames.append(pd.DataFrame({
            "period": v.year.astype(int).astype(str), "year": v.year.astype(int), "a": a, "b": b,
            "weight": v.kappa, "lower": v.kappa_lower, "upper": v.kappa_upper,
            "p_positive": np.where(se > 0, norm.cdf(v.kappa / se.where(se > 0, 1)), (v.kappa > 0).astype(float)),
            "n": v.n.astype(int), "source": "un_votes",
        }))
    cols = ["period", "year", "a", "b", "weight", "lower", "upper", "p_positive", "n", "source"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def ideal_point_pairs(store: Store, states: tuple[str, ...]) -> pd.DataFrame:
    """Per year and pair: the signed difference of ideal points and its sd (posteriors taken as independent
    normals with sd = (q95 - q05) / 3.29, as in :mod:`dualthreat.measure.unga`)."""
    ip = store.query("SELECT iso3, year, ideal_point, q05, q95 FROM ideal_points WHERE ideal_point IS NOT NULL "
                     f"AND iso3 IN ({', '.join('?' * len(states))})", list(states)).to_pandas()
    ip["sd"] = (ip["q95"] - ip["q05"]) / (2 * z_quantile())
    rows = []
    for a, b in itertools.combinations(states, 2):
        m = ip[ip.iso3 == a].merge(ip[ip.iso3 == b], on="year", suffixes=("_a", "_b"))
        rows.append(pd.DataFrame({"year": m.year.astype(int), "a": a, "b": b,
                                  "diff": m.ideal_point_a - m.ideal_point_b,
                                  "sd": np.sqrt(m.sd_a ** 2 + m.sd_b ** 2)}))
    out = pd.concat(rows, ignore_index=True)
    out["distance"] = out["diff"].abs()
    return out


@dataclass(frozen=True)
class Calibration:
    """kappa ~ intercept[pair] + slope x ideal-point distance, fitted on the pair-years that have both.

    Each pair has its own intercept (the US, an outlier in the Assembly, agrees with its allies more than their
    distance alone would say) and all pairs share one slope; a pair's tie is positive while its distance is
    below its own zero point ``-intercept[pair] / slope``."""

    slope: float
    intercepts: dict[str, float]  # "A-B" -> intercept
    r2: float
    n: int
    sign_agreement: float  # share of pair-years where the fitted sign equals the kappa sign
    sign_agreement_clear: float  # the same, over pair-years whose kappa 90% interval excludes 0
    years: str

    def threshold(self, pair: str) -> float:
        """Distance at which this pair's predicted kappa is 0."""
        return -self.intercepts[pair] / self.slope if self.slope < 0 else float("inf")

    def as_dict(self) -> dict:
        return {"slope": self.slope, "r2": self.r2, "n": self.n, "sign_agreement": self.sign_agreement,
                "sign_agreement_clear": self.sign_agreement_clear, "years": self.years,
                "intercepts": dict(self.intercepts),
                "thresholds": {p: self.threshold(p) for p in self.intercepts}}


def calibrate(votes: pd.DataFrame, pairs: pd.DataFrame) -> Calibration:
    """Least squares with one intercept per pair and a common slope on distance."""
    m = votes.merge(pairs, on=["year", "a", "b"])
    m["pair"] = m["a"] + "-" + m["b"]
    if len(m) < 3 or m["pair"].nunique() >= len(m):
        raise ValueError("too few pair-years with both UN votes and ideal points to calibrate ideal-point ties")
    names = sorted(m["pair"].unique())
    x = np.column_stack([(m["pair"] == p).to_numpy(float) for p in names] + [m["distance"].to_numpy()])
    coef, *_ = np.linalg.lstsq(x, m["weight"].to_numpy(), rcond=None)
    pred = x @ coef
    y = m["weight"].to_numpy()
    r2 = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    agree = np.sign(pred) == np.sign(y)
    clear = ((m["lower"] > 0) | (m["upper"] < 0)).to_numpy()
    return Calibration(float(coef[-1]), {p: float(c) for p, c in zip(names, coef[:-1])}, float(r2), len(m),
                       float(agree.mean()), float(agree[clear].mean()) if clear.any() else float("nan"),
                       f"{int(m.year.min())}-{int(m.year.max())}")


def ideal_point_ties(pairs: pd.DataFrame, cal: Calibration) -> pd.DataFrame:
    """Kappa-equivalent ties from ideal-point distances (see :class:`Calibration`). Pairs that never had
    a UN-vote tie cannot be calibrated and are left out."""
    from scipy.stats import norm

    pairs = pairs.assign(pair=pairs["a"] + "-" + pairs["b"])
    pairs = pairs[pairs["pair"].isin(cal.intercepts)]
    intercept = pairs["pair"].map(cal.intercepts)
    d0 = pairs["pair"].map(cal.threshold)
    mu, sd = pairs["diff"], pairs["sd"].where(pairs["sd"] > 0, 1e-9)
    # P(|diff| < d0) with diff ~ N(mu, sd^2): the probability that the pair is closer than its zero point
    p = norm.cdf((d0 - mu) / sd) - norm.cdf((-d0 - mu) / sd)
    half = z_quantile() * pairs["sd"]
    lo_d = np.maximum(pairs["distance"] - half, 0)
    hi_d = pairs["distance"] + half
    return pd.DataFrame({
        "period": pairs.year.astype(str), "year": pairs.year, "a": pairs.a, "b": pairs.b,
        "weight": intercept + cal.slope * pairs["distance"],
        "lower": intercept + cal.slope * hi_d, "upper": intercept + cal.slope * lo_d,
        "p_positive": p, "n": np.nan, "source": "ideal_points",
    }).reset_index(drop=True)


def _share_tie(coop: pd.Series, n: pd.Series) -> dict:
    """Tie from event counts: weight = (cooperative - conflictual) / all, in [-1, 1], with the Wilson interval
    of the cooperative share mapped onto it, and P(tie > 0) = Phi((2 p - 1) sqrt(n)) (the z statistic of the
    cooperative share against one half)."""
    from scipy.stats import norm

    from dualthreat.measure.unga import wilson

    p = coop / n
    lo, hi = wilson(p.to_numpy(dtype=float), n.to_numpy(dtype=float))
    return {"weight": 2 * p - 1, "lower": 2 * lo - 1, "upper": 2 * hi - 1,
            "p_positive": norm.cdf((2 * p - 1) * np.sqrt(n)), "n": n.astype(int)}


def event_ties(index: pd.DataFrame, states: tuple[str, ...]) -> pd.DataFrame:
    """Monthly ties from the dyad-month event index: both directions of a pair summed, tie = net cooperation
    share of the pair's events that month (quad classes 1-2 minus 3-4, over all four). Months in which a pair
    has no event give no tie."""
    d = _coop_counts(index)
    d = d[d["source"].isin(states) & d["target"].isin(states) & (d["source"] != d["target"])]
    order = {x: i for i, x in enumerate(states)}
    swap = d["source"].map(order) > d["target"].map(order)
    d = d.assign(a=np.where(swap, d["target"], d["source"]), b=np.where(swap, d["source"], d["target"]))
    g = d.groupby(["month", "a", "b"])[["coop", "conflict"]].sum().reset_index()
    g["n"] = g["coop"] + g["conflict"]
    g = g[g["n"] > 0]
    cols = ["period", "year", "a", "b", "weight", "lower", "upper", "p_positive", "n", "source"]
    if g.empty:
        return pd.DataFrame(columns=cols)
    tie = _share_tie(g["coop"], g["n"])
    return pd.DataFrame({"period": g["month"].astype(str), "year": g["month"].astype(str).str[:4].astype(int),
                         "a": g["a"], "b": g["b"], **tie,
                         "source": AGGREGATE_SOURCE if (d["dataset"] == AGGREGATE_SOURCE).all() else "events"})[cols]


def events_per_year(index: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Events between ``x`` and ``y`` (both directions) per year: counts and the net cooperation share."""
    d = _coop_counts(index)
    d = d[((d["source"] == x) & (d["target"] == y)) | ((d["source"] == y) & (d["target"] == x))]
    d = d.assign(year=d["month"].astype(str).str[:4].astype(int))
    g = d.groupby("year")[["coop", "conflict"]].sum().reset_index()
    g["events"] = g["coop"] + g["conflict"]
    g["events_net"] = (g["coop"] - g["conflict"]) / g["events"].where(g["events"] > 0)
    return g[["year", "events", "coop", "conflict", "events_net"]]


def us_cooperation_events(index: pd.DataFrame, patron: str, allies: tuple[str, ...]) -> pd.DataFrame:
    """The patron's events toward each ally per year (directed): net cooperation share."""
    d = _coop_counts(index)
    d = d[(d["source"] == patron) & d["target"].isin(allies)]
    d = d.assign(year=d["month"].astype(str).str[:4].astype(int))
    g = d.groupby(["target", "year"])[["coop", "conflict"]].sum().reset_index()
    g["n"] = g["coop"] + g["conflict"]
    g = g[g["n"] > 0]
    return pd.DataFrame({"ally": g["target"], "year": g["year"], "value": (g["coop"] - g["conflict"]) / g["n"],
                         "n": g["n"]})


# --------------------------------------------------------------------------------------------------------------
# balance per period


def balance_by_period(ties: pd.DataFrame, states: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Triads and whole-network balance for each period of ``ties``."""
    tri_frames, rows = [], []
    for period, g in ties.groupby("period", sort=True):
        nodes = tuple(s for s in states if s in set(g.a) | set(g.b))
        if len(nodes) < 3:
            continue
        a = signed_matrix(nodes, zip(g.a, g.b, g.weight))
        p = signed_matrix(nodes, zip(g.a, g.b, g.p_positive.fillna(0.5)))
        t = triads(a, nodes, p)
        t.insert(0, "period", period)
        t["source"] = "+".join(sorted(set(g.source)))
        tri_frames.append(t)
        row = {"period": period, "source": "+".join(sorted(set(g.source))), "states": " ".join(nodes)}
        row.update(balance_summary(a, nodes, p))
        rows.append(row)
    return (pd.concat(tri_frames, ignore_index=True) if tri_frames else pd.DataFrame(),
            pd.DataFrame(rows))


# --------------------------------------------------------------------------------------------------------------
# Japan-ROK cooperation and Cha's argument


def japan_rok_cooperation(store: Store, votes: pd.DataFrame, ally_a: str, ally_b: str
                          ) -> pd.DataFrame:
    """Japan-ROK cooperation per year: coded episodes (japan_rok_up = +1, japan_rok_down = -1), the bilateral
    agreements among them (domain japan_rok_cooperation: the 2012 intelligence-sharing failure, the 2014
    trilateral information-sharing arrangement, ...), and Cohen's kappa of the two allies' UN votes.

    Episode counts are given only for the years the coded episodes cover (first to last episode year);
    outside them they are missing, not zero."""
    ep = store.query("SELECT episode_id, date, actor, domain, direction, outcome FROM episodes").to_pandas()
    ep = ep[[set(str(a).split("-")) <= {ally_a, ally_b} for a in ep.actor]].copy()  # the two allies' episodes
    ep["year"] = pd.to_datetime(ep["date"]).dt.year
    span = range(int(ep.year.min()), int(ep.year.max()) + 1) if len(ep) else range(0)
    jr = ep[ep.direction.isin(["japan_rok_up", "japan_rok_down"])]
    kv = votes[((votes.a == ally_a) & (votes.b == ally_b)) | ((votes.a == ally_b) & (votes.b == ally_a))]
    years = sorted(set(span) | set(kv.year.astype(int)))
    rows = []
    for y in years:
        e = jr[jr.year == y]
        coded = y in span
        k = kv[kv.year == y]
        rows.append({
            "year": y,
            "episodes_up": int((e.direction == "japan_rok_up").sum()) if coded else None,
            "episodes_down": int((e.direction == "japan_rok_down").sum()) if coded else None,
            "episode_net": int((e.direction == "japan_rok_up").sum() - (e.direction == "japan_rok_down").sum())
            if coded else None,
            "episodes": "; ".join(f"{r.episode_id} {r.direction.removeprefix('japan_rok_')}: {r.outcome}"
                                  for r in e.itertuples()),
            "agreements": "; ".join(f"{r.episode_id} {r.outcome}" for r in e.itertuples()
                                    if r.domain == "japan_rok_cooperation"),
            "vote_kappa": float(k.weight.iloc[0]) if len(k) else None,
            "vote_kappa_lower": float(k.lower.iloc[0]) if len(k) else None,
            "vote_kappa_upper": float(k.upper.iloc[0]) if len(k) else None,
        })
    return pd.DataFrame(rows)


PROXIES = {
    # proxy: (pair: the ally or a role of the theater, sign of the change that raises abandonment fear,
    # description with {backer} and {client} filled from the theater's labels). The names are those of Northeast
    # Asia: us_china_rapprochement is the patron's rapprochement with the great power (the backer) of any theater,
    # us_dprk_rapprochement with the client.
    "us_ally_divergence": ("ally", -1, "US-ally UN vote kappa below its mean of the previous 3 years "
                           "(the patron's votes drifting away from the ally's)"),
    "us_china_rapprochement": ("backer", +1, "US-{backer} UN vote kappa above its mean of the previous 3 years "
                               "(a US-{backer} rapprochement over the allies' heads)"),
    "us_dprk_rapprochement": ("client", +1, "US-{client} UN vote kappa above its mean of the previous 3 years "
                              "(a US-{client} rapprochement over the allies' heads)"),
}


EVENT_PROXY = ("us_cooperation_events", -1, "US-to-ally net cooperation share of events below its mean of the "
               "previous 3 years (the patron's own behaviour toward the ally cooling); only with event data")


def _proxy_rows(series: pd.Series, ally: str, proxy: str, pair: str, sign: int, desc: str,
                trailing: int) -> list[dict]:
    """Change of a yearly series against its mean over the previous ``trailing`` years, standardised."""
    s = series.sort_index()
    if s.empty:
        return []
    full = s.reindex(range(int(s.index.min()), int(s.index.max()) + 1))
    base = full.shift(1).rolling(trailing, min_periods=trailing).mean()
    change = (full - base).dropna()
    sd = change.std(ddof=1)
    rows = []
    for year, ch in change.items():
        z = ch / sd if sd and np.isfinite(sd) and sd > 0 else np.nan
        rows.append({"ally": ally, "year": int(year), "proxy": proxy, "pair": pair, "kappa": float(full[year]),
                     "change": float(ch), "z": z, "signal": sign * z, "description": desc})
    return rows


def abandonment_proxies(votes: pd.DataFrame, theater: Theater, trailing: int = TRAILING_YEARS,
                        us_events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Abandonment-fear proxies per ally and year, from UN vote kappa with the patron (see ``PROXIES``), and,
    when event data are loaded, from the patron's events toward each ally (``EVENT_PROXY``).

    ``change`` is the measure minus its mean over the previous ``trailing`` years (all of them required); ``z``
    is the change over its standard deviation across the years of that series; ``signal = sign x z`` is
    positive when the proxy points to more fear of abandonment. The two rapprochement proxies are the same for
    both allies. (Column ``kappa`` holds the measure itself: kappa, or the net cooperation share for events.)"""
    patron = theater.patron
    roles = {"backer": theater.backer, "client": theater.client}
    names = {"backer": theater.label(theater.backer or ""), "client": theater.label(theater.client or "")}
    rows = []
    for ally in theater.allies:
        for proxy, (other, sign, desc) in PROXIES.items():
            partner = ally if other == "ally" else roles[other]
            desc = desc.format(**names)
            pair = votes[((votes.a == patron) & (votes.b == partner)) | ((votes.a == partner) & (votes.b == patron))]
            rows += _proxy_rows(pair.set_index("year")["weight"], ally, proxy, f"{patron}-{partner}", sign, desc,
                                trailing)
        if us_events is not None and not us_events.empty:
            e = us_events[us_events.ally == ally].set_index("year")["value"]
            rows += _proxy_rows(e, ally, EVENT_PROXY[0], f"{patron}->{ally}", EVENT_PROXY[1], EVENT_PROXY[2],
                                trailing)
    return pd.DataFrame(rows, columns=["ally", "year", "proxy", "pair", "kappa", "change", "z", "signal",
                                       "description"])


def abandonment_fear(proxies: pd.DataFrame) -> pd.DataFrame:
    """Each ally's abandonment fear per year: the mean of its available proxy signals."""
    g = proxies.dropna(subset=["signal"]).groupby(["ally", "year"])
    return g.agg(fear=("signal", "mean"), n_proxies=("signal", "size")).reset_index()


def cha_test(cooperation: pd.DataFrame, fear: pd.DataFrame, allies: tuple[str, str],
             events: pd.DataFrame | None = None, events_status: str = EVENTS_NEEDED,
             level: float = 0.90, pair: str | None = None) -> pd.DataFrame:
    """Cha's quasi-alliance argument (H18): Japan-ROK cooperation rises when both allies fear US abandonment
    and falls when only one does.

    Per year, ``joint = min(fear_a, fear_b)`` of the two allies (how much both fear abandonment) and
    ``asymmetry = |fear_a - fear_b|`` (how much only one does). For each cooperation measure, OLS of cooperation on both:
    Cha predicts a positive ``joint`` and a negative ``asymmetry`` coefficient. Verdicts: supported /
    contradicted when the interval excludes 0 on the predicted / opposite side, else inconclusive; with fewer
    than ``MIN_YEARS`` years (or, for episodes, fewer than ``MIN_EPISODE_YEARS`` years with a coded episode)
    the verdict is "inconclusive: N too small" whatever the estimate. Also the mean cooperation in years when
    both, one or neither ally's fear is above its average. ``pair`` names the two allies in the descriptions
    (default ``A-B``, their codes)."""
    import statsmodels.api as sm

    pair = pair or "-".join(allies)
    wide = fear.pivot(index="year", columns="ally", values="fear")
    wide = wide.dropna(subset=[a for a in allies if a in wide]) if set(allies) <= set(wide) else wide.iloc[:0]
    outcomes = {
        "episode_net": (f"coded {pair} episodes per year, up minus down (1996-2016 coding)", "episode_net"),
        "vote_kappa": (f"{pair} UN vote kappa", "vote_kappa"),
    }
    rows = []
    data = cooperation.set_index("year")
    if events is not None and not events.empty and events["events_net"].notna().any():
        if "events_net" not in data:
            data = data.join(events.set_index("year")[["events_net"]], how="outer")
        outcomes["events_net"] = (f"{pair} events per year, net cooperation share (cooperative minus "
                                  "conflictual over all)" + (", from the ICEWS dyad-year counts (netify)"
                                                             if events_status == AGGREGATE_SOURCE else ""),
                                  "events_net")
    elif events is not None:
        events_status = f"event data are loaded but hold no {pair} event"
    for name, (label, col) in outcomes.items():
        row = {"outcome": name, "description": label}
        if not len(wide) or col not in data:
            rows.append({**row, "n_years": 0, "verdict": "inconclusive: no years with both measures"})
            continue
        d = wide.join(data[[col]], how="inner").dropna()
        d = d.assign(joint=d[list(allies)].min(axis=1), asymmetry=(d[allies[0]] - d[allies[1]]).abs())
        n = len(d)
        row.update({"n_years": n, "years": f"{d.index.min()}-{d.index.max()}" if n else ""})
        both, one = (d[list(allies)] > 0).all(axis=1), (d[list(allies)] > 0).sum(axis=1) == 1
        for grp, mask in (("both", both), ("one", one), ("neither", ~both & ~one)):
            row[f"mean_{grp}"] = float(d.loc[mask, col].mean()) if mask.any() else None
            row[f"n_{grp}"] = int(mask.sum())
        if n >= 4:
            fit = sm.OLS(d[col].astype(float), sm.add_constant(d[["joint", "asymmetry"]])).fit()
            ci = fit.conf_int(alpha=1 - level)
            for term, predicted in (("joint", +1), ("asymmetry", -1)):
                row[f"{term}_coef"] = float(fit.params[term])
                row[f"{term}_lower"] = float(ci.loc[term, 0])
                row[f"{term}_upper"] = float(ci.loc[term, 1])
                row[f"{term}_verdict"] = verdict(float(ci.loc[term, 0]), float(ci.loc[term, 1]), n, predicted, min_n=4)
        nonzero = int((d[col] != 0).sum()) if name == "episode_net" else n
        row["years_with_signal"] = nonzero
        if n < MIN_YEARS or (name == "episode_net" and nonzero < MIN_EPISODE_YEARS):
            row["verdict"] = (f"inconclusive: N too small ({n} years, {nonzero} with a coded episode)"
                              if name == "episode_net" else f"inconclusive: N too small ({n} years)")
        else:
            vj, va = row.get("joint_verdict", "inconclusive"), row.get("asymmetry_verdict", "inconclusive")
            row["verdict"] = ("supported" if vj == va == "supported" else
                              "contradicted" if "contradicted" in (vj, va) and "supported" not in (vj, va) else
                              "mixed" if {vj, va} == {"supported", "contradicted"} else
                              "partly supported" if "supported" in (vj, va) else "inconclusive")
        rows.append(row)
    if "events_net" not in outcomes:
        rows.append({"outcome": "events_net", "description": f"{pair} events per year, net cooperation share",
                     "n_years": 0, "verdict": f"not run: {events_status}"})
    cols = ["outcome", "description", "n_years", "years", "years_with_signal", "joint_coef", "joint_lower",
            "joint_upper", "joint_verdict", "asymmetry_coef", "asymmetry_lower", "asymmetry_upper",
            "asymmetry_verdict", "mean_both", "n_both", "mean_one", "n_one", "mean_neither", "n_neither", "verdict"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for c in ("n_years", "years_with_signal", "n_both", "n_one", "n_neither"):
        out[c] = out[c].astype("Int64")
    return out


# --------------------------------------------------------------------------------------------------------------


class TriangleModel:
    """The signed network of the theater's states, its balance, Japan-ROK cooperation and Cha's test.

    Parameters
    ----------
    theater : the theater (default: Northeast Asia); its patron, allies and threat sources are the nodes.
    source : ``auto`` (monthly event ties when coded events are loaded, else yearly UN-vote ties with
        ideal-point ties for the years after the roll calls end), ``votes``, ``ideal_points`` or ``events``
        (coded events per month; without them, the ICEWS dyad-year counts per year, 2002-2014).
    min_roll_calls : fewest common roll calls for a UN-vote tie.
    """

    SOURCES = ("auto", "votes", "ideal_points", "events")

    def __init__(self, theater: Theater | None = None, source: str = "auto",
                 min_roll_calls: int = MIN_ROLL_CALLS) -> None:
        if source not in self.SOURCES:
            raise ValueError(f"source must be one of {', '.join(self.SOURCES)}, not {source!r}")
        self.theater = theater
        self.source = source
        self.min_roll_calls = min_roll_calls

    def fit(self, store: Store) -> TriangleModel:
        theater = self.theater or load_theater()
        self.theater_ = theater
        states = theater.states
        self.states_ = states
        index, status = event_index(store, states)
        self.events_status_ = status
        self.event_index_ = index
        self.notes_: list[str] = []
        votes = vote_ties(store, states, self.min_roll_calls)
        self.vote_ties_ = votes
        pairs = ideal_point_pairs(store, states)
        self.calibration_ = calibrate(votes, pairs)

        source = self.source
        if source == "events" and index is None:
            raise ValueError(status)
        if source == "auto":
            source = "events" if status == "events" else "votes+ideal_points"
            if status != "events":
                self.notes_.append("No coded events loaded (the default dataset has none), so ties are per year "
                                   "from UN votes, and from calibrated ideal-point distances for the years after "
                                   "the last roll call.")
        if status == AGGREGATE_SOURCE:
            self.notes_.append("Japan-ROK events, the US-to-ally event proxy and, with source='events', the "
                               "ties are per year from the ICEWS dyad-year quad counts (netify, 2002-2014).")
        self.source_ = source
        if source == "events":
            ties = event_ties(index, states)
        elif source == "votes":
            ties = votes
        elif source == "ideal_points":
            ties = ideal_point_ties(pairs, self.calibration_)
        else:
            last_vote_year = int(votes.year.max())
            later = pairs[pairs.year > last_vote_year]
            ties = pd.concat([votes, ideal_point_ties(later, self.calibration_)], ignore_index=True)
        self.ties_ = ties.sort_values(["period", "a", "b"]).reset_index(drop=True)
        self.triads_, self.balance_ = balance_by_period(self.ties_, states)

        x, y = theater.allies[:2]
        self.cooperation_ = japan_rok_cooperation(store, votes, x, y)
        events_year = us_events = None
        if index is not None:
            events_year = events_per_year(index, x, y).rename(columns={"events": "events_n", "coop": "events_coop",
                                                                      "conflict": "events_conflict"})
            self.cooperation_ = (self.cooperation_.merge(events_year, on="year", how="outer")
                                 .sort_values("year").reset_index(drop=True))
            us_events = us_cooperation_events(index, theater.patron, tuple(theater.allies))
        self.proxies_ = abandonment_proxies(votes, theater, us_events=us_events)
        self.fear_ = abandonment_fear(self.proxies_)
        self.cha_ = cha_test(self.cooperation_, self.fear_, (x, y), events_year, status, pair=theater.pair_label(x, y))
        return self

    # ---------------------------------------------------------------------------------------------------------
    def triad(self, name: str) -> pd.DataFrame:
        """One triad over time, e.g. ``triad("PATRON-ALLY-ALLY")`` in the theater's codes (any order of the three
        states)."""
        want = set(name.split("-"))
        t = self.triads_
        return t[t.apply(lambda r: {r.a, r.b, r.c} == want, axis=1)].reset_index(drop=True)
