"""The ``plansentry ros2`` command: the guard as a ROS 2 node, on this host only by default.

Parameters are ROS parameters, given as ROS users give them, after ``--ros-args``::

    plansentry ros2 --ros-args -p kit:=warehouse -p budget_ms:=150 -r __ns:=/fleet

Discovery reaches this host only (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``) unless the user
opts in, with ``--discovery subnet`` or by setting that variable: the node hands out plans robots
execute, so it is not offered to a network by default. SIGTERM (or SIGINT) stops taking requests,
lets every decision taken finish by its deadline (bounded by ``max_budget_ms``), stops the model
calls, closes the audit log, leaves the ROS graph and exits 0. A bad parameter is refused before
anything starts: one line naming it, exit 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping
from typing import IO, Final

from plansentry.core.errors import ConfigError

DISCOVERY_ENV: Final = "ROS_AUTOMATIC_DISCOVERY_RANGE"
RANGES: Final = ("localhost", "subnet", "system_default", "off")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--discovery",
        choices=RANGES,
        default=None,
        help=f"how far DDS discovery reaches (default: ${DISCOVERY_ENV} if set, else localhost: "
        "this host only)",
    )
    p.add_argument(
        "--name",
        default="plansentry",
        help="the node's name (default plansentry; its topics are ~/request and ~/decision)",
    )
    p.set_defaults(ros_args=[])


def discovery_range(flag: str | None, env: Mapping[str, str]) -> str:
    """The discovery range the node runs with: the flag's, else the environment's, else this
    host only."""
    if flag:
        return flag.upper()
    return env.get(DISCOVERY_ENV) or "LOCALHOST"


def _say(line: str) -> None:
    print(f"plansentry ros2: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, out: IO[str]) -> int:
    reach = discovery_range(args.discovery, os.environ)
    os.environ[DISCOVERY_ENV] = reach  # read by the middleware when the context starts
    try:
        import rclpy
        from rclpy.context import Context
        from rclpy.signals import SignalHandlerOptions

        from plansentry.ros2.node import GuardNode
    except ImportError as exc:
        raise ConfigError(
            f"plansentry ros2 needs: pip install 'plansentry[ros2]' ({exc})"
        ) from None
    from plansentry.serve.upstream import describe

    context = Context()
    try:
        rclpy.init(
            args=["plansentry", *args.ros_args],
            context=context,
            signal_handler_options=SignalHandlerOptions.NO,
        )
    except Exception as exc:  # rclpy's errors for a malformed --ros-args
        raise ConfigError(f"--ros-args: {str(exc).strip().splitlines()[0]}") from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    domain = os.environ.get("ROS_DOMAIN_ID", "0")
    try:
        node = GuardNode(context, name=args.name, meta={"domain_id": domain, "discovery": reach})
    except BaseException:
        context.try_shutdown()
        raise
    cfg = node.settings.serve
    node.start()
    fqn = node.node.get_fully_qualified_name()
    _say(
        f"kit {node.service.kit.name} ({node.service.kit.rules_version}), upstream "
        f"{describe(cfg)}, audit log {cfg.audit_log or 'off'}"
    )
    _say(
        f"node {fqn} on ROS_DOMAIN_ID {domain}, discovery {reach}: requests on {fqn}/request, "
        f"decisions on {fqn}/decision"
    )
    while not stop.wait(0.2):
        pass
    left = node.stop(drain_s=cfg.max_budget_ms / 1000 + 1.0)
    context.try_shutdown()
    _say(
        f"stopped after {node.service.guard.seq} decisions"
        + (f" ({left} unanswered at the drain's end)" if left else "")
        + "; audit log closed"
    )
    return 0
