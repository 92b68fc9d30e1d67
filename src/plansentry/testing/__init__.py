"""What a domain author needs to build and test a kit, as ``trio.testing`` is for trio.

- :func:`check_domain`: conformance checks for any kit (codec round-trips, pure rules that never
  raise, declared rule names, freshness, the gate's and the fallbacks' time);
- :func:`toy_kit`: a toy domain of a few dozen lines (a robot on a line stepping to a target), the
  smallest complete kit, which plansentry's own core, runtime and telemetry tests use;
- :func:`hostile_outputs`: pathological model outputs and the failure mode each must get.
"""

from plansentry.testing.conformance import ConformanceReport, check_domain
from plansentry.testing.hostile import hostile_outputs
from plansentry.testing.toy import ToyContext, ToyPlan, toy_kit

__all__ = [
    "ConformanceReport",
    "ToyContext",
    "ToyPlan",
    "check_domain",
    "hostile_outputs",
    "toy_kit",
]
