"""Tests of the propositions that rest on texts and on the home front: H8 and H22 (positions in the UN
General Debate speeches, word list ``positions_v1``), H15 (elite-public gap) and H18 (Cha's quasi-alliance).

Speech comparisons use the years since 1991, when both Koreas joined the UN, and pair Japan's and Korea's
statements of the same year; the interval is a t interval over those yearly differences.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from dualthreat.evaluate.hypotheses import INCONCLUSIVE, Evidence, Result, _fmt, _interval_text, _small_n, verdict

WORDLIST = "positions_v1"
FIRST_YEAR = 1991


def speech_rates(ev: Evidence, category: str) -> pd.DataFrame:
    """Rate per 1,000 words of a ``positions_v1`` category, per ally and year (from 1991)."""
    from dualthreat.measure.text import score_texts

    texts = ev.store.query("SELECT iso3, year, text FROM speeches WHERE iso3 IN ('JPN', 'KOR') AND year >= ?",
                           [FIRST_YEAR]).to_pandas()
    scored = score_texts(texts, ["iso3", "year"], WORDLIST)
    return scored[scored.category == category].pivot_table(index="year", columns="iso3", values="rate")


def _paired(diff: pd.Series) -> tuple[float, float, float, int]:
    diff = diff.dropna()
    n = len(diff)
    if n < 2:
        return float("nan"), float("nan"), float("nan"), n
    est, se = float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(n))
    q = stats.t.ppf(0.95, n - 1)
    return est, est - q * se, est + q * se, n


def h8(ev: Evidence) -> Result:
    r = speech_rates(ev, "regional_disputes")
    est, lo, hi, n = _paired(r["JPN"] - r["KOR"])
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
    est, lo, hi, n = _paired(both["JPN"] - both["KOR"])
    return Result("H22", "Japan sees China as a rival for leadership in Asia and stresses shared liberal values with "
                  "the US and other partners (India, Australia).", verdict(lo, hi, n), est, lo, hi, n,
                  f"UN General Debate statements {int(both.index.min())}-{int(both.index.max())}",
                  f"Liberal-values and India/Australia mentions per 1,000 words, Japan minus Korea, same year: "
                  f"{_interval_text(est, lo, hi)} (values alone {_fmt(float((v['JPN'] - v['KOR']).mean()))}, "
                  f"partners alone {_fmt(float((p['JPN'] - p['KOR']).mean()))}). The 'rival for leadership' part "
                  "is not measured by a word count." + _small_n(n),
                  f"paired yearly difference of {WORDLIST}:values+partners rates, JPN − KOR; > 0")


TESTS: list[Callable[[Evidence], Result]] = [h8, h22]
