"""The threat model: known answers of the smoother, no look-ahead, and what the real data show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualthreat.model.threat import PRIOR_VAR, AggregatedLocalLevel, Column, fit_component, standardise

MONTHS = pd.period_range("2000-01", "2009-12", freq="M")
REF = (pd.Period("2000-01", freq="M"), pd.Period("2004-12", freq="M"))


def column(values: pd.Series, months: int = 1, name: str = "x", sign: float = 1.0) -> Column:
    return Column(name, months, sign, values, values, 0.0, 1.0, "test")


def test_single_observation_matches_the_closed_form_update():
    # One monthly observation y with prior variance P0 and observation variance r: x_1|1 = P0 y / (P0 + r).
    endog = np.full((3, 1), np.nan)
    endog[0, 0] = 1.0
    model = AggregatedLocalLevel(endog, [1], [1.0], [True])
    q, r = 0.01, 0.5
    res = model.smooth(np.array([q, r]), transformed=True)
    assert res.filtered_state[0, 0] == pytest.approx(PRIOR_VAR / (PRIOR_VAR + r), rel=1e-6)
    # with no further data the filtered mean stays and the variance grows by q per month
    assert res.filtered_state[0, 2] == pytest.approx(res.filtered_state[0, 0])
    v0 = res.filtered_state_cov[0, 0, 0]
    assert res.filtered_state_cov[0, 0, 2] == pytest.approx(v0 + 2 * q, rel=1e-6)


def test_annual_figures_constrain_their_year_without_inventing_monthly_variation():
    # A constant threat of 2.0 reported only as precise fiscal-year (April-March) averages.
    fy_ends = [pd.Period(f"{y}-03", freq="M") for y in range(2001, 2010)]
    endog = pd.Series(2.0, index=pd.PeriodIndex(fy_ends)).reindex(MONTHS).to_numpy()[:, None]
    model = AggregatedLocalLevel(endog, [12], [1.0], [True])
    res = model.smooth(np.array([0.01, 1e-4]), transformed=True)
    sm = pd.Series(res.smoothed_state[0], index=MONTHS)
    inside = sm["2000-04":"2009-03"]
    assert inside.to_numpy() == pytest.approx(2.0, abs=0.07)  # the first year still feels the zero prior
    assert sm["2002-04":"2009-03"].to_numpy() == pytest.approx(2.0, abs=0.01)  # it fades in a year
    # no spurious within-year movement where only annual data exist
    assert sm["2002-04":"2009-03"].std() < 0.005
    # each fiscal year's months average to the reported figure
    for end in fy_ends:
        assert sm[end - 11:end].mean() == pytest.approx(2.0, abs=1e-3)
    # before April 2000 nothing is known but what the first year says, and the band shows it
    sd = pd.Series(np.sqrt(res.smoothed_state_cov[0, 0]), index=MONTHS)
    assert sd["2000-01"] > sd["2005-06"]


def test_mixed_frequencies_and_gaps_are_handled_honestly():
    rng = np.random.default_rng(7)
    truth = pd.Series(np.r_[np.zeros(60), np.ones(60)], index=MONTHS)
    monthly = (truth + rng.normal(0, 0.3, len(MONTHS)))["2000-01":"2006-12"]  # monthly data stop in 2006
    monthly = monthly.drop(monthly["2003-01":"2003-12"].index)  # and have a one-year gap in 2003
    annual_idx = pd.PeriodIndex([pd.Period(f"{y}-12", freq="M") for y in range(2000, 2010)])
    annual = pd.Series([truth[str(y)].mean() for y in range(2000, 2010)], index=annual_idx)
    fit = fit_component([column(monthly, 1, "monthly"), column(annual, 12, "annual")], MONTHS, REF)
    sm = fit.smoothed.set_index("month")
    f = fit.filtered.set_index("month")
    # the level shift of 2005 is recovered by both estimates
    assert sm.loc["2001-01":"2004-06", "mean"].mean() == pytest.approx(0.0, abs=0.2)
    assert sm.loc["2007-01":"2009-12", "mean"].mean() == pytest.approx(1.0, abs=0.2)
    # the band is wider inside the 2003 monthly gap than in the observed year before it
    assert f.loc["2003-11", "sd"] > f.loc["2002-11", "sd"]
    # and wider once only annual data remain (2007-2009) than while monthly data come in
    assert f.loc["2008-06", "sd"] > f.loc["2006-06", "sd"]
    # the smoothed estimate is never less certain than the filtered one
    assert (sm["sd"] <= f["sd"] + 1e-9).all()


def test_parameters_come_from_the_reference_window_only():
    rng = np.random.default_rng(1)
    base = pd.Series(rng.normal(0, 1, len(MONTHS)), index=MONTHS)
    wild = base.copy()
    wild["2006-01":] = wild["2006-01":] * 10  # very different data after the reference window
    a = fit_component([column(base)], MONTHS, REF)
    b = fit_component([column(wild)], MONTHS, REF)
    assert a.params == pytest.approx(b.params)


@settings(max_examples=15, deadline=None)
@given(cut=st.integers(min_value=70, max_value=110), seed=st.integers(0, 10_000))
def test_adding_later_data_never_changes_earlier_filtered_estimates(cut, seed):
    rng = np.random.default_rng(seed)
    full = pd.Series(rng.normal(0, 1, len(MONTHS)).cumsum() / 5, index=MONTHS)
    annual = full.groupby(full.index.year).mean()
    annual.index = pd.PeriodIndex([pd.Period(f"{y}-12", freq="M") for y in annual.index])
    early = [column(full.iloc[:cut], 1, "m"), column(annual[annual.index <= MONTHS[cut - 1]], 12, "a")]
    later = [column(full, 1, "m"), column(annual, 12, "a")]
    a = fit_component(early, MONTHS, REF).filtered.set_index("month")
    b = fit_component(later, MONTHS, REF).filtered.set_index("month")
    upto = MONTHS[cut - 1]
    assert np.allclose(a.loc[:upto, "mean"], b.loc[:upto, "mean"], atol=1e-10)
    assert np.allclose(a.loc[:upto, "sd"], b.loc[:upto, "sd"], atol=1e-10)


def test_an_indicator_outside_the_reference_window_enters_only_once_its_basis_is_published():
    idx = pd.PeriodIndex([pd.Period(m, freq="M") for m in ["2016-12", "2017-12", "2018-12", "2019-12"]])
    z, mean, sd, label = standardise(pd.Series([10.0, 20.0, 30.0, 40.0], index=idx),
                                     (pd.Period("1996-01", freq="M"), pd.Period("2015-12", freq="M")))
    assert label == "first observations"
    assert (mean, sd) == (20.0, 10.0)
    assert list(z.index.astype(str)) == ["2018-12", "2019-12"]
    assert z.tolist() == [1.0, 2.0]


def test_contributions_add_up_to_the_estimate():
    rng = np.random.default_rng(3)
    a = pd.Series(rng.normal(0.5, 0.5, 60), index=MONTHS[:60])
    b = pd.Series(rng.normal(0.5, 0.5, 5), index=pd.PeriodIndex([pd.Period(f"{y}-12", freq="M") for y in range(2000, 2005)]))
    fit = fit_component([column(a, 1, "monthly"), column(b, 12, "annual")], MONTHS, REF)
    for when, smoothed in (("2003-06", False), ("2003-06", True), ("2008-01", False)):
        contrib = fit.contributions(pd.Period(when, freq="M"), smoothed=smoothed)
        frame = fit.smoothed if smoothed else fit.filtered
        estimate = frame.set_index("month").loc[pd.Period(when, freq="M"), "mean"]
        assert contrib["contribution"].sum() == pytest.approx(estimate, abs=1e-8)
        assert set(contrib["indicator"]) == {"monthly", "annual"}
