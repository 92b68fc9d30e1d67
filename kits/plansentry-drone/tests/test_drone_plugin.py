"""The kit as an installed plug-in: found by its entry point, cheap to import, rebuilt from its
identity, its parameters checked, its public names, safe action and prompt."""

from __future__ import annotations

import subprocess
import sys
import types

import plansentry_drone
import pytest
from plansentry_drone import LAND, plan_json_schema

from plansentry.core.errors import ConfigError, KitError
from plansentry.runtime.kit import load_kit, plugin


def test_the_entry_point_names_the_plugin() -> None:
    """plansentry finds the ``drone`` plugin through the plansentry.domains entry point."""
    found = plugin("drone")
    assert found.name == "drone" and found.rules_versions == ("drone-rules/1",)


def test_importing_the_plugin_imports_no_part_of_the_kit() -> None:
    """In a fresh process, the plugin module loads nothing but itself, the package and the
    kit's identity (its name and rules versions, a module that imports nothing)."""
    code = (
        "import sys, plansentry_drone.plugin as p; "
        "print(sorted(m for m in sys.modules if m.startswith('plansentry_drone')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "['plansentry_drone', 'plansentry_drone.identity', 'plansentry_drone.plugin']"
    )


def test_the_kit_is_rebuilt_from_its_identity(kit) -> None:
    """load_kit with the identity's name, rules and params builds the same identity."""
    ident = kit.identity()
    again = load_kit(ident["name"], rules_version=ident["rules_version"], params=ident["params"])
    assert again.identity() == ident
    assert again.example_context == kit.example_context


def test_parameters_may_be_strings_as_the_command_line_gives_them(ctx) -> None:
    """``--param cruise_alt_m=80``: the fallbacks cruise at 80 m, recorded as a number."""
    kit = load_kit("drone", params={"cruise_alt_m": "80"})
    assert kit.params["cruise_alt_m"] == 80.0
    assert kit.fallbacks[0].plan(ctx).plan.waypoints[0] == (0.0, 0.0, 80.0)


@pytest.mark.parametrize(
    ("params", "named"),
    [({"cruise_alt": 80}, "cruise_alt"), ({"reserve_fraction": "lots"}, "reserve_fraction")],
)
def test_a_bad_parameter_is_refused_naming_it(params, named: str) -> None:
    """An unknown parameter, or one that is not a number: ConfigError naming it."""
    with pytest.raises(ConfigError, match=named):
        load_kit("drone", params=params)


def test_an_airspace_file_parameter_is_loaded_and_recorded(tmp_path) -> None:
    """``airspace=PATH``: the example context flies in that airspace; the path is recorded."""
    path = tmp_path / "field.yaml"
    path.write_text(
        "version: field/1\ngeofence: [[-500, -500], [2000, -500], [2000, 1500], [-500, 1500]]\n"
        "min_alt_m: 30\nmax_alt_m: 100\nhome: [0, 0]\n"
    )
    kit = load_kit("drone", params={"airspace": str(path)})
    assert kit.example_context["airspace"]["version"] == "field/1"
    assert kit.params["airspace"] == str(path)


def test_rules_this_installation_lacks_are_refused() -> None:
    """A log written under rules this kit does not have: KitError naming the ones it has."""
    with pytest.raises(KitError, match="drone-rules/1"):
        load_kit("drone", rules_version="drone-rules/0")


def test_the_safe_action_is_to_land(kit) -> None:
    """A drone must not hover until its battery is gone: it lands where it is."""
    assert kit.safe_action is LAND and LAND.name == "land"
    assert kit.guard().safe_action == "land"


def test_the_prompt_states_the_task_and_narrows_the_schema(kit, ctx) -> None:
    """Messages name the mission, points and zones; the schema fixes the ids and landing sites
    and never admits what the gate's schema refuses (no extra keys)."""
    prompt = kit.prompt(ctx)
    text = prompt.messages[-1]["content"]
    assert "M-EX-1" in text and "P3 at [200, 1100, 50]" in text and "NFZ-SCHOOL circle" in text
    schema = prompt.json_schema
    assert schema["properties"]["mission_id"] == {"const": "M-EX-1"}
    assert schema["properties"]["end"] == {"enum": ["PAD-EAST", "PAD-NORTH", "home"]}
    assert set(schema["properties"]) <= set(plan_json_schema()["$defs"]["DronePlan"]["properties"])
    assert schema["additionalProperties"] is False


def test_all_matches_the_public_names() -> None:
    """Every name in __all__ resolves, and every public name is in __all__."""
    for name in plansentry_drone.__all__:
        getattr(plansentry_drone, name)
    public = {
        n
        for n, v in vars(plansentry_drone).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType) and n != "annotations"
    }
    assert public <= set(plansentry_drone.__all__)
    assert sorted(plansentry_drone.__all__) == sorted(plansentry_drone._HOMES)
