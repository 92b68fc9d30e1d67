"""plansentry: a runtime guard for LLM planners in robot control loops.

Every decision point gets exactly one plan, on time: the model's, if it passed the gate (bounded
parse, schema, the domain's validity and safety rules), else a deterministic fallback's, else the
domain's safe action, which cannot fail.

The guard knows no domain. A :class:`DomainKit` hands it one: the rules (a :class:`Domain`), the
fallbacks, the safe action, a :class:`Codec` (context and plan as JSON) and a prompt builder. Get an
installed kit with :func:`load_kit` (``load_kit("warehouse")``), build a guard with
``kit.guard()``, and drive it with a runtime: :class:`RealtimeRuntime` (threads and a real clock)
or :class:`VirtualRuntime` (latency as data). :class:`AuditLog` records every decision for
:func:`replay`; :class:`GuardMetrics` exports them to Prometheus. ``plansentry.testing`` helps you
write a kit; ``plansentry.domains.warehouse`` is the reference one.
"""

# First: which build of the compiled modules this process imports (plansentry._native).
from plansentry import _native  # noqa: F401  # isort: skip
from plansentry.core.breaker import BreakerConfig
from plansentry.core.decision import (
    Arrival,
    ArrivalKind,
    Decision,
    FallbackOutcome,
    SafeMove,
)
from plansentry.core.errors import (
    ConfigError,
    InputError,
    KitError,
    PlannerError,
    PlansentryError,
    ReplayError,
)
from plansentry.core.failures import BucketMap, FailureMode, RiskBucket, Violation
from plansentry.core.fsm import TRANSITIONS, Event, State
from plansentry.core.gate import Domain, Gate, GateConfig, Verdict
from plansentry.runtime.clock import Clock, FakeClock, MonotonicClock
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import (
    DecisionEvent,
    DecisionHook,
    Fallback,
    Guard,
    VersionedDomain,
)
from plansentry.runtime.kit import (
    HOLD,
    Codec,
    DomainKit,
    DomainPlugin,
    SafeAction,
    installed_kits,
    load_kit,
    register_kit,
)
from plansentry.runtime.planner import Planner, Prompt, PromptBuilder, StopToken
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog, read_log
from plansentry.telemetry.metrics import GuardMetrics
from plansentry.telemetry.replay import replay

__version__ = "0.2.0"

__all__ = [
    "HOLD",
    "TRANSITIONS",
    "Arrival",
    "ArrivalKind",
    "AuditLog",
    "BreakerConfig",
    "BucketMap",
    "Clock",
    "Codec",
    "ConfigError",
    "Decision",
    "DecisionEvent",
    "DecisionHook",
    "Domain",
    "DomainKit",
    "DomainPlugin",
    "Event",
    "FailureMode",
    "FakeClock",
    "Fallback",
    "FallbackOutcome",
    "Gate",
    "GateConfig",
    "Guard",
    "GuardConfig",
    "GuardMetrics",
    "InputError",
    "KitError",
    "MonotonicClock",
    "Planner",
    "PlannerError",
    "PlansentryError",
    "Prompt",
    "PromptBuilder",
    "RealtimeRuntime",
    "ReplayError",
    "RiskBucket",
    "SafeAction",
    "SafeMove",
    "State",
    "StopToken",
    "Verdict",
    "VersionedDomain",
    "Violation",
    "VirtualRuntime",
    "__version__",
    "installed_kits",
    "load_kit",
    "read_log",
    "register_kit",
    "replay",
]
