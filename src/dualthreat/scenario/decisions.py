"""The adapter between scenarios and the framework's decision model (:mod:`dualthreat.model.decision`):
probabilities of each direction of an actor's decision in a domain, given simulated threat paths, with the
decision model's own uncertainty.

The decision model is :class:`~dualthreat.model.decision.DecisionModel` as it stands (the pooled base rate
of directions tilted by the framework's score; fitted on the stored episodes before the run). Its
uncertainty is that of its estimates, by the bootstrap: ``replicates`` fits on episodes resampled with
replacement (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*), the first on the episodes as they
are. A simulated threat path is a point, not a band: each draw of the features is given with sd 0, so the
decision model's integral over the band is left to the simulation (the mean over draws is that integral).

:meth:`BootstrapDecisions.scores` and :meth:`~BootstrapDecisions.proba` evaluate the fitted model's own pieces (its base rate, its
:func:`~dualthreat.model.decision.framework_score`, its ``lambda_`` and
:func:`~dualthreat.model.decision.tilted_proba`) on arrays of draws, which is what
:meth:`DecisionModel.predict_proba` does row by row (``tests/test_scenario.py`` checks they agree).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dualthreat.ingest.curated import DIRECTIONS
from dualthreat.model.decision import POSSIBLE, DecisionModel, actor_weights, framework_score, side_row, tilted_proba
from dualthreat.theater import Theater


class BootstrapDecisions:
    """The decision model, fitted ``replicates`` times on bootstrap resamples of the episodes.

    Parameters
    ----------
    replicates : number of fits (the first one on the episodes as they are).
    seed : seed of the resampling.
    theater : whose roles say which ally follows which score (default: the packaged theater).
    """

    def __init__(self, replicates: int = 100, seed: int = 0, theater: Theater | None = None) -> None:
        self.replicates = replicates
        self.seed = seed
        self.theater = theater

    def fit(self, X: pd.DataFrame, y: pd.Series) -> BootstrapDecisions:
        """``X``: the decision model's features (``date``, ``actor``, ``domain`` and ``{ally}_{feature}``,
        ``{ally}_{feature}_sd``); ``y``: the directions."""
        if X.empty:
            raise ValueError("no episodes to learn the decision model from")
        X = X.reset_index(drop=True)
        y = pd.Series(list(y))
        rng = np.random.default_rng(self.seed)
        self.models_: list[DecisionModel] = []
        for r in range(self.replicates):
            idx = np.arange(len(X)) if r == 0 else rng.integers(0, len(X), len(X))
            self.models_.append(DecisionModel(theater=self.theater).fit(X.iloc[idx].reset_index(drop=True),
                                                    y.iloc[idx].reset_index(drop=True)))
        self.classes_ = list(DIRECTIONS)
        self.n_episodes_ = len(X)
        self._cell: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.cells_ = sorted(set(zip(X["actor"], X["domain"])), key=lambda c: (c[0].count("-"), c[0], c[1]))
        return self

    def scores(self, replicate: int, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each ally's framework score at each row of features ``X`` (``date`` and ``{ally}_{feature}``;
        sds taken as 0) under fit ``replicate`` (NaN where it cannot be computed)."""
        m = self.models_[replicate]
        allies = {a for actor, _ in self.cells_ for a in actor_weights(actor)}
        return {a: framework_score(X, a, m.score, m.theater_)[0] for a in sorted(allies)}

    def proba(self, replicate: int, actor: str, domain: str, scores: dict[str, np.ndarray]) -> np.ndarray:
        """P(direction) for ``actor`` in ``domain`` given the allies' ``scores`` (from :meth:`scores`) under fit
        ``replicate``: rows x DIRECTIONS; a row without a score gets the base rate, as in
        :meth:`DecisionModel.predict_proba`."""
        m = self.models_[replicate]
        key = (replicate, actor, domain)
        if key not in self._cell:
            cell = pd.DataFrame({"actor": [actor], "domain": [domain]})
            self._cell[key] = (m.base_rate_.predict_proba(cell)[0], side_row(domain))
        pi0, side0 = self._cell[key]
        n = len(next(iter(scores.values())))
        eta = np.zeros(n)
        for ally, w in actor_weights(actor).items():
            eta = eta + w * m.lambda_.get(ally, 0.0) * scores.get(ally, np.full(n, np.nan))
        ok = np.isfinite(eta)
        out = np.tile(pi0, (n, 1))
        if ok.any():
            k = int(ok.sum())
            out[ok] = tilted_proba(out[ok], np.tile(side0, (k, 1)), eta[ok], np.zeros(k), m.nodes)
        return out

    @staticmethod
    def possible(domain: str) -> list[int]:
        """Indices (in DIRECTIONS) of the directions possible in ``domain``."""
        return [i for i, d in enumerate(DIRECTIONS) if d in POSSIBLE[domain]]
