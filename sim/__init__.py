"""sim: Monte Carlo simulation of AI and compute subsidy policies.

The Python API, for notebooks and scripts (the `sim` command is a thin shell over it):

>>> import sim
>>> scenario = sim.load_scenario("scenarios/binjiang.yaml")
>>> what_if = scenario.with_overrides({"overrides.binjiang.pools.compute_vouchers.budget": "5000万"})
>>> result = sim.simulate(what_if, runs=200, out="outputs/what_if", force=True)   # doctest: +SKIP
>>> result.frame("pool_years")                                                     # doctest: +SKIP
"""

__version__ = "0.1.0"

from sim.policy import load_policy  # noqa: E402
from sim.quote import parse_firm, quote  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.runner import RunResult, simulate  # noqa: E402
from sim.storage import scan  # noqa: E402
from sim.report import Report, build_report  # noqa: E402
from sim.render import write_report  # noqa: E402

__all__ = ["load_policy", "load_scenario", "parse_firm", "quote", "simulate", "RunResult", "scan", "Report", "build_report", "write_report", "__version__"]
