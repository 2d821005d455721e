"""The fit cache: the same parameters on the same data give the cached fit back; any load that adds rows,
other parameters or other code refit. (dualthreat.store.cache, dualthreat.model.cache)"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dualthreat import ingest
from dualthreat.model import DualThreatModel
from dualthreat.model.cache import cache_key, fit_cached
from dualthreat.store import Store
from dualthreat.store import cache as store_cache

FIXTURES = Path(__file__).parent / "fixtures"


class CountingEstimator:
    """A real estimator of the cache's contract: parameters in __init__, fit(store) reads the store."""

    fits = 0

    def __init__(self, table: str = "indicators", factor: float = 1.0) -> None:
        self.table = table
        self.factor = factor

    def fit(self, store: Store) -> CountingEstimator:
        type(self).fits += 1
        self.rows_ = store.query(f'SELECT count(*) AS n FROM "{self.table}"').column("n")[0].as_py() * self.factor
        return self


def test_second_fit_comes_from_the_cache(default_store: Path) -> None:
    store = Store(default_store)
    CountingEstimator.fits = 0
    first = fit_cached(CountingEstimator(), store)
    again = fit_cached(CountingEstimator(), store)
    assert CountingEstimator.fits == 1 and again.rows_ == first.rows_ > 0
    fit_cached(CountingEstimator(factor=2.0), store)  # other parameters: another entry
    assert CountingEstimator.fits == 2


def test_a_load_that_adds_rows_invalidates(default_store: Path, tmp_path: Path) -> None:
    store = Store(default_store)
    CountingEstimator.fits = 0
    fit_cached(CountingEstimator("missile_tests"), store)
    version = store_cache.data_version(store)
    # the same file again adds nothing: the data (and the cache) stay
    fixture = FIXTURES / "tests_flat.en.csv"
    store.load([ingest.read("missiles", fixture)], kind="missiles")
    fit_cached(CountingEstimator("missile_tests"), store)
    # a file with one new test adds a row: the cache is emptied in the load's transaction
    lines = fixture.read_text("utf-8").splitlines()
    extra = tmp_path / "tests_extra.csv"
    new_test = lines[1].replace("1984,1984-04-09,", "2026,2026-11-30,", 1)  # a test on a day not in the data
    extra.write_text(lines[0] + "\n" + new_test + "\n", "utf-8")
    result = ingest.read("missiles", extra)
    reports = store.load([result], kind="missiles")
    assert sum(r.added for r in reports) >= 1
    assert store_cache.data_version(store) != version
    refit = fit_cached(CountingEstimator("missile_tests"), store)
    assert CountingEstimator.fits == 2 and refit.rows_ >= 1


def test_the_framework_round_trips_through_the_cache(default_store: Path) -> None:
    store = Store(default_store)
    model = fit_cached(DualThreatModel(with_posture=False, start="2008-01"), store)
    cached = fit_cached(DualThreatModel(with_posture=False, start="2008-01"), store)
    pd.testing.assert_frame_equal(model.threats_, cached.threats_)
    assert cached is not model  # read back from the store, not the same object
    assert cache_key(DualThreatModel(start="2008-01")) != cache_key(DualThreatModel(start="2009-01"))


def test_many_entries_are_read_and_written_in_one_go(default_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    path.write_bytes(default_store.read_bytes())
    store = Store(path)
    assert store_cache.write_many(store, {f"k{i}": bytes([i]) * 10 for i in range(5)})
    got = store_cache.read_many(store, ["k0", "k3", "absent", "k3"])
    assert got == {"k0": b"\x00" * 10, "k3": b"\x03" * 10}
    assert store_cache.write_many(store, {"k3": b"new"})  # a key written again replaces its entry
    assert store_cache.read(store, "k3") == b"new" and store_cache.read(store, "k4") == b"\x04" * 10
    n = store.query("SELECT count(*) AS n FROM _fit_cache WHERE key = 'k3'").column("n")[0].as_py()
    assert n == 1
    with store:  # a store held open for reading is busy: nothing is written, nothing fails
        assert not store_cache.write_many(store, {"k9": b"x"})
    assert store_cache.read(store, "k9") is None


def test_entries_of_data_a_load_has_changed_since_are_not_written(default_store: Path, tmp_path: Path) -> None:
    store = Store(default_store)
    version = store_cache.data_version(store)
    assert store_cache.write_many(store, {"a": b"1"}, version)
    fixture = FIXTURES / "tests_flat.en.csv"
    lines = fixture.read_text("utf-8").splitlines()
    extra = tmp_path / "tests_extra.csv"
    extra.write_text(lines[0] + "\n" + lines[1].replace("1984,1984-04-09,", "2026,2026-11-30,", 1) + "\n", "utf-8")
    assert sum(r.added for r in store.load([ingest.read("missiles", extra)], kind="missiles")) == 1
    assert not store_cache.write_many(store, {"b": b"2"}, version)  # computed from the data before the load
    assert store_cache.read(store, "b") is None and store_cache.read(store, "a") is None  # the load emptied it
    assert store_cache.write_many(store, {"b": b"2"}, store_cache.data_version(store))
    assert store_cache.read(store, "b") == b"2"


class LoadingEstimator(CountingEstimator):
    """Reads the store, then another load changes the data before the fit ends."""

    extra: Path | None = None

    def fit(self, store: Store) -> LoadingEstimator:
        super().fit(store)
        store.load([ingest.read("missiles", type(self).extra)], kind="missiles")
        return self


def test_a_fit_of_data_a_load_changed_meanwhile_is_not_cached(default_store: Path, tmp_path: Path) -> None:
    store = Store(default_store)
    lines = (FIXTURES / "tests_flat.en.csv").read_text("utf-8").splitlines()
    LoadingEstimator.extra = tmp_path / "tests_extra.csv"
    LoadingEstimator.extra.write_text(lines[0] + "\n" + lines[1].replace("1984,1984-04-09,", "2026,2026-11-30,", 1)
                                      + "\n", "utf-8")
    before = store_cache.data_version(store)
    fit_cached(LoadingEstimator("missile_tests"), store)
    assert store_cache.data_version(store) != before  # the load happened inside the fit
    assert store_cache.read(store, cache_key(LoadingEstimator("missile_tests"))) is None
