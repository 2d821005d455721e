"""Alignment in the UN General Assembly: vote agreement, Cohen's kappa and ideal-point distance.

* Agreement is the share of roll calls on which two states cast the same vote (yes, no or abstain), over
  the roll calls where both voted; the interval is Wilson's (1927) score interval.
* Cohen's kappa (Cohen 1960) corrects agreement for what two states with their vote distributions would
  agree on by chance; Häge (2011, "Choice or Circumstance? Adjusting Measures of Foreign Policy Similarity
  for Chance Agreement", *Political Analysis* 19(3)) argues for it over raw agreement. The interval uses the
  large-sample standard error sqrt(p_o (1 - p_o) / (N (1 - p_e)^2)).
* Ideal-point distance uses Bailey, Strezhnev & Voeten (2017) ideal points and their posterior quantiles:
  each state's posterior is summarised as normal with sd = (q95 - q05) / 3.29 (the 5% and 95% quantiles lie
  2 x z(0.90) sd apart), the two are taken as independent, and the interval of the difference is folded at zero.

Intervals have coverage ``level`` (default 0.90); quantiles come from :mod:`dualthreat.stats`.

The contingency tables are one Ibis expression (run on DuckDB); the statistics are computed from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dualthreat.stats import LEVEL, wilson, z_quantile
from dualthreat.store import Store

__all__ = ["VOTES", "cohen_kappa", "ideal_point_distance", "vote_agreement", "vote_pairs", "wilson"]

QUANTILE_SPAN = 2 * z_quantile(0.90)  # sd units between a posterior's 5% and 95% quantiles (q05, q95)
VOTES = ("yes", "abstain", "no")


def _ibis_con(store: Store):  # noqa: ANN202 - ibis backend type
    """An Ibis backend on a read-only connection of ``store`` (for an as-of store, its views: never its source's
    file, which holds later rows)."""
    import ibis

    return ibis.duckdb.from_connection(store.connect(read_only=True))


SUBSETS = ("all", "important", "issue")


def vote_pairs(store: Store, pairs: list[tuple[str, str]], subsets: tuple[str, ...] = SUBSETS) -> pd.DataFrame:
    """Counts of (vote of a, vote of b) per year, roll-call subset and pair of states.

    Subsets: ``all``, ``important`` (US State Department important votes) and ``issue:XX`` for each issue
    code of the roll calls (me, nu, di, hr, co, ec); ``subsets`` names the kinds wanted (``issue`` for all
    the issue codes)."""
    unknown = set(subsets) - set(SUBSETS)
    if unknown:
        raise ValueError(f"unknown roll-call subsets {sorted(unknown)}; expected some of {SUBSETS}")
    import ibis

    con = _ibis_con(store)
    try:
        votes, calls, issues = con.table("un_votes"), con.table("un_roll_calls"), con.table("un_roll_call_issues")
        frames = []
        for a, b in pairs:
            va = votes.filter(votes.iso3 == a).select(rcid=votes.rcid, vote_a=votes.vote)
            vb = votes.filter(votes.iso3 == b).select(rcid=votes.rcid, vote_b=votes.vote)
            joined = va.join(vb, "rcid").join(calls.select("rcid", "date", "important_vote"), "rcid")
            joined = joined.mutate(year=joined.date.year(), a=ibis.literal(a), b=ibis.literal(b))
            keys = ["a", "b", "year", "vote_a", "vote_b"]
            by_issue = joined.join(issues.select("rcid", "issue_code"), "rcid")
            kinds = {
                "all": lambda: joined.mutate(subset=ibis.literal("all")),
                "important": lambda: joined.filter(joined.important_vote).mutate(subset=ibis.literal("important")),
                "issue": lambda: by_issue.mutate(subset=ibis.literal("issue:") + by_issue.issue_code).drop("issue_code"),
            }
            for kind in SUBSETS:
                if kind in subsets:
                    frames.append(kinds[kind]().group_by([*keys, "subset"]).agg(n=ibis._.count()).to_pandas())
    finally:
        con.disconnect()
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def cohen_kappa(table: np.ndarray) -> tuple[Any, Any, Any, Any]:
    """Agreement p_o, kappa and kappa's standard error (Cohen 1960) from a square contingency table of counts,
    and its total n: floats for one table, arrays for a stack of them (shape ``(..., k, k)``)."""
    t = np.asarray(table, dtype=float)
    n = t.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        po = np.trace(t, axis1=-2, axis2=-1) / n
        rows, cols = t.sum(axis=-1) / n[..., None], t.sum(axis=-2) / n[..., None]
        pe = rows[..., 0] * cols[..., 0]
        for i in range(1, t.shape[-1]):  # in order, as a dot product of the two margins adds them
            pe = pe + rows[..., i] * cols[..., i]
        kappa = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
        se = np.where(pe < 1, np.sqrt(po * (1 - po) / (n * (1 - pe) ** 2)), np.nan)
    if t.ndim == 2:
        return float(po), float(kappa), float(se), int(n)
    return po, kappa, se, n.astype(int)


def vote_agreement(store: Store, allies: tuple[str, ...], partners: tuple[str, ...],
                   level: float = LEVEL, subsets: tuple[str, ...] = SUBSETS) -> pd.DataFrame:
    """Per ally, partner, year and subset: roll calls ``n``, ``agreement`` and ``kappa`` with ``level``
    intervals (Wilson's for agreement, :func:`dualthreat.stats.wilson`); ``subsets`` as in :func:`vote_pairs`."""
    z = z_quantile(level)
    counts = vote_pairs(store, [(a, p) for a in allies for p in partners], subsets)
    cols = ["ally", "partner", "year", "subset", "n", "agreement", "agreement_lower", "agreement_upper", "kappa",
            "kappa_lower", "kappa_upper"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    keys = ["a", "b", "year", "subset"]
    groups = counts.groupby(keys, sort=True)
    cells = groups.size().index.to_frame(index=False)  # one contingency table per ally, partner, year, subset
    va = pd.Categorical(counts["vote_a"], categories=VOTES).codes
    vb = pd.Categorical(counts["vote_b"], categories=VOTES).codes
    if (va < 0).any() or (vb < 0).any():
        bad = counts.loc[(va < 0) | (vb < 0), ["vote_a", "vote_b"]].iloc[0].tolist()
        raise ValueError(f"a vote outside {VOTES}: {bad}")
    tables = np.zeros((len(cells), len(VOTES), len(VOTES)))
    np.add.at(tables, (groups.ngroup().to_numpy(), va, vb), counts["n"].to_numpy(dtype=float))
    po, kappa, se, n = cohen_kappa(tables)
    lo, hi = wilson(po, n, level)
    out = pd.DataFrame({"ally": cells["a"], "partner": cells["b"], "year": cells["year"].astype(int),
                        "subset": cells["subset"], "n": n, "agreement": po, "agreement_lower": lo,
                        "agreement_upper": hi, "kappa": kappa, "kappa_lower": kappa - z * se,
                        "kappa_upper": kappa + z * se})
    return out[cols].sort_values(["ally", "partner", "subset", "year"]).reset_index(drop=True)


def ideal_point_distance(store: Store, allies: tuple[str, ...], partners: tuple[str, ...],
                         level: float = LEVEL) -> pd.DataFrame:
    """Per ally, partner and year: |ideal point difference| with a ``level`` interval (see module notes)."""
    z = z_quantile(level)
    ip = store.query("SELECT iso3, year, ideal_point, q05, q95 FROM ideal_points WHERE ideal_point IS NOT NULL"
                     ).to_pandas()
    ip["sd"] = (ip["q95"] - ip["q05"]) / QUANTILE_SPAN
    rows = []
    for a in allies:
        for p in partners:
            m = ip[ip.iso3 == a].merge(ip[ip.iso3 == p], on="year", suffixes=("_a", "_p"))
            diff = m["ideal_point_a"] - m["ideal_point_p"]
            half = z * np.sqrt(m["sd_a"] ** 2 + m["sd_p"] ** 2)
            lo, hi = diff - half, diff + half
            spans = (lo <= 0) & (hi >= 0)
            rows.append(pd.DataFrame({
                "ally": a, "partner": p, "year": m["year"], "distance": diff.abs(),
                "distance_lower": np.where(spans, 0.0, np.minimum(lo.abs(), hi.abs())),
                "distance_upper": np.maximum(lo.abs(), hi.abs()),
            }))
    return pd.concat(rows, ignore_index=True).sort_values(["ally", "partner", "year"]).reset_index(drop=True)
