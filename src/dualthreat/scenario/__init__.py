"""Scenarios: what if an indicator moved? A scenario file shocks the framework's inputs; the framework is
re-run with its fitted parameters and the allies' threat components, mediator and decision probabilities
are returned side by side, each as the difference from the baseline with a 90% interval.

``Scenario.from_file(path).run(model, store)`` (or :func:`packaged` for the scenarios shipped with the
package); the method and its limits: docs/scenarios.md.
"""

from dualthreat.scenario.catalog import packaged, packaged_path
from dualthreat.scenario.run import ScenarioResult, run_scenario
from dualthreat.scenario.spec import Scenario, ScenarioError

__all__ = ["Scenario", "ScenarioError", "ScenarioResult", "packaged", "packaged_path", "run_scenario"]
