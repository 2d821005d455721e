"""Structural balance of a signed, weighted network (numpy only; small networks such as a theater's states).

A network is a symmetric matrix ``A`` with zero diagonal: ``A[i, j] > 0`` a positive tie of strength
``|A[i, j]|``, ``< 0`` a negative one, ``0`` (or NaN) no tie. The measures:

* **Triads** (Heider 1946, "Attitudes and cognitive organization", *The Journal of Psychology* 21, 107-112;
  Cartwright & Harary 1956, "Structural balance: a generalization of Heider's theory", *Psychological Review*
  63(5), 277-293): a triangle of three ties is *balanced* when the product of its three signs is positive
  (+++ or +--) and unbalanced otherwise (++- or ---). ``share_balanced`` is the share of balanced triangles;
  ``weighted_share_balanced`` weights each triangle by the product of its three tie strengths, so that a
  triangle resting on a tie near zero (a sign that is barely there) counts little.
* **Walk-based balance** (Estrada & Benzi 2014, "Walk-based measure of balance in signed networks: Detecting
  lack of balance in social networks", *Physical Review E* 90, 042802): ``K = sum_j exp(beta lambda_j(A)) /
  sum_j exp(beta mu_j(|A|))``, the eigenvalues of the signed and of the unsigned matrix, i.e. the weighted
  count of balanced minus unbalanced closed walks over the count of all closed walks, longer walks weighted
  less (``beta = 1`` in the original). 1 = balanced; lower = less balanced. Computed on the sign matrix
  (``walk_balance``, the original definition, as in the R package signnet's ``balance_score(method="walk")``)
  and on the weighted matrix (``walk_balance_weighted``).
* **Frustration** (line index of balance): the smallest number of ties (or total tie strength) that violate
  the best split of the nodes into two camps (positive ties inside a camp, negative ties across). Computed
  exactly by enumerating all ``2^(n-1)`` splits (networks of up to ``MAX_EXACT_NODES`` nodes), which also gives
  the camps. Normalised as ``1 - 2 L / m`` (``m`` ties; weighted: ``1 - 2 L_w / W``, ``W`` the total strength),
  so that 1 = balanced and 0 = as frustrated as a signed network can be (any network has a split with at most
  half its ties frustrated); this is the normalisation of signnet's ``balance_score(method="frustration")``,
  which cites Aref & Wilson 2018, "Measuring partial balance in signed networks", *Journal of Complex
  Networks* 6(4), 566-595.

With a probability that each tie is positive (``p_positive``, from the sampling uncertainty of the tie), each
triangle also gets the probability that it is balanced, ``(1 + prod_k (2 p_k - 1)) / 2`` (the probability of
an even number of negative ties when the three signs are independent), and the network the expected share of
balanced triangles.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_EXACT_NODES = 20


def signed_matrix(nodes: Sequence[str], ties: Iterable[tuple[str, str, float]]) -> np.ndarray:
    """A symmetric signed, weighted adjacency matrix from ``(a, b, weight)`` ties; missing ties are 0."""
    index = {n: i for i, n in enumerate(nodes)}
    a = np.zeros((len(nodes), len(nodes)))
    for x, y, w in ties:
        if x == y:
            raise ValueError(f"self-tie {x}-{y}: a signed network has no loops")
        if x not in index or y not in index:
            raise ValueError(f"tie {x}-{y} names a node not in {list(nodes)}")
        w = float(w)
        a[index[x], index[y]] = a[index[y], index[x]] = 0.0 if not np.isfinite(w) else w
    return a


def _check(a: np.ndarray) -> np.ndarray:
    a = np.nan_to_num(np.asarray(a, dtype=float), nan=0.0)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError("a signed network must be a square matrix")
    if not np.allclose(a, a.T):
        raise ValueError("a signed network must be symmetric (undirected ties)")
    if np.any(np.diag(a) != 0):
        raise ValueError("a signed network has no self-ties: the diagonal must be 0")
    return a


def balanced_probability(p_positive: Sequence[float]) -> float:
    """Probability that a cycle is balanced (even number of negative ties) given independent P(tie > 0)."""
    p = np.asarray(p_positive, dtype=float)
    return float((1 + np.prod(2 * p - 1)) / 2)


def triads(a: np.ndarray, nodes: Sequence[str], p_positive: np.ndarray | None = None) -> pd.DataFrame:
    """Every triangle whose three ties are all present: signs, sign product, balanced, weight.

    ``weight`` is the product of the three tie strengths; ``p_balanced`` (when ``p_positive`` is given, a
    matrix of P(tie > 0)) the probability that the triangle is balanced."""
    a = _check(a)
    rows = []
    for i, j, k in itertools.combinations(range(len(nodes)), 3):
        w = (a[i, j], a[i, k], a[j, k])
        if any(x == 0 for x in w):
            continue
        signs = np.sign(w)
        product = int(np.prod(signs))
        row = {
            "triad": f"{nodes[i]}-{nodes[j]}-{nodes[k]}",
            "a": nodes[i], "b": nodes[j], "c": nodes[k],
            "signs": "".join("+" if s > 0 else "-" for s in signs),
            "sign_product": product,
            "balanced": product > 0,
            "weight": float(np.prod(np.abs(w))),
        }
        if p_positive is not None:
            row["p_balanced"] = balanced_probability([p_positive[i, j], p_positive[i, k], p_positive[j, k]])
        rows.append(row)
    cols = ["triad", "a", "b", "c", "signs", "sign_product", "balanced", "weight"]
    if p_positive is not None:
        cols.append("p_balanced")
    return pd.DataFrame(rows, columns=cols)


def walk_balance(a: np.ndarray, beta: float = 1.0, weighted: bool = False) -> float:
    """Estrada & Benzi's (2014) walk-based degree of balance K (1 = balanced). NaN for a network with no tie.

    On the sign matrix by default (the original definition); ``weighted=True`` uses the tie strengths."""
    a = _check(a)
    if not np.any(a):
        return float("nan")
    m = a if weighted else np.sign(a)
    lam = np.linalg.eigvalsh(beta * m)
    mu = np.linalg.eigvalsh(beta * np.abs(m))
    # log-sum-exp, so that large networks or large beta do not overflow
    top = max(lam.max(), mu.max())
    return float(np.exp(top + np.log(np.exp(lam - top).sum()) - top - np.log(np.exp(mu - top).sum())))


@dataclass(frozen=True)
class Frustration:
    """The best split of the nodes into two camps and the ties it leaves frustrated."""

    count: int  # frustrated ties in the split that minimises the weighted frustration
    weight: float  # their total strength (the weighted frustration index L_w)
    ties: int  # ties in the network (m)
    total_weight: float  # total tie strength (W)
    camps: tuple[tuple[str, ...], tuple[str, ...]]
    frustrated: tuple[str, ...]  # the frustrated ties, "A-B"

    @property
    def balance(self) -> float:
        """``1 - 2 L / m`` (1 = balanced)."""
        return float("nan") if self.ties == 0 else 1 - 2 * self.count / self.ties

    @property
    def balance_weighted(self) -> float:
        """``1 - 2 L_w / W`` (1 = balanced)."""
        return float("nan") if self.total_weight == 0 else 1 - 2 * self.weight / self.total_weight


def frustration(a: np.ndarray, nodes: Sequence[str], weighted: bool = True) -> Frustration:
    """Exact frustration by enumeration of the two-camp splits (``weighted``: minimise the strength of the
    frustrated ties, ties broken by their number; otherwise minimise their number)."""
    a = _check(a)
    n = len(nodes)
    if n > MAX_EXACT_NODES:
        raise ValueError(f"exact frustration enumerates 2^(n-1) splits; {n} nodes is more than {MAX_EXACT_NODES}")
    iu = np.triu_indices(n, 1)
    w = a[iu]
    present = w != 0
    wi, wj, wv = iu[0][present], iu[1][present], w[present]
    best = None
    for bits in range(2 ** max(n - 1, 0)):
        side = np.array([(bits >> k) & 1 for k in range(n)])  # the last node is always in camp 0
        same = side[wi] == side[wj]
        bad = (same & (wv < 0)) | (~same & (wv > 0))
        key = (float(np.abs(wv[bad]).sum()), int(bad.sum())) if weighted else (int(bad.sum()),
                                                                                 float(np.abs(wv[bad]).sum()))
        if best is None or key < best[0]:
            best = (key, side, bad)
    (_, side, bad) = best if best else ((0, 0), np.zeros(n, int), np.zeros(0, bool))
    camp0 = tuple(nodes[i] for i in range(n) if side[i] == 0)
    camp1 = tuple(nodes[i] for i in range(n) if side[i] == 1)
    return Frustration(
        count=int(bad.sum()), weight=float(np.abs(wv[bad]).sum()), ties=int(present.sum()),
        total_weight=float(np.abs(wv).sum()), camps=(camp0, camp1),
        frustrated=tuple(f"{nodes[i]}-{nodes[j]}" for i, j in zip(wi[bad], wj[bad])),
    )


def balance_summary(a: np.ndarray, nodes: Sequence[str], p_positive: np.ndarray | None = None,
                    beta: float = 1.0) -> dict:
    """All whole-network measures of one signed network, as one row."""
    a = _check(a)
    t = triads(a, nodes, p_positive)
    f = frustration(a, nodes, weighted=True)
    n_t = len(t)
    wsum = float(t["weight"].sum()) if n_t else 0.0
    out = {
        "nodes": len(nodes),
        "ties": f.ties,
        "negative_ties": int((a[np.triu_indices(len(nodes), 1)] < 0).sum()),
        "triads": n_t,
        "balanced_triads": int(t["balanced"].sum()) if n_t else 0,
        "share_balanced": float(t["balanced"].mean()) if n_t else float("nan"),
        "weighted_share_balanced": float((t["weight"] * t["balanced"]).sum() / wsum) if wsum > 0 else float("nan"),
        "walk_balance": walk_balance(a, beta),
        "walk_balance_weighted": walk_balance(a, beta, weighted=True),
        "frustration": f.count,
        "frustration_weighted": f.weight,
        "frustration_balance": f.balance,
        "frustration_balance_weighted": f.balance_weighted,
        "camp_a": " ".join(f.camps[0]),
        "camp_b": " ".join(f.camps[1]),
        "frustrated_ties": " ".join(f.frustrated),
    }
    if p_positive is not None:
        out["expected_share_balanced"] = float(t["p_balanced"].mean()) if n_t else float("nan")
    return out
