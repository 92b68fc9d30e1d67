"""The node's request JSON, parameters and health, without ROS: what each bad request is told,
what each bad parameter is told, and which level each guard condition reports at."""

from __future__ import annotations

import json

import pytest

from plansentry.core.errors import ConfigError
from plansentry.core.fsm import State
from plansentry.ros2 import protocol
from plansentry.ros2.health import ERROR, OK, WARN, Since, Tally, health
from plansentry.ros2.params import PARAMETERS, settings

CTX = {"task_id": "T-1", "target": 7, "max_step": 3, "blocked": [4]}


def _refusal(text: str, **kw) -> protocol.Refusal:
    with pytest.raises(protocol.Refusal) as info:
        protocol.parse(text, max_bytes=kw.pop("max_bytes", 65536), **kw)
    return info.value


def test_a_good_request_is_read_with_decide_as_its_default_op() -> None:
    """robot_id, request_id and a context: a decide request."""
    req = protocol.parse(
        json.dumps({"robot_id": "amr-1", "request_id": "r1", "context": CTX}), max_bytes=65536
    )
    assert (req.op, req.robot_id, req.request_id, req.context) == ("decide", "amr-1", "r1", CTX)
    assert protocol.audit_id(req) == "amr-1/r1"


@pytest.mark.parametrize(
    ("text", "code", "param", "ids"),
    [
        ("not json", "malformed", "body", (None, None)),
        ("[1, 2]", "invalid_value", "body", (None, None)),
        ('{"robot_id": "a", "context": {}}', "invalid_value", "request_id", ("a", None)),
        ('{"request_id": "r", "context": {}}', "invalid_value", "robot_id", (None, "r")),
        ('{"robot_id": "a", "request_id": "r"}', "missing_context", "context", ("a", "r")),
        (
            '{"robot_id": "a", "request_id": "r", "op": "cancel"}',
            "missing_ticket",
            "ticket",
            ("a", "r"),
        ),
        (
            '{"robot_id": "a", "request_id": "r", "op": "fly", "context": {}}',
            "invalid_value",
            "op",
            ("a", "r"),
        ),
        (
            '{"robot_id": "a", "request_id": "r", "context": {}, "budget_ms": -1}',
            "invalid_value",
            "budget_ms",
            ("a", "r"),
        ),
        (
            '{"robot_id": "a", "request_id": "r", "context": {}, "extra": 1}',
            "invalid_value",
            "extra",
            ("a", "r"),
        ),
        (
            '{"robot_id": "a b", "request_id": "r", "context": {}}',
            "invalid_value",
            "robot_id",
            ("a b", "r"),
        ),
    ],
)
def test_a_bad_request_is_refused_naming_the_field_and_the_ids_it_carried(
    text, code, param, ids
) -> None:
    """Each way a request can be wrong: its code, the field, and the ids an error can repeat."""
    r = _refusal(text)
    assert (r.error.code, r.error.param, (r.robot_id, r.request_id)) == (code, param, ids)


def test_a_robot_the_node_does_not_serve_is_refused_by_name() -> None:
    """With ``robots`` set, another robot id is ``unknown_robot``."""
    text = json.dumps({"robot_id": "stranger", "request_id": "r", "context": CTX})
    r = _refusal(text, robots=frozenset({"amr-1"}))
    assert r.error.code == "unknown_robot" and "stranger" in str(r.error)


@pytest.mark.parametrize("size", [70_000, 64 * 1024 * 1024])
def test_an_oversized_request_is_refused_before_it_is_parsed(size: int) -> None:
    """Over ``max_request_bytes`` (counted in UTF-8): ``body_too_large``, ids unknown."""
    r = _refusal('{"pad": "' + "x" * size + '"}')
    assert r.error.code == "body_too_large" and (r.robot_id, r.request_id) == (None, None)


def test_the_cap_counts_utf8_bytes_not_characters() -> None:
    """20,000 three-byte characters are 60,000 bytes: over a 50,000-byte cap."""
    assert protocol.over_cap("€" * 20_000, 50_000)
    assert not protocol.over_cap("€" * 16_000, 50_000)


def test_an_error_reply_is_serves_error_body_with_the_ids() -> None:
    """``kind: error``, the ids, and serve's ``error`` object."""
    out = protocol.error_reply(_refusal('{"robot_id": "a", "context": {}}'))
    assert out["kind"] == "error" and out["robot_id"] == "a" and out["request_id"] is None
    assert set(out["error"]) == {"message", "type", "param", "code"}


def test_default_parameters_make_a_valid_configuration() -> None:
    """Every default, checked: serve's defaults, this node's audit log."""
    s = settings({})
    assert s.serve.budget_ms == 150.0 and s.qos_depth == 64 and s.robots == frozenset()
    assert s.serve.audit_log == "plansentry-ros2-audit.jsonl"


def test_only_robots_may_change_at_run_time() -> None:
    """Every parameter but ``robots`` is read-only."""
    assert [p.name for p in PARAMETERS if not p.read_only] == ["robots"]


def test_an_integer_is_taken_for_a_double_parameter() -> None:
    """``-p budget_ms:=200`` (an integer to ROS) is 200.0 ms."""
    assert settings({"budget_ms": 200}).serve.budget_ms == 200.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"budget_ms": float("nan")}, "parameter budget_ms must be finite"),
        ({"budget_ms": True}, "parameter budget_ms must be a number"),
        ({"workers": 2.5}, "parameter workers must be an integer"),
        ({"qos_depth": 0}, "parameter qos_depth must be >= 1"),
        ({"kit_params": ["novalue"]}, "parameter kit_params takes KEY=VALUE"),
        ({"robots": ["two words"]}, "parameter robots: 'two words' is not a robot id"),
        ({"budget_ms": 5000.0, "max_budget_ms": 100.0}, "parameter budget_ms (5000) is over"),
        ({"max_request_bytes": 100}, "parameter max_request_bytes must be >= 1024"),
    ],
)
def test_a_bad_parameter_is_one_line_naming_it(values, message) -> None:
    """Each check: a ConfigError of one line that starts with the parameter's name."""
    with pytest.raises(ConfigError) as info:
        settings(values)
    assert str(info.value).startswith(message) and "\n" not in str(info.value), info.value


def _report(tally: Tally, since: Since | None = None, **kw):
    args = {
        "state": State.NOMINAL,
        "breaker": "closed",
        "skipped": "",
        "stuck_workers": 0,
        "overloaded": 0,
        "refused": 0,
        **kw,
    }
    return health(tally, since or Since(), **args)


def test_a_nominal_guard_reports_ok_with_its_model_share() -> None:
    """NOMINAL, nothing late: OK, and the counts."""
    t = Tally()
    t.decisions, t.model, t.fallbacks = 4, 3, 1
    h = _report(t)
    assert h.level == OK and "75%" in h.message
    assert h.values["decisions"] == "4" and h.values["model_share"] == "0.7500"


@pytest.mark.parametrize(
    ("kw", "level"),
    [
        ({"state": State.SAFE_HOLD}, ERROR),
        ({"state": State.BYPASS, "breaker": "open"}, WARN),
        ({"state": State.DEGRADED}, WARN),
        ({"stuck_workers": 1}, WARN),
        ({"overloaded": 2}, WARN),
        ({"refused": 1}, WARN),
    ],
)
def test_each_condition_an_operator_acts_on_has_its_level(kw, level) -> None:
    """SAFE_HOLD is an ERROR; fallbacks driving, stuck calls, overload, refusals are WARN."""
    assert _report(Tally(), **kw).level == level


def test_a_late_decision_is_an_error_for_one_period() -> None:
    """A late decision since the last report: ERROR; the next report, with none new: OK."""
    t, since = Tally(), Since()
    t.decisions, t.late = 2, 1
    assert _report(t, since).level == ERROR
    assert _report(t, since).level == OK


def test_the_command_line_and_the_pure_modules_import_no_ros() -> None:
    """The parser (every command, ros2's among them) and the pure ros2 modules load without
    rclpy or the bag libraries: the demo and every other command never need them."""
    import subprocess
    import sys

    code = (
        "import sys, plansentry.cli as c; c.build_parser(); "
        "import plansentry.ros2.command, plansentry.ros2.bag, plansentry.ros2.protocol, "
        "plansentry.ros2.params, plansentry.ros2.health; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('rclpy', 'std_msgs', 'diagnostic_msgs', 'rcl_interfaces', 'mcap', 'mcap_ros2', 'rosbags')]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
