"""Tests of the propositions that rest on texts and on the home front: H8 and H22 (positions in the UN
General Debate speeches, word list ``positions_v1``), H15 (elite-public gap) and H18 (Cha's quasi-alliance).

Speech comparisons use the years since 1991, when both Koreas joined the UN, and pair Japan's and Korea's
statements of the same year; the interval is a t interval over those yearly differences.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from dualthreat.evaluate.hypotheses import (INCONCLUSIVE, Evidence, Result, _fmt, _interval_text, _small_n,
                                            mean_interval, verdict)

WORDLIST = "positions_v1"
FIRST_YEAR = 1991


def speech_rates(ev: Evidence, category: str) -> pd.DataFrame:
    """Rate per 1,000 words of a ``positions_v1`` category, per ally and year (from 1991)."""
    from dualthreat.measure.text import score_texts

    texts = ev.store.query("SELECT iso3, year, text FROM speeches WHERE iso3 IN ('JPN', 'KOR') AND year >= ?",
                           [FIRST_YEAR]).to_pandas()
    scored = score_texts(texts, ["iso3", "year"], WORDLIST)
    return scored[scored.category == category].pivot_table(index="year", columns="iso3", values="rate")


def h8(ev: Evidence) -> Result:
    r = speech_rates(ev, "regional_disputes")
    est, lo, hi, n = mean_interval(r["JPN"] - r["KOR"])
    zero_kor = int((r["KOR"] == 0).sum())
    return Result("H8", "Seoul avoids public positions on regional disputes (South China Sea, Taiwan) more than "
                  "Tokyo does.", verdict(lo, hi, n), est, lo, hi, n,
                  f"UN General Debate statements {int(r.index.min())}-{int(r.index.max())}, both allies",
                  f"Mentions of the South China Sea, Taiwan and freedom of navigation per 1,000 words, Japan minus "
                  f"Korea, same year: {_interval_text(est, lo, hi)}; Korea never mentions them in {zero_kor} of "
                  f"{len(r)} years ({WORDLIST})." + _small_n(n),
                  f"paired yearly difference of {WORDLIST}:regional_disputes rates, JPN − KOR; > 0")


def h22(ev: Evidence) -> Result:
    v = speech_rates(ev, "values")
    p = speech_rates(ev, "partners")
    both = v.add(p, fill_value=0)
    est, lo, hi, n = mean_interval(both["JPN"] - both["KOR"])
    return Result("H22", "Japan sees China as a rival for leadership in Asia and stresses shared liberal values with "
                  "the US and other partners (India, Australia).", verdict(lo, hi, n), est, lo, hi, n,
                  f"UN General Debate statements {int(both.index.min())}-{int(both.index.max())}",
                  f"Liberal-values and India/Australia mentions per 1,000 words, Japan minus Korea, same year: "
                  f"{_interval_text(est, lo, hi)} (values alone {_fmt(float((v['JPN'] - v['KOR']).mean()))}, "
                  f"partners alone {_fmt(float((p['JPN'] - p['KOR']).mean()))}). The 'rival for leadership' part "
                  "is not measured by a word count." + _small_n(n),
                  f"paired yearly difference of {WORDLIST}:values+partners rates, JPN − KOR; > 0")


def h15(ev: Evidence) -> Result:
    """Elite and public threat perception, pooled over the ally-source series with both measures."""
    from dualthreat.model.domestic import DomesticModel

    dm = DomesticModel(ev.theater).fit(ev.store)
    g = dm.gap_summary_[dm.gap_summary_.status == "computed"].dropna(subset=["correlation"])
    g = g[g.years_both > 3]
    if g.empty:
        return Result("H15", CLAIM_15, INCONCLUSIVE, None, None, None, 0, "no series with both measures",
                      "No ally has both an elite and a public measure for the same source over enough years.",
                      "elite-public correlation", "yearly polls of threat perception matching the speech years")
    w = (g.years_both - 3).to_numpy(dtype=float)
    z = float((w * np.arctanh(g.correlation.to_numpy(dtype=float))).sum() / w.sum())
    se = 1 / np.sqrt(w.sum())
    r, lo, hi = float(np.tanh(z)), float(np.tanh(z - 1.6448536269514722 * se)), float(np.tanh(z + 1.6448536269514722 * se))
    n = int(g.years_both.sum())
    parts = "; ".join(f"{a}-{s_}: r = {_fmt(c)} over {int(y)} years" for a, s_, c, y in
                      g[["ally", "source", "correlation", "years_both"]].itertuples(index=False))
    return Result("H15", CLAIM_15, verdict(lo, hi, n, sign=-1), r, lo, hi, n,
                  f"{len(g)} ally-source series with speeches and polls in the same years",
                  f"Correlation of elite salience (UN speeches) with public threat perception (polls), pooled: "
                  f"r = {_interval_text(r, lo, hi)} ({parts}). A gap means the two do not move together; the "
                  "approval-cost part needs approval polls." + _small_n(n),
                  "pooled Fisher-z correlation of yearly elite salience and public perception; r < 0 (diverging)",
                  "monthly government approval polls around alliance steps, for the approval-cost part",
                  expected_sign=-1)


CLAIM_15 = ("There is a persistent gap between elite strategic priorities and public opinion in both allies; large "
            "alliance steps against public opinion cost governments approval.")


def h18(ev: Evidence) -> Result:
    """Cha's quasi-alliance test, on the longest cooperation measure available."""
    from dualthreat.model.triangle import TriangleModel

    cha = TriangleModel(ev.theater).fit(ev.store).cha_
    run = cha[cha.joint_coef.notna()].sort_values("n_years", ascending=False)
    claim = ("Japan and Korea cooperate more when both fear US abandonment and less when US commitment is secure "
             "(Cha's quasi-alliance).")
    if run.empty:
        return Result("H18", claim, INCONCLUSIVE, None, None, None, 0, "no cooperation measure",
                      "No Japan-ROK cooperation measure could be paired with the abandonment-fear proxies.",
                      "Cha test", "coded US commitment signals and Japan-ROK event data")
    best = run.iloc[0]
    n = int(best.n_years)
    others = "; ".join(f"{r.outcome}: joint {_fmt(r.joint_coef)} [{_fmt(r.joint_lower)}, {_fmt(r.joint_upper)}], "
                       f"N = {int(r.n_years)}" for r in run.iloc[1:].itertuples())
    return Result("H18", claim, verdict(best.joint_lower, best.joint_upper, n), float(best.joint_coef),
                  float(best.joint_lower), float(best.joint_upper), n, f"{best.description}, {best.years}",
                  f"Effect of joint abandonment fear on {best.description}: {_interval_text(best.joint_coef, best.joint_lower, best.joint_upper)};"
                  f" asymmetric fear {_fmt(best.asymmetry_coef)} [{_fmt(best.asymmetry_lower)}, "
                  f"{_fmt(best.asymmetry_upper)}] (Cha predicts < 0)." + (f" Other measures: {others}." if others else "")
                  + _small_n(n), "TriangleModel.cha_: cooperation on joint and asymmetric fear proxies; joint > 0",
                  "coded US commitment and retrenchment signals; Japan-ROK event data (CAMEO) for monthly cooperation")


TESTS: list[Callable[[Evidence], Result]] = [h8, h15, h18, h22]
