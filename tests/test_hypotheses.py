"""Every hypothesis of the paper has a row, with a verdict from one rule and evidence built from numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualthreat.cli import app
from dualthreat.evaluate.hypotheses import CONTRADICTED, INCONCLUSIVE, MIN_N, SUPPORTED, verdict

HYPOTHESES_MD = Path(__file__).resolve().parents[2] / "shared" / "HYPOTHESES.md"


@pytest.fixture(scope="module")
def rows(default_base) -> list[dict]:
    result = CliRunner().invoke(app, ["hypotheses", "--store", str(default_base.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def expected_ids() -> list[str]:
    if HYPOTHESES_MD.exists():
        return re.findall(r"^### (H\d+)\s*$", HYPOTHESES_MD.read_text("utf-8"), flags=re.M)
    return [f"H{i}" for i in range(1, 25)]


def test_every_hypothesis_has_a_row(rows):
    ids = [r["id"] for r in rows]
    assert ids == expected_ids()
    for r in rows:
        assert r["verdict"] in (SUPPORTED, CONTRADICTED, INCONCLUSIVE)
        assert r["evidence"] and r["claim"] and r["coverage"]
        assert set(r) >= {"id", "verdict", "estimate", "lower", "upper", "n", "evidence"}
        if r["coverage"] == "error":
            pytest.fail(f"{r['id']} failed to run: {r['evidence']}")


def test_untestable_hypotheses_say_which_data_would_test_them(rows):
    for r in rows:
        if r["estimate"] is None:
            assert r["verdict"] == INCONCLUSIVE
            assert r["data_needed"], r["id"]


def test_verdicts_follow_the_interval_rule(rows):
    for r in rows:
        if r["lower"] is not None and r["upper"] is not None:
            assert r["verdict"] == verdict(r["lower"], r["upper"], r["n"], r["expected_sign"]), r["id"]
            assert r["lower"] <= r["estimate"] <= r["upper"], r["id"]


def test_numbers_in_the_evidence_come_from_the_estimate(rows):
    for r in rows:
        if r["estimate"] is not None and r["lower"] is not None:
            assert f"{r['estimate']:+.2f}" in r["evidence"], r["id"]


def test_the_verdict_rule():
    assert verdict(0.1, 0.5, MIN_N) == SUPPORTED
    assert verdict(-0.5, -0.1, MIN_N) == CONTRADICTED
    assert verdict(-0.5, -0.1, MIN_N, sign=-1) == SUPPORTED
    assert verdict(-0.1, 0.5, MIN_N) == INCONCLUSIVE
    assert verdict(0.1, 0.5, MIN_N - 1) == INCONCLUSIVE  # N too small
    assert verdict(None, None, 100) == INCONCLUSIVE
