"""Every proposition of the paper (``HYPOTHESES.md``, H1-H24) tested against the record, by one rule.

:data:`REGISTRY` lists one :class:`Hypothesis` per proposition: its claim and its test. A test returns a
:class:`~dualthreat.evaluate.results.Finding` (``interval``, ``descriptive`` or ``untestable``);
:func:`evaluate_hypotheses` runs them all (a crash becomes an ``error`` row), adjusts the p-values of all
interval tests together (Benjamini-Hochberg) and gives each row its verdict by
:func:`dualthreat.stats.verdict` (see :mod:`dualthreat.evaluate.results`). Each test is rerun on the years
the paper drew on (1996-2015) and on the years after it (2016 on, a real test of its predictions) where the
data allow; each period is its own multiple-testing family. The method and the reasons for each
operationalisation are in ``docs/hypotheses.md``.

Time-series tests use first differences of annual values (Δalignment on Δthreat), to avoid the spurious
correlation of trending levels, with Newey-West or Driscoll-Kraay errors (:mod:`.regression`). Alignment is
the ally's UN ideal-point distance to China minus its distance to the USA (Bailey, Strezhnev & Voeten 2017):
higher means closer to the US relative to China. Threats are the annual means of the filtered components.
Claims of "no effect" are tested for equivalence within ``EQUIVALENCE_MARGIN`` standard deviations (TOST).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from dualthreat.evaluate import hypotheses_home as home
from dualthreat.evaluate.evidence import Evidence, years_text
from dualthreat.evaluate.regression import nan_estimate, ols
from dualthreat.evaluate.results import (Finding, HypothesisTable, Part, assemble, descriptive_finding,
                                         error_finding, fmt, interval_finding, interval_text, period_summary,
                                         record, untestable)
from dualthreat.model import DualThreatModel
from dualthreat.stats import (CONTRADICTED, INCONCLUSIVE, MIN_N, NEGATIVE, POSITIVE, SUPPORTED, UNTESTABLE,
                              correlation, equivalence, mean_interval, newcombe_difference, non_inferiority, verdict,
                              welch_interval)
from dualthreat.store import Store

EQUIVALENCE_MARGIN = 0.3  # "no effect": |standardised effect| < 0.3 SD (below a medium effect, Cohen 1988)
POST_2010 = 2010  # H2: "increasingly so after 2010" (the differences ending in 2010 on)
PERIODS: tuple[tuple[str, int | None, int | None], ...] = (("1996-2015", 1996, 2015), ("2016-", 2016, None))
PROVOKING_DOMAINS = ("missile_defense", "alliance_scope", "alliance_contribution")  # H11

__all__ = ["CONTRADICTED", "EQUIVALENCE_MARGIN", "INCONCLUSIVE", "MIN_N", "PERIODS", "REGISTRY", "SUPPORTED",
           "UNTESTABLE", "Evidence", "Hypothesis", "HypothesisTable", "collect_findings", "evaluate_hypotheses",
           "run_tests", "tabulate", "verdict"]


@dataclass(frozen=True)
class Hypothesis:
    """One proposition: its claim and its test. ``uses_model``: the test reads the threat model's fit (the
    sensitivity analysis reruns only these); ``splits``: the test can be rerun on each of :data:`PERIODS`."""

    id: str
    claim: str
    test: Callable[[Evidence], Finding]
    uses_model: bool = True
    splits: bool = True


# ------------------------------------------------------------------------------------------------------
# threats and alignment


def h1(ev: Evidence) -> Finding:
    if ev.systemic_common():
        return untestable(
            "ally-specific systemic indicators (each ally's own polls on China's power and military as a threat, "
            "its own elite salience of China's rise), so that Japan's and Korea's systemic components differ",
            coverage="JPN and KOR: the two systemic components are the same series",
            evidence="Japan's and Korea's systemic components are the same series (the theater feeds both from the "
                     "same material indicators), so a systemic effect cannot be told apart from any shock common to "
                     "both allies' UN voting: β(local) − β(systemic) is not identified.")
    d = ev.diffs(None, ["local", "systemic"])
    w = d.pivot_table(index="year", columns="ally", values=["alignment", "local", "systemic"])
    allies = list(ev.theater.allies)[:2]
    dd = pd.DataFrame({c: w[c][allies[0]] - w[c][allies[1]] for c in ("alignment", "local", "systemic")}).dropna()
    dd["year"] = dd.index
    fit = ols(dd, "alignment", ["local", "systemic"])
    e = fit.combination({"local": 1, "systemic": -1}) if fit else nan_estimate(len(dd))
    b = (fit.coef("local"), fit.coef("systemic")) if fit else (np.nan, np.nan)
    return interval_finding(
        [Part("β(local) − β(systemic)", e, POSITIVE)], f"{allies[0]} minus {allies[1]}, {years_text(dd)}",
        f"β(local) − β(systemic) = {interval_text(e)} (β local {fmt(b[0])}, systemic {fmt(b[1])}), from the "
        "difference between the allies in the same year, on the UN ideal-point alignment gap.",
        f"Δalignment({allies[0]}) − Δalignment({allies[1]}) ~ the same difference of Δlocal and Δsystemic, "
        "HAC(2); contrast β_local − β_systemic > 0 (shocks common to both allies cancel)")


def h2(ev: Evidence) -> Finding:
    d = ev.diffs("JPN", ["local_CHN", "local_PRK"])
    fit = ols(d, "alignment", ["local_CHN", "local_PRK"])
    e = fit.combination({"local_CHN": 1, "local_PRK": -1}) if fit else nan_estimate(len(d))
    post = (d["year"] >= POST_2010).astype(float)
    fit2 = ols(d, "alignment", ["local_CHN", "local_PRK"], interactions={"local_CHN_post": d["local_CHN"] * post})
    e2 = fit2.combination({"local_CHN_post": 1}) if fit2 else nan_estimate(len(d))
    return interval_finding(
        [Part("β(local CHN) − β(local PRK)", e, POSITIVE),
         Part(f"β(local CHN) since {POST_2010} − before", e2, POSITIVE)], f"JPN, {years_text(d)}",
        f"β(local CHN) − β(local PRK) = {interval_text(e)}; the China slope since {POST_2010} minus before: "
        f"{interval_text(e2)}.",
        f"Δalignment ~ Δlocal_CHN + Δlocal_PRK (JPN), HAC(2): contrast > 0; and with Δlocal_CHN × (year ≥ "
        f"{POST_2010}): interaction > 0")


def h3(ev: Evidence) -> Finding:
    d = ev.diffs("KOR", ["local_PRK", "local_CHN"])
    fit = ols(d, "alignment", ["local_PRK", "local_CHN"])
    e = fit.combination({"local_PRK": 1}) if fit else nan_estimate(len(d))
    eq = fit.combination({"local_CHN": 1}, scale=fit.standard_scale()) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part("β(local PRK)", e, POSITIVE),
         Part("β(local CHN), standardised", eq, equivalence(EQUIVALENCE_MARGIN))], f"KOR, {years_text(d)}",
        f"β(local PRK) = {interval_text(e)}; China's direct effect, standardised, {interval_text(eq)} against an "
        f"equivalence margin of ±{EQUIVALENCE_MARGIN} SD.",
        f"Δalignment ~ Δlocal_PRK + Δlocal_CHN (KOR), HAC(2); β_PRK > 0 and |β_CHN| < {EQUIVALENCE_MARGIN} SD "
        "(TOST)")


def h4(ev: Evidence) -> Finding:
    d = ev.diffs(None, ["mediator", "local_PRK"])
    d = d[d.ally.isin(["KOR", "JPN"])]
    inter = {f"{c}_{a}": d[c] * (d["ally"] == a) for c in ("mediator", "local_PRK") for a in ("KOR", "JPN")}
    fit = ols(d, "alignment", [], fixed_effects=True, interactions=inter) if d.ally.nunique() == 2 else None
    if fit is None:
        e, eq = nan_estimate(len(d)), nan_estimate(int((d.ally == "JPN").sum()))
        kor = jpn = np.nan
    else:
        e = fit.combination({"mediator_KOR": 1, "mediator_JPN": -1})
        j = d[d.ally == "JPN"]
        scale = float(j["mediator"].std(ddof=1) / j["alignment"].std(ddof=1))
        eq = dataclasses.replace(fit.combination({"mediator_JPN": 1}, scale={"mediator_JPN": scale}), n=len(j))
        kor, jpn = fit.coef("mediator_KOR"), fit.coef("mediator_JPN")
    return interval_finding(
        [Part("β(mediator, KOR) − β(mediator, JPN)", e, POSITIVE),
         Part("β(mediator, JPN), standardised", eq, equivalence(EQUIVALENCE_MARGIN))],
        f"KOR and JPN, {years_text(d)}, annual first differences",
        f"Korea's mediator effect minus Japan's: {interval_text(e)} (Korea {fmt(kor)}, Japan {fmt(jpn)}); Japan's, "
        f"standardised: {interval_text(eq)} against ±{EQUIVALENCE_MARGIN} SD.",
        "Δalignment ~ ally FE + Δmediator and Δlocal_PRK with a slope per ally, Driscoll-Kraay(2); "
        f"β_KOR − β_JPN > 0 and |β_JPN| < {EQUIVALENCE_MARGIN} SD (TOST)")


def h6(ev: Evidence) -> Finding:
    eps = ev.episodes[(ev.episodes.direction == "hedge") & (ev.episodes.counterpart == "CHN")]
    changes = []
    for e in eps.itertuples():
        if e.actor not in ev.theater.allies:
            continue
        d = pd.Timestamp(e.date)
        before = ev.threat_at(e.actor, "local_CHN", d - pd.DateOffset(months=1))
        after = ev.threat_at(e.actor, "local_CHN", d + pd.DateOffset(months=12))
        if np.isfinite(before) and np.isfinite(after):
            changes.append(after - before)
    est = mean_interval(changes)
    return interval_finding(
        [Part("mean change of T[local, CHN]", est, non_inferiority(EQUIVALENCE_MARGIN))],
        f"{est.n} coded 'hedge' decisions toward China (JPN, KOR)",
        f"Local China threat 12 months after each rapprochement minus 1 month before: mean {interval_text(est)} "
        f"over {est.n} episodes, in reference SDs (no fall means above −{EQUIVALENCE_MARGIN}).",
        f"paired change of T[ally, local, CHN] around 'hedge' episodes toward China; non-inferiority, mean > "
        f"−{EQUIVALENCE_MARGIN} SD")


def h7(ev: Evidence) -> Finding:
    from dualthreat.model.posture import episode_scope

    s = episode_scope(ev.store)
    s = ev.keep(s.assign(year=pd.to_datetime(s["date"]).dt.year))
    last = s.groupby("ally").last()
    if not {"JPN", "KOR"} <= set(last.index):
        return untestable("coded alliance-scope decisions of both allies in the period",
                          coverage=f"{len(s)} coded alliance-scope decisions")
    j, k = last.loc["JPN"], last.loc["KOR"]
    value = float(j.regional - k.regional)
    return descriptive_finding(
        [Part("regional scope, Japan − Korea (latest coding)", record(value, len(s)), POSITIVE)],
        f"{len(s)} coded alliance-scope decisions",
        f"Latest coded scope: Japan regional={int(j.regional)} global={int(j['global'])} ({j.episode_id}); Korea "
        f"regional={int(k.regional)} global={int(k['global'])} ({k.episode_id}): difference {fmt(value)}. "
        "Descriptive: the coded record, no sampling interval.",
        "the scope coding of the alliance-scope episodes (resources/episode_scope.csv)",
        "at least 8 coded alliance-scope decisions (statements and agreements on the alliances' reach)")


def h10(ev: Evidence) -> Finding:
    spend = ev.store.query("SELECT year, share_gdp FROM military_spending WHERE iso3 = 'JPN'").to_pandas()
    p = ev.panel[ev.panel.ally == "JPN"].merge(spend, on="year", how="inner")
    d = ev.diffs("JPN", ["local_CHN"], y="share_gdp", panel=p)
    fit = ols(d, "share_gdp", ["local_CHN"])
    e = fit.combination({"local_CHN": 1}) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part("β(local CHN)", e, POSITIVE)], f"JPN, {years_text(d)}; SIPRI military burden",
        f"β(local CHN) on Japan's military spending (% of GDP, annual change) = {interval_text(e)} percentage "
        "points per reference SD.", "Δ(military burden) ~ Δlocal_CHN (JPN), HAC(2); β > 0")


def h11(ev: Evidence) -> Finding:
    eps = ev.episodes[(ev.episodes.actor == "KOR") & ev.episodes.domain.isin(PROVOKING_DOMAINS)]
    vals = [(e.episode_id, e.direction, ev.mediator_at("KOR", e.date)) for e in eps.itertuples()]
    vals = [v for v in vals if np.isfinite(v[2])]
    toward = [v for _, d, v in vals if d == "toward_us"]
    other = [v for _, d, v in vals if d != "toward_us"]
    e = welch_interval(toward, other)
    listing = "; ".join(f"{i} ({d}) {fmt(v)}" for i, d, v in vals)
    return interval_finding(
        [Part("mediator: toward the US − restrained", e, POSITIVE)],
        f"{len(vals)} Korean decisions that could provoke Beijing ({', '.join(PROVOKING_DOMAINS)})",
        f"Mediator (North Korean threat × China's backing of Pyongyang) at Korea's steps toward the US minus at "
        f"its restrained or hedging ones: {interval_text(e)} ({len(toward)} toward the US, {len(other)} "
        f"restrained; {listing}).",
        "Welch t interval of the mediator at Korean missile-defence, alliance-scope and contribution decisions, "
        "toward the US minus the others; > 0",
        "more coded Korean decisions of these kinds, above all the 2016-2017 THAAD deployment steps")


def h13(ev: Evidence) -> Finding:
    eps = ev.episodes[ev.episodes.domain == "economic_alignment"]
    j, k = eps[eps.actor == "JPN"], eps[eps.actor == "KOR"]
    if j.empty or k.empty:
        return untestable("economic-alignment decisions of both allies in the period",
                          coverage=f"{len(eps)} coded economic-alignment decisions")
    share_j, share_k = (j.direction == "toward_us").mean(), (k.direction == "toward_us").mean()
    value = float(share_j - share_k)
    return descriptive_finding(
        [Part("share toward the US, Japan − Korea", record(value, len(eps)), POSITIVE)],
        f"{len(eps)} coded economic-alignment decisions",
        f"Japan toward the US in {int((j.direction == 'toward_us').sum())} of {len(j)} ({', '.join(j.episode_id)});"
        f" Korea hedging in {int((k.direction == 'hedge').sum())} of {len(k)} ({', '.join(k.episode_id)}): "
        f"difference {fmt(value)}. Descriptive: the coded record, no sampling interval.",
        "share of economic-alignment decisions toward the US, Japan minus Korea",
        "at least 8 coded economic-alignment decisions (institution memberships: TPP/CPTPP, AIIB, RCEP, IPEF)")


def h14(ev: Evidence) -> Finding:
    d = ev.diffs(None, ["total"])
    fit = ols(d, "alignment", ["total"], fixed_effects=True)
    e = fit.combination({"total": 1}) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part("β(threat)", e, POSITIVE)], f"JPN and KOR, {years_text(d)}",
        f"β(mean of the four threat components) on the alignment gap = {interval_text(e)}. The part on party "
        "platforms is not tested (no party-platform data).",
        "Δalignment ~ Δthreat + ally FE, Driscoll-Kraay(2); β > 0",
        "party manifestos (e.g. Manifesto Project) for the anti-alliance-platform part")


def h17(ev: Evidence) -> Finding:
    pew = ev.store.query("SELECT wave AS year, target, pct_favorable FROM pew_favorability WHERE respondent_iso3 = "
                         "'KOR' AND quality_flag IS NULL AND target IN ('USA', 'CHN', 'JPN', 'RUS')").to_pandas()
    w = ev.keep(pew).pivot_table(index="year", columns="target", values="pct_favorable")
    others = [c for c in ("CHN", "JPN", "RUS") if c in w.columns]
    if "USA" not in w.columns or not others:
        return untestable("Pew favourability of the US and other powers among South Koreans in the period")
    diff = (w["USA"] - w[others].max(axis=1)).dropna()
    e = mean_interval(diff)
    return interval_finding(
        [Part("%fav(US) − max %fav(other)", e, POSITIVE)],
        f"Pew waves {years_text(diff.reset_index())} (2013 China item excluded)",
        f"Favourable view of the US minus the most favourably viewed other power: {interval_text(e)} points; the "
        f"US first in {int((diff > 0).sum())} of {e.n} waves. The 'future partner' and 'unequal' parts need other "
        "poll items.", "mean over waves of %fav(US) − max %fav(CHN, JPN, RUS); > 0",
        "poll items on the preferred future partner and on the equality of the relationship (e.g. Asan)")


# ------------------------------------------------------------------------------------------------------
# the triangle


def _episode_share(ev: Evidence, driver: str, claim_up: bool) -> Finding:
    eps = ev.episodes[ev.episodes.direction.isin(["japan_rok_up", "japan_rok_down"])]
    has = eps.framework_drivers.fillna("").str.contains(driver)
    up, down = eps.direction == "japan_rok_up", eps.direction == "japan_rok_down"
    a, nu, b, nd = int((has & up).sum()), int(up.sum()), int((has & down).sum()), int(down.sum())
    # the share among the outcomes the claim says the driver brings, minus among the others
    e = newcombe_difference(a, nu, b, nd) if claim_up else newcombe_difference(b, nd, a, nu)
    p = float(sps.fisher_exact([[a, nu - a], [b, nd - b]])[1]) if nu and nd else float("nan")
    first, second = ("advances", "setbacks") if claim_up else ("setbacks", "advances")
    return interval_finding(
        [Part(f"share naming {driver}: {first} − {second}", e, POSITIVE, p_value=p)],
        f"{len(eps)} coded Japan-ROK cooperation decisions",
        f"{driver} named as a driver in {a} of {nu} advances and {b} of {nd} setbacks: difference "
        f"{interval_text(e)} (Newcombe), Fisher exact p = {p:.2f}.",
        f"share of {first} vs {second} with {driver} among the drivers: Newcombe interval of the difference, "
        "Fisher's exact p", "more coded Japan-ROK cooperation decisions (at least 8), with their drivers")


def h19(ev: Evidence) -> Finding:
    return _episode_share(ev, "identity_history", claim_up=False)


def h20(ev: Evidence) -> Finding:
    return _episode_share(ev, "us_pressure", claim_up=True)


def h21(ev: Evidence) -> Finding:
    coop = ev.triangle().cooperation_[["year", "vote_kappa"]].dropna()
    shared = ev.panel[ev.panel.ally.isin(["JPN", "KOR"])].groupby("year")["local_PRK"].mean()
    p = coop.merge(shared.rename("shared_prk").reset_index(), on="year").assign(ally="JPN-KOR")
    d = ev.diffs("JPN-KOR", ["shared_prk"], y="vote_kappa", panel=p)
    fit = ols(d, "vote_kappa", ["shared_prk"])
    e = fit.combination({"shared_prk": 1}) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part("β(shared North Korean threat)", e, POSITIVE)], f"Japan-ROK UN vote kappa, {years_text(d)}",
        f"Japan-ROK cooperation (UN vote kappa, annual change) on the mean local North Korean threat to the two: "
        f"{interval_text(e)} per reference SD. The encirclement part (China's hostility toward the three) is not "
        "tested.", "Δkappa(JPN, KOR) ~ Δ mean(T[JPN, local, PRK], T[KOR, local, PRK]), HAC(2); β > 0",
        "event data (CHN→USA/JPN/KOR material conflict, e.g. ICEWS or GDELT) against trilateral steps, for the "
        "encirclement part")


# ------------------------------------------------------------------------------------------------------
# identity


def _wave_changes(values: pd.DataFrame, col: str) -> pd.DataFrame:
    """Changes between consecutive available waves (``year`` sorted), with the span they cover."""
    v = values.sort_values("year")
    return pd.DataFrame({"year": v["year"], "d_" + col: v[col].diff(), "span": v["year"].diff()}).dropna()


def h23(ev: Evidence) -> Finding:
    from dualthreat.model.mediator import backing_by_year

    pew = ev.store.query("SELECT wave AS year, pct_favorable FROM pew_favorability WHERE respondent_iso3 = 'KOR' "
                         "AND target = 'CHN' AND quality_flag IS NULL AND pct_favorable IS NOT NULL").to_pandas()
    b = backing_by_year(ev.model.backing_)  # the model's latent backing of Pyongyang, as of its data
    # Pew fieldwork is in spring, a year's UN votes end in December: the wave is set against the year before
    m = pew.merge(b.assign(year=b["year"] + 1)[["year", "backing"]], on="year").dropna()
    ch = ev.keep(_wave_changes(m, "pct_favorable").merge(_wave_changes(m, "backing")[["year", "d_backing"]],
                                                          on="year"))
    e = correlation(ch["d_pct_favorable"], ch["d_backing"])
    return interval_finding(
        [Part("r(Δ%fav China, Δbacking)", e, NEGATIVE)], f"Pew waves, changes {years_text(ch)}",
        f"Correlation of the change in South Koreans' favourable view of China between consecutive Pew waves with "
        f"the change in China's UN closeness to North Korea the year before each wave: r = {interval_text(e)} "
        f"over {e.n} changes (the claim expects r < 0).",
        "Pearson r (Fisher z interval) of changes between consecutive waves: %fav(CHN) among Koreans against "
        "China's backing of the DPRK in the year before the wave; r < 0",
        "a yearly Korean poll item on China's role in reunification (e.g. KINU unification survey)")


def h24(ev: Evidence) -> Finding:
    aff = ev.store.query(
        "SELECT year(end_date) AS year, avg(value) AS affinity FROM indicators WHERE series = "
        "'cabinet_office_affinity' AND actor = 'JPN' AND target = 'KOR' AND status <> 'preliminary' "
        "GROUP BY ALL").to_pandas()
    p = ev.panel[ev.panel.ally == "JPN"][["year", "local_CHN", "local_PRK"]].copy()
    p["external"] = p[["local_CHN", "local_PRK"]].mean(axis=1)
    m = aff.merge(p[["year", "external"]], on="year").dropna()
    ch = ev.keep(_wave_changes(m, "affinity").merge(_wave_changes(m, "external")[["year", "d_external"]],
                                                     on="year"))
    e = correlation(ch["d_affinity"], ch["d_external"])
    return interval_finding(
        [Part("r(Δaffinity with Korea, Δexternal threat)", e, POSITIVE)],
        f"Cabinet Office surveys, changes {years_text(ch)}",
        f"Correlation of the change in Japanese affinity with South Korea (Cabinet Office) between consecutive "
        f"surveys with the change in Japan's local threat (China and North Korea) over the same span: r = "
        f"{interval_text(e)} over {e.n} changes (the claim expects r > 0).",
        "Pearson r (Fisher z interval) of changes between consecutive surveys, affinity JPN→KOR against the mean "
        "local threat to Japan; r > 0",
        "an elite-level yearly measure of each government's stance toward the other (e.g. coded leader "
        "statements), and a yearly Korean poll of views of Japan, for the elite level and the Korean side")


# ------------------------------------------------------------------------------------------------------
# the registry


def _untestable(needed: str, coverage: str = "not in the default dataset") -> Callable[[Evidence], Finding]:
    def test(ev: Evidence) -> Finding:
        return untestable(needed, coverage)
    return test


REGISTRY: tuple[Hypothesis, ...] = (
    Hypothesis("H1", "Alignment moves with local threats more than with systemic ones (both allies).", h1),
    Hypothesis("H2", "Japan's alignment follows its local China threat more than its North Korean threat, "
               "increasingly after 2010.", h2),
    Hypothesis("H3", "South Korea's alignment follows the North Korean threat; China's direct threat has little "
               "effect.", h3),
    Hypothesis("H4", "For South Korea the North Korean threat works through China (the mediator); for Japan it has "
               "no effect.", h4),
    Hypothesis("H5", "Swings in alliance policy brought by changes of government narrow as external threats rise.",
               _untestable("a dated record of governments (party and leader per month, e.g. Archigos/LEAD leader "
                           "data, ParlGov) joined to the coded episodes, with enough government changes to estimate "
                           "swing size against threat"), uses_model=False, splits=False),
    Hypothesis("H6", "Rapprochement with Beijing did not reduce China's provocative actions toward the ally.", h6),
    Hypothesis("H7", "The US-Japan alliance is regional in scope; the US-ROK alliance stays peninsular, with a "
               "global but not regional agenda.", h7, uses_model=False),
    Hypothesis("H8", home.CLAIM_8, home.h8, uses_model=False),
    Hypothesis("H9", "South Korea fears both abandonment and entrapment; US signals of reduced commitment raise its "
               "abandonment fear.",
               _untestable("a yearly South Korean poll series on US commitment (e.g. Asan or KINU trust in the US "
                           "defence commitment) and a coded record of US commitment signals (OPCON delays, "
                           "reassurance requests); the curated data hold two years of trust in the US nuclear "
                           "umbrella (2023, 2024)", "curated kor_trust_us_nuclear_umbrella: 2023, 2024"),
               uses_model=False, splits=False),
    Hypothesis("H10", "Japan's security contributions rise with its local China threat.", h10),
    Hypothesis("H11", "Seoul's missile-defence steps are restrained while it needs China on North Korea and become "
               "possible once that hope fails.", h11),
    Hypothesis("H12", "Chinese pressure on Seoul over alliance choices backfires: it raises South Korean support for "
               "the alliance.",
               _untestable("dated Chinese pressure events toward South Korea (event data, CAMEO 17x coercion "
                           "CHN→KOR, e.g. 2016-2017 THAAD retaliation) and a yearly series of South Korean support "
                           "for the alliance (the curated data hold 2019-2020 and bounds only)"),
               uses_model=False, splits=False),
    Hypothesis("H13", "In economic order-building Japan sides with US-led institutions (TPP) and shuns China-led "
               "ones (AIIB); South Korea joins China-led institutions while staying allied.", h13, uses_model=False),
    Hypothesis("H14", "Rising external threat moves governments toward the US (and makes open anti-alliance "
               "platforms rarer).", h14),
    Hypothesis("H15", home.CLAIM_15, home.h15, uses_model=False, splits=False),
    Hypothesis("H16", "In Japan, local base opposition (Okinawa) persists regardless of national security "
               "consensus.",
               _untestable("protest events against the US in Japan (event data: CAMEO root 14, actor JPN, target "
                           "USA, geolocated to Okinawa), loaded with `dualthreat ingest gdelt` or `fetch gdelt`"),
               uses_model=False, splits=False),
    Hypothesis("H17", "South Koreans view the US most favourably of the major powers (and prefer it to China as a "
               "future partner, while seeing the relationship as unequal).", h17, uses_model=False),
    Hypothesis("H18", home.CLAIM_18, home.h18, uses_model=False, splits=False),
    Hypothesis("H19", "History and identity disputes depress Japan-ROK security cooperation.", h19, uses_model=False),
    Hypothesis("H20", "US pressure raises Japan-ROK cooperation.", h20, uses_model=False),
    Hypothesis("H21", "A shared North Korean threat is the most likely basis of trilateral cooperation; closer "
               "trilateral ties raise China's sense of encirclement.", h21),
    Hypothesis("H22", home.CLAIM_22, home.h22),
    Hypothesis("H23", "South Korea's view of China follows China's role on reunification: when China is seen as an "
               "obstacle (backing the North), South Korean views of China worsen.", h23),
    Hypothesis("H24", "The identity gap between Japan and Korea narrows when external security pressure rises.", h24),
)


# ------------------------------------------------------------------------------------------------------
# running them


def run_tests(ev: Evidence, registry: Sequence[Hypothesis] = REGISTRY) -> list[Finding]:
    """Every test's finding; a test that raises becomes an ``error`` finding (one crash hides no other)."""
    out = []
    for h in registry:
        try:
            out.append(h.test(ev))
        except Exception as exc:  # noqa: BLE001 - reported as an error row, counted apart
            out.append(error_finding(exc))
    return out


def collect_findings(ev: Evidence, registry: Sequence[Hypothesis] = REGISTRY,
                     periods: Sequence[tuple[str, int | None, int | None]] = PERIODS,
                     reuse: dict[str, list[Finding | None]] | None = None) -> dict[str, list[Finding | None]]:
    """Every test's finding on the whole record (``"all"``) and on each period (None where a test is not
    split). With ``reuse`` (findings of another run), the tests that do not read the threat model are not
    run again but taken from it."""
    out: dict[str, list[Finding | None]] = {}
    for name, start, end in (("all", None, None), *periods):
        sub = ev if name == "all" else ev.within(start, end)
        found: list[Finding | None] = []
        for i, h in enumerate(registry):
            if name != "all" and not h.splits:
                found.append(None)
            elif reuse is not None and not h.uses_model:
                found.append(reuse[name][i])
            else:
                found.extend(run_tests(sub, [h]))
        out[name] = found
    return out


def tabulate(findings: dict[str, list[Finding | None]], registry: Sequence[Hypothesis] = REGISTRY,
             periods: Sequence[tuple[str, int | None, int | None]] = PERIODS) -> HypothesisTable:
    """The table from the findings: the whole record is one multiple-testing family, each period another."""
    ids, claims = [h.id for h in registry], [h.claim for h in registry]
    table = assemble(ids, claims, findings["all"])
    for name, _, _ in periods:
        idx = [i for i, f in enumerate(findings[name]) if f is not None]
        sub = assemble([ids[i] for i in idx], [claims[i] for i in idx], [findings[name][i] for i in idx])
        for i, prow in zip(idx, sub.rows):
            table.rows[i].periods.append(period_summary(name, prow))
    return table


def evaluate_hypotheses(store: Store, model: DualThreatModel | None = None,
                        registry: Sequence[Hypothesis] = REGISTRY,
                        periods: Sequence[tuple[str, int | None, int | None]] = PERIODS,
                        evidence: Evidence | None = None) -> HypothesisTable:
    """Every hypothesis of ``registry``, in its order, with the reruns on ``periods``; the model is fitted
    with its defaults unless given (or ``evidence`` built from one)."""
    if evidence is None:
        if model is None:
            model = DualThreatModel().fit(store)
        evidence = Evidence(model, store)
    return tabulate(collect_findings(evidence, registry, periods), registry, periods)
