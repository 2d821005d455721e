"""The decision model: which way an alliance decision goes, given the ally, the domain and the threats.

The dual threat framework (Wong 2016, the seed paper; ``shared/HYPOTHESES.md`` H2-H4) written as a
multinomial choice that starts from the base rate and lets the framework's threat score tilt it::

    P(d | ally, domain, x)  proportional to  pi(d | ally, domain) * exp(lambda_ally * u_d(domain) * z_ally(x))

* ``pi`` is the hierarchically pooled base rate of directions (:class:`BaseRate`): the ally's earlier decisions
  in the domain, shrunk toward the ally's decisions in every domain, shrunk toward all decisions (additive
  smoothing, as in empirical-Bayes pooling of multinomial rates; Good 1965, *The Estimation of
  Probabilities*). Directions the codebook rules out in a domain (:data:`POSSIBLE`) get no mass; possible
  directions not yet seen get smoothed mass.
* ``u_d`` is the direction's side on the domain's axis (:data:`SIDE`): +1 toward the US (or Japan-ROK up),
  -1 toward China (or Japan-ROK down), 0 for the directions the framework places on neither side.
* ``z_ally`` is the framework's score, fixed before any episode is scored (:data:`GREAT_POWER_ALLY_WEIGHTS`,
  :func:`framework_score`): Japan responds to its local China threat more than to the North Korean one, and
  more so from 2010 (H2); Korea responds to the North Korean threat through China's observed backing of
  Pyongyang, the mediator (H4: hope in Beijing moves Seoul toward China, China seen backing the North moves
  it toward Washington), and China's direct threat to Korea has no weight (H3).
* ``lambda_ally >= 0`` is the only thing fitted: one per ally, the paper's sign imposed, by maximum a
  posteriori with a half-normal prior of scale ``prior_sd`` around 0. With no signal in the earlier episodes
  the MAP is 0 and the model *is* the base rate.

The threat estimates are uncertain (filtered Kalman bands), so the score is integrated over its band:
``z ~ N(mean, sd^2)`` and the probabilities are averaged over Gauss-Hermite nodes (exact for the Gaussian
band up to quadrature error). An episode whose score cannot be computed (a component with no data in the
previous 24 months, no mediator) is forecast by the base rate alone and flagged, never filled with 0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from dualthreat.ingest.curated import DIRECTIONS, DOMAINS
from dualthreat.stats import one_blas_thread
from dualthreat.theater import Theater, load_theater

# ----------------------------------------------------------------------------------------------- the codebook

ALLIANCE_DIRECTIONS = ("toward_us", "toward_china", "hedge", "autonomy", "constrained")
JAPAN_ROK_DIRECTIONS = ("japan_rok_up", "japan_rok_down")
JAPAN_ROK_DOMAINS = ("japan_rok_cooperation", "identity_history")

#: Directions possible in each domain (``shared/data/episodes/CODEBOOK.md``): ``japan_rok_up``/``down`` record
#: what an outcome does to Japan-ROK relations, and joint rows are always one of them; the other five record
#: what it does to the actor's position between Washington and Beijing, so they are the choices of the seven
#: alliance and China domains. Japan-ROK domains have only the two Japan-ROK directions (a blocked Japan-ROK
#: step is coded ``japan_rok_down``, e.g. C023, not ``constrained``).
POSSIBLE: dict[str, tuple[str, ...]] = {
    d: (JAPAN_ROK_DIRECTIONS if d in JAPAN_ROK_DOMAINS else ALLIANCE_DIRECTIONS) for d in DOMAINS}

#: The side of each direction on its axis. Alliance axis: toward_us +1, toward_china -1; ``hedge`` (engaging
#: China while keeping the alliance: "not a question of choosing"), ``autonomy`` (neither tightens US
#: alignment nor moves toward China) and ``constrained`` (a forced outcome, decided by domestic politics or
#: coercion, not by the threat) are 0: the framework moves a decision between the two poles and says nothing
#: about these three against each other. Japan-ROK axis: up +1, down -1. The paper ties the two axes together:
#: Japan's China threat made Tokyo compromise with Seoul ("Japan-China issues for Japan (Abe compromised in
#: December with the ROK)") and Seoul's disillusion with Beijing moved it toward Washington and Tokyo ("North
#: Korea issues for the ROK (Park compromised with Abe through the second half of 2015)").
SIDE: dict[str, float] = {"toward_us": 1.0, "toward_china": -1.0, "hedge": 0.0, "autonomy": 0.0,
                          "constrained": 0.0, "japan_rok_up": 1.0, "japan_rok_down": -1.0}

# the two tables above as one row per domain over DIRECTIONS (1/0 possible, and the side where possible)
_POSSIBLE_ROW = {dom: np.array([d in POSSIBLE[dom] for d in DIRECTIONS], dtype=float) for dom in POSSIBLE}
_SIDE_ROW = {dom: np.array([SIDE[d] if d in POSSIBLE[dom] else 0.0 for d in DIRECTIONS]) for dom in POSSIBLE}


def side_row(domain: str) -> np.ndarray:
    """Each direction's side in ``domain`` (0 where the direction is not possible there)."""
    return _SIDE_ROW[domain]

# ---------------------------------------------------------------------------------------------------- priors

#: The score of the great-power ally (Japan in Northeast Asia, the theater's ``great_power_ally`` role): weights
#: of its local great-power (China) and local client (North Korea) threat, before and from January 2010 (H2:
#: "follows its local China threat more than its North Korean threat, increasingly so after 2010"; the paper:
#: "escalating sovereignty disputes with China since the 2010s have increasingly pushed Tokyo toward an open
#: embrace of the United States", while "in the past [it] framed its alliance in terms of ... North Korea").
#: Both push toward the patron; the great power weighs twice the client before 2010, four times from 2010.
#: Convex weights keep the score on the threat components' scale.
GREAT_POWER_ALLY_WEIGHTS = {"before_shift": {"great_power": 2 / 3, "client": 1 / 3},
                            "from_shift": {"great_power": 4 / 5, "client": 1 / 5}}
GREAT_POWER_ALLY_SHIFT = pd.Timestamp("2010-01-01")

#: The client ally's score (South Korea, the ``client_ally`` role) is the mediator M = T[ally, local, client] x
#: B (the great power's observed backing of the client, :mod:`dualthreat.model.mediator`), with sign +1: a
#: high North Korean threat while China backs the North (M > 0) moves Seoul toward Washington; the same threat
#: while China is seen as distant from Pyongyang, a possible restrainer (M < 0), moves it toward Beijing (H4).
#: The great power's direct threat to the client ally: weight 0 (H3).
CLIENT_ALLY_SCORE = "mediator"

#: Scale of the half-normal prior on each lambda. With scores of about unit scale, lambda = 0.5 multiplies
#: the odds of toward_us against hedge by 1.65 per unit of score; the prior keeps 95% of its mass below 1.
PRIOR_SD = 0.5
SMOOTHING = 2.0  # pseudo-episodes each level of the base rate borrows from the level above
TOP_SMOOTHING = 1.0  # pseudo-episodes per direction at the top (all episodes) level
NODES = 20  # Gauss-Hermite nodes for the integral over the score's band

SCORES = ("dual_threat", "single_great_power")


def actor_weights(actor: str) -> dict[str, float]:
    """Which allies' scores drive a decision: the actor itself, or both equally for a joint act ("A-B")."""
    allies = actor.split("-")
    return {a: 1.0 / len(allies) for a in allies}


def framework_score(X: pd.DataFrame, ally: str, score: str = "dual_threat",
                    theater: Theater | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The score z_ally of each row of ``X`` as a mean and an sd (NaN where it cannot be computed).

    ``X`` holds, per ally, ``{ally}_{feature}`` and ``{ally}_{feature}_sd`` columns (features ``{level}_{source}``
    and ``mediator``, :func:`dualthreat.evaluate.episodes.feature_names`) and a ``date`` column. ``score`` is
    ``dual_threat`` (the framework) or ``single_great_power`` (the baseline: one great-power threat, the mean of
    the local and systemic components, for every ally). Which ally is which comes from the ``theater``'s
    roles (default: the packaged theater): the ``great_power_ally`` follows its local great-power threat over
    the client's, the ``client_ally`` follows the mediator, and an ally with neither role has no
    framework score (its decisions are forecast by the base rate).
    """
    theater = theater or load_theater()
    gp, client = theater.great_power, theater.client

    def col(name: str) -> np.ndarray:
        c = f"{ally}_{name}"
        return X[c].to_numpy(dtype=float) if c in X else np.full(len(X), np.nan)

    if score == "single_great_power":
        mean = (col(f"local_{gp}") + col(f"systemic_{gp}")) / 2
        sd = np.sqrt(col(f"local_{gp}_sd") ** 2 + col(f"systemic_{gp}_sd") ** 2) / 2
    elif score != "dual_threat":
        raise ValueError(f"unknown score {score!r}; expected one of {SCORES}")
    elif ally == theater.role("great_power_ally") and gp and client:
        late = pd.to_datetime(X["date"]).to_numpy() >= GREAT_POWER_ALLY_SHIFT.to_datetime64()
        w = GREAT_POWER_ALLY_WEIGHTS
        w_g = np.where(late, w["from_shift"]["great_power"], w["before_shift"]["great_power"])
        w_c = np.where(late, w["from_shift"]["client"], w["before_shift"]["client"])
        mean = w_g * col(f"local_{gp}") + w_c * col(f"local_{client}")
        sd = np.sqrt((w_g * col(f"local_{gp}_sd")) ** 2 + (w_c * col(f"local_{client}_sd")) ** 2)
    elif ally == theater.role("client_ally"):
        mean, sd = col(CLIENT_ALLY_SCORE), col(f"{CLIENT_ALLY_SCORE}_sd")
    else:  # the framework states no score for this ally
        mean = sd = np.full(len(X), np.nan)
    bad = ~(np.isfinite(mean) & np.isfinite(sd))
    return np.where(bad, np.nan, mean), np.where(bad, np.nan, sd)


# ------------------------------------------------------------------------------------------------- base rate

def possible_mask(domains: pd.Series | list[str]) -> np.ndarray:
    """Rows x directions, True where the direction is possible in the row's domain."""
    return np.array([_POSSIBLE_ROW[dom] for dom in domains], dtype=bool).reshape(len(domains), len(DIRECTIONS))


def check_possible(domains: pd.Series, directions: pd.Series) -> None:
    bad = [(i, dom, d) for i, (dom, d) in enumerate(zip(domains, directions)) if d not in POSSIBLE[dom]]
    if bad:
        i, dom, d = bad[0]
        raise ValueError(f"row {i}: direction {d!r} is not possible in domain {dom!r} (codebook: {POSSIBLE[dom]})"
                         + (f"; and {len(bad) - 1} more rows" if len(bad) > 1 else ""))


@dataclass
class _Counts:
    all: np.ndarray
    actor: dict[str, np.ndarray]
    cell: dict[tuple[str, str], np.ndarray]


class BaseRate:
    """Hierarchically pooled base rate of directions: actor x domain, then actor, then all episodes.

    Each level adds ``smoothing`` pseudo-episodes distributed as the level above, restricted to the
    directions possible in the domain; the top level adds ``top_smoothing`` per direction.
    """

    def __init__(self, smoothing: float = SMOOTHING, top_smoothing: float = TOP_SMOOTHING) -> None:
        self.smoothing = smoothing
        self.top_smoothing = top_smoothing

    def fit(self, X: pd.DataFrame, y: pd.Series | list[str]) -> BaseRate:
        y = pd.Series(list(y), index=X.index)
        check_possible(X["domain"].tolist(), y.tolist())
        k = len(DIRECTIONS)
        idx = np.array([DIRECTIONS.index(d) for d in y])
        onehot = np.zeros((len(y), k))
        onehot[np.arange(len(y)), idx] = 1.0
        actors, domains = X["actor"].to_numpy(), X["domain"].to_numpy()
        self.counts_ = _Counts(onehot.sum(axis=0),
                               {a: onehot[actors == a].sum(axis=0) for a in set(actors)},
                               {(a, d): onehot[(actors == a) & (domains == d)].sum(axis=0)
                                for a, d in set(zip(actors, domains))})
        self.n_ = len(y)
        self._onehot, self._actors, self._domains = onehot, actors, domains
        return self

    def _rates(self, actors: list[str], domains: list[str], minus: np.ndarray | None = None) -> np.ndarray:
        """The pooled rate of each row (rows x directions), each level's counts less ``minus`` (rows x
        directions: an episode's own count, for its leave-one-out rate)."""
        k = len(DIRECTIONS)
        zero = np.zeros(k)
        minus = np.zeros((len(actors), k)) if minus is None else minus
        c_all = self.counts_.all[None, :] - minus
        c_actor = np.array([self.counts_.actor.get(a, zero) for a in actors]).reshape(minus.shape) - minus
        c_cell = np.array([self.counts_.cell.get((a, d), zero) for a, d in zip(actors, domains)]
                          ).reshape(minus.shape) - minus
        mask = np.array([_POSSIBLE_ROW[d] for d in domains]).reshape(minus.shape)
        p_all = (c_all + self.top_smoothing) / (c_all.sum(axis=1) + k * self.top_smoothing)[:, None]
        p_actor = (c_actor + self.smoothing * p_all) / (c_actor.sum(axis=1) + self.smoothing)[:, None]
        prior = p_actor * mask
        prior /= prior.sum(axis=1)[:, None]
        return (c_cell * mask + self.smoothing * prior) / ((c_cell * mask).sum(axis=1) + self.smoothing)[:, None]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._rates(X["actor"].tolist(), X["domain"].tolist())

    def leave_one_out(self) -> np.ndarray:
        """The base rate of each training episode from all the other training episodes."""
        return self._rates(list(self._actors), list(self._domains), self._onehot)


# ------------------------------------------------------------------------------------------- decision model

@functools.cache
def _gauss_hermite(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite.hermgauss(nodes)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)  # E f(Z), Z ~ N(0, 1), = sum w f(x)


def tilted_proba(pi: np.ndarray, side: np.ndarray, eta_mean: np.ndarray, eta_sd: np.ndarray,
                 nodes: int = NODES) -> np.ndarray:
    """E over eta ~ N(mean, sd^2) of pi * exp(side * eta), normalised per row (rows x directions)."""
    x, w = _gauss_hermite(nodes) if np.any(eta_sd > 0) else (np.zeros(1), np.ones(1))
    eta = eta_mean[:, None] + eta_sd[:, None] * x[None, :]  # rows x nodes
    with np.errstate(divide="ignore"):
        logits = np.log(pi)[:, None, :] + side[:, None, :] * eta[:, :, None]
    logits -= logits.max(axis=2, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=2, keepdims=True)
    return (p * w[None, :, None]).sum(axis=1)


class DecisionModel:
    """P(direction | ally, domain, threats) = base rate tilted by the framework's score (module docstring).

    Parameters
    ----------
    score : ``dual_threat`` (the framework) or ``single_great_power`` (baseline: one great-power threat per ally).
    theater : whose roles say which ally follows which score (:func:`framework_score`); default the packaged one.
    prior_sd : scale of the half-normal prior on each ally's lambda (MAP estimate, lambda >= 0).
    smoothing, top_smoothing : the base rate's pooling (:class:`BaseRate`).
    uncertainty : integrate over the score's band (True) or use its mean only.
    nodes : Gauss-Hermite nodes of that integral.

    Attributes after ``fit``: ``classes_``, ``base_rate_``, ``lambda_`` (ally -> MAP), ``at_zero_`` (ally ->
    True when the MAP sits on the paper's bound, i.e. the earlier episodes do not support the paper's sign
    or are too few), ``n_fit_`` (training episodes with a score), ``n_without_score_``.
    """

    def __init__(self, score: str = "dual_threat", theater: Theater | None = None, prior_sd: float = PRIOR_SD,
                 smoothing: float = SMOOTHING, top_smoothing: float = TOP_SMOOTHING, uncertainty: bool = True,
                 nodes: int = NODES) -> None:
        self.score = score
        self.theater = theater
        self.prior_sd = prior_sd
        self.smoothing = smoothing
        self.top_smoothing = top_smoothing
        self.uncertainty = uncertainty
        self.nodes = nodes

    # -------------------------------------------------------------------------------------------------
    def _terms(self, X: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Allies, the actor weights (rows x allies), score means and sds (rows x allies), and availability."""
        actors = X["actor"].tolist()
        allies = sorted({a for actor in set(actors) for a in actor_weights(actor)})
        c = np.array([[actor_weights(actor).get(a, 0.0) for a in allies] for actor in actors]
                     ).reshape(len(X), len(allies))
        mean = np.zeros((len(X), len(allies)))
        sd = np.zeros((len(X), len(allies)))
        for j, a in enumerate(allies):
            m, s = framework_score(X, a, self.score, self.theater_)
            mean[:, j], sd[:, j] = m, s
        needed = c > 0
        ok = ~np.any(needed & ~np.isfinite(mean), axis=1)
        mean, sd = np.where(needed, mean, 0.0), np.where(needed, sd, 0.0)
        if not self.uncertainty:
            sd = np.zeros_like(sd)
        return allies, c, np.nan_to_num(mean), np.nan_to_num(sd), ok

    @staticmethod
    def _side(domains: pd.Series) -> np.ndarray:
        return np.array([_SIDE_ROW[dom] for dom in list(domains)]).reshape(len(domains), len(DIRECTIONS))

    def _proba(self, pi: np.ndarray, side: np.ndarray, c: np.ndarray, mean: np.ndarray, sd: np.ndarray,
               lam: np.ndarray) -> np.ndarray:
        eta_mean = (c * mean * lam[None, :]).sum(axis=1)
        eta_sd = np.sqrt(((c * sd * lam[None, :]) ** 2).sum(axis=1))
        return tilted_proba(pi, side, eta_mean, eta_sd, self.nodes)

    def available(self, X: pd.DataFrame) -> np.ndarray:
        """True for rows whose score can be computed (the others are forecast by the base rate alone)."""
        return self._terms(X)[4]

    # -------------------------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: pd.Series | list[str]) -> DecisionModel:
        with one_blas_thread():  # the search's small vectors: one BLAS thread (dualthreat.stats.one_blas_thread)
            return self._fit(X, y)

    def _fit(self, X: pd.DataFrame, y: pd.Series | list[str]) -> DecisionModel:
        y = pd.Series(list(y), index=X.index)
        self.theater_ = self.theater or load_theater()
        self.classes_ = list(DIRECTIONS)
        self.base_rate_ = BaseRate(self.smoothing, self.top_smoothing).fit(X, y)
        allies, c, mean, sd, ok = self._terms(X)
        self.allies_ = allies
        self.n_fit_, self.n_without_score_ = int(ok.sum()), int((~ok).sum())
        pi = self.base_rate_.leave_one_out()[ok]
        side = self._side(X["domain"])[ok]
        obs = np.array([DIRECTIONS.index(d) for d in y])[ok]
        c, mean, sd = c[ok], mean[ok], sd[ok]
        # an ally whose score never varies among the usable episodes carries no information: lambda 0
        informative = np.array([bool(np.any((c[:, j] > 0) & (mean[:, j] != 0))) for j in range(len(allies))])

        x_nodes, w_nodes = _gauss_hermite(self.nodes) if np.any(sd > 0) else (np.zeros(1), np.ones(1))
        rows = np.arange(len(obs))
        side_obs = side[rows, obs]
        v = c * sd  # the score's sd per ally, before lambda

        def objective(free: np.ndarray) -> tuple[float, np.ndarray]:
            """Minus the log posterior and its gradient (exact: the derivative of the Gauss-Hermite sum)."""
            lam = np.zeros(len(allies))
            lam[informative] = free
            eta_mean = (c * mean * lam[None, :]).sum(axis=1)
            eta_sd = np.sqrt(((v * lam[None, :]) ** 2).sum(axis=1))
            eta = eta_mean[:, None] + eta_sd[:, None] * x_nodes[None, :]  # rows x nodes
            with np.errstate(divide="ignore"):
                logits = np.log(pi)[:, None, :] + side[:, None, :] * eta[:, :, None]
            logits -= logits.max(axis=2, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=2, keepdims=True)  # rows x nodes x directions
            p_obs = p[rows, :, obs]  # rows x nodes
            prob = np.clip((p_obs * w_nodes[None, :]).sum(axis=1), 1e-300, None)
            # d p_obs / d eta = p_obs (side_obs - E_p side); d eta / d lam_j = c m_j + x (v_j^2 lam_j / sd)
            slope = p_obs * (side_obs[:, None] - (p * side[:, None, :]).sum(axis=2)) * w_nodes[None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                dsd = np.where(eta_sd[:, None] > 0, v ** 2 * lam[None, :] / eta_sd[:, None], 0.0)  # rows x allies
            dprob = slope.sum(axis=1)[:, None] * (c * mean) + (slope * x_nodes[None, :]).sum(axis=1)[:, None] * dsd
            grad = -(dprob / prob[:, None]).sum(axis=0) + lam / self.prior_sd ** 2
            return float(-np.log(prob).sum() + (free ** 2).sum() / (2 * self.prior_sd ** 2)), grad[informative]

        lam = np.zeros(len(allies))
        if len(obs) and informative.any():
            res = minimize(objective, np.full(int(informative.sum()), 0.1), jac=True, method="L-BFGS-B",
                           bounds=[(0.0, None)] * int(informative.sum()))
            lam[informative] = res.x
        self.lambda_ = {a: float(v) for a, v in zip(allies, lam)}
        self.at_zero_ = {a: bool(v < 1e-6) for a, v in zip(allies, lam)}
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Rows x directions (in :data:`~dualthreat.ingest.curated.DIRECTIONS` order); rows without a score
        get the base rate."""
        pi = self.base_rate_.predict_proba(X)
        allies, c, mean, sd, ok = self._terms(X)
        lam = np.array([self.lambda_.get(a, 0.0) for a in allies])
        out = pi.copy()
        if ok.any():
            out[ok] = self._proba(pi[ok], self._side(X["domain"])[ok], c[ok], mean[ok], sd[ok], lam)
        return out
