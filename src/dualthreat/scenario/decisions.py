"""The adapter between scenarios and a decision model: probabilities of each direction of an ally's
decision given its threat picture, with the decision model's own uncertainty.

Until the framework's decision model lands, this is the episode forecaster of
:mod:`dualthreat.evaluate.episodes` as it stands: a multinomial logistic regression (L2, ``C = 0.5``) of the
direction of coded decisions on the actor and the ally's five features (its four filtered threat components
and its mediator; a joint Japan-ROK decision takes the mean of both allies'), features standardised on the
training episodes, probabilities floored. It does not condition on the domain, so its rows carry
``domain = "all"``. Its uncertainty is that of its coefficients, by the bootstrap: ``replicates`` fits on
episodes resampled with replacement (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*).

The training features are the filtered estimates of the scenario's own fitted framework in each episode's
month (one fit, one scale for training and scenario alike), rather than one fit as of each episode's date as
in the out-of-time evaluation: cheaper, and consistent with the features it is then given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dualthreat.evaluate.episodes import FEATURES, FLOOR
from dualthreat.ingest.curated import DIRECTIONS

DOMAIN_ALL = "all"


class BootstrapForecaster:
    """The episode forecaster, fitted ``replicates`` times on bootstrap resamples of the episodes.

    Parameters
    ----------
    replicates : number of bootstrap fits (the first one is the fit on the episodes as they are).
    seed : seed of the resampling.
    C : inverse L2 penalty of the logistic regression (the forecaster's).
    """

    def __init__(self, replicates: int = 200, seed: int = 0, C: float = 0.5) -> None:
        self.replicates = replicates
        self.seed = seed
        self.C = C

    def fit(self, episodes: pd.DataFrame) -> BootstrapForecaster:
        """``episodes``: one row per episode with ``actor``, ``direction`` and the columns of FEATURES."""
        from sklearn.linear_model import LogisticRegression

        if episodes.empty:
            raise ValueError("no episodes to learn the decision model from")
        self.classes_ = list(DIRECTIONS)
        self.actors_ = sorted(episodes.actor.unique(), key=lambda a: (a.count("-"), a))  # allies, then joint
        self.n_episodes_ = len(episodes)
        x_all = self._design(episodes)
        y_all = episodes.direction.to_numpy()
        rng = np.random.default_rng(self.seed)
        self.models_ = []
        for r in range(self.replicates):
            idx = np.arange(len(y_all)) if r == 0 else rng.integers(0, len(y_all), len(y_all))
            x, y = x_all[idx], y_all[idx]
            mu, sd = x.mean(axis=0), x.std(axis=0)
            sd[sd == 0] = 1.0
            seen = sorted(set(y))
            clf = None
            if len(seen) > 1:
                clf = LogisticRegression(C=self.C, max_iter=2000).fit((x - mu) / sd, y)
            self.models_.append((mu, sd, clf, seen))
        return self

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        onehot = np.column_stack([(frame.actor == a).astype(float) for a in self.actors_])
        return np.column_stack([onehot, frame[FEATURES].fillna(0.0).to_numpy(dtype=float)])

    def design(self, actor: str, features: np.ndarray) -> np.ndarray:
        """Rows of the design for ``actor`` from an (n, len(FEATURES)) array of features."""
        onehot = np.tile([1.0 if a == actor else 0.0 for a in self.actors_], (len(features), 1))
        return np.column_stack([onehot, np.nan_to_num(features, nan=0.0)])

    def predict_proba(self, replicate: int, x: np.ndarray) -> np.ndarray:
        """P(direction) for each row of the design ``x`` under bootstrap fit ``replicate``: (n, classes)."""
        mu, sd, clf, seen = self.models_[replicate]
        out = np.zeros((len(x), len(self.classes_)))
        if clf is None:
            out[:, self.classes_.index(seen[0])] = 1.0
        else:
            proba = clf.predict_proba((x - mu) / sd)
            for j, c in enumerate(clf.classes_):
                out[:, self.classes_.index(c)] = proba[:, j]
        return (1 - FLOOR) * out + FLOOR / len(self.classes_)
