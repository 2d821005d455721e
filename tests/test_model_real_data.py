"""The framework on the real default dataset: the paper's milestones in the filtered estimates, each ally's
own systemic perception, coverage flags, and no look-ahead through any table."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from dualthreat.measure.milestones import dated_events
from dualthreat.measure.vintage import published_sql, rule
from dualthreat.model import DualThreatModel
from dualthreat.store import Store
from dualthreat.tables import TABLES


@pytest.fixture(scope="module")
def store(default_base) -> Store:
    """The session's default-dataset store (conftest.py), read only."""
    return Store(default_base.path)


@pytest.fixture(scope="module")
def model(store) -> DualThreatModel:
    return DualThreatModel(with_posture=False).fit(store)


def _mean(model: DualThreatModel, ally: str, level: str, source: str, start: str, end: str) -> float:
    """The mean of the FILTERED estimate over months start..end (data up to each month)."""
    t = model.threats(ally=ally)
    t = t[(t.level == level) & (t.source == source) & (t.month >= start) & (t.month <= end)]
    assert t["mean"].notna().all(), f"{ally}.{level}.{source} has months without data in {start}..{end}"
    return float(t["mean"].mean())


def _at(model: DualThreatModel, ally: str, level: str, source: str, month: str) -> pd.Series:
    t = model.threats(ally=ally)
    return t[(t.level == level) & (t.source == source) & (t.month == month)].iloc[0]


def test_eight_components_with_bands_and_explanations(model):
    t = model.threats_
    assert len(t.groupby(["ally", "level", "source"])) == 8
    assert set(t.estimate) == {"filtered", "smoothed"}
    ok = t.dropna(subset=["mean"])
    assert (ok.lower <= ok["mean"]).all() and (ok["mean"] <= ok.upper).all()
    for month in ("2010-09", "2014-06"):
        explained = model.explain("JPN", "local", "CHN", month)
        assert explained.contribution.sum() == pytest.approx(_at(model, "JPN", "local", "CHN", month)["mean"])


def test_milestone_japan_local_china(model):
    """Filtered estimates. The Senkaku trawler collision (7 September 2010) and the captain's detention move
    Japan's local China threat in its months; the 2012-13 island crisis and the ADIZ leave 2013 above 2008."""
    sep_oct, jan_aug = (_mean(model, "JPN", "local", "CHN", "2010-09", "2010-10"),
                        _mean(model, "JPN", "local", "CHN", "2010-01", "2010-08"))
    y2013, y2008 = _mean(model, "JPN", "local", "CHN", "2013-01", "2013-12"), _mean(model, "JPN", "local", "CHN",
                                                                                    "2008-01", "2008-12")
    print(f"\nJPN local CHN (filtered): Sep-Oct 2010 {sep_oct:+.2f} vs Jan-Aug 2010 {jan_aug:+.2f}; "
          f"2013 {y2013:+.2f} vs 2008 {y2008:+.2f}")
    assert sep_oct > jan_aug
    assert y2013 > y2008


def test_milestone_korea_local_north_korea(model):
    """Filtered estimates. The Cheonan sinking and the Yeonpyeong shelling leave 2010 above 2009; the fourth
    nuclear test (6 January 2016) and the February launch leave January-February 2016 above 2015."""
    y2010, y2009 = (_mean(model, "KOR", "local", "PRK", "2010-01", "2010-12"),
                    _mean(model, "KOR", "local", "PRK", "2009-01", "2009-12"))
    jf16, y2015 = (_mean(model, "KOR", "local", "PRK", "2016-01", "2016-02"),
                   _mean(model, "KOR", "local", "PRK", "2015-01", "2015-12"))
    print(f"\nKOR local PRK (filtered): 2010 {y2010:+.2f} vs 2009 {y2009:+.2f}; "
          f"Jan-Feb 2016 {jf16:+.2f} vs 2015 {y2015:+.2f}")
    assert y2010 > y2009
    assert jf16 > y2015
    # the nuclear test moves its own month, through the transient part
    dec, jan = _at(model, "KOR", "local", "PRK", "2015-12"), _at(model, "KOR", "local", "PRK", "2016-01")
    assert jan["mean"] > dec["mean"] and jan["transient"] > dec["transient"]


def test_every_nuclear_test_raises_both_allies_local_north_korea_threat(model, store):
    """Each of North Korea's six nuclear tests (the dated events of the store, not a list in this test) leaves
    Japan's and South Korea's local North Korea threat, filtered, above its mean over the twelve months
    before. With ICEWS read one way only (from North Korea), the third test (February 2013) left Japan's 1.1 sd
    lower than the month before and below that mean."""
    events = dated_events(store, model.theater_)
    tests = sorted({d[:7] for d in events.loc[events.series == "dprk_nuclear_test", "date"]})
    assert len(tests) == 6
    for ally in ("JPN", "KOR"):
        for month in tests:
            before = pd.Period(month, "M")
            now = float(_at(model, ally, "local", "PRK", month)["mean"])
            baseline = _mean(model, ally, "local", "PRK", str(before - 12), str(before - 1))
            print(f"{ally} local PRK {month}: {now:+.2f} against {baseline:+.2f} over the 12 months before")
            assert now > baseline, (ally, month, now, baseline)


def test_korea_local_china_is_observed_before_2007(model):
    ind = model.indicators_.set_index("indicator")
    assert ind.loc["icews_chn_kor_conflict", "first"] < "2007-01"
    t = model.threats(ally="KOR")
    t = t[(t.level == "local") & (t.source == "CHN") & (t.month >= "2001-01") & (t.month <= "2006-12")]
    assert (t.coverage == "data").all() and t["mean"].notna().all()


def test_each_ally_perceives_the_systemic_threat_its_own_way(model):
    wide = model.threats_[model.threats_.estimate == "filtered"].pivot_table(
        index="month", columns=["ally", "level", "source"], values="mean")
    jpn, kor = wide[("JPN", "systemic", "CHN")], wide[("KOR", "systemic", "CHN")]
    both = pd.concat([jpn, kor], axis=1).dropna()
    assert (both.iloc[:, 0] - both.iloc[:, 1]).abs().max() > 0.1
    # and their own elite salience is what differs
    ind = model.indicators_.set_index("indicator")
    assert ind.loc["jpn_speech_salience_chn", "observations"] > 0 and ind.loc["kor_speech_salience_chn", "observations"] > 0


def test_a_component_without_data_says_so(model):
    t = model.threats(ally="KOR")
    kc = t[(t.level == "local") & (t.source == "CHN")]
    early = kc[kc.month < "2001-01"]
    assert (early.coverage == "prior only").all() and early["mean"].isna().all()
    assert set(model.threats_.coverage) <= {"data", "no recent data", "prior only"}


def test_the_mediator_is_built_from_the_measured_frames(model):
    from dualthreat.model.mediator import mediator

    again = mediator(model.threats_, model.backing_, model.theater_.allies, "PRK")
    assert np.allclose(again["mean"], model.mediator_["mean"], equal_nan=True)
    m = model.mediator_[(model.mediator_.estimate == "filtered") & (model.mediator_.ally == "KOR")]
    assert m["mean"].notna().sum() > 200 and set(model.mediator_.ally) == {"JPN", "KOR"}


def test_as_of_uses_only_data_published_before(store):
    model = DualThreatModel(as_of="2016-02-01").fit(store)
    assert model.threats_.month.max() == "2016-02"  # the month of as_of, with only the events dated before it
    assert model.posture_.year.max() <= 2015
    ind = model.indicators_.set_index("indicator")
    # ICEWS was public from 27 March 2015, COW NMC v7.0 and the ideal points only years later
    assert ind.loc["icews_prk_kor_conflict", "observations"] > 0
    assert ind.loc["chn_cinc_share_growth_jpn", "observations"] == 0
    assert model.backing_indicators_.set_index("indicator").loc["ideal_point_closeness_chn_prk", "observations"] == 0


# ------------------------------------------------------------------------------------------------------------
# no look-ahead through any table

AS_OF = "2014-07-01"
KEYS = {"year", "wave", "rcid", "ccode", "session", "source_line", "series_no", "start_year", "end_year",
        "n_votes", "n_votes_all", "n_respondents", "rivalry_id"}


def _alter_later_rows(path) -> None:
    """Every row published on or after AS_OF, or of a period ending then or later, in every table: numbers
    times 3 plus 7, votes and directions changed; and extreme events inserted after AS_OF."""
    con = duckdb.connect(str(path))
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for name, table in TABLES.items():
        if name not in tables or rule(name).published is None:
            continue
        later = f"({published_sql(name)}) >= DATE '{AS_OF}'"
        if rule(name).join:  # the votes: dated by their roll call
            later = f"rcid IN (SELECT rcid FROM un_roll_calls WHERE date >= DATE '{AS_OF}')"
        numeric = [c for c, ty in table.columns if ty in ("DOUBLE", "INTEGER", "BIGINT") and c not in KEYS]
        sets = [f'"{c}" = "{c}" * 3 + 7' for c in numeric]
        if name == "un_votes":
            sets.append("vote = CASE vote WHEN 'yes' THEN 'no' WHEN 'no' THEN 'abstain' ELSE 'yes' END")
        if name == "episodes":
            sets.append("direction = 'toward_china'")
        if sets:
            con.execute(f'UPDATE "{name}" t SET {", ".join(sets)} WHERE {later}')
    # rows of periods that end after the date, whenever they were published
    con.execute(f"UPDATE indicators SET value = value * 3 + 7 WHERE end_date >= DATE '{AS_OF}'")
    con.execute(f"UPDATE speeches SET text = text || repeat(' China North Korea threat', 500) WHERE year >= 2014")
    # extreme events after the date
    con.execute("INSERT INTO missile_tests (test_date, date_precision, missile, outcome, dataset) "
                f"SELECT DATE '{AS_OF}' + INTERVAL (i) DAY, 'day', 'hwasong-14', 'success', 'tamper' "
                "FROM range(0, 300, 3) t(i)")
    con.execute("INSERT INTO indicators (series, actor, period_type, period, start_date, end_date, value, unit, "
                "status, source_date, dataset) SELECT 'dprk_nuclear_test', 'PRK', 'date', 'x', "
                f"DATE '{AS_OF}' + INTERVAL (i) DAY, DATE '{AS_OF}' + INTERVAL (i) DAY, 9.9, 'seismic_magnitude', "
                f"'firm', '{AS_OF}', 'tamper' FROM range(0, 60, 5) t(i)")
    con.close()


def test_altering_every_later_row_of_every_table_leaves_earlier_estimates_identical(default_base, tmp_path):
    before = DualThreatModel(as_of=AS_OF, with_posture=False).fit(Store(default_base.path))
    changed = default_base.copy(tmp_path / "changed.duckdb")
    _alter_later_rows(changed)
    after = DualThreatModel(as_of=AS_OF, with_posture=False).fit(Store(changed))
    for name in ("threats_", "mediator_", "backing_"):
        a, b = getattr(before, name), getattr(after, name)
        assert len(a) == len(b) and len(a) > 0, name
        for col in ("mean", "sd") if "sd" in a else ("mean",):
            assert np.allclose(a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float), equal_nan=True,
                               atol=1e-12), (name, col)
    # the alteration does reach the estimates of a later fit (the test can fail)
    late_a = DualThreatModel(as_of="2016-03-01", with_posture=False).fit(Store(default_base.path)).threats_
    late_b = DualThreatModel(as_of="2016-03-01", with_posture=False).fit(Store(changed)).threats_
    assert not np.allclose(late_a["mean"].to_numpy(dtype=float), late_b["mean"].to_numpy(dtype=float),
                           equal_nan=True)


def test_an_indicator_keeps_one_scale_whatever_the_date_of_the_fit(store, model):
    early = DualThreatModel(as_of="2012-01-01", with_posture=False).fit(store).indicators_.set_index("indicator")
    late = model.indicators_.set_index("indicator")
    both = early.dropna(subset=["reference_mean"]).index
    assert len(both) >= 8
    for name in both:
        assert early.loc[name, "reference_mean"] == late.loc[name, "reference_mean"], name
        assert early.loc[name, "reference_sd"] == late.loc[name, "reference_sd"], name


def test_input_changes_name_where_a_main_input_starts_or_ends(model):
    """ICEWS (to December 2013) and GDELT (from January 2018) carry Korea's local North Korea component in turn:
    both ends are flagged, so that a jump there is not read as a change of threat; every flagged input has a
    weight of at least 0.10 and the month is its first or last."""
    from dualthreat.model.dualthreat import INPUT_CHANGE_WEIGHT

    c = model.input_changes_
    kor = c[(c.ally == "KOR") & (c.level == "local") & (c.source == "PRK")]
    said = set(zip(kor.month, kor.change, kor.indicator))
    assert {("2013-12", "ends", "icews_prk_kor_conflict"), ("2018-01", "starts", "gdelt_kor_prk")} <= said
    assert (c.weight >= INPUT_CHANGE_WEIGHT).all()
    ind = model.indicators_.set_index(["ally", "level", "source", "indicator"])
    for r in c.itertuples():
        row = ind.loc[(r.ally, r.level, r.source, r.indicator)]
        assert r.month == (row["first"] if r.change == "starts" else row["last"])
