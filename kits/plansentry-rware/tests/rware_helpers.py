"""Helpers of the rware kit's tests (a module with a name of its own: the repository's root tests
have a ``helpers`` module on the same path)."""

from __future__ import annotations

from plansentry_rware import RwareDomain


def rules_broken(plan, ctx) -> set[str]:
    """The rule names ``plan`` breaks in ``ctx`` (freshness against ``ctx``'s own version)."""
    domain = RwareDomain()
    found = list(domain.check_fresh(plan, ctx, ctx.version)) + list(domain.check_rules(plan, ctx))
    return {v.rule for v in found}


def path(*cells):
    """A leg written as cells."""
    return tuple(tuple(c) for c in cells)
