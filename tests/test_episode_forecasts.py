"""Out-of-time episode forecasts: the JSON contract, scoring rules, and no look-ahead."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dualthreat.cli import app
from dualthreat.evaluate.episodes import evaluate
from dualthreat.store import Store

KEEP = 14  # stored calibration episodes kept in the test store (the fits per episode date dominate runtime)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory, default_base) -> Path:
    """The default dataset with only the first episodes of 2008-2016 stored, to keep the tests fast."""
    path = default_base.copy(tmp_path_factory.mktemp("episodes") / "store.duckdb")
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM episodes WHERE date < DATE '2008-01-01'")
    con.execute(f"DELETE FROM episodes WHERE episode_id NOT IN "
                f"(SELECT episode_id FROM episodes ORDER BY date LIMIT {KEEP})")
    con.close()
    return path


@pytest.fixture(scope="module")
def episode_file(tmp_path_factory) -> Path:
    """Three later calibration episodes (taken from the default dataset) in a file with an extra column,
    which must be ignored."""
    import pyarrow.parquet as pq

    from dualthreat.store.defaults import default_data_dir

    path = tmp_path_factory.mktemp("file") / "later.csv"
    ep = pq.read_table(default_data_dir() / "episodes.parquet").to_pandas()
    ep = ep[ep.episode_id.isin(["C040", "C045", "C046", "C044"])]
    out = ep[["episode_id", "date", "actor", "counterpart", "domain", "decision", "outcome", "direction",
              "framework_drivers", "source_title", "source_url"]].copy()
    out["extra_column"] = "ignored"
    out.loc[out.episode_id == "C044", "source_url"] = ""  # no source: never used
    out.to_csv(path, index=False)
    return path


def test_evaluate_json_contract_on_a_file_of_the_calibration_format(small_store, episode_file):
    result = CliRunner().invoke(app, ["episodes", "evaluate", "--episodes", str(episode_file), "--min-train", "5",
                                      "--store", str(small_store), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == 3
    for key in ("brier", "log_loss", "rps", "accuracy"):
        assert np.isfinite(out[key])
        for base in ("base_rate", "single_threat"):
            assert np.isfinite(out["baselines"][base][key])
    for base in ("base_rate", "single_threat"):
        c = out["comparison"][base]
        assert set(c) >= {"brier_difference", "lower", "upper", "p_value"}
        assert c["lower"] <= c["brier_difference"] <= c["upper"] and 0 <= c["p_value"] <= 1
        assert c["brier_difference"] == pytest.approx(out["brier"] - out["baselines"][base]["brier"])
    assert out["sources"]["with_url"] + out["sources"]["without_url"] >= 3
    assert set(out["reliability"]) == {"framework", "base_rate", "single_threat"}
    assert sum(b["n"] for b in out["reliability"]["framework"]) > 3  # every possible direction is a forecast
    assert [e["id"] for e in out["episodes"]] == ["C040", "C045", "C046"]
    assert {"id": "C044", "reason": "no source URL"}.items() <= next(
        s for s in out["skipped"] if s["id"] == "C044").items()
    assert out["sources"]["without_url"] == 1
    for e in out["episodes"]:
        assert sum(e["predicted"].values()) == pytest.approx(1.0, abs=1e-3)
        assert e["observed"] in e["predicted"]
        assert e["date"] and e["n_train"] >= 5


def test_a_refused_episode_file_exits_2(tmp_path, small_store):
    bad = tmp_path / "bad.csv"
    bad.write_text("id;date;actor\n1;2015-01-01;JPN\n")
    result = CliRunner().invoke(app, ["episodes", "evaluate", "--episodes", str(bad), "--store", str(small_store)])
    assert result.exit_code == 2
    assert "refused" in result.output


def test_changing_data_after_an_episode_does_not_change_its_forecast(small_store, tmp_path):
    first = evaluate(Store(small_store), None, min_train=5)
    cutoff = first.episodes[len(first.episodes) // 2]
    # tamper with everything dated after the cutoff episode: new missile tests, changed curated figures,
    # and a later episode with a different direction
    changed = tmp_path / "changed.duckdb"
    shutil.copy(small_store, changed)
    con = duckdb.connect(str(changed))
    con.execute("INSERT INTO missile_tests (test_date, date_precision, missile, outcome, dataset) "
                f"SELECT DATE '{cutoff['date']}' + INTERVAL (i) DAY, 'day', 'scud-b', 'success', 'tamper' "
                "FROM range(1, 400, 7) t(i)")
    con.execute(f"UPDATE indicators SET value = value * 10 + 999 WHERE start_date > DATE '{cutoff['date']}'")
    con.execute(f"UPDATE ideal_points SET ideal_point = -ideal_point WHERE year > year(DATE '{cutoff['date']}')")
    con.execute(f"UPDATE episodes SET direction = 'toward_china' WHERE date > DATE '{cutoff['date']}' "
                "AND domain NOT IN ('japan_rok_cooperation', 'identity_history')")
    # edits in SQL bypass the load log, whose version keys the fit cache: empty it, as a load would
    con.execute("DROP TABLE IF EXISTS _fit_cache")
    con.close()
    second = evaluate(Store(changed), None, min_train=5)
    before = {e["id"]: e for e in first.episodes if e["date"] <= cutoff["date"]}
    after = {e["id"]: e for e in second.episodes if e["date"] <= cutoff["date"]}
    assert before and before.keys() == after.keys()
    for k in before:
        assert after[k]["predicted"] == before[k]["predicted"], k
        assert after[k]["features"] == before[k]["features"], k
    # and the tampering did reach the later episodes (the test can fail)
    later = [e["id"] for e in first.episodes if e["date"] > cutoff["date"]]
    assert any(first.episodes[i]["features"] != second.episodes[i]["features"]
               for i, e in enumerate(first.episodes) if e["id"] in later)


def _copy(src: Path, dest: Path) -> Store:
    """A copy of a store without its fit cache (the module's earlier tests cache features in ``small_store``)."""
    shutil.copyfile(src, dest)
    con = duckdb.connect(str(dest))
    con.execute("DROP TABLE IF EXISTS _fit_cache")
    con.close()
    return Store(dest)


def test_fits_started_ahead_give_the_same_features_and_leave_the_store_writable(small_store, tmp_path, monkeypatch):
    from dualthreat.evaluate import episodes as E
    from dualthreat.store import cache as store_cache

    store = _copy(small_store, tmp_path / "ahead.duckdb")
    dates = sorted(store.query("SELECT DISTINCT date FROM episodes").to_pandas()["date"])[:4]
    here = E.episode_features(_copy(small_store, tmp_path / "here.duckdb"), dates, workers=1)
    pending = E.start_episode_features(store, dates=dates, workers=2)
    assert pending is not None
    # the workers read their own copy: the store's cache can be written while they fit
    pending._futures[0].result()
    writes = 0
    while not all(f.done() for f in pending._futures):
        assert store_cache.write_many(store, {f"written while the workers run {writes}": b"x"})
        writes += 1
    assert writes > 0
    # nothing is fitted in this process: the features are the workers'
    monkeypatch.setattr(E, "_features_as_of", lambda store, theater, when, shared: pytest.fail(
        f"refitted in this process: {when}"))
    ahead = E.episode_features(store, dates, pending=pending)
    assert ahead[ahead.columns[2:]].notna().any().any()
    pd.testing.assert_frame_equal(ahead, here)
    cached = E.stored_episode_features(store, dates)  # and they were kept in the store's cache
    assert cached is not None
    pd.testing.assert_frame_equal(cached, here)


def test_fits_started_ahead_on_other_data_are_not_used(small_store, tmp_path):
    from dualthreat import ingest
    from dualthreat.evaluate.episodes import episode_features, start_episode_features

    store = _copy(small_store, tmp_path / "changed.duckdb")
    dates = sorted(store.query("SELECT DISTINCT date FROM episodes").to_pandas()["date"])[-2:]
    pending = start_episode_features(store, dates=dates, workers=2)
    fixture = Path(__file__).parent / "fixtures" / "tests_flat.en.csv"
    lines = fixture.read_text("utf-8").splitlines()
    day = (pd.Timestamp(dates[0]) - pd.Timedelta(days=3)).date().isoformat()
    extra = tmp_path / "tests_extra.csv"  # a missile test three days before the first date: the data change
    extra.write_text(lines[0] + "\n" + lines[1].replace("1984,1984-04-09,", f"{day[:4]},{day},", 1) + "\n", "utf-8")
    assert sum(r.added for r in store.load([ingest.read("missiles", extra)], kind="missiles")) == 1
    got = episode_features(store, dates, workers=1, pending=pending)
    changed = _copy(store.path, tmp_path / "refit.duckdb")
    pd.testing.assert_frame_equal(got, episode_features(changed, dates, workers=1))
    before = episode_features(_copy(small_store, tmp_path / "before.duckdb"), dates, workers=1)
    assert not got.equals(before)  # the fits of the old data would have been wrong
