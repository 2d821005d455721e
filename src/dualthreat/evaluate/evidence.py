"""The data behind the hypothesis tests, computed once per fitted model: the annual panel of threats,
mediator and alignment, the coded episodes, and (cached, since they do not depend on the threat model) the
speech scores and the home-front and triangle models.

A copy restricted to a period (:meth:`Evidence.within`) makes every test run on that period only: first
differences are kept by the year they end in (the 1996 difference uses the 1995 level), episodes by the
year of their date, polls and speeches by their year.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from dualthreat.model import DualThreatModel
from dualthreat.store import Store


def components(theater: Any) -> list[str]:
    """The panel's threat columns, ``<level>_<source>``, of a theater (local China, ... in Northeast Asia)."""
    return [f"{level}_{source}" for level in theater.levels for source in theater.sources]


def episodes_of(episodes: pd.DataFrame, theater: Any) -> pd.DataFrame:
    """The coded episodes whose actor is an ally of the theater, or a joint act of its allies (``A-B``)."""
    return episodes[[theater.is_actor(a) for a in episodes.actor]].copy()


class Evidence:
    """The annual panel and the records the tests read.

    Parameters
    ----------
    model : a fitted :class:`~dualthreat.model.DualThreatModel`.
    store : the store it was fitted on.
    posture : the posture table to use instead of ``model.posture_`` (for a model fitted without posture,
        e.g. the specifications of the sensitivity analysis, which do not change the posture).
    cache : the cache of :meth:`cached` to share (the sensitivity analysis shares the baseline's: the speech
        scores and the home-front and triangle models do not depend on the threat model).
    """

    def __init__(self, model: DualThreatModel, store: Store, posture: pd.DataFrame | None = None,
                 cache: dict[str, Any] | None = None) -> None:
        self.model, self.store = model, store
        self.theater = model.theater_
        self.window: tuple[int | None, int | None] = (None, None)
        self._cache: dict[str, Any] = {} if cache is None else cache
        p = model.posture_ if posture is None else posture
        if p is None:
            raise ValueError("Evidence needs the posture measures: fit the model with_posture=True or pass posture")
        t = model.threats_[model.threats_.estimate == "filtered"].copy()
        t["year"] = t["month"].str[:4].astype(int)
        annual = t.groupby(["ally", "year", "level", "source"])["mean"].mean().reset_index()
        annual["component"] = annual["level"] + "_" + annual["source"]
        panel = annual.pivot_table(index=["ally", "year"], columns="component", values="mean").reset_index()
        cols = components(self.theater)
        for c in cols:
            if c not in panel:
                panel[c] = np.nan
        m = model.mediator_[model.mediator_.estimate == "filtered"].copy()
        m["year"] = m["month"].str[:4].astype(int)
        panel = panel.merge(m.groupby(["ally", "year"])["mean"].mean().rename("mediator").reset_index(),
                            on=["ally", "year"], how="left")
        gap = p[(p.measure == "alignment_gap") & (p.subset == "ideal_points")][["ally", "year", "value"]]
        panel = panel.merge(gap.rename(columns={"value": "alignment"}), on=["ally", "year"], how="left")
        # complete years only: the last, partial year of the threat series is left out
        last_month = t["month"].max()
        if not last_month.endswith("-12"):
            panel = panel[panel.year < int(last_month[:4])]
        th = self.theater
        for level in th.levels:  # "local", "systemic": the mean over the sources
            panel[level] = panel[[f"{level}_{s}" for s in th.sources]].mean(axis=1)
        # the great power's threat (the backer's: China's), the mean of its components at both levels
        panel["great_power"] = panel[[f"{level}_{th.great_power}" for level in th.levels]].mean(axis=1)
        panel["total"] = panel[cols].mean(axis=1)
        self.panel = panel.sort_values(["ally", "year"]).reset_index(drop=True)
        eps = episodes_of(store.query("SELECT * FROM episodes ORDER BY date").to_pandas(), th)
        eps["year"] = pd.to_datetime(eps["date"]).dt.year
        self._episodes = eps

    # ------------------------------------------------------------------------------------------------
    # periods

    def within(self, start: int | None, end: int | None) -> Evidence:
        """A copy whose tests see only the years ``start``..``end`` (None: open); caches are shared."""
        out = copy.copy(self)
        out.window = (start, end)
        return out

    def keep(self, df: pd.DataFrame, col: str = "year") -> pd.DataFrame:
        """The rows of ``df`` whose ``col`` (a year) lies in the window."""
        start, end = self.window
        mask = pd.Series(True, index=df.index)
        if start is not None:
            mask &= df[col] >= start
        if end is not None:
            mask &= df[col] <= end
        return df[mask]

    @property
    def episodes(self) -> pd.DataFrame:
        """The coded episodes dated in the window."""
        return self.keep(self._episodes)

    # ------------------------------------------------------------------------------------------------
    # series

    def diffs(self, ally: str | None, cols: list[str], y: str = "alignment",
              panel: pd.DataFrame | None = None) -> pd.DataFrame:
        """First differences of ``y`` and ``cols`` within each ally (consecutive years only), kept by the
        year they end in when it lies in the window."""
        p = self.panel if panel is None else panel
        p = p if ally is None else p[p.ally == ally]
        out = []
        for a, g in p.groupby("ally"):
            g = g.sort_values("year")
            d = g[[y, *cols]].diff()
            d["ally"], d["year"] = a, g["year"]
            out.append(d[g["year"].diff() == 1])
        if not out:
            return pd.DataFrame(columns=[y, *cols, "ally", "year"])
        return self.keep(pd.concat(out).dropna(subset=[y, *cols]))

    def systemic_common(self) -> bool:
        """True when every ally's systemic components are the same series (then a systemic effect cannot be
        told apart from any other shock common to the allies)."""
        p = self.panel
        allies = list(p.ally.unique())
        if len(allies) < 2:
            return True
        systemic = [f"systemic_{s}" for s in self.theater.sources]
        base = p[p.ally == allies[0]].set_index("year")[systemic]
        for a in allies[1:]:
            other = p[p.ally == a].set_index("year")[systemic]
            both = base.merge(other, left_index=True, right_index=True, suffixes=("", "_b")).dropna()
            for c in systemic:
                if not np.allclose(both[c], both[c + "_b"], atol=1e-9, rtol=0):
                    return False
        return True

    def threat_at(self, ally: str, component: str, date: pd.Timestamp) -> float:
        level, source = component.split("_")
        t = self.model.threats_
        row = t[(t.estimate == "filtered") & (t.ally == ally) & (t.level == level) & (t.source == source)
                & (t.month == str(pd.Timestamp(date).to_period("M")))]
        return float(row["mean"].iloc[0]) if len(row) else float("nan")

    def mediator_at(self, ally: str, date: pd.Timestamp) -> float:
        m = self.model.mediator_
        row = m[(m.ally == ally) & (m.estimate == "filtered") & (m.month == str(pd.Timestamp(date).to_period("M")))]
        return float(row["mean"].iloc[0]) if len(row) else float("nan")

    # ------------------------------------------------------------------------------------------------
    # models and scores that do not depend on the threat model (computed once, shared by all copies)

    @property
    def cache(self) -> dict[str, Any]:
        """What :meth:`cached` holds (to share with another Evidence on the same store)."""
        return self._cache

    def cached(self, key: str, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def triangle(self) -> Any:
        from dualthreat.model.triangle import TriangleModel

        return self.cached("triangle", lambda: TriangleModel(self.theater).fit(self.store))

    def domestic(self) -> Any:
        from dualthreat.model.domestic import DomesticModel

        return self.cached("domestic", lambda: DomesticModel(self.theater).fit(self.store))


def years_text(d: pd.DataFrame, col: str = "year") -> str:
    return f"{int(d[col].min())}-{int(d[col].max())}" if len(d) else "no overlapping years"
