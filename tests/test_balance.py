"""Structural balance measures on hand-made signed networks with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.linalg import expm

from dualthreat.measure.network import (
    balance_summary,
    balanced_probability,
    frustration,
    signed_matrix,
    triads,
    walk_balance,
)

ABC = ("A", "B", "C")


def triangle(ab: float, ac: float, bc: float) -> np.ndarray:
    return signed_matrix(ABC, [("A", "B", ab), ("A", "C", ac), ("B", "C", bc)])


# the triangle with one negative tie (or three) is switching-equivalent to the all-negative one, whose adjacency
# matrix -(J - I) has eigenvalues -2, 1, 1; the unsigned triangle has 2, -1, -1 (Estrada & Benzi's K by hand)
K_UNBALANCED_TRIANGLE = (np.exp(-2) + 2 * np.exp(1)) / (np.exp(2) + 2 * np.exp(-1))


@pytest.mark.parametrize("signs, balanced", [((1, 1, 1), True), ((1, -1, -1), True), ((-1, 1, -1), True),
                                             ((1, 1, -1), False), ((-1, -1, -1), False)])
def test_a_triangle_is_balanced_when_the_product_of_its_signs_is_positive(signs, balanced):
    a = triangle(*signs)
    t = triads(a, ABC)
    assert len(t) == 1
    assert bool(t.balanced.iloc[0]) is balanced
    assert t.sign_product.iloc[0] == (1 if balanced else -1)
    assert t.signs.iloc[0] == "".join("+" if s > 0 else "-" for s in signs)
    assert walk_balance(a) == pytest.approx(1.0 if balanced else K_UNBALANCED_TRIANGLE)
    f = frustration(a, ABC)
    assert f.count == (0 if balanced else 1)
    assert f.balance == pytest.approx(1.0 if balanced else 1 - 2 / 3)


def test_the_camps_of_a_balanced_triangle():
    # A friends with nobody: A against B and C, who are friends
    f = frustration(triangle(-1, -1, 1), ABC)
    assert {frozenset(f.camps[0]), frozenset(f.camps[1])} == {frozenset({"A"}), frozenset({"B", "C"})}
    assert f.frustrated == ()


def test_weighted_four_state_network_by_hand():
    nodes = ("A", "B", "C", "D")
    a = signed_matrix(nodes, [("A", "B", 0.5), ("A", "C", 0.2), ("A", "D", -0.4),
                              ("B", "C", -0.1), ("B", "D", -0.3), ("C", "D", -1.0)])
    t = triads(a, nodes).set_index("triad")
    # ABC: + + - unbalanced (weight .5 x .2 x .1 = .01); ABD: + - - balanced (.06);
    # ACD: + - - balanced (.08); BCD: - - - unbalanced (.03)
    assert t.balanced.to_dict() == {"A-B-C": False, "A-B-D": True, "A-C-D": True, "B-C-D": False}
    assert t.weight.to_dict() == pytest.approx({"A-B-C": 0.01, "A-B-D": 0.06, "A-C-D": 0.08, "B-C-D": 0.03})
    s = balance_summary(a, nodes)
    assert s["triads"] == 4 and s["balanced_triads"] == 2
    assert s["share_balanced"] == pytest.approx(0.5)
    assert s["weighted_share_balanced"] == pytest.approx(0.14 / 0.18)
    # the best split is {A, B, C} against {D}; only B-C (-0.1) is frustrated, out of a total strength of 2.5
    assert {frozenset(s["camp_a"].split()), frozenset(s["camp_b"].split())} == {frozenset("ABC"), frozenset("D")}
    assert s["frustrated_ties"] == "B-C"
    assert s["frustration"] == 1
    assert s["frustration_weighted"] == pytest.approx(0.1)
    assert s["frustration_balance_weighted"] == pytest.approx(1 - 2 * 0.1 / 2.5)
    assert s["frustration_balance"] == pytest.approx(1 - 2 / 6)
    assert s["negative_ties"] == 4 and s["ties"] == 6


def test_weighted_frustration_prefers_cutting_weak_ties():
    # two unbalanced splits: cutting the strong tie A-B (0.9) or the weak one B-C (0.1); the weighted index
    # cuts the weak one, the count is 1 either way
    a = triangle(0.9, 0.5, -0.1)
    f = frustration(a, ABC, weighted=True)
    assert f.frustrated == ("B-C",) and f.weight == pytest.approx(0.1)
    assert frustration(a, ABC, weighted=False).count == 1


def test_a_two_camp_network_is_perfectly_balanced_by_every_measure():
    nodes = ("USA", "JPN", "KOR", "CHN", "PRK")
    camp = {"USA": 0, "JPN": 0, "KOR": 0, "CHN": 1, "PRK": 1}
    rng = np.random.default_rng(1)
    ties = [(x, y, (1 if camp[x] == camp[y] else -1) * rng.uniform(0.1, 1.0))
            for x, y in itertools.combinations(nodes, 2)]
    s = balance_summary(signed_matrix(nodes, ties), nodes)
    assert s["triads"] == 10 and s["share_balanced"] == 1.0 and s["weighted_share_balanced"] == 1.0
    assert s["walk_balance"] == pytest.approx(1.0) and s["walk_balance_weighted"] == pytest.approx(1.0)
    assert s["frustration"] == 0 and s["frustration_balance_weighted"] == 1.0
    assert {s["camp_a"], s["camp_b"]} == {"USA JPN KOR", "CHN PRK"}


def test_walk_balance_is_the_ratio_of_matrix_exponential_traces():
    rng = np.random.default_rng(7)
    w = np.triu(rng.uniform(-1, 1, (6, 6)), 1)
    a = w + w.T
    expected = np.trace(expm(a)) / np.trace(expm(np.abs(a)))
    assert walk_balance(a, weighted=True) == pytest.approx(expected)
    assert walk_balance(a, beta=0.5, weighted=True) == pytest.approx(
        np.trace(expm(0.5 * a)) / np.trace(expm(0.5 * np.abs(a))))
    signs = np.sign(a)
    assert walk_balance(a) == pytest.approx(np.trace(expm(signs)) / np.trace(expm(np.abs(signs))))
    assert 0 < walk_balance(a) < 1


@pytest.mark.parametrize("seed", range(4))
def test_switching_a_node_changes_no_balance_measure(seed):
    # negating every tie of one node (switching) preserves the sign of every cycle, hence all balance measures
    nodes = tuple("ABCDEF")
    rng = np.random.default_rng(seed)
    w = np.triu(rng.uniform(-1, 1, (6, 6)) * (rng.random((6, 6)) < 0.8), 1)
    a = w + w.T
    d = np.diag([1, -1, 1, 1, -1, 1])
    b = d @ a @ d
    sa, sb = balance_summary(a, nodes), balance_summary(b, nodes)
    for key in ("triads", "balanced_triads", "weighted_share_balanced", "walk_balance", "walk_balance_weighted",
                "frustration", "frustration_weighted"):
        assert sa[key] == pytest.approx(sb[key], nan_ok=True), key


def test_missing_ties_leave_triangles_out():
    nodes = ("A", "B", "C", "D")
    a = signed_matrix(nodes, [("A", "B", 1), ("A", "C", 1), ("B", "C", -1), ("C", "D", 1), ("B", "D", np.nan)])
    t = triads(a, nodes)
    assert list(t.triad) == ["A-B-C"]  # A-D and B-D are missing, so only one complete triangle
    assert balance_summary(a, nodes)["ties"] == 4


@pytest.mark.parametrize("p, expected", [((1, 1, 1), 1.0), ((0, 0, 1), 1.0), ((0, 1, 1), 0.0), ((0, 0, 0), 0.0),
                                         ((0.5, 0.9, 0.1), 0.5), ((0.8, 0.8, 0.8), 0.8**3 + 3 * 0.8 * 0.2**2)])
def test_probability_that_a_triangle_is_balanced(p, expected):
    assert balanced_probability(p) == pytest.approx(expected)


def test_triads_carry_the_probability_of_balance():
    a = triangle(0.3, -0.2, -0.4)
    p = triangle(0.9, 0.2, 0.1)
    t = triads(a, ABC, p)
    assert t.p_balanced.iloc[0] == pytest.approx(0.9 * 0.8 * 0.9 + 0.9 * 0.2 * 0.1 + 0.1 * 0.8 * 0.1
                                                 + 0.1 * 0.2 * 0.9)


@pytest.mark.parametrize("bad", [np.array([[0, 1], [0.5, 0]]), np.array([[1, 1], [1, 0]]), np.zeros((2, 3))])
def test_invalid_matrices_are_refused(bad):
    with pytest.raises(ValueError):
        balance_summary(bad, ("A", "B"))


def test_signed_matrix_refuses_unknown_nodes_and_loops():
    with pytest.raises(ValueError, match="not in"):
        signed_matrix(ABC, [("A", "Z", 1)])
    with pytest.raises(ValueError, match="self-tie"):
        signed_matrix(ABC, [("A", "A", 1)])
