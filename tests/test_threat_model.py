"""The threat model: known answers of the filter, memory of rare events, no look-ahead, one scale per indicator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualthreat.model import threat
from dualthreat.model.threat import PRIOR_VAR, Bounds, Column, LevelTransient, fit_component, standardise

MONTHS = pd.period_range("2000-01", "2009-12", freq="M")
REF = (pd.Period("2000-01", freq="M"), pd.Period("2004-12", freq="M"))


def column(values: pd.Series, months: int = 1, name: str = "x", sign: float = 1.0, count: bool = False) -> Column:
    return Column(name, months, sign, values, values, 0.0, 1.0, "test", count)


def test_single_observation_matches_the_closed_form_update():
    # x = mu + c, both N(0, PRIOR_VAR): one monthly observation y with noise r gives x_1|1 = 2 P0 y / (2 P0 + r)
    endog = np.full((3, 1), np.nan)
    endog[0, 0] = 1.0
    model = LevelTransient(endog, [1], [1.0])
    q, phi, k, r = 0.01, 0.5, 0.2, 0.5
    res = model.smooth(np.array([q, phi, k, r]))
    x = res["a_f"][:, 0] + res["a_f"][:, 1]
    assert x[0] == pytest.approx(2 * PRIOR_VAR / (2 * PRIOR_VAR + r), rel=1e-6)
    # with no further data the level stays and the transient decays by phi a month
    assert res["a_f"][2, 0] == pytest.approx(res["a_f"][0, 0])
    assert res["a_f"][2, 1] == pytest.approx(phi ** 2 * res["a_f"][0, 1])
    # and the level's variance grows by q a month
    assert res["P_f"][2, 0, 0] == pytest.approx(res["P_f"][0, 0, 0] + 2 * q, rel=1e-6)


def test_the_fast_likelihood_equals_the_filter():
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.3, 120).astype(float)
    gauss = rng.normal(0, 1, 120)
    gauss[::7] = np.nan
    model = LevelTransient(np.column_stack([counts, gauss]), [1, 1], [1.0, -1.0], [True, False])
    params = np.array([0.02, 0.6, 0.3, 0.7, np.log(0.3)])
    assert model.loglike(params) == pytest.approx(model.filter(params, track=True)["loglike"], rel=1e-12)


@pytest.mark.skipif(threat._kalman is None, reason="the optional C extension is not built (no C compiler)")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_compiled_likelihood_is_the_python_loop(seed):
    """The C extension computes the same log-likelihood as the Python loops, with monthly columns only (two
    states) and with a yearly column (lagged states), on counts (rare and frequent, with spikes the Newton
    search must climb to), Gaussian columns of both signs, gaps, and parameters at the bounds; so the fits, and
    every number downstream, do not depend on whether it was built."""
    rng = np.random.default_rng(seed)
    T = 240
    rare, frequent = rng.poisson(0.2, T).astype(float), rng.poisson(40.0, T).astype(float)
    frequent[rng.integers(0, T, 5)] = 400.0  # a spike the Newton search must climb to
    g1, g2 = rng.normal(0, 1, T), rng.normal(0.5, 2, T)
    for col in (rare, g1, g2):
        col[rng.random(T) < 0.3] = np.nan
    annual = np.full(T, np.nan)
    annual[11::12] = rng.normal(0, 1, T // 12)  # a yearly figure, dated at its last month
    endog = np.column_stack([rare, g1, frequent, g2, annual])
    monthly = LevelTransient(endog[:, :4], [1] * 4, [1.0, -1.0, 1.0, 1.0], [True, False, True, False])
    lagged = LevelTransient(endog, [1, 1, 1, 1, 12], [1.0, -1.0, 1.0, 1.0, -1.0], [True, False, True, False, False])
    assert monthly.k_states == 2 and lagged.k_states == 13
    for model in (monthly, lagged):
        lo, hi = np.array(model.param_bounds()).T
        for params in (model.start_params(), lo, hi, lo + rng.random(len(lo)) * (hi - lo)):
            fast = model.filter(params, compiled=True)["loglike"]
            slow = model.filter(params, compiled=False)["loglike"]
            assert np.isfinite(slow) and fast == pytest.approx(slow, rel=1e-12, abs=1e-9)
            assert slow == pytest.approx(model.filter(params, track=True)["loglike"], rel=1e-12)


def test_annual_figures_constrain_their_year_without_inventing_monthly_variation():
    # A constant threat of 2.0 reported only as precise fiscal-year (April-March) averages.
    fy_ends = [pd.Period(f"{y}-03", freq="M") for y in range(2001, 2010)]
    endog = pd.Series(2.0, index=pd.PeriodIndex(fy_ends)).reindex(MONTHS).to_numpy()[:, None]
    model = LevelTransient(endog, [12], [1.0])
    res = model.smooth(np.array([0.01, 0.5, 1e-3, 1e-4]))
    sm = pd.Series(res["a_s"][:, 0] + res["a_s"][:, 1], index=MONTHS)
    assert sm["2002-04":"2009-03"].to_numpy() == pytest.approx(2.0, abs=0.02)
    assert sm["2002-04":"2009-03"].std() < 0.01  # no spurious within-year movement
    for end in fy_ends:  # each fiscal year's months average to the reported figure
        assert sm[end - 11:end].mean() == pytest.approx(2.0, abs=2e-3)
    sd = pd.Series(np.sqrt(res["P_s"][:, 0, 0] + res["P_s"][:, 1, 1] + 2 * res["P_s"][:, 0, 1]), index=MONTHS)
    assert sd["2000-01"] > sd["2005-06"]  # before the first year ends, only its average is known


def test_mixed_frequencies_and_gaps_are_handled_honestly():
    rng = np.random.default_rng(7)
    truth = pd.Series(np.r_[np.zeros(60), np.ones(60)], index=MONTHS)
    monthly = (truth + rng.normal(0, 0.3, len(MONTHS)))["2000-01":"2006-12"]  # monthly data stop in 2006
    monthly = monthly.drop(monthly["2003-01":"2003-12"].index)  # and have a one-year gap in 2003
    annual_idx = pd.PeriodIndex([pd.Period(f"{y}-12", freq="M") for y in range(2000, 2010)])
    annual = pd.Series([truth[str(y)].mean() for y in range(2000, 2010)], index=annual_idx)
    fit = fit_component([column(monthly, 1, "monthly"), column(annual, 12, "annual")], MONTHS, REF)
    sm, f = fit.smoothed.set_index("month"), fit.filtered.set_index("month")
    assert sm.loc["2001-01":"2004-06", "mean"].mean() == pytest.approx(0.0, abs=0.2)
    assert sm.loc["2007-01":"2009-12", "mean"].mean() == pytest.approx(1.0, abs=0.25)
    # a band that widens with no data stays wide: inside the 2003 gap, and once only annual data remain
    assert f.loc["2003-11", "sd"] > f.loc["2002-11", "sd"]
    assert f.loc["2008-06", "sd"] > f.loc["2006-06", "sd"]
    assert (sm["sd"] <= f["sd"] + 1e-9).all()  # the smoothed estimate is never less certain


def test_a_rare_event_moves_its_month_and_then_fades():
    # a count series of a rare event (about one a year) with a single burst; counts get a count likelihood
    rng = np.random.default_rng(11)
    counts = pd.Series(rng.poisson(0.08, len(MONTHS)).astype(float), index=MONTHS)
    counts["2007-05"] = 4.0
    col = column(counts, count=True)
    col = Column("events", 1, 1.0, counts, counts, float(np.log(0.08)), 1.0, "test", True)
    fit = fit_component([col], MONTHS, (MONTHS[0], MONTHS[-1]))
    x = fit.filtered.set_index("month")["mean"]
    assert fit.k > 1e-2  # the transient is used: the burst is not read as noise
    before = x["2007-01":"2007-04"].mean()
    assert x["2007-05"] > before + 0.5  # the month of the burst moves
    assert x["2007-05"] > x["2007-08"] > before  # and the effect fades
    level = fit.filtered.set_index("month")["level"]
    assert x["2007-05"] - x["2007-08"] > level["2007-05"] - level["2007-08"]  # through the transient


def test_parameters_come_from_the_reference_window_only():
    rng = np.random.default_rng(1)
    base = pd.Series(rng.normal(0, 1, len(MONTHS)), index=MONTHS)
    wild = base.copy()
    wild["2006-01":] = wild["2006-01":] * 10  # very different data after the reference window
    a = fit_component([column(base)], MONTHS, REF)
    b = fit_component([column(wild)], MONTHS, REF)
    assert a.params == pytest.approx(b.params)


def test_bounds_are_kept():
    rng = np.random.default_rng(2)
    y = pd.Series(rng.normal(0, 3, len(MONTHS)).cumsum(), index=MONTHS)
    bounds = Bounds(q=(0.001, 0.01), r=(0.5, 1.0), phi=(0.1, 0.2), k=(0.01, 0.05))
    p = fit_component([column(y)], MONTHS, REF, bounds).parameters()
    assert 0.001 <= p["q"] <= 0.01 and 0.1 <= p["phi"] <= 0.2 and 0.01 <= p["k"] <= 0.05
    assert 0.5 <= p["r x[1]"] <= 1.0
    with pytest.raises(ValueError, match="phi"):
        Bounds(phi=(0.0, 1.0))


@settings(max_examples=12, deadline=None)
@given(cut=st.integers(min_value=70, max_value=110), seed=st.integers(0, 10_000))
def test_adding_later_data_never_changes_earlier_filtered_estimates(cut, seed):
    rng = np.random.default_rng(seed)
    full = pd.Series(rng.normal(0, 1, len(MONTHS)).cumsum() / 5, index=MONTHS)
    counts = pd.Series(rng.poisson(0.2, len(MONTHS)).astype(float), index=MONTHS)
    annual = full.groupby(full.index.year).mean()
    annual.index = pd.PeriodIndex([pd.Period(f"{y}-12", freq="M") for y in annual.index])
    upto = MONTHS[cut - 1]

    def cols(n_months: int) -> list[Column]:
        return [column(full.iloc[:n_months], 1, "m"), column(annual[annual.index <= MONTHS[n_months - 1]], 12, "a"),
                Column("c", 1, 1.0, counts.iloc[:n_months], counts.iloc[:n_months], np.log(0.2), 1.0, "t", True)]

    a = fit_component(cols(cut), MONTHS, REF).filtered.set_index("month")
    b = fit_component(cols(len(MONTHS)), MONTHS, REF).filtered.set_index("month")
    assert np.allclose(a.loc[:upto, "mean"], b.loc[:upto, "mean"], atol=1e-10)
    assert np.allclose(a.loc[:upto, "sd"], b.loc[:upto, "sd"], atol=1e-10)


def test_the_scale_rests_on_the_first_published_basis_and_never_moves():
    ends = pd.PeriodIndex([pd.Period(f"{y}-12", freq="M") for y in range(2000, 2012)])
    values = pd.Series(np.arange(12, dtype=float) * 10, index=ends)
    # two rows were published late (backfilled in 2011); the rest at the end of their year
    published = pd.Series([e.to_timestamp(how="end") for e in ends], index=ends)
    published.iloc[1] = published.iloc[3] = pd.Timestamp("2011-06-30")
    obs = pd.DataFrame({"end": ends, "months": 12, "value": values.values, "first_value": values.values,
                        "first_published": published.values})
    scale = standardise(obs, pd.Period("2000-01", freq="M"), min_obs=5, basis_months=60)
    # the first five published by the end of 2006 are 2000, 2002, 2004, 2005, 2006 (2001 and 2003 came later)
    assert scale.basis_obs == 5 and scale.basis_published == published.iloc[6]
    assert scale.mean == pytest.approx(np.mean([0, 20, 40, 50, 60]))
    # any later data (and any later revision of the first releases) leave the scale as it is
    later = obs.assign(value=obs["value"] * 3 + 7)
    assert standardise(later, pd.Period("2000-01", freq="M"), min_obs=5, basis_months=60) == scale
    # a fit made before the basis was public finds no scale: the indicator does not enter
    early = obs[obs["first_published"] < published.iloc[6]]
    assert standardise(early, pd.Period("2000-01", freq="M"), min_obs=5, basis_months=60) is None


def test_contributions_add_up_to_the_estimate():
    rng = np.random.default_rng(3)
    a = pd.Series(rng.normal(0.5, 0.5, 60), index=MONTHS[:60])
    b = pd.Series(rng.normal(0.5, 0.5, 5),
                  index=pd.PeriodIndex([pd.Period(f"{y}-12", freq="M") for y in range(2000, 2005)]))
    c = pd.Series(rng.poisson(0.3, 100).astype(float), index=MONTHS[:100])
    cols = [column(a, 1, "monthly"), column(b, 12, "annual"),
            Column("events", 1, 1.0, c, c, np.log(0.3), 1.0, "t", True)]
    fit = fit_component(cols, MONTHS, REF)
    for when, smoothed in (("2003-06", False), ("2003-06", True), ("2008-01", False), ("2008-01", True)):
        contrib = fit.contributions(pd.Period(when, freq="M"), smoothed=smoothed)
        frame = fit.smoothed if smoothed else fit.filtered
        estimate = frame.set_index("month").loc[pd.Period(when, freq="M"), "mean"]
        assert contrib["contribution"].sum() == pytest.approx(estimate, abs=1e-8)
        assert set(contrib["indicator"]) == {"monthly", "annual", "events"}


def test_refilter_reproduces_the_fit_and_answers_a_shock():
    rng = np.random.default_rng(4)
    y = pd.Series(rng.normal(0, 1, len(MONTHS)), index=MONTHS)
    fit = fit_component([column(y)], MONTHS, REF)
    filtered, smoothed = fit.refilter()
    assert np.allclose(filtered["mean"], fit.filtered["mean"]) and np.allclose(smoothed["sd"], fit.smoothed["sd"])
    shocked = y.copy()
    shocked["2009-06"] += 3.0
    after, _ = fit.refilter([fit.columns[0].with_values(shocked)])
    diff = (after["mean"] - fit.filtered["mean"]).to_numpy()
    t = MONTHS.get_loc(pd.Period("2009-06", freq="M"))
    assert np.allclose(diff[:t], 0) and diff[t] > 0  # only from the shocked month on
    with pytest.raises(ValueError, match="fitted columns"):
        fit.refilter([column(y, 12)])


def test_project_keeps_the_level_lets_the_transient_fade_and_widens_the_band():
    rng = np.random.default_rng(5)
    y = pd.Series(rng.normal(0, 1, len(MONTHS)), index=MONTHS)
    y.iloc[-1] = 4.0  # a last-month spike
    fit = fit_component([column(y)], MONTHS, REF)
    proj = fit.project(12)
    last = fit.filtered.iloc[-1]
    assert list(proj["horizon"]) == list(range(1, 13))
    assert proj["month"].iloc[0] == MONTHS[-1] + 1
    assert np.allclose(proj["level"], last["level"])
    assert np.allclose(proj["transient"], last["transient"] * fit.phi ** np.arange(1, 13))
    assert (np.diff(proj["sd"]) > 0).all() and proj["sd"].iloc[0] > last["sd"]
