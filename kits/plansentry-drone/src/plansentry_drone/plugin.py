"""The drone kit's entry point (``plansentry.domains``: ``drone``): cheap to import.

Importing this module imports nothing of the kit: :func:`plansentry_drone.kit.make_kit` (and the
default airspace it reads and indexes) is imported and run only when a kit is asked for.
"""

from __future__ import annotations

from typing import Any, Final

from plansentry.runtime.kit import DomainKit, DomainPlugin
from plansentry_drone.identity import NAME, RULES_VERSIONS


def _make_kit(**params: Any) -> DomainKit[Any, Any]:
    from plansentry_drone.kit import make_kit

    return make_kit(**params)


PLUGIN: Final = DomainPlugin(
    name=NAME,
    summary="a delivery drone's mission: waypoints, speed and landing site, in an airspace",
    make_kit=_make_kit,
    rules_versions=RULES_VERSIONS,
)
