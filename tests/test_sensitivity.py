"""Verdicts across specifications: leave one indicator out, other reference windows, other variance bounds;
a verdict that is not the same everywhere is fragile."""

from __future__ import annotations

import pandas as pd
import pytest

from dualthreat.evaluate import sensitivity as S
from dualthreat.evaluate.hypotheses import REGISTRY
from dualthreat.store import Store
from dualthreat.theater import load_theater

# a cheap leave-one-out: an indicator of one of Korea's systemic components (its MLE is quick), so that the
# two allies' systemic series differ without it
DROPPED = "prk_cinc_kor"


@pytest.fixture(scope="module")
def analysis(default_base) -> S.SensitivityAnalysis:
    specs = S.specifications(indicators=[DROPPED], reference_windows=(), variance_bounds=S.VARIANCE_BOUNDS[:1])
    return S.SensitivityAnalysis(specs).fit(Store(default_base.path))


def test_specifications_rebuild_the_theater_without_patching():
    theater = load_theater()
    specs = S.specifications(theater, indicators=[DROPPED])
    kinds = [s.kind for s in specs]
    assert kinds[0] == "baseline" and kinds.count("leave_one_out") == 1
    assert kinds.count("reference") == len(S.REFERENCE_WINDOWS)
    assert kinds.count("variance_bounds") == len(S.VARIANCE_BOUNDS)
    loo = specs[1]
    assert DROPPED not in {i.id for i in loo.theater.indicators}
    assert len(loo.theater.indicators) == len(theater.indicators) - 1
    assert DROPPED in {i.id for i in theater.indicators}  # the original theater is untouched
    assert {s.reference for s in specs if s.kind == "reference"} == set(S.REFERENCE_WINDOWS)
    with pytest.raises(ValueError, match="not in the theater"):
        S.specifications(theater, indicators=["no_such_indicator"])


def test_one_row_per_specification_hypothesis_and_period(analysis):
    v = analysis.verdicts_
    run = analysis.runs_[analysis.runs_.status == "run"].specification.tolist()
    assert run[:2] == ["baseline", f"without {DROPPED}"]  # and the variance-bounds run, now that the model takes bounds
    assert all(s.startswith("variance") for s in run[2:])
    for spec in run:
        whole = v[(v.specification == spec) & (v.period == "all")]
        assert whole.id.tolist() == [h.id for h in REGISTRY]
    assert set(v.period) == {"all", "1996-2015", "2016-"}


def test_variance_bounds_say_why_they_did_not_run(analysis):
    row = analysis.runs_[analysis.runs_.kind == "variance_bounds"].iloc[0]
    if "q_bounds" in S.inspect.signature(S.DualThreatModel.__init__).parameters:
        assert row.status == "run"
    else:
        assert row.status.startswith("not run") and "q_bounds" in row.status


def test_leaving_out_a_systemic_indicator_makes_h1_estimable(analysis):
    v = analysis.verdicts_
    h1 = v[(v.id == "H1") & (v.period == "all")].set_index("specification")
    assert h1.loc[f"without {DROPPED}", "kind"] == "interval"


def test_fragile_means_a_verdict_that_differs_from_the_baseline(analysis):
    v, s = analysis.verdicts_, analysis.summary_
    for row in s.itertuples():
        g = v[(v.id == row.id) & (v.period == row.period)]
        base = g[g.specification == "baseline"].verdict.iloc[0]
        assert row.baseline == base
        differs = g[g.verdict.fillna("error") != (base or "error")]
        assert row.flips == len(differs) and row.fragile == bool(len(differs)), row


def test_the_report_table_is_one_row_per_hypothesis(analysis, default_base):
    specs = S.specifications(indicators=[DROPPED], reference_windows=(), variance_bounds=S.VARIANCE_BOUNDS[:1])
    table = S.sensitivity_table(Store(default_base.path), specs)  # the fits from the store's cache
    assert table.id.tolist() == [h.id for h in REGISTRY]
    assert list(table.columns) == ["id", "baseline", "specifications", "verdicts", "flips", "flipped_by", "fragile"]
    whole = analysis.summary_[analysis.summary_.period == "all"].reset_index(drop=True)
    pd.testing.assert_frame_equal(table, whole.drop(columns="period"))


def test_the_summary_logic_on_a_known_table():
    v = pd.DataFrame({
        "id": ["H1", "H1", "H1", "H2", "H2"], "period": "all",
        "verdict": ["untestable", "inconclusive", "untestable", "supported", None],
        "specification": ["baseline", "a", "b", "baseline", "a"],
        "spec_kind": ["baseline", "leave_one_out", "reference", "baseline", "leave_one_out"]})
    s = S._summary(v).set_index("id")
    assert s.loc["H1", "fragile"] and s.loc["H1", "flips"] == 1 and s.loc["H1", "flipped_by"] == "a: inconclusive"
    assert s.loc["H2", "fragile"] and s.loc["H2", "flipped_by"] == "a: error"  # an error row flips too
    assert s.loc["H1", "verdicts"] == "untestable 2, inconclusive 1"


def test_specifications_sharing_their_inputs_fit_as_they_do_alone(default_base):
    """SharedFits reuses observations, columns and whole components between specifications: each model must
    be the one a separate fit gives, exactly (a leave-one-out, another window, other bounds)."""
    from dualthreat.model.dualthreat import SharedFits

    store = Store(default_base.path)
    specs = [s for s in S.specifications(indicators=[DROPPED], variance_bounds=S.VARIANCE_BOUNDS[:1])
             if s.kind != "reference" or s.reference == S.REFERENCE_WINDOWS[0]]
    shared = SharedFits(store)
    together = [s.model().fit(store, shared=shared) for s in specs]
    base, loo = together[0], together[1]
    same = [k for k in base.components_ if loo.components_[k] is base.components_[k]]
    assert len(same) == len(base.components_) - 1  # it did share: all components but the one DROPPED feeds
    assert loo.backing_fit_ is base.backing_fit_
    for spec, model in zip(specs, together):
        alone = spec.model().fit(store)
        for table in ("threats_", "indicators_", "backing_", "mediator_", "gaps_", "input_changes_"):
            pd.testing.assert_frame_equal(getattr(model, table), getattr(alone, table), check_exact=True,
                                          obj=f"{spec.name}: {table}")
    other = Store(default_base.path)  # another store object: nothing shared (the object is bound to its store)
    assert not SharedFits(store).serves(other)


def test_a_second_analysis_reads_each_specification_s_table_from_the_store(default_base, tmp_path, monkeypatch):
    """The specifications' tables (not their models: 8 MB each) are cached; the same call again refits nothing
    and gives the same verdicts."""
    import shutil

    from dualthreat.model import DualThreatModel

    shutil.copyfile(default_base.path, tmp_path / "s.duckdb")
    store = Store(tmp_path / "s.duckdb")
    specs = S.specifications(indicators=[DROPPED], reference_windows=(), variance_bounds=())
    first = S.SensitivityAnalysis(specs).fit(store)
    big = store.query("SELECT count(*) AS n FROM _fit_cache WHERE size > 1000000").column("n")[0].as_py()
    assert big == 1  # the baseline's model; the leave-one-out's table is small

    def no_refit(self, *a, **k):
        raise AssertionError(f"refitted {self.theater and len(self.theater.indicators)} indicators")

    monkeypatch.setattr(DualThreatModel, "fit", no_refit)
    monkeypatch.setattr(DualThreatModel, "_fit", no_refit)
    second = S.SensitivityAnalysis(specs).fit(store)
    pd.testing.assert_frame_equal(first.verdicts_, second.verdicts_)


def test_cached_tables_follow_the_specification_not_its_name(default_base, tmp_path):
    """Two specifications of one name (windows named by their years only) keep their own tables in the cache,
    and one table serves two names of one model under each name."""
    import shutil

    shutil.copyfile(default_base.path, tmp_path / "s.duckdb")
    store = Store(tmp_path / "s.duckdb")
    theater = load_theater()
    specs = [S.Specification("baseline", "baseline", theater),
             S.Specification("reference 1996-2010", "reference", theater, ("1996-01", "2010-12")),
             S.Specification("reference 1996-2010", "reference", theater, ("1996-07", "2002-06")),
             S.Specification("the same window", "reference", theater, ("1996-07", "2002-06"))]
    first = S.SensitivityAnalysis(specs).fit(store).verdicts_
    second = S.SensitivityAnalysis(specs).fit(store).verdicts_
    pd.testing.assert_frame_equal(first, second)
    assert second.specification.tolist().count("the same window") == len(second) // len(specs)
