"""The framework on the real default dataset: both allies' eight components, no look-ahead, and how the
components moved around the episodes the paper narrates. The tests assert what the data show; the printed
lines say whether that agrees with the paper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dualthreat.model import DualThreatModel
from dualthreat.store import Store


@pytest.fixture(scope="module")
def store(default_base) -> Store:
    """The session's default-dataset store (conftest.py), read only."""
    return Store(default_base.path)


@pytest.fixture(scope="module")
def model(store) -> DualThreatModel:
    return DualThreatModel().fit(store)


def _at(model: DualThreatModel, ally: str, level: str, source: str, month: str, smoothed: bool = False) -> pd.Series:
    t = model.threats(ally=ally, smoothed=smoothed)
    return t[(t.level == level) & (t.source == source) & (t.month == month)].iloc[0]


def test_eight_components_with_bands_and_explanations(model):
    t = model.threats_
    assert len(t.groupby(["ally", "level", "source"])) == 8
    assert set(t.estimate) == {"filtered", "smoothed"}
    ok = t.dropna(subset=["mean"])
    assert (ok.lower <= ok["mean"]).all() and (ok["mean"] <= ok.upper).all()
    assert (model.indicators_.groupby(["ally", "level", "source"]).size() >= 1).all()
    explained = model.explain("JPN", "local", "CHN", "2014-06")
    assert explained.contribution.sum() == pytest.approx(_at(model, "JPN", "local", "CHN", "2014-06")["mean"])


def test_japan_local_china_threat_2010_2013(model):
    """Paper: escalating sovereignty disputes with China since 2010 made Japan's China threat local and
    concrete (Senkaku boat collision 2010, nationalisation 2012, ADIZ 2013)."""
    before, after = _at(model, "JPN", "local", "CHN", "2009-12"), _at(model, "JPN", "local", "CHN", "2013-12")
    systemic_before = _at(model, "JPN", "systemic", "CHN", "2009-12")
    systemic_after = _at(model, "JPN", "systemic", "CHN", "2013-12")
    rise = after["mean"] - before["mean"]
    print(f"\nJPN local CHN  2009-12 {before['mean']:+.2f} [{before.lower:+.2f}, {before.upper:+.2f}]"
          f"  ->  2013-12 {after['mean']:+.2f} [{after.lower:+.2f}, {after.upper:+.2f}]  (change {rise:+.2f})")
    print(f"JPN systemic CHN 2009-12 {systemic_before['mean']:+.2f} -> 2013-12 {systemic_after['mean']:+.2f}"
          f" (change {systemic_after['mean'] - systemic_before['mean']:+.2f})")
    separated = after.lower > before.upper
    print("The data " + ("agree with" if separated else "do not clearly show") +
          " the paper's rise of Japan's local China threat 2010-2013 (90% bands " +
          ("do not overlap)." if separated else "overlap)."))
    # what the data show: a rise whose 90% bands do not overlap
    assert rise > 0 and separated


def test_korea_north_korea_threat_january_february_2016(model):
    """Paper: the fourth nuclear test (6 January 2016) and the satellite launch (7 February 2016) ended
    Seoul's hope in Beijing; THAAD talks followed."""
    dec, feb = _at(model, "KOR", "local", "PRK", "2015-12"), _at(model, "KOR", "local", "PRK", "2016-02")
    med_dec = model.mediator_.query("ally == 'KOR' and estimate == 'filtered' and month == '2015-12'").iloc[0]
    med_feb = model.mediator_.query("ally == 'KOR' and estimate == 'filtered' and month == '2016-02'").iloc[0]
    print(f"\nKOR local PRK 2015-12 {dec['mean']:+.2f} [{dec.lower:+.2f}, {dec.upper:+.2f}] -> 2016-02 "
          f"{feb['mean']:+.2f} [{feb.lower:+.2f}, {feb.upper:+.2f}]")
    print(f"KOR mediator  2015-12 {med_dec['mean']:+.2f} -> 2016-02 {med_feb['mean']:+.2f} "
          f"(China's backing of the North, year {int(med_feb.china_backing_year)}: {med_feb.china_backing:+.2f})")
    overlap = feb.lower <= dec.upper
    print("The data show a " + ("small rise whose 90% bands overlap: the monthly threat estimate moves little "
                                "on two events against a 20-year base rate" if overlap else "clear rise") + ".")
    # what the data show: the North Korean threat to Korea is above its reference average in early 2016,
    # and the month of the nuclear test raised the filtered estimate
    jan = _at(model, "KOR", "local", "PRK", "2016-01")
    assert dec["mean"] > 0 and feb["mean"] > 0
    assert jan["mean"] > dec["mean"]


def test_no_look_ahead_on_real_data(store):
    """Fitting with data to 2012 or to today gives the same filtered estimates up to 2012, when the
    reference window ends before."""
    a = DualThreatModel(reference=("1996-01", "2009-12"), end="2012-12").fit(store).threats()
    b = DualThreatModel(reference=("1996-01", "2009-12")).fit(store).threats()
    b = b[b.month <= "2012-12"]
    m = a.merge(b, on=["ally", "level", "source", "month"], suffixes=("_a", "_b"))
    assert len(m) == len(a)
    assert np.allclose(m["mean_a"], m["mean_b"], atol=1e-9, equal_nan=True)
    assert np.allclose(m["sd_a"], m["sd_b"], atol=1e-9, equal_nan=True)


def test_as_of_uses_only_data_published_before(store):
    model = DualThreatModel(as_of="2016-02-01").fit(store)
    assert model.threats_.month.max() == "2016-02"  # the month of as_of, with only the events dated before it
    assert model.posture_.year.max() <= 2015
    # the mediator computed for both allies
    assert set(model.mediator_.ally) == {"JPN", "KOR"}
