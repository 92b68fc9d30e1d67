"""Robots for the ROS 2 tests and bench: a process of its own, apart from plansentry's, with one
rclpy node per robot (each its own publisher on the guard's ``~/request`` and subscription to its
``~/decision``), as a robot stack would talk to ``plansentry ros2``.

    python tests/ros2/robot.py '{"node": "/plansentry", "robots": 16, "rounds": 5, ...}'

The script (JSON, one argument): ``node`` (the guard's fully-qualified name), ``robots`` (how many,
``robot-0`` ...), ``rounds`` (decisions per robot) or ``duration_s`` (ask until then), ``budget_ms``,
``timeout_s`` (the robot's own timeout: no reply by then is a ``timeout``, and the robot goes on, as
docs/ROS2.md tells a robot to), ``interval_s`` (between rounds), ``context`` (the kit's),
``ask_ahead`` (ask a ticket, then decide it; ``execute_s`` between), ``warmup`` (robot 0 decides
once first, reported as op ``warmup``: a node's first call upstream opens its connection),
``raw`` (texts robot 0 sends one at a time before anything else, each awaiting the next reply),
``raw_big_mib`` (one more, that many MiB long), ``diagnostics`` (record ``/diagnostics``),
``linger_s`` (stay that long after the last round), ``match_timeout_s``.

Prints JSON lines: ``{"event": "ready"}`` once every robot is matched with the guard, one
``{"event": "result", ...}`` per request (``robot``, ``request_id``, ``op``, ``rtt_ms`` by this
process's monotonic clock, ``reply``: the reply, or ``null`` on a timeout), ``{"event":
"diagnostics", "status": [...]}`` per message if asked, then ``{"event": "done"}``. Exits 0; 3 if
the robots were never matched with the guard.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription_content_filter_options import ContentFilterOptions
from std_msgs.msg import String

QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=64,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
_print_lock = threading.Lock()


def emit(obj: dict[str, Any]) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def own_replies(robot_id: str) -> ContentFilterOptions:
    """A content filter that lets DDS deliver this robot only the replies that name it (a reply
    starts ``{"kind":"...","robot_id":"<id>",``, docs/ROS2.md): sixteen robots on one decision
    topic then cost each robot its own replies, not everyone's."""
    return ContentFilterOptions(
        filter_expression="data LIKE %0",
        expression_parameters=[f'\'%"robot_id":"{robot_id}",%\''],
    )


class Robot:
    """One robot: its node, and the replies it waits for by request id."""

    def __init__(self, context: Context, index: int, guard: str, *, filtered: bool = True) -> None:
        self.id = f"robot-{index}"
        self.node = Node(f"robot_{index}", context=context)
        self.pub = self.node.create_publisher(String, f"{guard}/request", QOS)
        self.sub = self.node.create_subscription(
            String,
            f"{guard}/decision",
            self._on_reply,
            QOS,
            content_filter_options=own_replies(self.id) if filtered else None,
        )
        self._waiting: dict[str, tuple[threading.Event, list[Any]]] = {}
        self._any: tuple[threading.Event, list[Any]] | None = None
        self._any_id: Any = None
        self._lock = threading.Lock()
        self.seq = 0

    def matched(self) -> bool:
        return self.pub.get_subscription_count() > 0 and self.sub.get_publisher_count() > 0

    def _on_reply(self, msg: String) -> None:
        now = time.monotonic_ns()
        reply = json.loads(msg.data)
        with self._lock:
            slot = None
            if reply.get("robot_id") == self.id:
                slot = self._waiting.pop(reply.get("request_id"), None)
            if (
                slot is None
                and self._any is not None
                and reply.get("request_id")
                in (
                    None,
                    self._any_id,
                )
            ):
                slot, self._any = self._any, None
        if slot is not None:
            slot[1].append((now, reply))
            slot[0].set()

    def ask(self, request: dict[str, Any], timeout_s: float) -> tuple[float, Any]:
        """Publish ``request`` (its ids added) and wait for its reply: (rtt in ms, the reply, or
        ``None`` on a timeout)."""
        self.seq += 1
        rid = f"r{self.seq}"
        body = {"robot_id": self.id, "request_id": rid, **request}
        slot: tuple[threading.Event, list[Any]] = (threading.Event(), [])
        with self._lock:
            self._waiting[rid] = slot
        sent = time.monotonic_ns()
        self.pub.publish(String(data=json.dumps(body)))
        return self._wait(slot, rid, sent, timeout_s)

    def send_raw(self, text: str, timeout_s: float) -> tuple[float, Any]:
        """Publish ``text`` as it is and wait for the next reply that names no request, or the
        request id ``text`` holds (whatever robot it names)."""
        slot: tuple[threading.Event, list[Any]] = (threading.Event(), [])
        try:
            rid = json.loads(text).get("request_id")
        except Exception:
            rid = None
        with self._lock:
            self._any, self._any_id = slot, rid
        sent = time.monotonic_ns()
        self.pub.publish(String(data=text))
        return self._wait(slot, rid, sent, timeout_s)

    def _wait(self, slot: Any, rid: Any, sent: int, timeout_s: float) -> tuple[float, Any]:
        got = slot[0].wait(timeout_s)
        with self._lock:
            if isinstance(rid, str):
                self._waiting.pop(rid, None)
            if self._any is slot:
                self._any = None
        if not got:
            return (time.monotonic_ns() - sent) / 1e6, None
        at, reply = slot[1][0]
        return (at - sent) / 1e6, reply


def run_robot(robot: Robot, script: dict[str, Any], start: threading.Barrier) -> None:
    budget = script.get("budget_ms")
    timeout_s = float(script.get("timeout_s", 2.0))
    context = script["context"]
    start.wait()
    t_end = time.monotonic() + script["duration_s"] if script.get("duration_s") else None
    rounds = int(script.get("rounds", 1))
    done = 0
    while (t_end is None and done < rounds) or (t_end is not None and time.monotonic() < t_end):
        done += 1
        decide: dict[str, Any] = {"op": "decide", "context": context}
        if budget is not None:
            decide["budget_ms"] = budget
        if script.get("ask_ahead"):
            rtt, reply = robot.ask({"op": "ask", "context": context}, timeout_s)
            emit({"event": "result", "robot": robot.id, "op": "ask", "rtt_ms": rtt, "reply": reply})
            if reply is not None and reply.get("kind") == "ticket" and reply["ticket"]["ticket"]:
                decide["ticket"] = reply["ticket"]["ticket"]
                time.sleep(float(script.get("execute_s", 0.0)))
        sent_at = time.monotonic()
        rtt, reply = robot.ask(decide, timeout_s)
        emit(
            {
                "event": "result",
                "robot": robot.id,
                "op": "decide",
                "sent_s": sent_at,
                "rtt_ms": rtt,
                "reply": reply,
            }
        )
        time.sleep(float(script.get("interval_s", 0.0)))


def main() -> int:
    script = json.loads(sys.argv[1])
    context = Context()
    rclpy.init(context=context)
    filtered = not (script.get("raw") or script.get("raw_big_mib"))  # errors may name no robot
    guard = script.get("node", "/plansentry")
    robots = [Robot(context, i, guard, filtered=filtered) for i in range(script["robots"])]
    executor = MultiThreadedExecutor(num_threads=2, context=context)
    for r in robots:
        executor.add_node(r.node)
    diag_node = None
    if script.get("diagnostics"):
        from diagnostic_msgs.msg import DiagnosticArray

        diag_node = Node("robot_diagnostics", context=context)

        def on_diag(msg: Any) -> None:
            emit(
                {
                    "event": "diagnostics",
                    "status": [
                        {
                            "level": int.from_bytes(s.level, "little"),
                            "name": s.name,
                            "message": s.message,
                            "hardware_id": s.hardware_id,
                            "values": {kv.key: kv.value for kv in s.values},
                        }
                        for s in msg.status
                    ],
                }
            )

        diag_node.create_subscription(DiagnosticArray, "/diagnostics", on_diag, 10)
        executor.add_node(diag_node)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    code = 0
    try:
        deadline = time.monotonic() + float(script.get("match_timeout_s", 15))
        while not all(r.matched() for r in robots):
            if time.monotonic() > deadline:
                emit({"event": "unmatched"})
                return 3
            time.sleep(0.01)
        emit({"event": "ready"})
        texts = list(script.get("raw", []))
        if script.get("raw_big_mib"):  # a request far over any cap, made here (argv cannot hold it)
            pad = "x" * (int(script["raw_big_mib"]) * 1024 * 1024)
            texts.append(json.dumps({"robot_id": robots[0].id, "request_id": "big", "pad": pad}))
        if script.get("warmup"):  # one decision first: the node's first upstream call is cold
            body = {"op": "decide", "context": script["context"]}
            rtt, reply = robots[0].ask(body, float(script.get("timeout_s", 2.0)))
            emit(
                {
                    "event": "result",
                    "robot": robots[0].id,
                    "op": "warmup",
                    "rtt_ms": rtt,
                    "reply": reply,
                }
            )
        for text in texts:
            rtt, reply = robots[0].send_raw(text, float(script.get("timeout_s", 2.0)))
            emit(
                {
                    "event": "result",
                    "robot": robots[0].id,
                    "op": "raw",
                    "rtt_ms": rtt,
                    "reply": reply,
                }
            )
        if script.get("rounds", 1) or script.get("duration_s"):
            start = threading.Barrier(len(robots))
            threads = [threading.Thread(target=run_robot, args=(r, script, start)) for r in robots]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if script.get("linger_s"):
            time.sleep(float(script["linger_s"]))
        emit({"event": "done"})
    finally:
        executor.shutdown(timeout_sec=2)
        spin.join(5)
        for r in robots:
            r.node.destroy_node()
        if diag_node is not None:
            diag_node.destroy_node()
        context.try_shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
