"""The kit as an installed plug-in: found by its entry point, cheap to import, rebuilt from its
identity, its parameters checked, its safe action, codec and prompt."""

from __future__ import annotations

import subprocess
import sys

import msgspec
import pytest
from plansentry_rware import STAY, plan_json_schema

from plansentry.core.errors import ConfigError, InputError, KitError
from plansentry.runtime.kit import load_kit, plugin


def test_the_entry_point_names_the_plugin() -> None:
    """plansentry finds the ``rware`` plugin through the plansentry.domains entry point."""
    found = plugin("rware")
    assert found.name == "rware" and found.rules_versions == ("rware-rules/1",)


def test_importing_the_plugin_imports_no_part_of_the_kit_nor_rware() -> None:
    """In a fresh process, the plugin module loads nothing but itself, the package and the
    kit's identity; rware and gymnasium are not imported."""
    code = (
        "import sys, plansentry_rware.plugin as p; "
        "print(sorted(m for m in sys.modules if m.startswith('plansentry_rware')), "
        "'rware' in sys.modules, 'gymnasium' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "['plansentry_rware', 'plansentry_rware.identity', 'plansentry_rware.plugin'] False False"
    )


def test_the_kit_is_rebuilt_from_its_identity(kit) -> None:
    """load_kit with the identity's name, rules and params builds the same identity."""
    ident = kit.identity()
    again = load_kit(ident["name"], rules_version=ident["rules_version"], params=ident["params"])
    assert again.identity() == ident
    assert again.example_context == kit.example_context


def test_the_size_parameter_picks_rwares_floor() -> None:
    """``--param size=large``: the example context is on rware's 16 x 29 floor."""
    kit = load_kit("rware", params={"size": "large"})
    rows = kit.example_context["layout"]["rows"]
    assert (len(rows[0]), len(rows)) == (16, 29)


@pytest.mark.parametrize(
    ("params", "named"), [({"floor": "tiny"}, "floor"), ({"size": "huge"}, "size")]
)
def test_a_bad_parameter_is_refused_naming_it(params, named: str) -> None:
    """An unknown parameter, or a size rware does not register: ConfigError naming it."""
    with pytest.raises(ConfigError, match=named):
        load_kit("rware", params=params)


def test_rules_this_installation_lacks_are_refused() -> None:
    """A log written under rules this kit does not have: KitError naming the ones it has."""
    with pytest.raises(KitError, match="rware-rules/1"):
        load_kit("rware", rules_version="rware-rules/0")


def test_the_safe_action_is_rwares_noop(kit) -> None:
    """When no plan passes, the robot stays where it is (rware's NOOP)."""
    assert kit.safe_action is STAY and STAY.name == "stay"
    assert kit.guard().safe_action == "stay"


def test_the_context_round_trips_through_the_codec(kit, ctx, good_plan) -> None:
    """context_from_json(context_to_json(ctx)) judges as ctx does, and equals it."""
    again = kit.codec.context_from_json(kit.codec.context_to_json(ctx))
    assert again == ctx and again.version == ctx.version
    assert kit.codec.plan_from_json(kit.codec.plan_to_json(good_plan)) == good_plan


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("robot", "position"), [99, 0], "robot.position"),
        (("layout", "rows"), ["x.", "x"], "rows[1]"),
        (("requests",), ["five"], "requests"),
    ],
)
def test_a_bad_context_is_refused_naming_the_field(kit, path, value, named) -> None:
    """An off-floor robot, a ragged floor, a shelf id that is not a number."""
    doc = msgspec.json.decode(msgspec.json.encode(kit.example_context))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InputError, match=named.replace("[", r"\[").replace("]", r"\]")):
        kit.codec.context_from_json(doc)


def test_the_prompt_carries_the_floor_and_a_narrowed_schema(kit, ctx) -> None:
    """The floor's rows are in the prompt; the schema fixes the ids and the shelves it may fetch."""
    prompt = kit.prompt(ctx)
    assert ctx.layout.text() in prompt.messages[1]["content"]
    props = prompt.json_schema["properties"]
    assert props["task_id"] == {"const": "R1-1"} and props["shelf"] == {"enum": [5, 20]}
    assert set(plan_json_schema()["$defs"]["RwarePlan"]["required"]) == set(props)
