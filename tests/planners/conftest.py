"""The planners are generic, but a real model needs a domain to prompt: the warehouse's fixtures."""

from warehouse_fixtures import ctx, domain, good_bytes, good_plan, guard, kit, runtime, wh

__all__ = ["ctx", "domain", "good_bytes", "good_plan", "guard", "kit", "runtime", "wh"]
