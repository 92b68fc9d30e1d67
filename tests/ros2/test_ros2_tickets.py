"""Tickets on a shared topic: one robot's ticket is unknown to every other robot (the node in this
process, on a real rclpy context; requests handed to its loop as the executor hands them)."""

from __future__ import annotations

import asyncio
import json

import pytest
from roskit import CONTEXT

from plansentry.planners.local_server import free_port
from plansentry.ros2 import protocol
from plansentry.serve.errors import RequestError

pytestmark = pytest.mark.realtime


@pytest.fixture
def node(ros_env, monkeypatch):
    import rclpy
    from rclpy.context import Context
    from rclpy.signals import SignalHandlerOptions

    from plansentry.ros2.node import GuardNode

    for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE"):
        monkeypatch.setenv(key, ros_env[key])
    context = Context()
    args = ["-p", "kit:=toy", "-p", f"upstream:=http://127.0.0.1:{free_port()}/v1"]
    rclpy.init(
        args=["plansentry", "--ros-args", *args, "-p", "audit_log:=''"],
        context=context,
        signal_handler_options=SignalHandlerOptions.NO,
    )
    n = GuardNode(context, meta={})
    n.start()
    yield n
    n.stop(drain_s=1.0)
    context.try_shutdown()


def _answer(node, **request):
    req = protocol.parse(json.dumps(request), max_bytes=65536)
    now = node.service.clock.now_ns()
    return asyncio.run_coroutine_threadsafe(node._answer(req, now), node.loop).result(10)


def test_a_ticket_is_unknown_to_every_robot_but_the_one_that_asked(node) -> None:
    """robot-1 can neither cancel nor decide robot-0's ticket; robot-0 decides it."""
    asked = _answer(node, op="ask", robot_id="robot-0", request_id="a1", context=CONTEXT)
    ticket = asked["ticket"]["ticket"]
    assert asked["kind"] == "ticket" and ticket
    stolen = _answer(node, op="cancel", robot_id="robot-1", request_id="c1", ticket=ticket)
    assert stolen == protocol.reply("cancelled", "robot-1", "c1", cancelled=False)
    with pytest.raises(RequestError) as info:
        _answer(node, robot_id="robot-1", request_id="d1", ticket=ticket)
    assert info.value.code == "ticket_not_found"
    mine = _answer(node, robot_id="robot-0", request_id="d2", ticket=ticket, budget_ms=200)
    assert mine["kind"] == "decision" and mine["decision"]["ticket"] == "used"
    assert mine["decision"]["request_id"] == "robot-0/a1"  # the ticket's, as the audit log has it
