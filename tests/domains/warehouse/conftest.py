"""Under this folder the fixtures are the warehouse's, not the toy domain's."""

from warehouse_fixtures import ctx, domain, good_bytes, good_plan, guard, kit, runtime, wh

__all__ = ["ctx", "domain", "good_bytes", "good_plan", "guard", "kit", "runtime", "wh"]
