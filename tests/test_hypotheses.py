"""Every hypothesis of the paper has a row, with a kind, a verdict from one rule, q-values over one family,
equivalence tests for the claims of no effect, the period reruns, and evidence built from numbers."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dualthreat.cli import app
from dualthreat.evaluate import hypotheses as H
from dualthreat.evaluate.evidence import Evidence
from dualthreat.evaluate.results import KINDS
from dualthreat.model import DualThreatModel
from dualthreat.stats import (CONTRADICTED, INCONCLUSIVE, MIN_N, Q_MAX, SUPPORTED, UNTESTABLE, VERDICTS, Claim,
                              bh_qvalues, verdict)
from dualthreat.store import Store

HYPOTHESES_MD = Path(__file__).resolve().parents[2] / "shared" / "HYPOTHESES.md"
INF = float("inf")


@pytest.fixture(scope="module")
def rows(default_base) -> list[dict]:
    result = CliRunner().invoke(app, ["hypotheses", "--store", str(default_base.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def evidence(default_base) -> Evidence:
    store = Store(default_base.path)
    return Evidence(DualThreatModel().fit(store), store)


def expected_ids() -> list[str]:
    if HYPOTHESES_MD.exists():
        return re.findall(r"^### (H\d+)\s*$", HYPOTHESES_MD.read_text("utf-8"), flags=re.M)
    return [f"H{i}" for i in range(1, 25)]


def _claim(part: dict) -> Claim:
    """The claimed region, back from the part's text (θ > a, θ < b, |θ| < m)."""
    text = part["expects"]
    if m := re.fullmatch(r"\|θ\| < (\S+)", text):
        return Claim(-float(m[1]), float(m[1]), "equivalence")
    if m := re.fullmatch(r"θ > (\S+)", text):
        return Claim(float(m[1]), INF, part["test"])
    if m := re.fullmatch(r"θ < (\S+)", text):
        return Claim(-INF, float(m[1]))
    raise AssertionError(text)


def test_every_hypothesis_has_a_row_with_a_kind(rows):
    assert [r["id"] for r in rows] == expected_ids()
    for r in rows:
        assert r["kind"] in KINDS, r["id"]
        assert set(r) >= {"id", "kind", "verdict", "estimate", "lower", "upper", "p_value", "q_value", "n",
                          "evidence", "parts", "periods"}
        assert r["evidence"] and r["claim"] and r["coverage"]
        if r["kind"] == "error":
            pytest.fail(f"{r['id']} failed to run: {r['evidence']}")
        assert r["verdict"] in VERDICTS, r["id"]
        assert (r["verdict"] == UNTESTABLE) == (r["kind"] == "untestable"), r["id"]


def test_untestable_hypotheses_say_which_data_would_test_them(rows):
    for r in rows:
        if r["kind"] == "untestable":
            assert r["data_needed"] and r["estimate"] is None, r["id"]


def test_no_decisive_verdict_on_few_cases_or_a_large_q(rows):
    for row in [*rows, *(p for r in rows for p in r["periods"])]:
        if row["verdict"] in (SUPPORTED, CONTRADICTED):
            assert row["n"] >= MIN_N, row
            if row["kind"] == "interval":
                assert row["q_value"] is not None and row["q_value"] <= Q_MAX, row


def test_descriptive_rows_count_records_and_have_no_test(rows):
    desc = [r for r in rows if r["kind"] == "descriptive"]
    assert {r["id"] for r in desc} >= {"H7", "H13"}  # four hand-coded rows each
    for r in desc:
        assert r["p_value"] is None and r["q_value"] is None and r["lower"] == r["upper"] == r["estimate"]
        if r["n"] < MIN_N:
            assert r["verdict"] == INCONCLUSIVE


def test_q_values_are_benjamini_hochberg_over_every_interval_test(rows):
    parts = [p for r in rows if r["kind"] == "interval" for p in r["parts"]]
    p = np.array([np.nan if x["p_value"] is None else x["p_value"] for x in parts])
    q = np.array([np.nan if x["q_value"] is None else x["q_value"] for x in parts])
    assert np.isfinite(p).sum() >= 15
    np.testing.assert_allclose(q, bh_qvalues(p), equal_nan=True)
    assert (q[np.isfinite(q)] >= p[np.isfinite(q)] - 1e-12).all()


def test_verdicts_follow_the_one_rule(rows):
    for r in rows:
        if r["kind"] not in ("interval", "descriptive"):
            continue
        verdicts = []
        for part in r["parts"]:
            q = part["q_value"] if r["kind"] == "interval" else None
            expected = verdict(part["lower"], part["upper"], part["n"], _claim(part), q)
            assert part["verdict"] == expected, (r["id"], part)
            if part["lower"] is not None:
                assert part["lower"] <= part["estimate"] <= part["upper"], (r["id"], part)
            verdicts.append(expected)
        combined = (CONTRADICTED if CONTRADICTED in verdicts else SUPPORTED if set(verdicts) == {SUPPORTED}
                    else INCONCLUSIVE)
        assert r["verdict"] == combined, r["id"]


def test_claims_of_no_effect_use_an_equivalence_test(rows):
    by = {r["id"]: r for r in rows}
    assert any(p["test"] == "equivalence" and "CHN" in p["name"] for p in by["H3"]["parts"])
    assert any(p["test"] == "equivalence" and "JPN" in p["name"] for p in by["H4"]["parts"])
    assert [p["test"] for p in by["H6"]["parts"]] == ["non-inferiority"]
    margin = f"{H.EQUIVALENCE_MARGIN:g}"
    assert all(margin in p["expects"] for r in ("H3", "H4", "H6") for p in by[r]["parts"] if p["test"] != "sign")


def test_h4_compares_korea_with_japan(rows):
    h4 = {r["id"]: r for r in rows}["H4"]
    contrast = h4["parts"][0]
    assert "KOR" in contrast["name"] and "JPN" in contrast["name"]
    if contrast["estimate"] <= 0:  # Japan's mediator effect at least Korea's: never "supported"
        assert h4["verdict"] != SUPPORTED


def test_tests_are_split_by_period(rows):
    by = {r["id"]: r for r in rows}
    for hid in ("H2", "H3", "H8", "H17", "H23", "H24"):
        periods = by[hid]["periods"]
        assert [p["period"] for p in periods] == [name for name, _, _ in H.PERIODS], hid
        assert sum(p["n"] for p in periods) <= by[hid]["n"] + 1, hid  # the periods part the record
    assert by["H15"]["periods"] == []  # not split: the home-front model is not cut by period
    # the default episodes end in February 2016 (later ones are for out-of-time evaluation): no observation
    # after 2015 is "untestable", not a verdict on nothing
    late = {r["id"]: r["periods"][1] for r in rows if r["id"] in ("H19", "H20")}
    assert all(p["kind"] == "untestable" and p["verdict"] == UNTESTABLE for p in late.values())


def test_numbers_in_the_evidence_come_from_the_estimate(rows):
    for r in rows:
        if r["estimate"] is not None and r["lower"] is not None and r["kind"] == "interval":
            assert f"{r['estimate']:+.2f}" in r["evidence"], r["id"]


def test_h1_is_untestable_while_the_systemic_series_are_common(evidence):
    # each ally now has its own systemic series (speech salience, its own polls): H1 is estimated on them
    assert not evidence.systemic_common()
    assert H.h1(evidence).kind == "interval"
    # with Korea's systemic series set to Japan's for the same years, H1 is not identifiable again
    common = copy.copy(evidence)
    common.panel = evidence.panel.copy()
    jpn = evidence.panel[evidence.panel.ally == "JPN"].set_index("year")
    kor = common.panel.ally == "KOR"
    for col in ("systemic_CHN", "systemic_PRK"):
        common.panel.loc[kor, col] = common.panel.loc[kor, "year"].map(jpn[col]).to_numpy()
    assert common.systemic_common()
    assert H.h1(common).kind == "untestable"
    # with Korea's systemic China series replaced by a different real series, H1 is estimated
    other = copy.copy(evidence)
    other.panel = evidence.panel.copy()
    kor = other.panel.ally == "KOR"
    other.panel.loc[kor, "systemic"] = other.panel.loc[kor, "local_CHN"]
    other.panel.loc[kor, "systemic_CHN"] = other.panel.loc[kor, "local_CHN"]
    assert not other.systemic_common()
    f = H.h1(other)
    assert f.kind == "interval" and f.parts[0].estimate.n >= 20 and np.isfinite(f.parts[0].estimate.se)


def test_a_crashing_test_is_an_error_row_counted_apart(evidence, default_base):
    def boom(ev):
        raise RuntimeError("no such table")

    registry = (H.REGISTRY[0], H.Hypothesis("H99", "A test that fails.", boom), H.REGISTRY[16])
    table = H.evaluate_hypotheses(Store(default_base.path), registry=registry, evidence=evidence)
    row = table[1]
    assert (row.kind, row.verdict) == ("error", None) and "RuntimeError: no such table" in row.evidence
    counts = table.counts()
    assert counts["error"] == 1 and sum(counts.values()) == 3
    assert table.to_records()[1]["verdict"] is None
    frame = table.to_frame(periods=True)
    assert set(frame.period) == {"all", "1996-2015", "2016-"} and len(frame[frame.period == "all"]) == 3
