"""The profile log-likelihood of a severity loading on the nuclear-test counts (docs/threat-model.md, section 4).

    .venv/bin/python bench/severity_loading.py [--store dualthreat.duckdb] [--loadings 0.5,1,2,3,5]

A count column's log-rate is ``alpha + b * x_t``; the model fixes ``b = 1`` for every list of dated events.
A severity loading would let a class of rarer, graver events (the nuclear tests) say more about the threat
(``b > 1``). For each ``b`` this script refits the component's parameters (q, phi, k, r, alpha) on the
reference window, as :func:`dualthreat.model.threat.fit_component` does, with the nuclear-test column's loading
set to ``b``, and prints the maximised log-likelihood: where it peaks is the loading the data support.
Not a speed benchmark; it lives here because it is a measurement the docs cite.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import pandas as pd

from dualthreat.model import DualThreatModel
from dualthreat.model.threat import LevelTransient, _endog, _settings
from dualthreat.store import Store

COMPONENTS = {("KOR", "local", "PRK"): "dprk_nuclear_test_kor", ("JPN", "local", "PRK"): "dprk_nuclear_test_jpn"}


def profile(model: DualThreatModel, component: tuple[str, str, str], indicator: str,
            loadings: list[float]) -> list[tuple[float, float]]:
    """(b, maximised reference-window log-likelihood) for each loading ``b`` of ``indicator``'s count column."""
    fit = model.components_[component]
    ref = tuple(pd.Period(m, freq="M") for m in model.reference)
    in_ref = np.asarray((fit.months >= ref[0]) & (fit.months <= ref[1]))
    (i,) = [n for n, c in enumerate(fit.columns) if c.indicator == indicator and c.count]
    out = []
    for b in loadings:
        cols = list(fit.columns)
        cols[i] = replace(cols[i], sign=cols[i].sign * b)  # the count's log-rate loads b * x
        endog = _endog(cols, fit.months)[in_ref]
        fixed_r, fixed_alpha = _settings(cols, endog, fit.bounds)
        lt = LevelTransient(endog, [c.months for c in cols], [c.sign for c in cols], [c.count for c in cols],
                            fixed_r, fixed_alpha, fit.bounds)
        out.append((b, lt.loglike(lt.fit())))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="dualthreat.duckdb")
    ap.add_argument("--loadings", default="0.5,1,2,3,5")
    args = ap.parse_args()
    loadings = [float(x) for x in args.loadings.split(",")]
    model = DualThreatModel(with_posture=False).fit(Store(args.store))
    for component, indicator in COMPONENTS.items():
        print(".".join(component), indicator)
        for b, ll in profile(model, component, indicator, loadings):
            print(f"  b = {b:g}: log-likelihood {ll:.2f}")


if __name__ == "__main__":
    main()
