"""Scoring probability forecasts of categorical decisions, and comparing two forecasters on the same episodes.

* Proper scores per forecast: the multi-class Brier score (Brier 1950, *Monthly Weather Review* 78(1): the sum
  over categories of the squared gap between probability and outcome; 0 perfect, 2 worst), the log loss, and
  the ranked probability score over ordered categories (Epstein 1969, *Journal of Applied Meteorology* 8(6);
  unnormalised: the sum of squared gaps of the cumulative distributions), computed within each ordered block
  of categories (:data:`RPS_BLOCKS`).
* Paired comparison of two forecasters: the mean per-forecast loss difference, a percentile interval by the
  moving block bootstrap (Kuensch 1989, *Annals of Statistics* 17(3)), and the Diebold-Mariano test with the
  small-sample correction of Harvey, Leybourne & Newbold (1997, *International Journal of Forecasting* 13(2)).
* Reliability: binned forecast probabilities against observed frequencies, with Wilson intervals
  (the reliability diagram of Murphy & Winkler 1977, *Applied Statistics* 26(1)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from dualthreat.stats import LEVEL, wilson

#: Ordered blocks of directions for the RPS: the alliance axis from the US pole to the China pole, then the
#: Japan-ROK axis. A direction outside every block is scored as its own block.
RPS_BLOCKS: tuple[tuple[str, ...], ...] = (
    ("toward_us", "autonomy", "constrained", "hedge", "toward_china"),
    ("japan_rok_up", "japan_rok_down"),
)
BOOTSTRAP_SAMPLES = 4000
SEED = 20161  # fixed, so that a rerun gives the same interval


def onehot(observed: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Rows x classes, 1 at each row's observed class."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(observed), len(classes)))
    for r, o in enumerate(observed):
        out[r, index[o]] = 1.0
    return out


def brier(proba: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Multi-class Brier score of each row."""
    return ((proba - outcome) ** 2).sum(axis=1)


def log_loss(proba: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Negative log probability of the observed class of each row (probabilities clipped at 1e-15)."""
    return -np.log(np.clip((proba * outcome).sum(axis=1), 1e-15, 1.0))


def _blocks(classes: Sequence[str]) -> list[list[int]]:
    known = {c for b in RPS_BLOCKS for c in b}
    if not known & set(classes):  # classes of another codebook: their given order is one block
        return [list(range(len(classes)))]
    blocks = [[classes.index(c) for c in b if c in classes] for b in RPS_BLOCKS]
    blocks += [[i] for i, c in enumerate(classes) if c not in known]
    return [b for b in blocks if b]


def rps(proba: np.ndarray, outcome: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Ranked probability score of each row, summed over the ordered blocks of ``classes``."""
    total = np.zeros(len(proba))
    for block in _blocks(list(classes)):
        total += ((np.cumsum(proba[:, block], axis=1) - np.cumsum(outcome[:, block], axis=1)) ** 2).sum(axis=1)
    return total


LOSSES = ("brier", "log_loss", "rps")


def losses(proba: np.ndarray, observed: Sequence[str], classes: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-row Brier, log loss and RPS."""
    o = onehot(observed, classes)
    return {"brier": brier(proba, o), "log_loss": log_loss(proba, o), "rps": rps(proba, o, classes)}


def scores(proba: np.ndarray, observed: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """Mean Brier, log loss, RPS and accuracy of probability rows against observed classes."""
    if len(observed) == 0:
        return {k: float("nan") for k in (*LOSSES, "accuracy")}
    out = {k: float(v.mean()) for k, v in losses(proba, observed, classes).items()}
    out["accuracy"] = float((proba.argmax(axis=1) == onehot(observed, classes).argmax(axis=1)).mean())
    return out


def skill(score: float, reference: float) -> float:
    """Skill score 1 - score / reference (positive: better than the reference)."""
    return float(1.0 - score / reference) if reference else float("nan")


def block_bootstrap_interval(d: np.ndarray, level: float = LEVEL, samples: int = BOOTSTRAP_SAMPLES,
                             block: int | None = None, seed: int = SEED) -> tuple[float, float]:
    """Percentile interval of the mean of ``d`` (in time order) by the moving block bootstrap.

    Blocks of ``round(n ** (1/3))`` consecutive values (at least 1) are drawn with replacement until ``n``
    values are collected; the interval is the central ``level`` of the resampled means."""
    n = len(d)
    if n < 2:
        return float("nan"), float("nan")
    b = block or max(1, round(n ** (1 / 3)))
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - b + 1, size=(samples, int(np.ceil(n / b))))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(samples, -1)[:, :n]
    means = d[idx].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def diebold_mariano(d: np.ndarray, horizon: int = 1) -> float:
    """Two-sided p-value of the Diebold-Mariano test of a zero mean loss difference, with the Harvey,
    Leybourne & Newbold correction, against t(n - 1). Autocovariances up to ``horizon - 1`` enter the variance."""
    n = len(d)
    if n < 3:
        return float("nan")
    c = d - d.mean()
    var = (c @ c) / n + 2 * sum((c[k:] @ c[:-k]) / n for k in range(1, horizon))
    if var <= 0:
        return 1.0 if d.mean() == 0 else 0.0
    dm = d.mean() / np.sqrt(var / n)
    dm *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(2 * sps.t.sf(abs(dm), df=n - 1))


def compare(loss: np.ndarray, reference: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Paired comparison of per-forecast losses (in time order): mean difference (``loss - reference``;
    negative favours ``loss``), its block-bootstrap interval and the Diebold-Mariano p-value."""
    d = np.asarray(loss, dtype=float) - np.asarray(reference, dtype=float)
    lower, upper = block_bootstrap_interval(d, level)
    return {"difference": float(d.mean()) if len(d) else float("nan"), "lower": lower, "upper": upper,
            "p_value": diebold_mariano(d), "n": int(len(d))}


def verdict(lower: float, upper: float) -> str:
    """The reading of a 90% interval of a loss difference (framework minus baseline)."""
    return "framework better" if upper < 0 else "framework worse" if lower > 0 else "not separated from zero"


def reliability(proba: np.ndarray, outcome: np.ndarray, possible: np.ndarray, bins: int = 5,
                level: float = LEVEL) -> pd.DataFrame:
    """One row per equal-width bin of forecast probability: ``n`` forecasts (every possible direction of every
    episode is one), ``mean_predicted``, ``observed_frequency`` and its Wilson interval ``lower``/``upper``."""
    p, o = proba[possible], outcome[possible]
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for k in range(bins):
        sel = which == k
        n = int(sel.sum())
        freq = float(o[sel].mean()) if n else float("nan")
        lo, hi = wilson(freq, n, level) if n else (float("nan"), float("nan"))
        rows.append({"bin_lower": float(edges[k]), "bin_upper": float(edges[k + 1]), "n": n,
                     "mean_predicted": float(p[sel].mean()) if n else float("nan"),
                     "observed_frequency": freq, "lower": lo, "upper": hi})
    return pd.DataFrame(rows)
