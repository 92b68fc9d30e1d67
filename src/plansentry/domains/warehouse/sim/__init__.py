"""The warehouse's fleet simulator: N pickers, four controllers, the same random numbers.

- :mod:`.config`: one scenario (:class:`SimConfig`);
- :mod:`.profiles` and :mod:`.synthetic`: what the model does (fault profiles, and the synthetic
  model that writes real text at their rates);
- :mod:`.orders`: orders, their closures, and the orders a closure blocks;
- :mod:`.world`: the map, planners, the travel-time calibration and the fallback's compute time
  (measured: :mod:`.fallback_time`);
- :mod:`.controllers`: unguarded (the pilot's), guarded (plansentry in virtual time), the pilot's
  guard (schema and a safe move), oracle (the optimum), on common random numbers, and the residual
  causes of a guard's halts;
- :mod:`.unguarded`: what the pilot's controller does with each kind of output (its table);
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
