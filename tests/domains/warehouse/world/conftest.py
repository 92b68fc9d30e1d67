"""Under this folder the fixtures are the warehouse's (and the scenes of its world)."""

from warehouse_fixtures import (
    ctx,
    domain,
    good_bytes,
    good_plan,
    guard,
    kit,
    make_scene,
    recorder,
    runtime,
    scene,
    wh,
)

__all__ = [
    "ctx",
    "domain",
    "good_bytes",
    "good_plan",
    "guard",
    "kit",
    "make_scene",
    "recorder",
    "runtime",
    "scene",
    "wh",
]
