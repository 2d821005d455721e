"""Out-of-time forecasts of alliance decisions (rolling origin), scored against two baselines.

For each episode, in date order (protocol and priors: ``docs/evaluation.md``):

1. the framework is fitted **as of the episode's date** (``DualThreatModel(as_of=date)``): only figures
   published, and events dated, before it are used; one fit per distinct date, run in ``workers`` processes
   (the results do not depend on their number; the main job starts them first, :func:`start_episode_features`,
   and they run while it fits the rest);
   the features of each date are kept in the store's cache (keyed by the data, the code and the model's
   parameters, like every cached fit), so a second evaluation on the same data refits nothing;
2. the features are each ally's filtered threat components and mediator in the episode's month, with their
   sds; a component with no observation in the previous 24 months is missing, never 0;
3. the decision model (:class:`~dualthreat.model.decision.DecisionModel`) is fitted on the **earlier**
   episodes only, whose outcomes were known by then, and predicts the probability of each direction.

Baselines, scored on the same episodes: ``base_rate`` (the pooled base rate alone, the framework with
lambda = 0) and ``single_threat`` (the same decision model with one China threat per ally). Scores and
comparisons: :mod:`dualthreat.evaluate.scoring`. Only episodes with a source URL are used, as targets or as
earlier episodes.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dualthreat.evaluate import scoring
from dualthreat.evaluate.scoring import scores
from dualthreat.ingest import read
from dualthreat.ingest.curated import DIRECTIONS
from dualthreat.model.cache import cache_key
from dualthreat.model.decision import BaseRate, DecisionModel, possible_mask
from dualthreat.model.dualthreat import SharedFits
from dualthreat.stats import one_blas_thread
from dualthreat.store import Store
from dualthreat.store import cache as store_cache
from dualthreat.theater import Theater, load_theater

__all__ = ["Evaluation", "PendingFeatures", "evaluate", "episode_features", "load_episodes", "scores",
           "start_episode_features"]

MIN_TRAIN = 10
PERMUTATION_SHIFTS = 19  # circular shifts of the feature table in the permutation null (p >= 1/20)
MODELS = ("framework", "base_rate", "single_threat")


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


def has_source(episodes: pd.DataFrame) -> pd.Series:
    """True for the episodes with a source URL (the only ones a forecast uses, as target or as earlier episode)."""
    urls = episodes.get("source_url", pd.Series(None, index=episodes.index, dtype=object))
    return urls.fillna("").astype(str).str.strip() != ""


def feature_names(theater: Theater) -> list[str]:
    """The per-ally features: every threat component (``{level}_{source}``) and the mediator."""
    return [f"{level}_{source}" for level in ("local", "systemic") for source in theater.sources] + ["mediator"]


def _features_as_of(store: Store, theater: Theater, when: pd.Timestamp, shared: SharedFits) -> list[dict]:
    """Each ally's features in the month of ``when``, from a fit as of ``when`` (one row per ally); ``shared``:
    what the fits as of earlier dates on the same store read (they reuse it where no row has become public
    since, :class:`~dualthreat.model.dualthreat.SharedFits`)."""
    from dualthreat.model import DualThreatModel

    model = DualThreatModel(theater, as_of=str(when.date()), with_posture=False).fit(store, shared=shared)
    month = str(when.to_period("M"))
    t = model.threats_[(model.threats_.estimate == "filtered") & (model.threats_.month == month)]
    m = model.mediator_[(model.mediator_.estimate == "filtered") & (model.mediator_.month == month)]
    rows = []
    for ally in theater.allies:
        row: dict = {"as_of": when, "ally": ally}
        for r in t[t.ally == ally].itertuples():
            usable = bool(r.recent_data) and np.isfinite(r.mean) and np.isfinite(r.sd)
            row[f"{r.level}_{r.source}"] = float(r.mean) if usable else np.nan
            row[f"{r.level}_{r.source}_sd"] = float(r.sd) if usable else np.nan
        med = m[m.ally == ally]
        usable = bool(len(med)) and np.isfinite(med["mean"].iloc[0]) and med["china_backing_year"].iloc[0] > 0
        if usable:  # the delta-method sd of T x B (model/mediator.py)
            r = med.iloc[0]
            sd = np.sqrt(r.china_backing ** 2 * r.dprk_threat_sd ** 2 + r.dprk_threat ** 2 * r.china_backing_sd ** 2)
        row["mediator"] = float(med["mean"].iloc[0]) if usable else np.nan
        row["mediator_sd"] = float(sd) if usable else np.nan
        rows.append(row)
    return rows


def _feature_key(theater: Theater, when: pd.Timestamp) -> str:
    from dualthreat.model import DualThreatModel

    return cache_key(DualThreatModel(theater, as_of=str(when.date()), with_posture=False)) + ":episode-features"


def _cached_features(store: Store, theater: Theater, whens: list[pd.Timestamp]) -> dict[pd.Timestamp, list[dict]]:
    """The features as of each of ``whens`` that the store's cache holds (same data, code and parameters), read
    in one query."""
    keys = {w: _feature_key(theater, w) for w in whens}
    blobs = store_cache.read_many(store, list(keys.values()))
    return {w: pickle.loads(blobs[k]) for w, k in keys.items() if k in blobs}


def _cache_features(store: Store, theater: Theater, fitted: dict[pd.Timestamp, list[dict]],
                    version: str | None = None) -> None:
    """Keep the features of each date in the store's cache (one transaction), if the data are still ``version``
    (the data they were fitted on)."""
    store_cache.write_many(store, {_feature_key(theater, w): pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
                                   for w, rows in fitted.items()}, version)


# In a worker process of the evaluation's pool: its store and what its fits share (``_init_worker``).
_WORKER: dict[str, object] = {}


def _init_worker(store_path: str) -> None:
    store = Store(store_path)
    _WORKER.update(store=store, shared=SharedFits(store))


def _run_chunk(args: tuple[Theater, list[pd.Timestamp]]) -> list[list[dict]]:
    """The features as of consecutive dates, in a worker (each worker walks forward in time, so that each fit
    reuses what the previous one read)."""
    theater, whens = args
    store, shared = _WORKER["store"], _WORKER["shared"]
    return [_features_as_of(store, theater, w, shared) for w in whens]  # type: ignore[arg-type]


def _chunks(whens: list[pd.Timestamp], workers: int) -> list[list[pd.Timestamp]]:
    """Runs of consecutive dates, about four per worker (the later, costlier dates balance over the workers)."""
    size = max(1, -(-len(whens) // (4 * workers)))
    return [whens[i:i + size] for i in range(0, len(whens), size)]


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _feature_frame(rows: list[dict], theater: Theater) -> pd.DataFrame:
    cols = ["as_of", "ally"] + [c for f in feature_names(theater) for c in (f, f"{f}_sd")]
    return pd.DataFrame(rows).reindex(columns=cols).sort_values(["as_of", "ally"]).reset_index(drop=True)


def _from_cache(store: Store, dates: list, theater: Theater) -> tuple[list[dict], list[pd.Timestamp]]:
    """The rows of the dates whose features the store holds (and of the dates too early to have any), and the
    dates still to fit."""
    from dualthreat.model import DualThreatModel

    first = pd.Period(DualThreatModel().start, freq="M")
    whens = sorted(set(pd.Timestamp(d) for d in dates))
    fit = [w for w in whens if w.to_period("M") > first]
    rows = [{"as_of": w, "ally": a} for w in whens if w not in set(fit) for a in theater.allies]
    cached = _cached_features(store, theater, fit)
    rows += [r for w in fit if w in cached for r in cached[w]]
    return rows, [w for w in fit if w not in cached]


def stored_episode_features(store: Store, dates: list, theater: Theater | None = None) -> pd.DataFrame | None:
    """The features of :func:`episode_features` when the store holds every date's (the evaluation stores them:
    after ``dualthreat run`` or ``episodes evaluate``), else None; nothing is fitted."""
    theater = theater or load_theater()
    rows, missing = _from_cache(store, dates, theater)
    return None if missing else _feature_frame(rows, theater)


NO_WORKERS = ("worker processes could not start (a script without an `if __name__ == \"__main__\":` guard?); "
              "fitting in this process")


def _spawn_pool(workers: int, store_path: str) -> ProcessPoolExecutor:
    # fresh interpreters (spawn), never a fork of a process holding DuckDB threads
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                               initargs=(store_path,))


class PendingFeatures:
    """As-of fits running in worker processes while the caller goes on (:func:`start_episode_features`).

    The workers read a private copy of the store taken when they start, so the caller may write the store (its
    fit cache) meanwhile: DuckDB lets no process write a file that another has open. The copy is the store's
    data at that moment; :func:`episode_features` uses these fits only if the store's data version is still the
    same, and deletes the copy."""

    def __init__(self, store: Store, theater: Theater, dates: list[pd.Timestamp], workers: int) -> None:
        self.theater, self.dates = theater, dates
        self._dir = tempfile.TemporaryDirectory(prefix="dualthreat-features-")
        self._pool: ProcessPoolExecutor | None = None
        try:
            copy = Path(self._dir.name) / store.path.name
            wal = store.path.with_name(store.path.name + ".wal")
            with store:  # a read-only connection: no other process can write the store while it is copied
                shutil.copyfile(store.path, copy)
                if wal.exists():
                    shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
            self.version = store_cache.data_version(Store(copy))  # the data the workers read, exactly
            self._pool = _spawn_pool(workers, str(copy))
            self._chunks = _chunks(dates, workers)
            self._futures = [self._pool.submit(_run_chunk, (theater, chunk)) for chunk in self._chunks]
        except BaseException:
            self.close()
            raise

    def collect(self, progress: Callable[[int], None] | None = None) -> dict[pd.Timestamp, list[dict]]:
        """The features of every date whose fit finished (all of them, unless the workers broke); waits."""
        done: dict[pd.Timestamp, list[dict]] = {}
        try:
            for chunk, future in zip(self._chunks, self._futures):
                done.update(zip(chunk, future.result()))
                if progress:
                    progress(len(done))
        except BrokenProcessPool:
            warnings.warn(NO_WORKERS, RuntimeWarning, stacklevel=3)
        finally:
            self.close()
        return done

    def close(self) -> None:
        """Cancel the fits not started, wait for the running ones, delete the copy."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._dir.cleanup()


def start_episode_features(store: Store, theater: Theater | None = None, dates: list | None = None,
                           workers: int | None = None) -> PendingFeatures | None:
    """Start the as-of fits of the ``dates`` (default: those of the stored, sourced episodes of the theater's
    allies, what :func:`evaluate` fits) that the store's cache does not hold, in ``workers`` processes, and return
    at once; pass the result to :func:`evaluate` (``pending=``). None when there is nothing to fit or one worker."""
    theater = theater or load_theater()
    workers = workers or default_workers()
    if dates is None:
        stored = stored_episodes(store)
        dates = list(stored.date[has_source(stored) & stored.actor.map(theater.is_actor).astype(bool)])
    _, fit = _from_cache(store, dates, theater)
    if workers <= 1 or len(fit) <= 1:
        return None
    try:
        return PendingFeatures(store, theater, fit, workers)
    except (OSError, BrokenProcessPool) as exc:  # no room for the copy, no worker: the evaluation fits them later
        warnings.warn(f"could not start the as-of fits ahead ({exc}); they run when the evaluation needs them",
                      RuntimeWarning, stacklevel=2)
        return None


def episode_features(store: Store, dates: list, theater: Theater | None = None, workers: int = 1,
                     progress: Callable[[int], None] | None = None,
                     pending: PendingFeatures | None = None) -> pd.DataFrame:
    """Each ally's features as of each date (one row per date and ally; one model fit per date, or its result
    from the store's cache, or from ``pending`` fits started earlier on the same data).

    Dates in or before the framework's first month get no features (NaN)."""
    theater = theater or load_theater()
    version = store_cache.data_version(store)  # the data the fits below read
    rows, fit = _from_cache(store, dates, theater)
    got: dict[pd.Timestamp, list[dict]] = {}
    if pending is not None:
        if pending.version == version and pending.theater == theater:
            got = {w: r for w, r in pending.collect(progress).items() if w in set(fit)}
        else:  # the data changed since they started: their fits are of other data
            pending.close()
    todo = [w for w in fit if w not in got]
    done: list[list[dict]] = []
    if workers > 1 and len(todo) > 1:
        # a script that starts the pool without an ``if __name__ == "__main__"`` guard breaks it, and the fits
        # then run here
        try:
            with _spawn_pool(workers, str(store.path)) as pool:
                for chunk_rows in pool.map(_run_chunk, [(theater, chunk) for chunk in _chunks(todo, workers)]):
                    done += chunk_rows
                    if progress:
                        progress(len(got) + len(done))
        except BrokenProcessPool:
            warnings.warn(NO_WORKERS, RuntimeWarning, stacklevel=2)
    left = todo[len(done):]
    shared = SharedFits(store) if left else None
    for w in left:
        done.append(_features_as_of(store, theater, w, shared))
        if progress:
            progress(len(got) + len(done))
    got.update(zip(todo, done))
    _cache_features(store, theater, got, version)
    rows += [r for w in fit for r in got[w]]
    return _feature_frame(rows, theater)


def design(episodes: pd.DataFrame, features: pd.DataFrame, theater: Theater) -> pd.DataFrame:
    """The decision model's input: one row per episode (``date``, ``actor``, ``domain``) with every ally's
    features as of the episode's date, as ``{ally}_{feature}`` and ``{ally}_{feature}_sd``."""
    wide = features.set_index(["as_of", "ally"]).unstack("ally")
    wide.columns = [f"{ally}_{name}" for name, ally in wide.columns]
    dates = pd.to_datetime(episodes["date"])
    X = wide.reindex(dates.to_numpy()).reset_index(drop=True)
    X.index = episodes.index
    return pd.concat([episodes[["episode_id", "actor", "domain"]].assign(date=dates.to_numpy()), X], axis=1)


def _forecasters(**kw: object) -> dict[str, Callable[[], object]]:
    """The framework and the two baselines; ``kw`` are DecisionModel parameters (the theater, the sensitivity
    runs' specifications)."""
    return {"framework": lambda: DecisionModel("dual_threat", **kw), "base_rate": BaseRate,
            "single_threat": lambda: DecisionModel("single_great_power", **kw)}


@dataclass
class _Rolling:
    proba: dict[str, np.ndarray]
    scored: list[int]
    n_train: list[int]
    lambdas: list[dict[str, float]]
    fallback: list[bool]


def rolling_origin(X: pd.DataFrame, y: pd.Series, targets: list[int], min_train: int,
                   models: tuple[str, ...] = MODELS, **params: object) -> _Rolling:
    """Fit each model on the episodes dated before each target (rows of ``X``) and predict the target;
    ``params`` go to the decision models."""
    make = _forecasters(**params)
    dates = X["date"].to_numpy()
    out = _Rolling({k: [] for k in models}, [], [], [], [])
    for i in targets:
        train = np.flatnonzero(dates < dates[i])
        if len(train) < min_train:
            continue
        test, X_train, y_train = X.iloc[[i]], X.iloc[train], y.iloc[train]
        for k in models:
            m = make[k]().fit(X_train, y_train)
            out.proba[k].append(m.predict_proba(test)[0])
            if k == "framework":
                out.lambdas.append(dict(m.lambda_))
                out.fallback.append(not bool(m.available(test)[0]))
        out.scored.append(i)
        out.n_train.append(len(train))
    out.proba = {k: np.array(v).reshape(len(out.scored), len(DIRECTIONS)) for k, v in out.proba.items()}
    return out


#: Other specifications of the decision model, scored on the same episodes and features (``docs/evaluation.md``):
#: the prior's scale halved and doubled, the threat bands ignored, and a later first origin.
SPECIFICATIONS: tuple[tuple[str, dict, int], ...] = (
    ("prior sd 0.25", {"prior_sd": 0.25}, 0), ("prior sd 1.0", {"prior_sd": 1.0}, 0),
    ("threat bands ignored", {"uncertainty": False}, 0), ("first origin after 20 episodes", {}, 20))


def _sensitivity(X: pd.DataFrame, y: pd.Series, targets: list[int], min_train: int, baseline: dict,
                 theater: Theater) -> list[dict]:
    """The framework against the base rate under each of :data:`SPECIFICATIONS` (and the main one)."""
    rows = [{"specification": "as registered", **baseline}]
    for name, params, train in SPECIFICATIONS:
        r = rolling_origin(X, y, targets, max(min_train, train), models=("framework", "base_rate"),
                           theater=theater, **params)
        if not r.scored:
            rows.append({"specification": name, "n": 0})
            continue
        obs = [y.iloc[i] for i in r.scored]
        loss = {k: scoring.losses(p, obs, list(DIRECTIONS))["brier"] for k, p in r.proba.items()}
        c = scoring.compare(loss["framework"], loss["base_rate"])
        rows.append({"specification": name, "n": len(r.scored), "framework": float(loss["framework"].mean()),
                     "base_rate": float(loss["base_rate"].mean()), "difference": c["difference"],
                     "lower": c["lower"], "upper": c["upper"]})
    for row in rows:
        if row.get("n"):
            row["verdict"] = scoring.verdict(row["lower"], row["upper"])
    return rows


@dataclass
class Evaluation:
    """Scores of the framework and the baselines, their paired comparisons, and every episode's forecast."""

    n: int
    framework: dict[str, float]
    baselines: dict[str, dict[str, float]]
    episodes: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    comparison: dict[str, dict] = field(default_factory=dict)
    skill: dict[str, dict[str, float]] = field(default_factory=dict)
    permutation: dict = field(default_factory=dict)
    varying: dict = field(default_factory=dict)
    by_actor: dict[str, dict] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    fallback: int = 0
    parameters: dict = field(default_factory=dict)
    reliability: dict[str, pd.DataFrame] = field(default_factory=dict)
    protocol: dict = field(default_factory=dict)
    sensitivity: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"n": self.n, **self.framework,
                "baselines": {k: {"n": self.n, **v} for k, v in self.baselines.items()},
                "comparison": self.comparison, "skill": self.skill, "permutation": self.permutation,
                "varying": self.varying, "by_actor": self.by_actor, "sources": self.sources,
                "fallback": self.fallback, "parameters": self.parameters,
                "reliability": {k: v.to_dict(orient="records") for k, v in self.reliability.items()},
                "protocol": self.protocol, "sensitivity": self.sensitivity, "episodes": self.episodes, "skipped": self.skipped,
                "directions": self.classes}


def _summary(proba: dict[str, np.ndarray], observed: list[str]) -> tuple[dict, dict, dict]:
    """Scores per model, comparison of the framework with each baseline, and skill."""
    classes = list(DIRECTIONS)
    sc = {k: scores(p, observed, classes) for k, p in proba.items()}
    loss = {k: scoring.losses(p, observed, classes) for k, p in proba.items()}
    comparison, skill = {}, {}
    for base in ("base_rate", "single_threat"):
        per = {m: scoring.compare(loss["framework"][m], loss[base][m]) for m in scoring.LOSSES}
        b = per["brier"]
        comparison[base] = {"brier_difference": b["difference"], "lower": b["lower"], "upper": b["upper"],
                            "p_value": b["p_value"],
                            **{m: {k: v for k, v in per[m].items() if k != "n"} for m in ("log_loss", "rps")}}
        skill[base] = {m: scoring.skill(sc["framework"][m], sc[base][m]) for m in scoring.LOSSES}
    return sc, comparison, skill


def _permutation(X: pd.DataFrame, y: pd.Series, targets: list[int], min_train: int, observed_brier: float,
                 shifts: int, feature_cols: list[str], theater: Theater) -> dict:
    """The framework's Brier with the feature table shifted circularly in time against the episodes."""
    dates = sorted(set(X["date"]))
    if len(dates) < 3 or shifts <= 0:
        return {"shifts": 0, "p_value": None, "null_briers": []}
    ks = np.unique(np.linspace(1, len(dates) - 1, min(shifts, len(dates) - 1)).round().astype(int))
    by_date = X.drop_duplicates("date").set_index("date")[feature_cols]
    null = []
    for k in ks:
        moved = {d: dates[(j + k) % len(dates)] for j, d in enumerate(dates)}
        Xk = X.copy()
        Xk[feature_cols] = by_date.reindex([moved[d] for d in X["date"]]).to_numpy()
        r = rolling_origin(Xk, y, targets, min_train, models=("framework",), theater=theater)
        obs = [y.iloc[i] for i in r.scored]
        null.append(scores(r.proba["framework"], obs, list(DIRECTIONS))["brier"])
    p = (1 + sum(b <= observed_brier for b in null)) / (1 + len(null))
    return {"shifts": len(null), "p_value": float(p), "null_brier_median": float(np.median(null)),
            "null_briers": [round(float(b), 4) for b in null]}


def evaluate(store: Store, episodes: pd.DataFrame | None = None, theater: Theater | None = None,
             min_train: int = MIN_TRAIN, workers: int | None = None, permutation_shifts: int = PERMUTATION_SHIFTS,
             progress: Callable[[int], None] | None = None, pending: PendingFeatures | None = None) -> Evaluation:
    """Rolling-origin evaluation of ``episodes`` (default: the stored calibration episodes); ``pending``: the
    as-of fits already started by :func:`start_episode_features` (the same results as fitting them here)."""
    # one BLAS thread for the whole evaluation: its ~2,400 decision-model fits then do not each look up the
    # process's BLAS libraries (threadpoolctl reads /proc/self/maps: 9 of 44 s of a second evaluation)
    with one_blas_thread():
        return _evaluate(store, episodes, theater, min_train, workers, permutation_shifts, progress, pending)


def _evaluate(store: Store, episodes: pd.DataFrame | None, theater: Theater | None, min_train: int,
              workers: int | None, permutation_shifts: int, progress: Callable[[int], None] | None,
              pending: PendingFeatures | None) -> Evaluation:
    theater = theater or load_theater()
    classes = list(DIRECTIONS)
    stored = stored_episodes(store)
    target = stored if episodes is None else episodes
    replaced = set(target.episode_id)  # a file's episode replaces a stored one with the same id
    skipped = []
    has_url = has_source(target)
    sources = {"with_url": int(has_url.sum()), "without_url": int((~has_url).sum())}
    skipped += [{"id": e, "date": str(pd.Timestamp(d).date()), "reason": "no source URL"}
                for e, d in zip(target.episode_id[~has_url], target.date[~has_url])]
    target = target[has_url]
    stored = stored[has_source(stored)]
    # earlier episodes: the stored (calibration) ones and the file's own, by date; a file's episode
    # replaces a stored one with the same id
    pool = pd.concat([stored[~stored.episode_id.isin(replaced)], target], ignore_index=True)
    skipped += [{"id": e, "date": str(pd.Timestamp(d).date()),
                 "reason": f"actor {a} is not an ally of the theater {theater.key} (nor a joint act of its allies)"}
                for e, d, a in zip(target.episode_id, target.date, target.actor) if not theater.is_actor(a)]
    pool = pool[[theater.is_actor(a) for a in pool.actor]]  # the theater's allies' decisions only
    pool["date"] = pd.to_datetime(pool["date"])
    pool = pool.sort_values(["date", "episode_id"]).reset_index(drop=True)
    if not len(pool):
        if pending is not None:
            pending.close()
        empty = {k: float("nan") for k in (*scoring.LOSSES, "accuracy")}
        return Evaluation(0, empty, {"base_rate": empty, "single_threat": empty}, [], skipped, classes,
                          sources=sources)
    feats = episode_features(store, list(pool.date), theater, workers or default_workers(), progress, pending)
    X = design(pool, feats, theater)
    y = pool["direction"].reset_index(drop=True)
    targets = [int(i) for i in np.flatnonzero(pool.episode_id.isin(set(target.episode_id)))]
    r = rolling_origin(X, y, targets, min_train, theater=theater)
    for i in sorted(set(targets) - set(r.scored)):
        skipped.append({"id": pool.episode_id[i], "date": str(pool.date[i].date()),
                        "reason": f"only {int((pool.date < pool.date[i]).sum())} earlier episodes "
                                  f"(minimum {min_train})"})
    observed = [y.iloc[i] for i in r.scored]
    sc, comparison, skill = _summary(r.proba, observed) if r.scored else ({k: scores(np.zeros((0, len(classes))), [], classes)
                                                                           for k in MODELS}, {}, {})
    feature_cols = [c for c in X.columns if c not in ("episode_id", "actor", "domain", "date")]
    rows = []
    for j, i in enumerate(r.scored):
        ep = pool.iloc[i]
        p_fw = r.proba["framework"][j]
        rows.append({"id": ep.episode_id, "date": str(ep.date.date()), "actor": ep.actor, "domain": ep.domain,
                     "observed": ep.direction, "n_train": r.n_train[j], "fallback": r.fallback[j],
                     "predicted": {c: round(float(p), 4) for c, p in zip(classes, p_fw)},
                     "predicted_direction": classes[int(np.argmax(p_fw))],
                     "baselines": {k: {c: round(float(p), 4) for c, p in zip(classes, r.proba[k][j])}
                                   for k in ("base_rate", "single_threat")},
                     "lambda": {a: round(v, 4) for a, v in r.lambdas[j].items()},
                     "source_url": ep.get("source_url"),
                     "features": {c: (None if pd.isna(X.at[i, c]) else round(float(X.at[i, c]), 4))
                                  for c in feature_cols}})
    # the subsets: episodes whose actor-domain pair takes more than one direction in the calibration record,
    # and each actor
    record = stored if len(stored) else pool
    varies = record.groupby(["actor", "domain"])["direction"].nunique()
    varying_pairs = set(varies[varies > 1].index)

    def subset(keep: list[bool]) -> dict:
        idx = [j for j, k in enumerate(keep) if k]
        if not idx:
            return {"n": 0}
        s, c, _ = _summary({k: p[idx] for k, p in r.proba.items()}, [observed[j] for j in idx])
        return {"n": len(idx), "framework": s["framework"],
                "baselines": {k: s[k] for k in ("base_rate", "single_threat")}, "comparison": c}

    varying = subset([(e["actor"], e["domain"]) in varying_pairs for e in rows])
    varying["pairs"] = sorted("/".join(p) for p in varying_pairs)
    by_actor = {a: subset([e["actor"] == a for e in rows]) for a in sorted({e["actor"] for e in rows})}
    outcome = scoring.onehot(observed, classes)
    possible = possible_mask([e["domain"] for e in rows]) if rows else np.zeros((0, len(classes)), dtype=bool)
    reliability = {k: scoring.reliability(p, outcome, possible) for k, p in r.proba.items()} if rows else {}
    lam = pd.DataFrame(r.lambdas)
    parameters = {a: {"last": float(lam[a].iloc[-1]), "median": float(lam[a].median()),
                      "share_at_zero": float((lam[a] < 1e-6).mean())} for a in lam.columns} if len(lam) else {}
    permutation = (_permutation(X, y, r.scored, min_train, sc["framework"]["brier"], permutation_shifts,
                                feature_cols, theater) if r.scored else {"shifts": 0, "p_value": None})
    c = comparison.get("base_rate", {})
    sensitivity = _sensitivity(X, y, r.scored, min_train, {
        "n": len(rows), "framework": sc["framework"]["brier"], "base_rate": sc["base_rate"]["brier"],
        "difference": c.get("brier_difference"), "lower": c.get("lower"), "upper": c.get("upper")}, theater) if rows else []
    protocol = {"origin": "rolling, one per episode date", "min_train": min_train,
                "features": "filtered components and mediator as of the episode's date, with sds",
                "interval": "90%, moving block bootstrap, blocks of round(n^(1/3)) episodes, "
                            f"{scoring.BOOTSTRAP_SAMPLES} resamples",
                "p_value": "Diebold-Mariano with the Harvey-Leybourne-Newbold correction, t(n-1), two-sided",
                "permutation": "feature table shifted circularly in time against the episodes"}
    return Evaluation(len(rows), sc["framework"], {"base_rate": sc["base_rate"], "single_threat": sc["single_threat"]},
                      rows, skipped, classes, comparison, skill, permutation, varying, by_actor, sources,
                      int(sum(r.fallback)), parameters, reliability, protocol, sensitivity)
