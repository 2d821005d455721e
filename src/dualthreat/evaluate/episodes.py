"""Out-of-time forecasts of alliance decisions (rolling origin), scored against two baselines.

For each episode, in date order:

1. the framework is fitted **as of the episode's date** (``DualThreatModel(as_of=date)``): only figures
   published, and events dated, before it are used;
2. the features are the ally's four filtered threat components and its mediator in the episode's month
   (for a joint Japan-ROK decision, the average of the two allies');
3. a multinomial logistic regression (L2-penalised, scikit-learn) is fitted on the **earlier** episodes only,
   whose outcomes were known by then, and predicts the probability of each direction.

Baselines, scored on the same episodes:

* ``base_rate``: the directions of earlier episodes of the same actor and domain, shrunk toward the actor's
  and then all earlier episodes (hierarchical additive smoothing);
* ``single_threat``: the same regression with one China threat per ally (the mean of its local and systemic
  China components), no local/systemic split and no mediator.

Scores (as in conflict forecasting, e.g. Hegre et al. 2019, "ViEWS: A political violence early-warning
system", *Journal of Peace Research* 56(2)): the multi-class Brier score (sum over directions of the squared
difference between probability and outcome, averaged over episodes; lower is better), log loss and accuracy.
Episodes with fewer than ``min_train`` earlier episodes are not scored (every method would be guessing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dualthreat.ingest import read
from dualthreat.ingest.curated import DIRECTIONS
from dualthreat.store import Store
from dualthreat.theater import Theater, load_theater

FLOOR = 0.01  # probability mass spread over all directions, so that no direction is impossible
MIN_TRAIN = 10
FEATURES = ["local_CHN", "local_PRK", "systemic_CHN", "systemic_PRK", "mediator"]


def load_episodes(path: Path) -> pd.DataFrame:
    """Episodes from a file in the format of ``calibration.csv`` (extra columns ignored); a bad file is
    refused (:class:`~dualthreat.ingest.FileRefused`), bad rows are returned in ``.attrs['rejections']``."""
    result = read("episodes", path)
    df = result.rows.to_pandas()
    df.attrs["rejections"] = result.rejections
    df.attrs["rows_in"] = result.rows_in
    return df


def stored_episodes(store: Store) -> pd.DataFrame:
    return store.query("SELECT * FROM episodes").to_pandas()


def episode_features(store: Store, dates: list, theater: Theater | None = None) -> pd.DataFrame:
    """Filtered threat components and mediator of each ally, as of each date (one model fit per date)."""
    from dualthreat.model import DualThreatModel

    theater = theater or load_theater()
    rows = []
    first = pd.Period(DualThreatModel().start, freq="M")
    for when in sorted(set(pd.Timestamp(d) for d in dates)):
        if when.to_period("M") <= first:  # before the first month the framework estimates: no features
            rows += [{"as_of": when, "ally": ally} for ally in theater.allies]
            continue
        model = DualThreatModel(theater, as_of=str(when.date()), with_posture=False).fit(store)
        month = str(when.to_period("M"))
        t = model.threats_[(model.threats_.estimate == "filtered") & (model.threats_.month == month)]
        m = model.mediator_[(model.mediator_.estimate == "filtered") & (model.mediator_.month == month)]
        for ally in theater.allies:
            row = {"as_of": when, "ally": ally}
            for r in t[t.ally == ally].itertuples():
                row[f"{r.level}_{r.source}"] = r.mean
            med = m[m.ally == ally]["mean"]
            row["mediator"] = float(med.iloc[0]) if len(med) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def _actor_features(feats: pd.DataFrame, actor: str, when: pd.Timestamp, theater: Theater) -> pd.Series:
    allies = [a for a in theater.allies if a in actor.split("-")] or list(theater.allies)
    f = feats[(feats.as_of == when) & (feats.ally.isin(allies))]
    return f[FEATURES].mean()


def base_rate(train: pd.DataFrame, actor: str, domain: str, classes: list[str], k: float = 2.0) -> np.ndarray:
    """P(direction) from earlier episodes of the same actor and domain, shrunk toward the actor's, then
    all earlier episodes (each level adds ``k`` pseudo-episodes of the level above)."""
    def counts(df: pd.DataFrame) -> np.ndarray:
        return np.array([(df.direction == c).sum() for c in classes], dtype=float)

    p_all = (counts(train) + 1.0) / (len(train) + len(classes))
    a = train[train.actor == actor]
    p_actor = (counts(a) + k * p_all) / (len(a) + k)
    ad = a[a.domain == domain]
    return (counts(ad) + k * p_actor) / (len(ad) + k)


def _design(df: pd.DataFrame, cols: list[str], actors: list[str]) -> np.ndarray:
    onehot = np.column_stack([(df.actor == a).astype(float) for a in actors])
    return np.column_stack([onehot, df[cols].fillna(0.0).to_numpy(dtype=float)])


def _logit_proba(train: pd.DataFrame, test: pd.DataFrame, cols: list[str], classes: list[str],
                 actors: list[str]) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    seen = sorted(train.direction.unique())
    out = np.zeros(len(classes))
    if len(seen) == 1:
        out[classes.index(seen[0])] = 1.0
    else:
        xtr, xte = _design(train, cols, actors), _design(test, cols, actors)
        mu, sd = xtr.mean(axis=0), xtr.std(axis=0)
        sd[sd == 0] = 1.0
        clf = LogisticRegression(C=0.5, max_iter=2000)
        clf.fit((xtr - mu) / sd, train.direction)
        proba = clf.predict_proba((xte - mu) / sd)[0]
        for c, p in zip(clf.classes_, proba):
            out[classes.index(c)] = p
    return (1 - FLOOR) * out + FLOOR / len(classes)


def scores(proba: np.ndarray, observed: list[str], classes: list[str]) -> dict[str, float]:
    """Multi-class Brier score, log loss and accuracy of probability rows against observed directions."""
    if len(observed) == 0:
        return {"brier": float("nan"), "log_loss": float("nan"), "accuracy": float("nan")}
    onehot = np.array([[1.0 if c == o else 0.0 for c in classes] for o in observed])
    brier = float(((proba - onehot) ** 2).sum(axis=1).mean())
    p_obs = (proba * onehot).sum(axis=1)
    log_loss = float(-np.log(np.clip(p_obs, 1e-15, 1)).mean())
    accuracy = float((proba.argmax(axis=1) == onehot.argmax(axis=1)).mean())
    return {"brier": brier, "log_loss": log_loss, "accuracy": accuracy}


@dataclass
class Evaluation:
    """Scores of the framework and the baselines, and every episode's forecast."""

    n: int
    framework: dict[str, float]
    baselines: dict[str, dict[str, float]]
    episodes: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"n": self.n, **self.framework,
                "baselines": {k: {"n": self.n, **v} for k, v in self.baselines.items()},
                "episodes": self.episodes, "skipped": self.skipped, "directions": self.classes}


def evaluate(store: Store, episodes: pd.DataFrame | None = None, theater: Theater | None = None,
             min_train: int = MIN_TRAIN, progress=None) -> Evaluation:  # noqa: ANN001 - callback
    """Rolling-origin evaluation of ``episodes`` (default: the stored calibration episodes)."""
    theater = theater or load_theater()
    stored = stored_episodes(store)
    target = stored if episodes is None else episodes
    target = target.sort_values(["date", "episode_id"]).reset_index(drop=True)
    # earlier episodes: the stored (calibration) ones and the file's own, by date; a file's episode
    # replaces a stored one with the same id
    pool = pd.concat([stored[~stored.episode_id.isin(target.episode_id)], target], ignore_index=True)
    pool["date"] = pd.to_datetime(pool["date"])
    target = target.assign(date=pd.to_datetime(target["date"]))
    classes = list(DIRECTIONS)
    actors = sorted(set(pool.actor))
    feats = episode_features(store, list(pool.date), theater) if len(pool) else pd.DataFrame()
    for col in FEATURES:
        pool[col] = [_actor_features(feats, a, d, theater)[col] for a, d in zip(pool.actor, pool.date)]
    pool["china_single"] = (pool["local_CHN"] + pool["systemic_CHN"]) / 2
    target = target.merge(pool[["episode_id", *FEATURES, "china_single"]].drop_duplicates("episode_id"),
                          on="episode_id", how="left")
    rows, skipped = [], []
    probs = {"framework": [], "base_rate": [], "single_threat": []}
    observed = []
    for i, ep in target.iterrows():
        if progress:
            progress(i)
        train = pool[pool.date < ep.date]
        if len(train) < min_train:
            skipped.append({"id": ep.episode_id, "date": str(ep.date.date()),
                            "reason": f"only {len(train)} earlier episodes (minimum {min_train})"})
            continue
        test = target.iloc[[i]]
        p_fw = _logit_proba(train, test, FEATURES, classes, actors)
        p_br = base_rate(train, ep.actor, ep.domain, classes)
        p_st = _logit_proba(train, test, ["china_single"], classes, actors)
        for k, p in (("framework", p_fw), ("base_rate", p_br), ("single_threat", p_st)):
            probs[k].append(p)
        observed.append(ep.direction)
        rows.append({"id": ep.episode_id, "date": str(ep.date.date()), "actor": ep.actor, "domain": ep.domain,
                     "observed": ep.direction, "n_train": len(train),
                     "predicted": {c: round(float(p), 4) for c, p in zip(classes, p_fw)},
                     "predicted_direction": classes[int(np.argmax(p_fw))],
                     "baselines": {"base_rate": {c: round(float(p), 4) for c, p in zip(classes, p_br)},
                                   "single_threat": {c: round(float(p), 4) for c, p in zip(classes, p_st)}},
                     "features": {c: (None if pd.isna(ep[c]) else round(float(ep[c]), 4)) for c in FEATURES}})
    score = {k: scores(np.array(v) if v else np.zeros((0, len(classes))), observed, classes)
             for k, v in probs.items()}
    return Evaluation(len(rows), score["framework"], {"base_rate": score["base_rate"],
                                                        "single_threat": score["single_threat"]},
                      rows, skipped, classes)
