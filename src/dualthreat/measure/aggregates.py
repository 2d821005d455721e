"""Series from the event aggregates: ICEWS dyad-months, netify ICEWS dyad-years, GDELT country-pair days.

* :func:`dyad_month_series`: conflict events from ``source`` to ``target`` per month (total, verbal = columns
  01-04, material = 05-11 of the Ward Lab extract, whose CAMEO roots are unconfirmed). Inside the months the
  file covers (``icews_dyad_month_coverage``) a month without a row is 0 events (provenance caveat 2); months
  outside it (1990, and everything after 2013) are not observed.
* :func:`dyad_year_series`: the four quad counts per year, ``net_cooperation`` = verbal_coop + material_coop -
  verbal_conflict - material_conflict, and the cooperation and conflict shares of the dyad's events.
* :func:`gdelt_pair_monthly`: the signed GDELT weight of an unordered pair per month: sum over the covered days
  (a covered day without a row weighs 0), mean per covered day, the number of covered days, and a flag when
  fewer than two thirds of its days are covered (:data:`FEW_DAYS_SHARE`). A day missing from the source is unknown, never 0.

:func:`aggregate_observations` turns one of them into the threat model's observations (see
:mod:`dualthreat.measure.series`). The sources are never spliced: each series stays on its own scale, and the
gap between netify's last year (2014) and GDELT's first (2018) stays a gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dualthreat.store import Store
from dualthreat.theater import Indicator

AGGREGATE_TABLES = ("icews_dyad_month", "icews_dyad_year", "gdelt_pairs")
MONTH_COUNTS = ("conflict_total", "verbal_conflict", "material_conflict")
QUADS = ("verbal_coop", "material_coop", "verbal_conflict", "material_conflict")
YEAR_SERIES = (*QUADS, "net_cooperation", "cooperation_share", "conflict_share")
GDELT_SERIES = ("weight_mean", "weight_sum")
FEW_DAYS_SHARE = 2 / 3  # a GDELT month with fewer covered days than this share of its days is flagged
SOURCES = {
    "icews_dyad_month": "ICEWS dyad-month (Ward Lab extract, 1991-2013)",
    "icews_dyad_year": "ICEWS dyad-year (netify, 2002-2014)",
    "gdelt_pairs": "GDELT 2.0 country-pair days (gzemo/gdelt-graph-data, 2018-2024)",
}
OBSERVATION_COLUMNS = ["end", "months", "raw", "value", "scale"]


def _present(store: Store, *tables: str) -> bool:
    names = ", ".join(f"'{t}'" for t in tables)
    # distinct names: an as-of store (measure.vintage.AsOfStore) also lists the attached source's tables
    found = store.query(f"SELECT count(DISTINCT table_name) AS n FROM information_schema.tables "
                        f"WHERE table_name IN ({names})")
    return found.to_pylist()[0]["n"] == len(tables)


def aggregates_loaded(store: Store, table: str) -> bool:
    """True when ``table`` (one of :data:`AGGREGATE_TABLES`) exists in the store and holds rows."""
    if table not in AGGREGATE_TABLES or not _present(store, table):
        return False
    return store.query(f'SELECT count(*) AS n FROM "{table}"').to_pylist()[0]["n"] > 0


def _dyad(directed: bool) -> str:
    """The WHERE clause of a dyad (parameters: source, target, and for both directions the two again)."""
    return ("(source = ? AND target = ?)" if directed
            else "((source = ? AND target = ?) OR (target = ? AND source = ?))")


def dyad_month_series(store: Store, source: str, target: str, directed: bool = True) -> pd.DataFrame:
    """Conflict events from ``source`` to ``target`` (with ``directed=False``: between the two, in either
    direction) in every covered month: columns ``month`` (Period M), ``conflict_total``, ``verbal_conflict``,
    ``material_conflict``. Empty when the dyad has no row at all (a state missing from the file, such as Mexico
    or Vietnam, is not observed rather than 0)."""
    empty = pd.DataFrame(columns=["month", *MONTH_COUNTS])
    if not _present(store, "icews_dyad_month", "icews_dyad_month_coverage"):
        return empty
    rows = store.query("SELECT month, conflict_total, verbal_conflict, material_conflict FROM icews_dyad_month "
                       f"WHERE {_dyad(directed)}", [source, target] * (1 if directed else 2)).to_pandas()
    if rows.empty:
        return empty
    covered = store.query("SELECT DISTINCT month FROM icews_dyad_month_coverage ORDER BY month").to_pandas()
    months = sorted(set(covered["month"]) | set(rows["month"]))
    out = rows.groupby("month")[list(MONTH_COUNTS)].sum().reindex(months, fill_value=0).astype(int)
    out.index = pd.PeriodIndex(out.index, freq="M")
    return out.rename_axis("month").reset_index()


def dyad_year_series(store: Store, source: str, target: str, directed: bool = True) -> pd.DataFrame:
    """The four quad counts from ``source`` to ``target`` (with ``directed=False``: in either direction) per
    year, with ``events`` (their sum), ``net_cooperation`` and the cooperation and conflict shares (empty where
    the dyad had no event)."""
    cols = ["year", *QUADS, "events", "net_cooperation", "cooperation_share", "conflict_share"]
    if not _present(store, "icews_dyad_year"):
        return pd.DataFrame(columns=cols)
    df = store.query("SELECT year, sum(verbal_coop) AS verbal_coop, sum(material_coop) AS material_coop, "
                     "sum(verbal_conflict) AS verbal_conflict, sum(material_conflict) AS material_conflict "
                     f"FROM icews_dyad_year WHERE {_dyad(directed)} GROUP BY year ORDER BY year",
                     [source, target] * (1 if directed else 2)).to_pandas()
    if df.empty:
        return pd.DataFrame(columns=cols)
    df[list(QUADS)] = df[list(QUADS)].astype(int)
    coop = df["verbal_coop"] + df["material_coop"]
    conflict = df["verbal_conflict"] + df["material_conflict"]
    df["events"] = coop + conflict
    df["net_cooperation"] = coop - conflict
    total = df["events"].where(df["events"] > 0)
    df["cooperation_share"] = coop / total
    df["conflict_share"] = conflict / total
    return df[cols]


def gdelt_pair_monthly(store: Store, a: str, b: str) -> pd.DataFrame:
    """The GDELT weight of the unordered pair {a, b} per month with at least one covered day: ``weight_sum``,
    ``weight_mean`` (per covered day), ``days`` (covered days), ``calendar_days`` and ``few_days``."""
    cols = ["month", "weight_sum", "weight_mean", "days", "calendar_days", "few_days"]
    if not _present(store, "gdelt_pairs", "gdelt_pairs_days"):
        return pd.DataFrame(columns=cols)
    lo, hi = sorted((a, b))
    df = store.query(
        "WITH d AS (SELECT DISTINCT date FROM gdelt_pairs_days), "
        "w AS (SELECT date, sum(weight) AS weight FROM gdelt_pairs WHERE a = ? AND b = ? GROUP BY date) "
        "SELECT strftime(d.date, '%Y-%m') AS month, sum(coalesce(w.weight, 0)) AS weight_sum, count(*) AS days, "
        "count(w.weight) AS nonzero FROM d LEFT JOIN w USING (date) GROUP BY 1 ORDER BY 1", [lo, hi]).to_pandas()
    if df.empty or df["nonzero"].sum() == 0:  # a pair never seen in the file (a code GDELT does not use)
        return pd.DataFrame(columns=cols)
    df["month"] = pd.PeriodIndex(df["month"], freq="M")
    df["days"] = df["days"].astype(int)
    df["weight_mean"] = df["weight_sum"] / df["days"]
    df["calendar_days"] = [m.days_in_month for m in df["month"]]
    df["few_days"] = df["days"] < FEW_DAYS_SHARE * df["calendar_days"]
    return df[cols]


def _known_before(obs: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """An aggregate is known once its period has ended: a month after its last day, a year after December."""
    if as_of is None or obs.empty:
        return obs
    return obs[obs["end"] < pd.Period(pd.Timestamp(as_of), freq="M")]


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def aggregate_observations(store: Store, indicator: Indicator, last: pd.Period,
                           as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Observations of an indicator on one of :data:`AGGREGATE_TABLES`: columns ``end`` (Period M), ``months``
    (1 for a month, 12 for a year), ``raw``, ``value`` (the model's scale) and ``scale``; GDELT adds ``days``
    and ``few_days``. ``indicator.actor`` is the source and ``indicator.target`` the target (GDELT pairs are
    undirected). With ``as_of``, only periods that ended before it are used."""
    t, series = indicator.table, indicator.series
    if not indicator.actor or not indicator.target:
        raise ValueError(f"{indicator.id}: a {t} indicator needs an actor and a target")
    if t == "icews_dyad_month":
        if series not in MONTH_COUNTS:
            raise ValueError(f"{indicator.id}: unknown {t} series {series!r} (one of {', '.join(MONTH_COUNTS)})")
        df = dyad_month_series(store, indicator.actor, indicator.target, indicator.directed)
        raw = df[series].to_numpy(dtype=float)
        obs = pd.DataFrame({"end": df["month"].to_numpy(), "months": 1, "raw": raw, "value": np.log1p(raw),
                            "scale": "log1p(ICEWS conflict events in the month)"})
    elif t == "icews_dyad_year":
        if series not in YEAR_SERIES:
            raise ValueError(f"{indicator.id}: unknown {t} series {series!r} (one of {', '.join(YEAR_SERIES)})")
        df = dyad_year_series(store, indicator.actor, indicator.target, indicator.directed).dropna(subset=[series])
        raw = df[series].to_numpy(dtype=float)
        if series in QUADS:
            value, scale = np.log1p(raw / 12), "log1p(ICEWS events per month, from the year's count)"
        elif series == "net_cooperation":
            value, scale = _signed_log1p(raw / 12), "signed log1p(ICEWS net cooperation per month)"
        else:
            value, scale = raw, "share of the dyad's ICEWS events in the year"
        ends = [pd.Period(f"{int(y)}-12", freq="M") for y in df["year"]]
        obs = pd.DataFrame({"end": ends, "months": 12, "raw": raw, "value": value, "scale": scale})
    elif t == "gdelt_pairs":
        if series not in GDELT_SERIES:
            raise ValueError(f"{indicator.id}: unknown {t} series {series!r} (one of {', '.join(GDELT_SERIES)})")
        df = gdelt_pair_monthly(store, indicator.actor, indicator.target)
        raw = df[series].to_numpy(dtype=float)
        obs = pd.DataFrame({"end": df["month"].to_numpy(), "months": 1, "raw": raw, "value": raw,
                            "scale": f"GDELT pair {'weight per covered day' if series == 'weight_mean' else 'weight'}"
                                     " in the month, as computed", "days": df["days"].to_numpy(),
                            "few_days": df["few_days"].to_numpy()})
    else:
        raise ValueError(f"{indicator.id}: {t!r} is not an event-aggregate table ({', '.join(AGGREGATE_TABLES)})")
    if obs.empty:
        return pd.DataFrame(columns=OBSERVATION_COLUMNS)
    obs["end"] = pd.PeriodIndex(obs["end"], freq="M")
    obs = obs[obs["end"] <= last]
    return _known_before(obs, as_of).reset_index(drop=True)


def overlap_correlations(store: Store, states: tuple[str, ...]) -> pd.DataFrame:
    """Where the two ICEWS aggregates overlap (the years both cover, 2002-2013 in the default data): for each
    directed dyad among ``states``, the dyad-month counts summed to years against netify's, Pearson's r of the
    yearly series for total conflict (netify verbal + material conflict), verbal and material conflict, and
    the ratio of the sums (netify / dyad-month). A check that the two sources agree, never a splice."""
    rows = []
    for s in states:
        for t in states:
            if s == t:
                continue
            month = dyad_month_series(store, s, t)
            year = dyad_year_series(store, s, t)
            if month.empty or year.empty:
                continue
            by_year = month.assign(year=[m.year for m in month["month"]]).groupby("year")[list(MONTH_COUNTS)].sum()
            # only whole years of the monthly file
            n_months = month.assign(year=[m.year for m in month["month"]]).groupby("year").size()
            by_year = by_year[n_months == 12]
            both = year.set_index("year").add_suffix("_netify").join(by_year, how="inner")
            if len(both) < 3:
                continue
            netify_conflict = both["verbal_conflict_netify"] + both["material_conflict_netify"]
            pairs = {"conflict": (netify_conflict, both["conflict_total"]),
                     "verbal": (both["verbal_conflict_netify"], both["verbal_conflict"]),
                     "material": (both["material_conflict_netify"], both["material_conflict"])}
            row: dict[str, object] = {"source": s, "target": t, "years": len(both),
                                      "first": int(both.index.min()), "last": int(both.index.max())}
            for name, (a, b) in pairs.items():
                row[f"r_{name}"] = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else np.nan
            row["dyad_month_conflict"] = int(both["conflict_total"].sum())
            row["netify_conflict"] = int(netify_conflict.sum())
            row["ratio"] = row["netify_conflict"] / row["dyad_month_conflict"] if row["dyad_month_conflict"] \
                else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def quad_panel(store: Store, states: tuple[str, ...]) -> pd.DataFrame:
    """netify's ICEWS dyad-years among ``states`` (directed, source != target): the four quads and ``events``
    (their sum). Empty when the table is not loaded."""
    cols = ["source", "target", "year", *QUADS, "events"]
    if not aggregates_loaded(store, "icews_dyad_year"):
        return pd.DataFrame(columns=cols)
    marks = ", ".join("?" * len(states))
    df = store.query(f"SELECT source, target, year, {', '.join(f'sum({q}) AS {q}' for q in QUADS)} "
                     f"FROM icews_dyad_year WHERE source IN ({marks}) AND target IN ({marks}) AND source <> target "
                     "GROUP BY ALL ORDER BY source, target, year", [*states, *states]).to_pandas()
    df[list(QUADS)] = df[list(QUADS)].astype(int)
    df["year"] = df["year"].astype(int)
    df["events"] = df[list(QUADS)].sum(axis=1)
    return df[cols]


def gdelt_pair_yearly(store: Store, a: str, b: str) -> pd.DataFrame:
    """The GDELT weight of the pair {a, b} per year: mean per covered day (``weight_mean``), sum and ``days``
    covered. Only years with covered days; empty when the pair never appears."""
    m = gdelt_pair_monthly(store, a, b)
    cols = ["year", "weight_mean", "weight_sum", "days"]
    if m.empty:
        return pd.DataFrame(columns=cols)
    y = m.assign(year=[p.year for p in m["month"]]).groupby("year", as_index=False)[["weight_sum", "days"]].sum()
    y["weight_mean"] = y["weight_sum"] / y["days"]
    return y[cols]
