"""The warehouse's entry point (``plansentry.domains``: ``warehouse``): cheap to import.

The kit and the commands (``demo``, ``example-order``) are imported only when used.
"""

from __future__ import annotations

from typing import Any, Final

from plansentry.domains.warehouse.identity import NAME, RULES_VERSIONS
from plansentry.runtime.kit import DomainKit, DomainPlugin


def _make_kit(**params: Any) -> DomainKit[Any, Any]:
    from plansentry.domains.warehouse.kit import make_kit

    return make_kit(**params)


def _add_commands(subparsers: Any) -> None:
    from plansentry.domains.warehouse.commands import add_commands

    add_commands(subparsers)


PLUGIN: Final = DomainPlugin(
    name=NAME,
    summary="a warehouse picker: the order of bins to visit, the speed and the route's end",
    make_kit=_make_kit,
    rules_versions=RULES_VERSIONS,
    add_commands=_add_commands,
)
