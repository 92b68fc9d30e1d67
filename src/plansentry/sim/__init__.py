"""The fleet simulator, for any kit with a world: N robots, four controllers, the same random numbers.

- :mod:`.config`: one scenario (:class:`SimConfig`), naming the kit whose world runs;
- :mod:`.profiles` and :mod:`.synthetic`: what the model does (fault profiles, and the synthetic
  model that writes real text at their rates, the world writing each fault kind);
- :mod:`.scene`: the kit, its world, the gate and the synthetic model of one run;
- :mod:`.controllers`: unguarded (the pilot's), guarded (plansentry in virtual time), the pilot's
  guard (schema and a safe move), oracle (the optimum), on common random numbers, and the residual
  causes of a guard's halts;
- :mod:`.engine`: replications, run here or in processes; :mod:`.ray`: on a Ray cluster;
- :mod:`.sweep`: grids of budgets x profiles x fleet sizes;
- :mod:`.report`: the ``simulate --json`` and ``sweep --json`` documents.

What it needs of a domain is the kit's world (:class:`plansentry.runtime.world.World`); it imports
no domain.
"""

from plansentry.sim.config import CONTROLLERS, SimConfig, SimConfigError
from plansentry.sim.engine import LocalEngine, SimRun, run_replication, simulate
from plansentry.sim.profiles import Profile, ProfileError, load_profile, parse_profile
from plansentry.sim.report import simulation_report, sweep_document
from plansentry.sim.scene import Scene, scene_for
from plansentry.sim.sweep import SweepConfig, sweep
from plansentry.sim.synthetic import ModelCall, SyntheticModel

__all__ = [
    "CONTROLLERS",
    "LocalEngine",
    "ModelCall",
    "Profile",
    "ProfileError",
    "Scene",
    "SimConfig",
    "SimConfigError",
    "SimRun",
    "SweepConfig",
    "SyntheticModel",
    "load_profile",
    "parse_profile",
    "run_replication",
    "scene_for",
    "simulate",
    "simulation_report",
    "sweep",
    "sweep_document",
]
