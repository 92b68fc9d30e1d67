"""The rware kit's entry point (``plansentry.domains``: ``rware``): cheap to import.

Importing this module imports nothing of the kit (and not rware): :func:`plansentry_rware.kit.make_kit`
is imported and run only when a kit is asked for.
"""

from __future__ import annotations

from typing import Any, Final

from plansentry.runtime.kit import DomainKit, DomainPlugin
from plansentry_rware.identity import NAME, RULES_VERSIONS


def _make_kit(**params: Any) -> DomainKit[Any, Any]:
    from plansentry_rware.kit import make_kit

    return make_kit(**params)


PLUGIN: Final = DomainPlugin(
    name=NAME,
    summary="one robot's fetch in rware's multi-robot warehouse: shelf, route to it, a goal, back",
    make_kit=_make_kit,
    rules_versions=RULES_VERSIONS,
)
