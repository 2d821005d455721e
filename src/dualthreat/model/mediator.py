"""The mediator: the client's threat to an ally combined with the great power's observed stance toward its
client (the theater's ``[mediator] client`` and ``backer``: North Korea and China in Northeast Asia).

The paper's mechanism for Seoul: while Seoul expects Beijing to restrain Pyongyang, a higher North Korean
threat moves it toward Beijing; when China is seen backing Pyongyang, toward Washington. So the mediator is

    M[ally, t] = T[ally, local, client, t] x B[t]

where B is China's backing of North Korea, a latent monthly series estimated like a threat component (same
state-space model, same vintage and scaling rules) from the theater's ``[[backing]]`` indicators: with the
default dataset, the closeness of China's and North Korea's UN General Assembly votes (agreement on roll
calls, public the day of each vote), ICEWS net cooperation from China toward North Korea (netify dyad-years,
when the event aggregates are loaded) and, where usable, the ideal-point closeness (Bailey, Strezhnev &
Voeten 2017: re-estimated on all years, so not usable in a fit as of an earlier date). The band combines the
uncertainty of both factors by the delta method (var = B^2 var(T) + T^2 var(B)), taking them as independent.

This module is a function of measured frames only (the threat frame and the backing frame), not of the
estimator that produced them. It is computed for both allies, so that the claim that it matters for Seoul
and not for Tokyo is testable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

COLUMNS = ["ally", "month", "estimate", "dprk_threat", "dprk_threat_sd", "china_backing", "china_backing_sd",
           "china_backing_year", "mean", "lower", "upper", "backing_source"]


def mediator(threats: pd.DataFrame, backing: pd.DataFrame, allies: tuple[str, ...] | list[str],
             client: str, level: float = 0.90, backing_source: str = "") -> pd.DataFrame:
    """M[ally, month] for every ally and estimate (filtered, smoothed), with a band at ``level``.

    ``threats``: rows ``ally, level, source, month, estimate, mean, sd`` (the local threat from ``client`` is
    used); ``backing``: rows ``month, estimate, mean, sd, last_observed`` (the month of the latest backing
    observation at or before ``month``, or None)."""
    z = float(norm.ppf(0.5 + level / 2))
    rows = []
    for ally in allies:
        for estimate in ("filtered", "smoothed"):
            t = threats[(threats.ally == ally) & (threats.level == "local") & (threats.source == client)
                        & (threats.estimate == estimate)][["month", "mean", "sd"]]
            b = backing[backing.estimate == estimate][["month", "mean", "sd", "last_observed"]]
            m = t.merge(b, on="month", how="left", suffixes=("_t", "_b"))
            value = m["mean_t"] * m["mean_b"]
            sd = np.sqrt(m["mean_b"] ** 2 * m["sd_t"] ** 2 + m["mean_t"] ** 2 * m["sd_b"] ** 2)
            year = pd.to_numeric(m["last_observed"].astype("string").str[:4], errors="coerce").fillna(-1).astype(int)
            rows.append(pd.DataFrame({
                "ally": ally, "month": m["month"], "estimate": estimate, "dprk_threat": m["mean_t"],
                "dprk_threat_sd": m["sd_t"], "china_backing": m["mean_b"], "china_backing_sd": m["sd_b"],
                "china_backing_year": year, "mean": value, "lower": value - z * sd, "upper": value + z * sd,
                "backing_source": backing_source,
            }))
    return pd.concat(rows, ignore_index=True)[COLUMNS] if rows else pd.DataFrame(columns=COLUMNS)


def backing_by_year(backing: pd.DataFrame, estimate: str = "filtered") -> pd.DataFrame:
    """China's backing of North Korea per calendar year: the mean of the monthly estimate (``year``, ``backing``)."""
    b = backing[(backing.estimate == estimate) & backing["mean"].notna()].copy()
    b["year"] = b["month"].str[:4].astype(int)
    return b.groupby("year", as_index=False)["mean"].mean().rename(columns={"mean": "backing"})
