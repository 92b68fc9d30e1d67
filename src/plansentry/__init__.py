"""plansentry: a runtime guard for LLM planners in robot control loops.

Every decision point gets exactly one plan, on time: the model's, if it passed the gate (bounded
parse, schema, domain and safety rules), else a deterministic fallback, else a safe move that cannot
fail. Start with :func:`make_guard` (the warehouse reference domain) and a runtime:
:class:`VirtualRuntime` (latency as data) or :class:`RealtimeRuntime` (threads and a real clock).
:func:`simulate` runs a fleet through the guard; :func:`simulation_report` turns it into the FMLI
matrix.
"""

from plansentry.core.breaker import BreakerConfig
from plansentry.core.decision import (
    Arrival,
    ArrivalKind,
    Decision,
    FallbackOutcome,
    SafeMove,
)
from plansentry.core.failures import BucketMap, FailureMode, RiskBucket, Violation
from plansentry.core.fsm import TRANSITIONS, Event, State
from plansentry.core.gate import Domain, Gate, GateConfig, Verdict
from plansentry.report.fmli import simulation_report
from plansentry.runtime.clock import Clock, FakeClock, MonotonicClock
from plansentry.runtime.config import ConfigError, GuardConfig
from plansentry.runtime.guard import DecisionEvent, DecisionHook, Guard
from plansentry.runtime.planner import Planner, Prompt, StopToken
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.sim.fleet import SimConfig, SimConfigError, SimRun, simulate
from plansentry.sim.profiles import PROFILES, Profile, ProfileError, load_profile
from plansentry.telemetry.audit import AuditLog
from plansentry.telemetry.replay import replay
from plansentry.warehouse.assembly import default_config, make_guard
from plansentry.warehouse.map import MapError, Warehouse, default_map, load_map
from plansentry.warehouse.order import Order, OrderError, make_order
from plansentry.warehouse.rules import WarehouseDomain
from plansentry.warehouse.schema import Pick, Plan, plan_json_schema

__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "TRANSITIONS",
    "Arrival",
    "ArrivalKind",
    "AuditLog",
    "BreakerConfig",
    "BucketMap",
    "Clock",
    "ConfigError",
    "Decision",
    "DecisionEvent",
    "DecisionHook",
    "Domain",
    "Event",
    "FailureMode",
    "FakeClock",
    "FallbackOutcome",
    "Gate",
    "GateConfig",
    "Guard",
    "GuardConfig",
    "MapError",
    "MonotonicClock",
    "Order",
    "OrderError",
    "Pick",
    "Plan",
    "Planner",
    "Profile",
    "ProfileError",
    "Prompt",
    "RealtimeRuntime",
    "RiskBucket",
    "SafeMove",
    "SimConfig",
    "SimConfigError",
    "SimRun",
    "State",
    "StopToken",
    "Verdict",
    "Violation",
    "VirtualRuntime",
    "Warehouse",
    "WarehouseDomain",
    "__version__",
    "default_config",
    "default_map",
    "load_map",
    "load_profile",
    "make_guard",
    "make_order",
    "plan_json_schema",
    "replay",
    "simulate",
    "simulation_report",
]
