"""The front door: __all__ is exactly what the package exposes publicly."""

from __future__ import annotations

import types

import plansentry


def test_all_matches_public_names() -> None:
    """Every public name is in __all__ and every name in __all__ exists."""
    public = {
        name
        for name, value in vars(plansentry).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public | {"__version__"} == set(plansentry.__all__)
