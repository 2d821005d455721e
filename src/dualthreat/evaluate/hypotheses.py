"""Every proposition of the paper (``HYPOTHESES.md``, H1-H24) tested against the record.

Each test returns a :class:`Result`: an estimate with a 90% interval, a verdict, the number of observations,
the data coverage and a sentence of evidence generated from the numbers. Verdicts follow one rule
(:func:`verdict`): *supported* when the interval excludes zero in the direction the paper claims,
*contradicted* when it excludes zero in the other direction, *inconclusive* otherwise, and always
*inconclusive* when fewer than ``MIN_N`` observations stand behind the estimate. A proposition the data
cannot test says which data would test it. Descriptive propositions about a coded record (e.g. alliance
scope) report the record's value without a sampling interval.

Time-series tests use first differences of annual values (Δalignment on Δthreat), to avoid the spurious
correlation of trending levels, with Newey-West (HAC, 2 lags) standard errors (Newey & West 1987,
*Econometrica* 55(3)). Alignment is the ally's UN ideal-point distance to China minus its distance to the
USA (Bailey, Strezhnev & Voeten 2017): higher means closer to the US relative to China. Threats are the
annual means of the filtered components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dualthreat.model import DualThreatModel
from dualthreat.store import Store

Z90 = 1.6448536269514722
MIN_N = 8
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"


@dataclass
class Result:
    id: str
    claim: str
    verdict: str
    estimate: float | None
    lower: float | None
    upper: float | None
    n: int
    coverage: str
    evidence: str
    test: str
    data_needed: str | None = None
    expected_sign: int = 1  # the sign of the estimate the paper's claim predicts

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("estimate", "lower", "upper"):
            if d[k] is not None and not np.isfinite(d[k]):
                d[k] = None
        return d


def verdict(lower: float | None, upper: float | None, n: int, sign: int = 1) -> str:
    """The one verdict rule: the 90% interval against zero, in the direction ``sign`` the paper claims."""
    if lower is None or upper is None or not np.isfinite(lower) or not np.isfinite(upper) or n < MIN_N:
        return INCONCLUSIVE
    lo, hi = sorted((sign * lower, sign * upper))
    if lo > 0:
        return SUPPORTED
    if hi < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def _fmt(x: float | None) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:+.2f}"


def _interval_text(est: float, lo: float, hi: float) -> str:
    return f"{_fmt(est)} [90% interval {_fmt(lo)}, {_fmt(hi)}]"


def _small_n(n: int) -> str:
    return f" Inconclusive: N = {n} is too small (minimum {MIN_N})." if n < MIN_N else ""


# ------------------------------------------------------------------------------------------------------
# the data behind the tests


class Evidence:
    """The annual panel and the records the tests read, computed once."""

    def __init__(self, model: DualThreatModel, store: Store) -> None:
        self.model, self.store = model, store
        self.theater = model.theater_
        t = model.threats_[model.threats_.estimate == "filtered"].copy()
        t["year"] = t["month"].str[:4].astype(int)
        annual = t.groupby(["ally", "year", "level", "source"])["mean"].mean().reset_index()
        annual["component"] = annual["level"] + "_" + annual["source"]
        panel = annual.pivot_table(index=["ally", "year"], columns="component", values="mean").reset_index()
        m = model.mediator_[model.mediator_.estimate == "filtered"].copy()
        m["year"] = m["month"].str[:4].astype(int)
        panel = panel.merge(m.groupby(["ally", "year"])["mean"].mean().rename("mediator").reset_index(),
                            on=["ally", "year"], how="left")
        p = model.posture_
        gap = p[(p.measure == "alignment_gap") & (p.subset == "ideal_points")][["ally", "year", "value"]]
        panel = panel.merge(gap.rename(columns={"value": "alignment"}), on=["ally", "year"], how="left")
        # complete years only: the last, partial year of the threat series is left out
        last_month = t["month"].max()
        if not last_month.endswith("-12"):
            panel = panel[panel.year < int(last_month[:4])]
        panel["local"] = panel[["local_CHN", "local_PRK"]].mean(axis=1)
        panel["systemic"] = panel[["systemic_CHN", "systemic_PRK"]].mean(axis=1)
        panel["total"] = panel[["local_CHN", "local_PRK", "systemic_CHN", "systemic_PRK"]].mean(axis=1)
        self.panel = panel.sort_values(["ally", "year"]).reset_index(drop=True)
        self.episodes = store.query("SELECT * FROM episodes ORDER BY date").to_pandas()

    def diffs(self, ally: str | None, cols: list[str], y: str = "alignment") -> pd.DataFrame:
        """First differences of ``y`` and ``cols`` within each ally (consecutive years only)."""
        p = self.panel if ally is None else self.panel[self.panel.ally == ally]
        out = []
        for a, g in p.groupby("ally"):
            g = g.sort_values("year")
            d = g[[y, *cols]].diff()
            d["ally"], d["year"] = a, g["year"]
            d = d[g["year"].diff() == 1]
            out.append(d)
        return pd.concat(out).dropna(subset=[y, *cols]) if out else pd.DataFrame()

    def threat_at(self, ally: str, component: str, date: pd.Timestamp) -> float:
        level, source = component.split("_")
        t = self.model.threats_
        row = t[(t.estimate == "filtered") & (t.ally == ally) & (t.level == level) & (t.source == source)
                & (t.month == str(pd.Timestamp(date).to_period("M")))]
        return float(row["mean"].iloc[0]) if len(row) else float("nan")


def ols_contrast(d: pd.DataFrame, y: str, x: list[str], weights: dict[str, float],
                 fixed_effects: bool = False) -> tuple[float, float, float, int, dict[str, float]]:
    """OLS of ``y`` on ``x`` (plus ally dummies when pooled) with HAC standard errors; returns the linear
    combination ``sum(weights[c] * beta_c)`` with its 90% interval, N and the coefficients."""
    import statsmodels.api as sm

    if len(d) < len(x) + 3:
        return float("nan"), float("nan"), float("nan"), len(d), {}
    X = d[x].astype(float)
    if fixed_effects and d["ally"].nunique() > 1:
        X = pd.concat([X, pd.get_dummies(d["ally"], drop_first=True, dtype=float)], axis=1)
    X = sm.add_constant(X, has_constant="add")
    res = sm.OLS(d[y].astype(float), X).fit(cov_type="HAC", cov_kwds={"maxlags": 2})
    w = np.array([weights.get(c, 0.0) for c in X.columns])
    est = float(w @ res.params.to_numpy())
    se = float(np.sqrt(w @ res.cov_params().to_numpy() @ w))
    return est, est - Z90 * se, est + Z90 * se, len(d), {c: float(res.params[c]) for c in x}


def mean_interval(values: pd.Series) -> tuple[float, float, float, int]:
    """Mean of ``values`` with its 90% t interval, and N (interval NaN below two values)."""
    values = values.dropna()
    n = len(values)
    if n < 2:
        return (float(values.mean()) if n else float("nan")), float("nan"), float("nan"), n
    est, se = float(values.mean()), float(values.std(ddof=1) / np.sqrt(n))
    q = stats.t.ppf(0.95, n - 1)
    return est, est - q * se, est + q * se, n


def _years(d: pd.DataFrame) -> str:
    return f"{int(d.year.min())}-{int(d.year.max())}" if len(d) else "no overlapping years"


# ------------------------------------------------------------------------------------------------------
# the tests, one per proposition

def h1(ev: Evidence) -> Result:
    d = ev.diffs(None, ["local", "systemic"])
    est, lo, hi, n, b = ols_contrast(d, "alignment", ["local", "systemic"], {"local": 1, "systemic": -1}, True)
    return Result("H1", "Alignment moves with local threats more than with systemic ones (both allies).",
                  verdict(lo, hi, n), est, lo, hi, n, f"JPN and KOR, {_years(d)}, annual first differences",
                  f"β(local) − β(systemic) = {_interval_text(est, lo, hi)} (β local {_fmt(b.get('local'))}, "
                  f"systemic {_fmt(b.get('systemic'))}) on the UN ideal-point alignment gap." + _small_n(n),
                  "Δalignment ~ Δlocal + Δsystemic + ally FE, HAC(2); contrast β_local − β_systemic > 0")


def h2(ev: Evidence) -> Result:
    d = ev.diffs("JPN", ["local_CHN", "local_PRK"])
    est, lo, hi, n, b = ols_contrast(d, "alignment", ["local_CHN", "local_PRK"], {"local_CHN": 1, "local_PRK": -1})
    post = d[d.year >= 2010]
    _, plo, phi_, pn, pb = ols_contrast(post, "alignment", ["local_CHN", "local_PRK"], {"local_CHN": 1})
    return Result("H2", "Japan's alignment follows its local China threat more than its North Korean threat, "
                  "increasingly after 2010.", verdict(lo, hi, n), est, lo, hi, n, f"JPN, {_years(d)}",
                  f"β(local CHN) − β(local PRK) = {_interval_text(est, lo, hi)}; since 2010 β(local CHN) = "
                  f"{_fmt(pb.get('local_CHN'))} [{_fmt(plo)}, {_fmt(phi_)}] (N = {pn})." + _small_n(n),
                  "Δalignment ~ Δlocal_CHN + Δlocal_PRK (JPN), HAC(2); contrast > 0; the 2010- subsample reported")


def h3(ev: Evidence) -> Result:
    d = ev.diffs("KOR", ["local_PRK", "local_CHN"])
    est, lo, hi, n, b = ols_contrast(d, "alignment", ["local_PRK", "local_CHN"], {"local_PRK": 1, "local_CHN": -1})
    return Result("H3", "South Korea's alignment follows the North Korean threat; China's direct threat has "
                  "little effect.", verdict(lo, hi, n), est, lo, hi, n, f"KOR, {_years(d)}",
                  f"β(local PRK) − β(local CHN) = {_interval_text(est, lo, hi)} (β PRK {_fmt(b.get('local_PRK'))},"
                  f" β CHN {_fmt(b.get('local_CHN'))})." + _small_n(n),
                  "Δalignment ~ Δlocal_PRK + Δlocal_CHN (KOR), HAC(2); contrast > 0")


def h4(ev: Evidence) -> Result:
    out = {}
    for ally in ("KOR", "JPN"):
        d = ev.diffs(ally, ["mediator", "local_PRK"])
        out[ally] = ols_contrast(d, "alignment", ["mediator", "local_PRK"], {"mediator": 1})
    est, lo, hi, n, _ = out["KOR"]
    jest, jlo, jhi, jn, _ = out["JPN"]
    v = verdict(lo, hi, n)
    japan_null = np.isfinite(jlo) and jlo <= 0 <= jhi
    if v == SUPPORTED and not japan_null:
        v = INCONCLUSIVE
    return Result("H4", "For South Korea the North Korean threat works through China (the mediator); for Japan "
                  "it has no effect.", v, est, lo, hi, n, "KOR and JPN, annual first differences",
                  f"Korea: β(mediator) = {_interval_text(est, lo, hi)}; Japan: β(mediator) = "
                  f"{_interval_text(jest, jlo, jhi)} ({'includes' if japan_null else 'excludes'} zero)."
                  + _small_n(n), "Δalignment ~ Δmediator + Δlocal_PRK per ally, HAC(2); Korea's β > 0 and Japan's "
                  "interval including 0")


def _no_data(hid: str, claim: str, needed: str, n: int = 0, coverage: str = "not in the default dataset",
             evidence: str | None = None) -> Callable[[Evidence], Result]:
    def test(ev: Evidence) -> Result:
        return Result(hid, claim, INCONCLUSIVE, None, None, None, n, coverage,
                      evidence or f"The data loaded cannot test this. Needed: {needed}.", "not testable with the "
                      "data loaded", needed)
    return test


h5 = _no_data("H5", "Swings in alliance policy brought by changes of government narrow as external threats rise.",
              "a dated record of governments (party and leader per month, e.g. Archigos/LEAD leader data, ParlGov)"
              " joined to the coded episodes, with enough government changes to estimate swing size against threat")


def h6(ev: Evidence) -> Result:
    eps = ev.episodes[(ev.episodes.direction == "hedge") & (ev.episodes.counterpart == "CHN")]
    changes = []
    for e in eps.itertuples():
        d = pd.Timestamp(e.date)
        ally = e.actor if e.actor in ev.theater.allies else None
        if ally is None:
            continue
        before = ev.threat_at(ally, "local_CHN", d - pd.DateOffset(months=1))
        after = ev.threat_at(ally, "local_CHN", d + pd.DateOffset(months=12))
        if np.isfinite(before) and np.isfinite(after):
            changes.append(after - before)
    est, lo, hi, n = mean_interval(pd.Series(changes, dtype=float))
    return Result("H6", "Rapprochement with Beijing did not reduce China's provocative actions toward the ally.",
                  verdict(lo, hi, n), est, lo, hi, n, f"{n} coded 'hedge' decisions toward China (JPN, KOR)",
                  f"Local China threat 12 months after each rapprochement minus 1 month before: mean "
                  f"{_interval_text(est, lo, hi)} over {n} episodes (a rise supports the claim)." + _small_n(n),
                  "paired change of T[ally, local, CHN] around 'hedge' episodes toward China; mean > 0")


def h7(ev: Evidence) -> Result:
    from dualthreat.model.posture import episode_scope

    s = episode_scope(ev.store)
    last = s.groupby("ally").last()
    if not {"JPN", "KOR"} <= set(last.index):
        return _no_data("H7", "", "alliance-scope decisions of both allies")(ev)
    j, k = last.loc["JPN"], last.loc["KOR"]
    ok = j.regional == 1 and k.regional == 0
    est = float(j.regional - k.regional)
    return Result("H7", "The US-Japan alliance is regional in scope; the US-ROK alliance stays peninsular, with a "
                  "global but not regional agenda.", SUPPORTED if ok else CONTRADICTED, est, None, None, len(s),
                  f"{len(s)} coded alliance-scope decisions", f"Latest coded scope: Japan regional={int(j.regional)}"
                  f" global={int(j['global'])} ({j.episode_id}); Korea regional={int(k.regional)} global="
                  f"{int(k['global'])} ({k.episode_id}). Descriptive: the coded record, no sampling interval.",
                  "the scope coding of the alliance-scope episodes (resources/episode_scope.csv)")


h9 = _no_data("H9", "South Korea fears both abandonment and entrapment; US signals of reduced commitment raise its "
              "abandonment fear.", "a yearly South Korean poll series on US commitment (e.g. Asan or KINU trust in "
              "the US defence commitment) and a coded record of US commitment signals (OPCON delays, reassurance "
              "requests); the curated data hold two years of trust in the US nuclear umbrella (2023, 2024)", n=2,
              coverage="curated kor_trust_us_nuclear_umbrella: 2023, 2024")


def h10(ev: Evidence) -> Result:
    spend = ev.store.query("SELECT year, share_gdp FROM military_spending WHERE iso3 = 'JPN'").to_pandas()
    p = ev.panel[ev.panel.ally == "JPN"].merge(spend, on="year", how="inner").sort_values("year")
    d = p[["share_gdp", "local_CHN"]].diff()
    d["year"], d["ally"] = p["year"], "JPN"
    d = d[p["year"].diff() == 1].dropna()
    est, lo, hi, n, _ = ols_contrast(d, "share_gdp", ["local_CHN"], {"local_CHN": 1})
    return Result("H10", "Japan's security contributions rise with its local China threat.", verdict(lo, hi, n),
                  est, lo, hi, n, f"JPN, {_years(d)}; SIPRI military burden",
                  f"β(local CHN) on Japan's military spending (% of GDP, annual change) = "
                  f"{_interval_text(est, lo, hi)} percentage points per reference SD." + _small_n(n),
                  "Δ(military burden) ~ Δlocal_CHN (JPN), HAC(2); β > 0")


def h11(ev: Evidence) -> Result:
    eps = ev.episodes[(ev.episodes.actor == "KOR") & (ev.episodes.domain == "missile_defense")]
    med = ev.model.mediator_[(ev.model.mediator_.ally == "KOR") & (ev.model.mediator_.estimate == "filtered")]
    vals = {}
    for e in eps.itertuples():
        row = med[med.month == str(pd.Timestamp(e.date).to_period("M"))]
        if len(row):
            vals[(e.episode_id, e.direction)] = float(row["mean"].iloc[0])
    toward = [v for (i, d), v in vals.items() if d == "toward_us"]
    restrained = [v for (i, d), v in vals.items() if d != "toward_us"]
    n = len(vals)
    est = float(np.mean(toward) - np.mean(restrained)) if toward and restrained else float("nan")
    listing = "; ".join(f"{i} ({d}) mediator {_fmt(v)}" for (i, d), v in vals.items())
    return Result("H11", "Seoul's missile-defence steps are restrained while it needs China on North Korea and become "
                  "possible once that hope fails.", INCONCLUSIVE, est, None, None, n,
                  f"{n} Korean missile-defence decisions", f"Mediator at the decisions: {listing}. Difference "
                  f"(toward the US minus restrained) {_fmt(est)}; with N = {n} no interval is meaningful."
                  + _small_n(n), "mediator at Korean missile-defence decisions, by direction",
                  "more coded Korean missile-defence decisions (2016-2017 THAAD deployment steps)")


h12 = _no_data("H12", "Chinese pressure on Seoul over alliance choices backfires: it raises South Korean support for "
               "the alliance.", "dated Chinese pressure events toward South Korea (event data, CAMEO 17x coercion "
               "CHN→KOR, e.g. 2016-2017 THAAD retaliation) and a yearly series of South Korean support for the "
               "alliance (the curated data hold 2019-2020 and bounds only)")


def h13(ev: Evidence) -> Result:
    eps = ev.episodes[ev.episodes.domain == "economic_alignment"]
    j = eps[eps.actor == "JPN"]
    k = eps[eps.actor == "KOR"]
    if j.empty or k.empty:
        return _no_data("H13", "", "economic-alignment decisions of both allies")(ev)
    share_j, share_k = (j.direction == "toward_us").mean(), (k.direction == "toward_us").mean()
    est = float(share_j - share_k)
    ok = share_j == 1 and (k.direction == "hedge").all()
    return Result("H13", "In economic order-building Japan sides with US-led institutions (TPP) and shuns China-led "
                  "ones (AIIB); South Korea joins China-led institutions while staying allied.",
                  SUPPORTED if ok else (CONTRADICTED if est < 0 else INCONCLUSIVE), est, None, None, len(eps),
                  f"{len(eps)} coded economic-alignment decisions",
                  f"Japan toward the US in {int((j.direction == 'toward_us').sum())} of {len(j)} "
                  f"({', '.join(j.episode_id)}); Korea hedging in {int((k.direction == 'hedge').sum())} of {len(k)} "
                  f"({', '.join(k.episode_id)}). Descriptive: the coded record, no sampling interval.",
                  "share of economic-alignment decisions toward the US, Japan minus Korea")


def h14(ev: Evidence) -> Result:
    d = ev.diffs(None, ["total"])
    est, lo, hi, n, _ = ols_contrast(d, "alignment", ["total"], {"total": 1}, True)
    return Result("H14", "Rising external threat moves governments toward the US (and makes open anti-alliance "
                  "platforms rarer).", verdict(lo, hi, n), est, lo, hi, n, f"JPN and KOR, {_years(d)}",
                  f"β(mean of the four threat components) on the alignment gap = {_interval_text(est, lo, hi)}. "
                  "The part on party platforms is not tested (no party-platform data)." + _small_n(n),
                  "Δalignment ~ Δthreat + ally FE, HAC(2); β > 0",
                  "party manifestos (e.g. Manifesto Project) for the anti-alliance-platform part")


h16 = _no_data("H16", "In Japan, local base opposition (Okinawa) persists regardless of national security "
               "consensus.", "protest events against the US in Japan (event data: CAMEO root 14, actor JPN, "
               "target USA, geolocated to Okinawa), loaded with `dualthreat ingest gdelt` or `fetch gdelt`")


def h17(ev: Evidence) -> Result:
    pew = ev.store.query("SELECT wave, target, pct_favorable FROM pew_favorability WHERE respondent_iso3 = 'KOR' "
                         "AND quality_flag IS NULL AND target IN ('USA', 'CHN', 'JPN', 'RUS')").to_pandas()
    w = pew.pivot_table(index="wave", columns="target", values="pct_favorable")
    others = [c for c in ("CHN", "JPN", "RUS") if c in w.columns]
    if "USA" not in w.columns or not others:
        return _no_data("H17", "", "Pew favourability of the US and other powers among South Koreans")(ev)
    diff = (w["USA"] - w[others].max(axis=1)).dropna()
    est, lo, hi, n = mean_interval(diff)
    most = int((diff > 0).sum())
    return Result("H17", "South Koreans view the US most favourably of the major powers (and prefer it to China as "
                  "a future partner, while seeing the relationship as unequal).", verdict(lo, hi, n), est, lo, hi, n,
                  f"Pew waves {int(diff.index.min())}-{int(diff.index.max())} (2013 China item excluded)",
                  f"Favourable view of the US minus the most favourably viewed other power: {_interval_text(est, lo, hi)}"
                  f" points; the US first in {most} of {n} waves. The 'future partner' and 'unequal' parts need "
                  "other poll items." + _small_n(n), "mean over waves of %fav(US) − max %fav(CHN, JPN, RUS); > 0",
                  "poll items on the preferred future partner and on the equality of the relationship (e.g. Asan)")


def _episode_share(ev: Evidence, driver: str) -> Result:
    eps = ev.episodes[ev.episodes.direction.isin(["japan_rok_up", "japan_rok_down"])]
    has = eps.framework_drivers.fillna("").str.contains(driver)
    up, down = eps.direction == "japan_rok_up", eps.direction == "japan_rok_down"
    a, b = int((has & up).sum()), int((has & down).sum())
    table = [[a, int(up.sum()) - a], [b, int(down.sum()) - b]]
    share_up = a / max(int(up.sum()), 1)
    share_down = b / max(int(down.sum()), 1)
    _, p = stats.fisher_exact(table) if up.sum() and down.sum() else (None, float("nan"))
    return share_up, share_down, len(eps), p, table


def h19(ev: Evidence) -> Result:
    su, sd, n, p, t = _episode_share(ev, "identity_history")
    est = sd - su
    return Result("H19", "History and identity disputes depress Japan-ROK security cooperation.", INCONCLUSIVE
                  if n < MIN_N else (SUPPORTED if p < 0.1 and est > 0 else INCONCLUSIVE), est, None, None, n,
                  f"{n} coded Japan-ROK cooperation decisions",
                  f"Identity/history named as a driver in {t[1][0]} of {t[1][0] + t[1][1]} setbacks and {t[0][0]} of "
                  f"{t[0][0] + t[0][1]} advances (difference {_fmt(est)}, Fisher exact p = {p:.2f})." + _small_n(n),
                  "share of setbacks vs advances with identity_history among the drivers; Fisher's exact test")


def h20(ev: Evidence) -> Result:
    su, sd, n, p, t = _episode_share(ev, "us_pressure")
    est = su - sd
    return Result("H20", "US pressure raises Japan-ROK cooperation.", INCONCLUSIVE if n < MIN_N else
                  (SUPPORTED if p < 0.1 and est > 0 else INCONCLUSIVE), est, None, None, n,
                  f"{n} coded Japan-ROK cooperation decisions",
                  f"US pressure named as a driver in {t[0][0]} of {t[0][0] + t[0][1]} advances and {t[1][0]} of "
                  f"{t[1][0] + t[1][1]} setbacks (difference {_fmt(est)}, Fisher exact p = {p:.2f})." + _small_n(n),
                  "share of advances vs setbacks with us_pressure among the drivers; Fisher's exact test")


def h21(ev: Evidence) -> Result:
    eps = ev.episodes[ev.episodes.direction == "japan_rok_up"]
    vals = [np.nanmean([ev.threat_at(a, "local_PRK", e.date) for a in ("JPN", "KOR")]) for e in eps.itertuples()]
    vals = [v for v in vals if np.isfinite(v)]
    n = len(vals)
    est = float(np.mean(vals)) if n else float("nan")
    return Result("H21", "A shared North Korean threat is the most likely basis of trilateral cooperation; closer "
                  "trilateral ties raise China's sense of encirclement.", INCONCLUSIVE, est, None, None, n,
                  f"{n} coded Japan-ROK advances", f"Mean local North Korean threat to the two allies at their "
                  f"cooperation steps: {_fmt(est)} (reference mean 0)." + _small_n(n) + " The encirclement part "
                  "needs Chinese hostile actions toward the three (event data).",
                  "T[local, PRK] at Japan-ROK advances against its reference mean",
                  "more coded trilateral steps, and event data (CHN→USA/JPN/KOR material conflict) for the second part")


def h23(ev: Evidence) -> Result:
    from dualthreat.model.mediator import backing_by_year

    pew = ev.store.query("SELECT wave AS year, pct_favorable FROM pew_favorability WHERE respondent_iso3 = 'KOR' "
                         "AND target = 'CHN' AND quality_flag IS NULL AND pct_favorable IS NOT NULL").to_pandas()
    b = backing_by_year(ev.model.backing_)
    m = pew.merge(b, on="year").dropna()
    n = len(m)
    if n < 3:
        return _no_data("H23", "", "Pew South Korean views of China and China's stance toward the North", n)(ev)
    r = float(np.corrcoef(m["pct_favorable"], m["backing"])[0, 1])
    z, se = np.arctanh(r), 1 / np.sqrt(max(n - 3, 1))
    lo, hi = float(np.tanh(z - Z90 * se)), float(np.tanh(z + Z90 * se))
    return Result("H23", "South Korea's view of China follows China's role on reunification: when China is seen as an "
                  "obstacle (backing the North), South Korean views of China worsen.", verdict(lo, hi, n, sign=-1),
                  r, lo, hi, n, f"Pew waves {int(m.year.min())}-{int(m.year.max())}",
                  f"Correlation of South Koreans' favourable view of China with China's backing of North Korea (the model's backing_):"
                  f" r = {_interval_text(r, lo, hi)} (the claim expects r < 0)." + _small_n(n),
                  "Pearson r (Fisher z interval) of %fav(CHN) among Koreans and China's backing of the DPRK",
                  expected_sign=-1)


def h24(ev: Evidence) -> Result:
    aff = ev.store.query(
        "SELECT year(end_date) AS year, avg(value) AS affinity FROM indicators WHERE series = "
        "'cabinet_office_affinity' AND actor = 'JPN' AND target = 'KOR' AND status <> 'preliminary' "
        "GROUP BY ALL").to_pandas()
    p = ev.panel[ev.panel.ally == "JPN"].copy()
    p["external"] = p[["local_CHN", "local_PRK"]].mean(axis=1)
    m = aff.merge(p[["year", "external"]], on="year").dropna()
    n = len(m)
    if n < 3:
        return _no_data("H24", "", "Japanese views of Korea over time", n)(ev)
    r = float(np.corrcoef(m["affinity"], m["external"])[0, 1])
    z, se = np.arctanh(r), 1 / np.sqrt(max(n - 3, 1))
    lo, hi = float(np.tanh(z - Z90 * se)), float(np.tanh(z + Z90 * se))
    return Result("H24", "The identity gap between Japan and Korea narrows when external security pressure rises.",
                  verdict(lo, hi, n), r, lo, hi, n, f"Cabinet Office surveys {int(m.year.min())}-{int(m.year.max())}",
                  f"Correlation of Japanese affinity with South Korea (Cabinet Office) with Japan's local threat "
                  f"(China and North Korea): r = {_interval_text(r, lo, hi)}. Korean views of Japan are too sparse "
                  "in the data for the other side." + _small_n(n),
                  "Pearson r (Fisher z interval), affinity JPN→KOR vs mean local threat to Japan; r > 0",
                  "a yearly Korean poll of views of Japan (e.g. Asan or EAI-Genron) for the Korean side")


TESTS: list[Callable[[Evidence], Result]] = [h1, h2, h3, h4, h5, h6, h7, h9, h10, h11, h12, h13, h14, h16, h17,
                                             h19, h20, h21, h23, h24]


def evaluate_hypotheses(store: Store, model: DualThreatModel | None = None,
                        extra: list[Callable[[Evidence], Result]] | None = None) -> list[Result]:
    """Every hypothesis, in order H1..H24."""
    if model is None:
        model = DualThreatModel().fit(store)
    ev = Evidence(model, store)
    results = []
    for test in TESTS + list(extra or []) + _late_tests():
        try:
            results.append(test(ev))
        except Exception as exc:  # noqa: BLE001 - one failing test must not hide the others; it is reported
            name = getattr(test, "__name__", "H?").upper()
            results.append(Result(name, "", INCONCLUSIVE, None, None, None, 0, "error",
                                  f"The test failed to run: {type(exc).__name__}: {exc}", "error"))
    return sorted(results, key=lambda r: int(r.id[1:]) if r.id[1:].isdigit() else 99)


def _late_tests() -> list[Callable[[Evidence], Result]]:
    """Tests that rest on the text and home-front measures (H8, H15, H18, H22)."""
    from dualthreat.evaluate import hypotheses_home

    return hypotheses_home.TESTS
