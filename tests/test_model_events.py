"""With event data loaded, the threat components and the posture use the dyad-month event index."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import cli
from dualthreat.model import DualThreatModel
from dualthreat.store import Store

ICEWS = Path(__file__).parent / "fixtures" / "icews" / "events.2018.sample.cut.tab"


@pytest.fixture(scope="module")
def events_store(default_base, tmp_path_factory) -> Store:
    path = default_base.copy(tmp_path_factory.mktemp("events") / "store.duckdb")
    run = cli("ingest", "icews", ICEWS, "--store", path)
    assert run.exit_code == 0, run.stderr
    return Store(path)


@pytest.fixture(scope="module")
def model(events_store) -> DualThreatModel:
    return DualThreatModel().fit(events_store)


def test_a_fit_as_of_a_date_reads_the_events_public_then(events_store):
    """The event index runs on the as-of store's views (it has no file): after the June 2018 events it sees
    them, before it none."""
    after = DualThreatModel(as_of="2018-07-02", with_posture=False).fit(events_store).indicators_
    before = DualThreatModel(as_of="2018-06-01", with_posture=False).fit(events_store).indicators_
    name = "events_chn_jpn_material_conflict"
    assert after.set_index("indicator").loc[name, "observations"] == 1
    assert before.set_index("indicator").loc[name, "observations"] == 0


def test_event_indicators_are_observed_where_events_are_loaded(model):
    ind = model.indicators_.set_index("indicator")
    # one month (June 2018) of ICEWS events: each event indicator has one observation, zero-filled pairs too
    for name in ("events_chn_jpn_material_conflict", "events_prk_kor_material_conflict",
                 "events_chn_usa_conflict_kor"):
        assert ind.loc[name, "observations"] == 1, name
        assert ind.loc[name, "first"] == "2018-06"
        # one month cannot be put on a scale: it is reported, not used
        assert ind.loc[name, "standardised_on"] == "not yet on a scale (too little data published)"


def test_event_net_cooperation_in_the_posture(model):
    p = model.posture_
    ev = p[(p.measure == "event_net_cooperation") & (p.year == 2018)].set_index(["ally", "partner"])["value"]
    # the fixture's June 2018: Japan->US 8 cooperative events (quad 1) of 500 events coded that month
    assert ev.loc[("JPN", "USA")] == pytest.approx(8 / 500)
    assert ev.loc[("KOR", "USA")] == pytest.approx(3 / 500)
    assert ev.loc[("JPN", "CHN")] == 0.0  # no Japan->China event that month: zero, not missing
    gap = p[(p.measure == "alignment_gap") & (p.subset == "events")].set_index("ally")["value"]
    assert gap.loc["JPN"] == pytest.approx(8 / 500)
