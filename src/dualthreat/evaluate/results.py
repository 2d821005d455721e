"""What a hypothesis test finds, and the table of verdicts built from the findings by one rule.

A test returns a :class:`Finding` of one ``kind``:

* ``interval``: one or more :class:`Part` s, each an estimate with its 90% interval, the region the paper
  claims for it (:class:`dualthreat.stats.Claim`) and a p-value for that claim;
* ``descriptive``: counts of coded records, one value per part and no sampling interval;
* ``untestable``: the loaded data cannot test the proposition; ``data_needed`` says which data would;
* ``error``: the test crashed (assigned by the table, never by a test).

:func:`assemble` turns the findings into a :class:`HypothesisTable`: the Benjamini-Hochberg q-values over
every part of every ``interval`` finding (one family), then each part's verdict by
:func:`dualthreat.stats.verdict` (a descriptive part with ``lower = upper = value`` and no q-value), then the
row's verdict: *contradicted* if any part is contradicted, *supported* if every part is supported, otherwise
*inconclusive* (an intersection-union test, Berger 1982, *Technometrics* 24(4): a claim made of several
parts holds only if each does). The row's p- and q-value are the largest of its parts' (the p-value of the
intersection-union test), or for a contradicted row the smallest of its contradicted parts'. An untestable
row's verdict is ``untestable`` (so is a row whose finding rests on no observation at all, e.g. a period the
coded record does not reach); an error row has no verdict (``None``) and is counted apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from dualthreat.stats import (CONTRADICTED, INCONCLUSIVE, LEVEL, MIN_N, Q_MAX, SUPPORTED, UNTESTABLE, Claim, Estimate,
                              bh_qvalues, verdict)

INTERVAL, DESCRIPTIVE, UNTESTABLE_KIND, ERROR = "interval", "descriptive", "untestable", "error"
KINDS = (INTERVAL, DESCRIPTIVE, UNTESTABLE_KIND, ERROR)


@dataclass(frozen=True)
class Part:
    """One quantity a claim is about: its estimate, the claimed region and the p-value for the claim
    (``p_value`` None: from the estimate, :meth:`dualthreat.stats.Estimate.p_value`)."""

    name: str
    estimate: Estimate
    claim: Claim
    p_value: float | None = None
    q_value: float | None = None
    verdict: str | None = None

    def p(self) -> float:
        return self.estimate.p_value(self.claim) if self.p_value is None else float(self.p_value)

    def as_dict(self) -> dict[str, Any]:
        e = self.estimate
        return {"name": self.name, "estimate": _num(e.estimate), "lower": _num(e.lower), "upper": _num(e.upper),
                "n": e.n, "expects": self.claim.text(), "test": self.claim.kind, "p_value": _num(self.p_value),
                "q_value": _num(self.q_value), "verdict": self.verdict}


@dataclass(frozen=True)
class Finding:
    kind: str
    coverage: str
    evidence: str
    test: str
    parts: tuple[Part, ...] = ()
    data_needed: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind in (INTERVAL, DESCRIPTIVE) and not self.parts:
            raise ValueError(f"an {self.kind} finding needs at least one part")
        if self.kind == UNTESTABLE_KIND and not self.data_needed:
            raise ValueError("an untestable finding must say which data would test it")


def interval_finding(parts: Sequence[Part], coverage: str, evidence: str, test: str,
                     data_needed: str | None = None) -> Finding:
    return Finding(INTERVAL, coverage, evidence, test, tuple(parts), data_needed)


def descriptive_finding(parts: Sequence[Part], coverage: str, evidence: str, test: str,
                        data_needed: str | None = None) -> Finding:
    return Finding(DESCRIPTIVE, coverage, evidence, test, tuple(parts), data_needed)


def untestable(needed: str, coverage: str = "not in the default dataset", evidence: str | None = None) -> Finding:
    return Finding(UNTESTABLE_KIND, coverage, evidence or f"The data loaded cannot test this. Needed: {needed}.",
                   "not testable with the data loaded", (), needed)


def error_finding(exc: BaseException) -> Finding:
    return Finding(ERROR, "error", f"The test failed to run: {type(exc).__name__}: {exc}", "error")


def fmt(x: float | None) -> str:
    """A number as the evidence sentences show it (sign and two decimals)."""
    return "n/a" if x is None or not np.isfinite(x) else f"{x:+.2f}"


def interval_text(e: Estimate) -> str:
    return f"{fmt(e.estimate)} [{LEVEL:.0%} interval {fmt(e.lower)}, {fmt(e.upper)}]"


def record(value: float, n: int) -> Estimate:
    """A descriptive value: the coded record itself, no sampling interval (lower = upper = value)."""
    return Estimate(float(value), float(value), float(value), float("nan"), int(n))


# ------------------------------------------------------------------------------------------------------
# rows and the table


@dataclass
class Result:
    """One row of the table: a hypothesis, its finding and the verdict by the one rule."""

    id: str
    claim: str
    kind: str
    verdict: str | None
    estimate: float | None
    lower: float | None
    upper: float | None
    p_value: float | None
    q_value: float | None
    n: int
    coverage: str
    evidence: str
    test: str
    data_needed: str | None = None
    expects: str | None = None
    parts: list[Part] = field(default_factory=list)
    periods: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "claim": self.claim, "kind": self.kind, "verdict": self.verdict,
                "estimate": _num(self.estimate), "lower": _num(self.lower), "upper": _num(self.upper),
                "p_value": _num(self.p_value), "q_value": _num(self.q_value), "n": self.n,
                "expects": self.expects, "coverage": self.coverage, "evidence": self.evidence, "test": self.test,
                "data_needed": self.data_needed, "parts": [p.as_dict() for p in self.parts],
                "periods": [dict(p) for p in self.periods]}


class HypothesisTable(Sequence[Result]):
    """The verdicts, one row per hypothesis (a sequence of :class:`Result`)."""

    def __init__(self, rows: list[Result], family_size: int) -> None:
        self.rows = rows
        self.family_size = family_size  # tests in the Benjamini-Hochberg family

    def __getitem__(self, i):  # noqa: ANN001, ANN204 - Sequence protocol
        return self.rows[i]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Result]:
        return iter(self.rows)

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready rows (non-finite numbers as None): what ``dualthreat hypotheses --format json`` prints."""
        return [r.as_dict() for r in self.rows]

    def counts(self) -> dict[str, int]:
        """Rows per verdict, and errors apart: supported, contradicted, inconclusive, untestable, error."""
        out = {v: sum(r.kind != ERROR and r.verdict == v for r in self.rows)
               for v in (SUPPORTED, CONTRADICTED, INCONCLUSIVE, UNTESTABLE)}
        out[ERROR] = sum(r.kind == ERROR for r in self.rows)
        return out

    def to_frame(self, periods: bool = False) -> pd.DataFrame:
        """A tidy table: one row per hypothesis (or, with ``periods``, per hypothesis and period)."""
        cols = ["id", "kind", "verdict", "estimate", "lower", "upper", "p_value", "q_value", "n"]
        rows = []
        for r in self.rows:
            d = r.as_dict()
            rows.append({"period": "all", **{c: d[c] for c in cols}})
            if periods:
                rows += [{"id": r.id, **p} for p in r.periods]
        df = pd.DataFrame(rows)
        return df[["id", "period", *cols[1:]]] if len(df) else pd.DataFrame(columns=["id", "period", *cols[1:]])


def assemble(ids: Sequence[str], claims: Sequence[str], findings: Sequence[Finding]) -> HypothesisTable:
    """The table from the findings: q-values over one family, then the verdicts (module notes)."""
    tests = [(i, j) for i, f in enumerate(findings) if f.kind == INTERVAL for j in range(len(f.parts))]
    p = [findings[i].parts[j].p() for i, j in tests]
    q = bh_qvalues(p) if p else np.array([])
    pq = {key: (pv, qv) for key, pv, qv in zip(tests, p, q)}
    rows = []
    for i, (hid, claim, f) in enumerate(zip(ids, claims, findings)):
        parts = []
        for j, part in enumerate(f.parts):
            e = part.estimate
            if f.kind == INTERVAL:
                pv, qv = pq[(i, j)]
                v = verdict(e.lower, e.upper, e.n, part.claim, qv)
                parts.append(replace(part, p_value=_num(pv), q_value=_num(qv), verdict=v))
            else:
                parts.append(replace(part, verdict=verdict(e.lower, e.upper, e.n, part.claim)))
        rows.append(_row(hid, claim, f, parts))
    return HypothesisTable(rows, len(tests))


def _row(hid: str, claim: str, f: Finding, parts: list[Part]) -> Result:
    if f.kind == ERROR:
        return Result(hid, claim, ERROR, None, None, None, None, None, None, 0, f.coverage, f.evidence, f.test,
                      f.data_needed)
    if f.kind in (INTERVAL, DESCRIPTIVE) and all(p.estimate.n == 0 for p in parts):
        # not one observation (a period the record does not reach): the data cannot test it
        f = untestable(f.data_needed or "observations of this kind in the period (none in the data loaded)",
                       f.coverage, f"No observation in the data loaded ({f.coverage}).")
    if f.kind == UNTESTABLE_KIND:
        return Result(hid, claim, f.kind, UNTESTABLE, None, None, None, None, None, 0, f.coverage, f.evidence,
                      f.test, f.data_needed)
    verdicts = [p.verdict for p in parts]
    v = CONTRADICTED if CONTRADICTED in verdicts else SUPPORTED if set(verdicts) == {SUPPORTED} else INCONCLUSIVE
    pick = [p for p in parts if p.verdict == CONTRADICTED] if v == CONTRADICTED else parts
    p_val = q_val = None
    if f.kind == INTERVAL:
        ps = [p.p_value for p in pick if p.p_value is not None]
        qs = [p.q_value for p in pick if p.q_value is not None]
        reduce = min if v == CONTRADICTED else max
        p_val = reduce(ps) if len(ps) == len(pick) else None
        q_val = reduce(qs) if len(qs) == len(pick) else None
    head = parts[0].estimate
    n = min(p.estimate.n for p in parts)
    evidence = f.evidence + _rule_note(f.kind, parts, n, q_val)
    expects = "; ".join(f"{p.name}: {p.claim.text()}" for p in parts) if len(parts) > 1 else parts[0].claim.text()
    return Result(hid, claim, f.kind, v, _num(head.estimate), _num(head.lower), _num(head.upper), _num(p_val),
                  _num(q_val), n, f.coverage, evidence, f.test, f.data_needed, expects, parts)


def _rule_note(kind: str, parts: list[Part], n: int, q: float | None) -> str:
    """What the rule adds to the evidence: small N, or the q-value that held a verdict back."""
    if n < MIN_N:
        return f" Inconclusive: N = {n} is too small (minimum {MIN_N})."
    if kind == INTERVAL and q is not None and q > Q_MAX and any(_decisive_interval(p) for p in parts):
        return f" Inconclusive after the multiple-testing correction (q = {q:.2f} > {Q_MAX:.2f})."
    return ""


def _decisive_interval(p: Part) -> bool:
    return verdict(p.estimate.lower, p.estimate.upper, p.estimate.n, p.claim) in (SUPPORTED, CONTRADICTED)


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def period_summary(period: str, row: Result) -> dict[str, Any]:
    """The compact record of one period's rerun of a test."""
    return {"period": period, "kind": row.kind, "verdict": row.verdict, "estimate": row.estimate,
            "lower": row.lower, "upper": row.upper, "p_value": row.p_value, "q_value": row.q_value, "n": row.n}


__all__ = ["DESCRIPTIVE", "ERROR", "INCONCLUSIVE", "INTERVAL", "KINDS", "UNTESTABLE_KIND", "Finding",
           "HypothesisTable", "Part", "Result", "assemble", "descriptive_finding", "error_finding", "fmt",
           "interval_finding", "interval_text", "period_summary", "record", "untestable"]
