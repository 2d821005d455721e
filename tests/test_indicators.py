"""One value per reported period from the curated figures (dualthreat.measure.indicators): status ranks,
conflicts kept as a spread, every source kept, and the first release beside the current value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dualthreat import ingest
from dualthreat.measure.indicators import resolve_indicators
from dualthreat.measure.vintage import snapshot
from dualthreat.store import Store

HEADER = "series,actor,target,period_type,period,value,unit,source_title,source_url,source_date,note"
ROWS = [
    # 2010: two firm reports that disagree (a conflict: the median, and the spread), one approximate (loses)
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2010,368,count,Nikkei,https://example.org/b,2011-04-30,",
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2010,386,count,Yomiuri,https://example.org/a,2011-05-31,",
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2010,300,count,Blog,https://example.org/c,2011-04-01,APPROXIMATE",
    # 2011: a preliminary figure first, the firm one a year later (the first release is the preliminary one)
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2011,420,count,Early,https://example.org/d,2012-04,PRELIMINARY",
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2011,425,count,Final,https://example.org/e,2013-04-30,",
    # 2012: three firm reports: the median is the middle one
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2012,567,count,A,https://example.org/f,2013-04-30,",
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2012,560,count,B,https://example.org/g,2013-04-30,",
    "jasdf_scrambles,ALL,JPN,fiscal_year_jp,2012,570,count,C,https://example.org/f,2013-04-30,",
]


@pytest.fixture()
def store(empty_store: Path, tmp_path: Path) -> Store:
    path = tmp_path / "curated.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", "utf-8")
    store = Store(empty_store)
    result = ingest.read("indicators", path)
    assert result.rows_in == len(ROWS) and not result.rejections
    store.load([result], kind="indicators")
    return store


def _by_period(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["period"]: r for r in frame.to_dict(orient="records")}


def test_the_rules_give_one_value_per_period(store: Store) -> None:
    got = _by_period(resolve_indicators(store))
    assert set(got) == {"2010", "2011", "2012"}
    y10 = got["2010"]
    assert (y10["value"], y10["low"], y10["high"], y10["n_reports"]) == (377.0, 368.0, 386.0, 2)
    assert y10["status"] == "conflict"  # firm reports that disagree: the spread is kept, not resolved silently
    assert y10["source_urls"] == "https://example.org/a https://example.org/b"  # the approximate row lost
    assert y10["published"] == pd.Timestamp("2011-05-31")  # when both firm rows were public
    y11 = got["2011"]
    assert (y11["value"], y11["status"], y11["n_reports"]) == (425.0, "firm", 1)
    assert (y11["first_value"], y11["first_published"]) == (420.0, pd.Timestamp("2012-04-30"))
    y12 = got["2012"]
    assert (y12["value"], y12["low"], y12["high"], y12["n_reports"]) == (567.0, 560.0, 570.0, 3)
    assert y12["source_urls"] == "https://example.org/f https://example.org/g"  # each source once, sorted


def test_a_store_cut_at_a_date_resolves_from_the_rows_public_then(store: Store) -> None:
    with snapshot(store, "2011-05-01") as snap:
        got = _by_period(resolve_indicators(snap))
    assert set(got) == {"2010"}
    assert (got["2010"]["value"], got["2010"]["status"], got["2010"]["n_reports"]) == (368.0, "firm", 1)
    with snapshot(store, "2013-01-01") as snap:
        got = _by_period(resolve_indicators(snap))
    assert (got["2011"]["value"], got["2011"]["status"]) == (420.0, "preliminary")
