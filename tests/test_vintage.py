"""The store as it stood on a date (dualthreat.measure.vintage.AsOfStore) and the fits as of many dates that
share what they read (dualthreat.model.dualthreat.SharedFits): the same rows as the publication rules give,
no way around them to the source's file, and results identical to fits from scratch."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from dualthreat.measure import series as S
from dualthreat.measure.unga import vote_agreement
from dualthreat.measure.vintage import RULES, SOURCE_CATALOG, AsOfStore, join_sql, published_sql, snapshot
from dualthreat.model import dualthreat as D
from dualthreat.store import Store, StoreError
from dualthreat.theater import load_theater

DAY = "2012-06-01"
TABLES = ("threats_", "indicators_", "backing_", "mediator_", "gaps_", "input_changes_")


def test_an_as_of_store_holds_the_rows_published_before_its_date_and_nothing_else(default_base):
    store = Store(default_base.path)
    with snapshot(store, DAY) as snap:
        assert isinstance(snap, AsOfStore)
        for table, rule in RULES.items():
            where = "" if rule.published is None else f"WHERE ({published_sql(table)}) < DATE '{DAY}'"
            expected = store.query(f'SELECT count(*) AS n FROM "{table}" t {join_sql(table)} {where}').to_pylist()
            got = snap.query(f'SELECT count(*) AS n FROM "{table}"').to_pylist()
            assert got == expected, table
            assert snap.public_rows(table) == expected[0]["n"]
        total = store.query("SELECT count(*) AS n FROM un_votes").to_pylist()[0]["n"]
        assert snap.public_rows("un_votes") < total  # the cut did cut
        # the vote agreement is read through Ibis: on the views, not on the source's file
        years = vote_agreement(snap, ("JPN",), ("CHN",), subsets=("all",))["year"]
        assert years.max() <= 2012 and years.max() < vote_agreement(store, ("JPN",), ("CHN",))["year"].max()


def test_an_as_of_store_cannot_be_read_through_its_source_s_file_or_written(default_base):
    with snapshot(Store(default_base.path), DAY) as snap:
        with pytest.raises(StoreError, match="no file of its own"):
            snap.path  # noqa: B018 - the property refuses
        with pytest.raises(StoreError, match="read-only"):
            snap.connect()
        with pytest.raises(StoreError, match="cannot load"):
            snap.load([], kind="test")


def test_no_measure_or_model_reads_around_the_views():
    """The source stays attached beside the views (they need it): no reader may name its catalog, list the
    attached databases or go to the source store of an as-of store (the one use: SharedFits knowing whose
    store it is)."""
    package = Path(D.__file__).parents[1]
    found = []
    for path in sorted([*package.glob("measure/*.py"), *package.glob("model/*.py")]):
        if path.name == "vintage.py":
            continue
        text = path.read_text("utf-8")
        for pattern in (SOURCE_CATALOG, "duckdb_databases", r"\bATTACH\b", r"\b(store|snap)\.source\b"):
            for m in re.finditer(pattern, text):
                line = text.splitlines()[text.count("\n", 0, m.start())].strip()
                found.append(f"{path.name}: {line}")
    assert found == ["dualthreat.py: source = store.source if isinstance(store, AsOfStore) else store"], found


def test_observations_up_to_an_earlier_month_are_the_first_rows_of_later_ones(default_base):
    """What the reuse across dates rests on: reading up to a later month and cutting gives the same rows."""
    theater = load_theater()
    early, late = pd.Period("2012-05", freq="M"), pd.Period("2025-12", freq="M")
    with snapshot(Store(default_base.path), DAY) as snap:
        inds = [i for c in theater.components() for i in theater.indicators_for(*c)] + list(theater.backing)
        assert len({i.table for i in inds}) >= 10  # every kind of reader
        for ind in inds:
            short = S.observations(snap, ind, theater, early)
            cut = S.observations(snap, ind, theater, late)
            cut = cut[cut["end"] <= early].reset_index(drop=True)
            if short.empty:
                assert cut.empty, ind.id
            else:
                pd.testing.assert_frame_equal(short, cut, check_exact=True, obj=ind.id)


def test_fits_as_of_consecutive_dates_sharing_their_reads_equal_fits_from_scratch(default_base, monkeypatch):
    store = Store(default_base.path)
    dates = ["2010-09-01", "2010-09-20", "2010-11-03", "2013-02-20"]
    alone = [D.DualThreatModel(as_of=d, with_posture=False).fit(store) for d in dates]
    reads: list[str] = []
    monkeypatch.setattr(D, "observations", lambda *a, **k: reads.append(a[1].id) or S.observations(*a, **k))
    shared = D.SharedFits(store)
    together, counts = [], []
    for d in dates:
        together.append(D.DualThreatModel(as_of=d, with_posture=False).fit(store, shared=shared))
        counts.append(len(reads) - sum(counts))
    for d, a, b in zip(dates, alone, together):
        for table in TABLES:
            pd.testing.assert_frame_equal(getattr(b, table), getattr(a, table), check_exact=True,
                                          obj=f"as of {d}: {table}")
    # the first fit reads every indicator; 19 days later (no curated figure, test or vote between) fewer
    assert counts[0] >= len(together[0].indicators_)
    assert counts[1] < counts[0] / 2, counts
    # and only what the last two fits used is kept, not every date's
    assert len(shared.observations) <= 2 * counts[0]
