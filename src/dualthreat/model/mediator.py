"""The mediator: North Korea's threat to an ally combined with China's observed stance toward North Korea.

The paper's mechanism for Seoul: while Seoul expects Beijing to restrain Pyongyang, a higher North Korean
threat moves it toward Beijing; when China is seen backing Pyongyang, toward Washington. So the mediator is

    M[ally, t] = T[ally, local, PRK, t] x B[t]

where B is China's backing of North Korea, standardised on the reference window. From the default dataset,
B is the closeness of China's and North Korea's UN General Assembly ideal points, minus their distance
(Bailey, Strezhnev & Voeten 2017), per year: the only yearly record of China's diplomatic stance toward
Pyongyang that the default data hold. A year's value is published at its end: the filtered mediator uses the
previous year's value, the smoothed one the year's own; after the last year with data, the last value
carries on (``china_backing_year`` says which year was used). The band combines the uncertainty of both factors by
the delta method (var = B^2 var(T) + T^2 var(B)), taking them as independent.

It is computed for both allies, so that the claim that it matters for Seoul and not for Tokyo is testable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dualthreat.measure.unga import ideal_point_distance
from dualthreat.store import Store

if TYPE_CHECKING:
    from dualthreat.model.dualthreat import DualThreatModel

Z90 = 1.6448536269514722


def china_backing(store: Store, reference: tuple[str, str], source: str = "CHN", client: str = "PRK") -> pd.DataFrame:
    """B per year: minus the ideal-point distance between ``source`` and ``client``, z-scored on the
    reference years, with its sd."""
    d = ideal_point_distance(store, (source,), (client,))
    if d.empty:
        return pd.DataFrame(columns=["year", "backing", "backing_sd"])
    sd_dist = (d["distance_upper"] - d["distance_lower"]) / (2 * Z90)
    ref = d[(d.year >= int(reference[0][:4])) & (d.year <= int(reference[1][:4]))]
    base = ref if len(ref) >= 3 else d
    mu, sigma = base["distance"].mean(), base["distance"].std(ddof=1) or 1.0
    return pd.DataFrame({"year": d["year"], "backing": -(d["distance"] - mu) / sigma,
                         "backing_sd": sd_dist / sigma, "distance": d["distance"]})


def mediator(model: DualThreatModel, store: Store) -> pd.DataFrame:
    """M[ally, month] for every ally, filtered and smoothed, with a 90% band."""
    theater = model.theater_
    src = "PRK" if "PRK" in theater.sources else theater.sources[-1]
    china = "CHN" if "CHN" in theater.sources else theater.sources[0]
    backing = china_backing(store, model.reference, china, src)
    if model.as_of:
        backing = backing[backing.year < pd.Timestamp(model.as_of).year]
    rows = []
    for ally in theater.allies:
        for estimate in ("filtered", "smoothed"):
            t = model.threats_
            t = t[(t.ally == ally) & (t.level == "local") & (t.source == src) & (t.estimate == estimate)].copy()
            year = t["month"].str[:4].astype(int)
            wanted = year - 1 if estimate == "filtered" else year
            # the latest year with a value at or before the one wanted (the last published year carries on)
            years = np.sort(backing["year"].to_numpy())
            pos = np.searchsorted(years, wanted.to_numpy(), side="right") - 1
            t["year_used"] = np.where(pos >= 0, years[np.clip(pos, 0, None)], -1) if len(years) else -1
            t = t.merge(backing.rename(columns={"year": "year_used"}), on="year_used", how="left")
            m = t["mean"] * t["backing"]
            sd = np.sqrt(t["backing"] ** 2 * t["sd"] ** 2 + t["mean"] ** 2 * t["backing_sd"] ** 2)
            rows.append(pd.DataFrame({
                "ally": ally, "month": t["month"], "estimate": estimate, "dprk_threat": t["mean"],
                "china_backing": t["backing"], "china_backing_year": t["year_used"], "mean": m,
                "lower": m - Z90 * sd, "upper": m + Z90 * sd,
                "backing_source": "UNGA ideal-point closeness CHN-PRK (Bailey-Strezhnev-Voeten)",
            }))
    return pd.concat(rows, ignore_index=True)
