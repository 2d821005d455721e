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
the ally's UN ideal-point distance to the great power (China) minus its distance to the patron (the US)
(Bailey, Strezhnev & Voeten 2017): higher means closer to the patron relative to the great power. Threats are the annual means of the filtered components.
Claims of "no effect" are tested for equivalence within ``EQUIVALENCE_MARGIN`` standard deviations (TOST).

The tests are written in the theater's roles, never in country codes: the great power (``[mediator] backer``,
China) and its client (North Korea), and the two allies of the paper's comparison (``[hypotheses]
great_power_ally``, Japan, and ``client_ally``, South Korea; :data:`dualthreat.theater.ROLES`). A theater that
does not give a role a test needs makes that test ``untestable``, saying what it needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from dualthreat.evaluate import hypotheses_home as home
from dualthreat.evaluate.hypotheses_home import missing_role
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
# helpers


def _sql_list(codes: Sequence[str]) -> str:
    return ", ".join("?" * len(codes))


# ------------------------------------------------------------------------------------------------------
# threats and alignment


def h1(ev: Evidence) -> Finding:
    if ev.systemic_common():
        return untestable(
            "ally-specific systemic indicators (each ally's own polls on China's power and military as a threat, "
            "its own elite salience of China's rise), so that Japan's and Korea's systemic components differ",
            coverage=f"{' and '.join(ev.theater.allies)}: the systemic components are the same series",
            evidence="The allies' systemic components are the same series (the theater feeds both from the "
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
    if (miss := missing_role(ev, "great_power_ally")) is not None:
        return miss
    th = ev.theater
    ally, gp, cl = th.role("great_power_ally"), th.great_power, th.client
    lg, lc = f"local_{gp}", f"local_{cl}"
    d = ev.diffs(ally, [lg, lc])
    fit = ols(d, "alignment", [lg, lc])
    e = fit.combination({lg: 1, lc: -1}) if fit else nan_estimate(len(d))
    post = (d["year"] >= POST_2010).astype(float)
    fit2 = ols(d, "alignment", [lg, lc], interactions={f"{lg}_post": d[lg] * post})
    e2 = fit2.combination({f"{lg}_post": 1}) if fit2 else nan_estimate(len(d))
    return interval_finding(
        [Part(f"β(local {gp}) − β(local {cl})", e, POSITIVE),
         Part(f"β(local {gp}) since {POST_2010} − before", e2, POSITIVE)], f"{ally}, {years_text(d)}",
        f"β(local {gp}) − β(local {cl}) = {interval_text(e)}; the {th.label(gp)} slope since {POST_2010} minus "
        f"before: {interval_text(e2)}.",
        f"Δalignment ~ Δ{lg} + Δ{lc} ({ally}), HAC(2): contrast > 0; and with Δ{lg} × (year ≥ "
        f"{POST_2010}): interaction > 0")


def h3(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "client_ally")) is not None:
        return miss
    th = ev.theater
    ally, gp, cl = th.role("client_ally"), th.great_power, th.client
    lg, lc = f"local_{gp}", f"local_{cl}"
    d = ev.diffs(ally, [lc, lg])
    fit = ols(d, "alignment", [lc, lg])
    e = fit.combination({lc: 1}) if fit else nan_estimate(len(d))
    eq = fit.combination({lg: 1}, scale=fit.standard_scale()) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part(f"β(local {cl})", e, POSITIVE),
         Part(f"β(local {gp}), standardised", eq, equivalence(EQUIVALENCE_MARGIN))], f"{ally}, {years_text(d)}",
        f"β(local {cl}) = {interval_text(e)}; {th.label(gp)}'s direct effect, standardised, {interval_text(eq)} "
        f"against an equivalence margin of ±{EQUIVALENCE_MARGIN} SD.",
        f"Δalignment ~ Δ{lc} + Δ{lg} ({ally}), HAC(2); β_{cl} > 0 and |β_{gp}| < {EQUIVALENCE_MARGIN} SD "
        "(TOST)")


def h4(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "client_ally", "great_power_ally")) is not None:
        return miss
    th = ev.theater
    k, j, lc = th.role("client_ally"), th.role("great_power_ally"), f"local_{th.client}"
    d = ev.diffs(None, ["mediator", lc])
    d = d[d.ally.isin([k, j])]
    inter = {f"{c}_{a}": d[c] * (d["ally"] == a) for c in ("mediator", lc) for a in (k, j)}
    fit = ols(d, "alignment", [], fixed_effects=True, interactions=inter) if d.ally.nunique() == 2 else None
    if fit is None:
        e, eq = nan_estimate(len(d)), nan_estimate(int((d.ally == j).sum()))
        b_k = b_j = np.nan
    else:
        e = fit.combination({f"mediator_{k}": 1, f"mediator_{j}": -1})
        jd = d[d.ally == j]
        scale = float(jd["mediator"].std(ddof=1) / jd["alignment"].std(ddof=1))
        eq = dataclasses.replace(fit.combination({f"mediator_{j}": 1}, scale={f"mediator_{j}": scale}), n=len(jd))
        b_k, b_j = fit.coef(f"mediator_{k}"), fit.coef(f"mediator_{j}")
    name_k, name_j = th.label(k), th.label(j)
    return interval_finding(
        [Part(f"β(mediator, {k}) − β(mediator, {j})", e, POSITIVE),
         Part(f"β(mediator, {j}), standardised", eq, equivalence(EQUIVALENCE_MARGIN))],
        f"{k} and {j}, {years_text(d)}, annual first differences",
        f"{name_k}'s mediator effect minus {name_j}'s: {interval_text(e)} ({name_k} {fmt(b_k)}, {name_j} "
        f"{fmt(b_j)}); {name_j}'s, standardised: {interval_text(eq)} against ±{EQUIVALENCE_MARGIN} SD.",
        f"Δalignment ~ ally FE + Δmediator and Δ{lc} with a slope per ally, Driscoll-Kraay(2); "
        f"β_{k} − β_{j} > 0 and |β_{j}| < {EQUIVALENCE_MARGIN} SD (TOST)")


def h6(ev: Evidence) -> Finding:
    th = ev.theater
    gp, name = th.great_power, th.label(th.great_power or "")
    eps = ev.episodes[(ev.episodes.direction == "hedge") & (ev.episodes.counterpart == gp)]
    if ev.episodes.empty:
        return untestable(f"coded decisions of the theater's allies, among them rapprochements ('hedge') with "
                          f"{name}", coverage=f"no coded episodes of {', '.join(th.allies)}")
    changes = []
    for e in eps.itertuples():
        if e.actor not in th.allies:
            continue
        d = pd.Timestamp(e.date)
        before = ev.threat_at(e.actor, f"local_{gp}", d - pd.DateOffset(months=1))
        after = ev.threat_at(e.actor, f"local_{gp}", d + pd.DateOffset(months=12))
        if np.isfinite(before) and np.isfinite(after):
            changes.append(after - before)
    est = mean_interval(changes)
    return interval_finding(
        [Part(f"mean change of T[local, {gp}]", est, non_inferiority(EQUIVALENCE_MARGIN))],
        f"{est.n} coded 'hedge' decisions toward {name} ({', '.join(th.allies)})",
        f"Local {name} threat 12 months after each rapprochement minus 1 month before: mean {interval_text(est)} "
        f"over {est.n} episodes, in reference SDs (no fall means above −{EQUIVALENCE_MARGIN}).",
        f"paired change of T[ally, local, {gp}] around 'hedge' episodes toward {name}; non-inferiority, mean > "
        f"−{EQUIVALENCE_MARGIN} SD")


def h7(ev: Evidence) -> Finding:
    from dualthreat.model.posture import episode_scope

    if (miss := missing_role(ev, "great_power_ally", "client_ally")) is not None:
        return miss
    th = ev.theater
    ja, ka = th.role("great_power_ally"), th.role("client_ally")
    s = episode_scope(ev.store)
    s = ev.keep(s.assign(year=pd.to_datetime(s["date"]).dt.year))
    s = s[s.ally.isin(th.allies)]
    last = s.groupby("ally").last()
    if not {ja, ka} <= set(last.index):
        return untestable("coded alliance-scope decisions of both allies in the period",
                          coverage=f"{len(s)} coded alliance-scope decisions")
    j, k = last.loc[ja], last.loc[ka]
    value = float(j.regional - k.regional)
    name_j, name_k = th.label(ja), th.label(ka)
    return descriptive_finding(
        [Part(f"regional scope, {name_j} − {name_k} (latest coding)", record(value, len(s)), POSITIVE)],
        f"{len(s)} coded alliance-scope decisions",
        f"Latest coded scope: {name_j} regional={int(j.regional)} global={int(j['global'])} ({j.episode_id}); "
        f"{name_k} regional={int(k.regional)} global={int(k['global'])} ({k.episode_id}): difference {fmt(value)}. "
        "Descriptive: the coded record, no sampling interval.",
        "the scope coding of the alliance-scope episodes (resources/episode_scope.csv)",
        "at least 8 coded alliance-scope decisions (statements and agreements on the alliances' reach)")


def h10(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "great_power_ally")) is not None:
        return miss
    th = ev.theater
    ally, gp = th.role("great_power_ally"), th.great_power
    lg = f"local_{gp}"
    spend = ev.store.query("SELECT year, share_gdp FROM military_spending WHERE iso3 = ?", [ally]).to_pandas()
    p = ev.panel[ev.panel.ally == ally].merge(spend, on="year", how="inner")
    d = ev.diffs(ally, [lg], y="share_gdp", panel=p)
    fit = ols(d, "share_gdp", [lg])
    e = fit.combination({lg: 1}) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part(f"β(local {gp})", e, POSITIVE)], f"{ally}, {years_text(d)}; SIPRI military burden",
        f"β(local {gp}) on {th.label(ally)}'s military spending (% of GDP, annual change) = {interval_text(e)} "
        "percentage points per reference SD.", f"Δ(military burden) ~ Δ{lg} ({ally}), HAC(2); β > 0")


def h11(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "client_ally")) is not None:
        return miss
    ally = ev.theater.role("client_ally")
    eps = ev.episodes[(ev.episodes.actor == ally) & ev.episodes.domain.isin(PROVOKING_DOMAINS)]
    vals = [(e.episode_id, e.direction, ev.mediator_at(ally, e.date)) for e in eps.itertuples()]
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
    if (miss := missing_role(ev, "great_power_ally", "client_ally")) is not None:
        return miss
    eps = ev.episodes[ev.episodes.domain == "economic_alignment"]
    j, k = eps[eps.actor == ev.theater.role("great_power_ally")], eps[eps.actor == ev.theater.role("client_ally")]
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
        [Part("β(threat)", e, POSITIVE)], f"{' and '.join(ev.theater.allies)}, {years_text(d)}",
        f"β(mean of the four threat components) on the alignment gap = {interval_text(e)}. The part on party "
        "platforms is not tested (no party-platform data).",
        "Δalignment ~ Δthreat + ally FE, Driscoll-Kraay(2); β > 0",
        "party manifestos (e.g. Manifesto Project) for the anti-alliance-platform part")


def h17(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "client_ally")) is not None:
        return miss
    th = ev.theater
    ally, patron = th.role("client_ally"), th.patron
    if not th.powers:
        return untestable("the other major powers whose favourability the public sets against the patron's "
                          "([hypotheses] powers in the theater file)", coverage=f"theater {th.name}: no powers")
    targets = [patron, *th.powers]
    pew = ev.store.query("SELECT wave AS year, target, pct_favorable FROM pew_favorability WHERE respondent_iso3 = "
                         f"? AND quality_flag IS NULL AND target IN ({_sql_list(targets)})",
                         [ally, *targets]).to_pandas()
    w = ev.keep(pew).pivot_table(index="year", columns="target", values="pct_favorable")
    others = [c for c in th.powers if c in w.columns]
    if patron not in w.columns or not others:
        return untestable(f"Pew favourability of the patron and other powers among the public of {th.label(ally)} "
                          "in the period")
    diff = (w[patron] - w[others].max(axis=1)).dropna()
    e = mean_interval(diff)
    return interval_finding(
        [Part("%fav(US) − max %fav(other)", e, POSITIVE)],
        f"Pew waves {years_text(diff.reset_index())} (2013 China item excluded)",
        f"Favourable view of the US minus the most favourably viewed other power: {interval_text(e)} points; the "
        f"US first in {int((diff > 0).sum())} of {e.n} waves. The 'future partner' and 'unequal' parts need other "
        "poll items.", f"mean over waves of %fav(US) − max %fav({', '.join(th.powers)}); > 0",
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
    th = ev.theater
    pair, cl = list(th.allies[:2]), th.client
    coop = ev.triangle().cooperation_[["year", "vote_kappa"]].dropna()
    shared = ev.panel[ev.panel.ally.isin(pair)].groupby("year")[f"local_{cl}"].mean()
    p = coop.merge(shared.rename("shared_prk").reset_index(), on="year").assign(ally="-".join(pair))
    d = ev.diffs("-".join(pair), ["shared_prk"], y="vote_kappa", panel=p)
    fit = ols(d, "vote_kappa", ["shared_prk"])
    e = fit.combination({"shared_prk": 1}) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part("β(shared North Korean threat)", e, POSITIVE)], f"Japan-ROK UN vote kappa, {years_text(d)}",
        f"Japan-ROK cooperation (UN vote kappa, annual change) on the mean local North Korean threat to the two: "
        f"{interval_text(e)} per reference SD. The encirclement part (China's hostility toward the three) is not "
        "tested.", f"Δkappa({', '.join(pair)}) ~ Δ mean({', '.join(f'T[{a}, local, {cl}]' for a in pair)}), HAC(2); "
        "β > 0",
        f"event data ({th.great_power}→{'/'.join([th.patron, *pair])} material conflict, e.g. ICEWS or GDELT) against "
        "trilateral steps, for the encirclement part")


# ------------------------------------------------------------------------------------------------------
# identity


def _wave_changes(values: pd.DataFrame, col: str) -> pd.DataFrame:
    """Changes between consecutive available waves (``year`` sorted), with the span they cover."""
    v = values.sort_values("year")
    return pd.DataFrame({"year": v["year"], "d_" + col: v[col].diff(), "span": v["year"].diff()}).dropna()


def h23(ev: Evidence) -> Finding:
    from dualthreat.model.mediator import backing_by_year

    if (miss := missing_role(ev, "client_ally")) is not None:
        return miss
    pew = ev.store.query("SELECT wave AS year, pct_favorable FROM pew_favorability WHERE respondent_iso3 = ? "
                         "AND target = ? AND quality_flag IS NULL AND pct_favorable IS NOT NULL",
                         [ev.theater.role("client_ally"), ev.theater.great_power]).to_pandas()
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
        f"Pearson r (Fisher z interval) of changes between consecutive waves: %fav({ev.theater.great_power}) among "
        f"the public of {ev.theater.role('client_ally')} against the backing of {ev.theater.client} in the year "
        "before the wave; r < 0",
        "a yearly Korean poll item on China's role in reunification (e.g. KINU unification survey)")


def h24(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "great_power_ally", "client_ally")) is not None:
        return miss
    th = ev.theater
    if th.affinity_series is None:
        return untestable("a poll series of the great-power ally's affinity with the other ally ([hypotheses] "
                          "affinity_series in the theater file)", coverage=f"theater {th.name}: no affinity_series")
    ja, ka = th.role("great_power_ally"), th.role("client_ally")
    aff = ev.store.query(
        "SELECT year(end_date) AS year, avg(value) AS affinity FROM indicators WHERE series = ? AND actor = ? AND "
        "target = ? AND status <> 'preliminary' GROUP BY ALL", [th.affinity_series, ja, ka]).to_pandas()
    local = [f"local_{s}" for s in (th.great_power, th.client)]
    p = ev.panel[ev.panel.ally == ja][["year", *local]].copy()
    p["external"] = p[local].mean(axis=1)
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
        f"Pearson r (Fisher z interval) of changes between consecutive surveys, affinity {ja}→{ka} against the mean "
        f"local threat to {th.label(ja)}; r > 0",
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
               _untestable("Chinese pressure on Seoul over its alliance choices, dated (e.g. the 2016-2017 THAAD "
                           "retaliation: coded events of CAMEO 17x coercion from China toward South Korea), and a "
                           "yearly series of South Korean support for the alliance (the curated data hold 2019-2020 "
                           "and bounds only); "
                           "the default dataset's event aggregates count China-South Korea conflict in 2001-2013 "
                           "(ICEWS) and 2018-2024 (GDELT), not pressure over alliance choices, and the THAAD years "
                           "fall in the gap between them; Pew's US favourability in Korea measures the patron's "
                           "image, not support for the alliance"),
               uses_model=False, splits=False),
    Hypothesis("H13", "In economic order-building Japan sides with US-led institutions (TPP) and shuns China-led "
               "ones (AIIB); South Korea joins China-led institutions while staying allied.", h13, uses_model=False),
    Hypothesis("H14", "Rising external threat moves governments toward the US (and makes open anti-alliance "
               "platforms rarer).", h14),
    Hypothesis("H15", home.CLAIM_15, home.h15, uses_model=False, splits=False),
    Hypothesis("H16", "In Japan, local base opposition (Okinawa) persists regardless of national security "
               "consensus.",
               _untestable("protest events against the US in Japan (event data: CAMEO root 14, Japanese actors, "
                           "US target, geolocated to Okinawa), loaded with `dualthreat ingest gdelt` or `fetch gdelt`; "
                           "the default dataset's event aggregates have no CAMEO roots (ICEWS: conflict columns "
                           "only, their roots unconfirmed; GDELT: one signed weight per country pair and day) and "
                           "no location"),
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
