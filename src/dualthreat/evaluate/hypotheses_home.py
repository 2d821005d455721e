"""Tests of the propositions that rest on texts and on the home front: H8 and H22 (positions in the UN
General Debate speeches, word list ``positions_v1``), H15 (elite-public gap) and H18 (Cha's quasi-alliance).

H8 compares Japan's and Korea's statements of the same year (the theater's ``great_power_ally`` and
``client_ally``; years since 1991, when both Koreas joined the UN): a t interval over the yearly differences.
H22 follows Japan alone over time: the yearly change of its liberal-values and partner vocabulary against the
change of its China threat (the great power's).
"""

from __future__ import annotations

import pandas as pd

from dualthreat.evaluate.evidence import Evidence, years_text
from dualthreat.theater import ROLES
from dualthreat.evaluate.regression import nan_estimate, ols
from dualthreat.evaluate.results import Finding, Part, fmt, interval_finding, interval_text, untestable
from dualthreat.stats import NEGATIVE, POSITIVE, Estimate, mean_interval, pooled_correlation, se_from_interval

WORDLIST = "positions_v1"
FIRST_YEAR = 1991

CLAIM_8 = "Seoul avoids public positions on regional disputes (South China Sea, Taiwan) more than Tokyo does."
CLAIM_15 = ("There is a persistent gap between elite strategic priorities and public opinion in both allies; large "
            "alliance steps against public opinion cost governments approval.")
CLAIM_18 = ("Japan and Korea cooperate more when both fear US abandonment and less when US commitment is secure "
            "(Cha's quasi-alliance).")
CLAIM_22 = ("Japan sees China as a rival for leadership in Asia and stresses shared liberal values with the US and "
            "other partners (India, Australia).")


def missing_role(ev: Evidence, *names: str) -> Finding | None:
    """``untestable`` when the theater gives none of the roles ``names`` needs (see :data:`ROLES`), else None."""
    absent = [n for n in names if ev.theater.role(n) is None]
    if not absent:
        return None
    return untestable("; ".join(f"{ROLES[n]}, named by [hypotheses] {n} in the theater file" for n in absent),
                      coverage=f"theater {ev.theater.name}: no {', '.join(absent)}")


def speech_rates(ev: Evidence, category: str) -> pd.DataFrame:
    """Rate per 1,000 words of a ``positions_v1`` category, per year (rows, in the window) and ally (columns)."""
    from dualthreat.measure.text import score_texts

    allies = list(ev.theater.allies)

    def score() -> pd.DataFrame:
        texts = ev.store.query(f"SELECT iso3, year, text FROM speeches WHERE iso3 IN ({', '.join('?' * len(allies))})"
                               " AND year >= ?", [*allies, FIRST_YEAR]).to_pandas()
        return score_texts(texts, ["iso3", "year"], WORDLIST)

    scored = ev.cached(f"speeches:{WORDLIST}", score)
    scored = ev.keep(scored[scored.category == category])
    return scored.pivot_table(index="year", columns="iso3", values="rate")


def h8(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "great_power_ally", "client_ally")) is not None:
        return miss
    j, k = ev.theater.role("great_power_ally"), ev.theater.role("client_ally")
    r = speech_rates(ev, "regional_disputes")
    if not {j, k} <= set(r.columns):
        return untestable("UN General Debate statements of both allies in the period")
    e = mean_interval(r[j] - r[k])
    zero_kor = int((r[k] == 0).sum())
    name_j, name_k = ev.theater.label(j), ev.theater.label(k)
    return interval_finding(
        [Part(f"rate {j} − {k}", e, POSITIVE)],
        f"UN General Debate statements {int(r.index.min())}-{int(r.index.max())}, both allies",
        f"Mentions of the South China Sea, Taiwan and freedom of navigation per 1,000 words, {name_j} minus "
        f"{name_k}, same year: {interval_text(e)}; {name_k} never mentions them in {zero_kor} of {len(r)} years "
        f"({WORDLIST}).",
        f"paired yearly difference of {WORDLIST}:regional_disputes rates, {j} − {k}; > 0")


def h22(ev: Evidence) -> Finding:
    if (miss := missing_role(ev, "great_power_ally")) is not None:
        return miss
    th = ev.theater
    j, gp = th.role("great_power_ally"), th.great_power
    name, gp_name = th.label(j), th.label(gp)
    v, p = speech_rates(ev.within(None, None), "values"), speech_rates(ev.within(None, None), "partners")
    if j not in v.columns:
        return untestable(f"{name}'s UN General Debate statements")
    stress = v[j].add(p.get(j, 0), fill_value=0).rename("stress").reset_index()
    panel = ev.panel[ev.panel.ally == j][["ally", "year", "great_power"]].merge(stress, on="year")
    d = ev.diffs(j, ["great_power"], y="stress", panel=panel)
    fit = ols(d, "stress", ["great_power"])
    e = fit.combination({"great_power": 1}) if fit else nan_estimate(len(d))
    return interval_finding(
        [Part(f"β({gp_name} threat)", e, POSITIVE)], f"{j}, UN General Debate statements, changes {years_text(d)}",
        f"Yearly change in {name}'s liberal-values and India/Australia mentions per 1,000 words on the change in "
        f"its {gp_name} threat (mean of the local and systemic {gp_name} components): {interval_text(e)} per "
        f"reference SD (mean rate {fmt(float(panel['stress'].mean()))}). The 'rival for leadership' part is not "
        "measured by a word count.",
        f"Δ({WORDLIST}:values+partners rate, {j}) ~ Δ mean(T[{j}, local, {gp}], T[{j}, systemic, {gp}]), HAC(2); "
        "β > 0")


def h15(ev: Evidence) -> Finding:
    """Elite and public threat perception, pooled over the ally-source series with both measures."""
    g = ev.domestic().gap_summary_
    g = g[g.status == "computed"].dropna(subset=["correlation"])
    g = g[g.years_both > 3]
    if g.empty:
        return untestable("yearly polls of threat perception matching the speech years",
                          coverage="no series with both measures")
    e = pooled_correlation(g.correlation.to_numpy(float), g.years_both.to_numpy(int))
    parts = "; ".join(f"{a}-{s_}: r = {fmt(c)} over {int(y)} years" for a, s_, c, y in
                      g[["ally", "source", "correlation", "years_both"]].itertuples(index=False))
    return interval_finding(
        [Part("pooled r(elite, public)", e, NEGATIVE)],
        f"{len(g)} ally-source series with speeches and polls in the same years",
        f"Correlation of elite salience (UN speeches) with public threat perception (polls), pooled: r = "
        f"{interval_text(e)} ({parts}). A gap means the two do not move together; the approval-cost part needs "
        "approval polls.",
        "pooled Fisher-z correlation of yearly elite salience and public perception; r < 0 (diverging)",
        "monthly government approval polls around alliance steps, for the approval-cost part")


def h18(ev: Evidence) -> Finding:
    """Cha's quasi-alliance test, on the longest cooperation measure available: both of Cha's predictions."""
    cha = ev.triangle().cha_
    run = cha[cha.joint_coef.notna()].sort_values("n_years", ascending=False)
    if run.empty:
        return untestable("coded US commitment signals and Japan-ROK event data",
                          coverage="no cooperation measure paired with the abandonment-fear proxies")
    best = run.iloc[0]
    n = int(best.n_years)
    parts = []
    for term, claim, label in (("joint", POSITIVE, "joint fear"), ("asymmetry", NEGATIVE, "asymmetric fear")):
        lo, hi = float(best[f"{term}_lower"]), float(best[f"{term}_upper"])
        # cha_test reports OLS t intervals (df = n - 3: a constant and two slopes)
        se = se_from_interval(lo, hi, df=n - 3)
        parts.append(Part(f"β({label})", Estimate(float(best[f"{term}_coef"]), lo, hi, se, n, df=n - 3), claim))
    others = "; ".join(f"{r.outcome}: joint {fmt(r.joint_coef)} [{fmt(r.joint_lower)}, {fmt(r.joint_upper)}], "
                       f"N = {int(r.n_years)}" for r in run.iloc[1:].itertuples())
    return interval_finding(
        parts, f"{best.description}, {best.years}",
        f"Effect of joint abandonment fear on {best.description}: {interval_text(parts[0].estimate)}; asymmetric "
        f"fear {interval_text(parts[1].estimate)} (Cha predicts < 0)." + (f" Other measures: {others}." if others
                                                                          else ""),
        "TriangleModel.cha_: cooperation on joint and asymmetric fear proxies; joint > 0 and asymmetry < 0",
        "coded US commitment and retrenchment signals; Japan-ROK event data (CAMEO) for monthly cooperation")
