"""The rware robot as a domain kit: its rules, fallback, safe action, codec, prompt and identity.

:func:`rware_kit` builds the kit in Python; :func:`make_kit` is the entry point's factory, which
rebuilds it from an audit log's header or ``plansentry check --param KEY=VALUE``. ``params``:

- ``size``: the rware floor of the example context ``check`` uses (``tiny``, ``small``,
  ``medium``, ``large``; default ``tiny``). Contexts carry their own floor, so it decides no
  replayed decision; it is also the floor of the simulator's world (``plansentry simulate
  --domain rware --param size=small``, :mod:`plansentry_rware.world`).

Rules versions (the identity in every audit log's header):

- ``rware-rules/1``: freshness (task, asked version), validity (robot, shelf, leg ends, steps)
  and safety (floor, held cells, a loaded robot into a standing shelf or across a shelf home).
"""

from __future__ import annotations

from typing import Any, Final

from plansentry.core.errors import ConfigError
from plansentry.runtime.kit import DomainKit, SafeAction
from plansentry_rware.codec import RwareCodec
from plansentry_rware.context import RwareContext
from plansentry_rware.examples import SIZES, example_context_json, sized_layout
from plansentry_rware.fetch_planner import FetchPlanner
from plansentry_rware.identity import NAME, RULES_VERSIONS
from plansentry_rware.prompt import RwarePrompt
from plansentry_rware.rules import RULES, RwareDomain
from plansentry_rware.schema import RwarePlan
from plansentry_rware.world import RwareWorlds

#: The safe action: rware's NOOP. The robot stands where it is (a loaded robot keeps its shelf);
#: rware never refuses it, and a robot standing still blocks only its own cell.
STAY: Final = SafeAction("stay", "rware NOOP: stand where it is, a loaded robot keeping its shelf")


def rware_kit(
    *, size: str = "tiny", rules_version: str | None = None
) -> DomainKit[RwarePlan, RwareContext]:
    """The rware kit, its example context on rware's ``size`` floor."""
    version = rules_version or RULES_VERSIONS[0]
    if version not in RULES_VERSIONS:
        raise ConfigError(
            f"rware rules {version!r} unknown; this version has {', '.join(RULES_VERSIONS)}"
        )
    if size not in SIZES:
        raise ConfigError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    return DomainKit(
        name=NAME,
        rules_version=version,
        domain=RwareDomain(),
        codec=RwareCodec(),
        fallbacks=(FetchPlanner(),),
        safe_action=STAY,
        prompt=RwarePrompt(),
        rules=RULES,
        example_context=example_context_json(sized_layout(size)),
        params={"size": size},
        world=RwareWorlds(size),
    )


def make_kit(
    *, rules_version: str | None = None, **params: Any
) -> DomainKit[RwarePlan, RwareContext]:
    """The plugin's factory (see the module docstring); an unknown parameter is a
    :class:`ConfigError` naming it."""
    unknown = sorted(set(params) - {"size"})
    if unknown:
        raise ConfigError(f"rware kit: unknown parameter(s) {', '.join(unknown)}; known: size")
    return rware_kit(size=str(params.get("size", "tiny")), rules_version=rules_version)
