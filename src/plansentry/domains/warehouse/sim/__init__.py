"""The warehouse's fleet simulator: N pickers, three controllers, the same random numbers.

- :mod:`.config`: one scenario (:class:`SimConfig`);
- :mod:`.profiles` and :mod:`.synthetic`: what the model does (fault profiles, and the synthetic
  model that writes real text at their rates);
- :mod:`.world`: the map, planners and the travel-time calibration;
- :mod:`.controllers`: unguarded (the pilot's), guarded (plansentry in virtual time), oracle (the
  optimum), on common random numbers;
- :mod:`.unguarded`: what the pilot's controller does with each kind of output;
- :mod:`.engine`: replications, run here or in processes; :mod:`.ray`: on a Ray cluster;
- :mod:`.sweep`: grids of budgets x profiles x fleet sizes;
- :mod:`.report`: the ``simulate --json`` and ``sweep --json`` documents.
"""

from plansentry.domains.warehouse.sim.config import SimConfig, SimConfigError
from plansentry.domains.warehouse.sim.engine import (
    LocalEngine,
    SimRun,
    run_replication,
    simulate,
)
from plansentry.domains.warehouse.sim.profiles import PROFILES, Profile, ProfileError, load_profile
from plansentry.domains.warehouse.sim.report import simulation_report
from plansentry.domains.warehouse.sim.world import World

__all__ = [
    "PROFILES",
    "LocalEngine",
    "Profile",
    "ProfileError",
    "SimConfig",
    "SimConfigError",
    "SimRun",
    "World",
    "load_profile",
    "run_replication",
    "simulate",
    "simulation_report",
]
