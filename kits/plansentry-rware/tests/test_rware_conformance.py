"""plansentry's conformance checks over seeded random moments on rware's floors."""

from __future__ import annotations

import random

import pytest
from plansentry_rware import random_context, sized_layout

from plansentry.testing import check_domain

OUTPUTS = [
    b"",
    b"{not json",
    b'{"task_id": "R1-0", "robot_id": "R1", "shelf": 1, "to_shelf": [], "to_goal": [], "back": []}',
]


@pytest.fixture(scope="module")
def contexts(ctx):
    rng = random.Random(20261208)
    out = [ctx]
    for size in ("tiny", "small", "medium"):
        layout = sized_layout(size)
        out += [random_context(rng, layout, seq=i) for i in range(6)]
    return out


def test_the_kit_conforms(kit, contexts) -> None:
    """Codec round-trips, pure rules, declared rule names, freshness, the fallback within its
    declared worst-case time, a prompt: no problem found."""
    report = check_domain(kit, contexts, OUTPUTS, repeats=2)
    report.raise_for_problems()
    assert report.contexts == len(contexts) and report.judged > 100


def test_the_random_moments_reach_both_fallback_outcomes(kit, contexts) -> None:
    """Some moments have a fetch, and the contexts include loaded robots."""
    planned = [c for c in contexts if kit.fallbacks[0].plan(c).usable]
    assert len(planned) >= 10
    assert any(c.robot.carrying is not None for c in contexts)


def test_random_moments_are_reproducible_from_their_seed() -> None:
    """Same seed, same contexts."""
    layout = sized_layout("tiny")
    first = [random_context(random.Random(5), layout, seq=i) for i in range(3)]
    again = [random_context(random.Random(5), layout, seq=i) for i in range(3)]
    assert first == again
