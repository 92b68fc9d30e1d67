"""What ``ros2 param set`` and ``ros2 param describe`` do (these wheels ship no ``ros2`` command),
in a process of its own: set parameters of the guard node one by one, describe some, and print
JSON lines, ``{"set": NAME, "ok": bool, "reason": str}`` and ``{"describe": NAME, "read_only":
bool, "description": str}``.

    python tests/ros2/param_client.py '{"node": "/plansentry", "set": [["robots", ["a", "b"]]],
                                         "describe": ["budget_ms"]}'
"""

from __future__ import annotations

import json
import sys

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient


def main() -> int:
    script = json.loads(sys.argv[1])
    context = Context()
    rclpy.init(context=context)
    node = Node("param_client", context=context)
    client = AsyncParameterClient(node, script.get("node", "/plansentry"))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        if not client.wait_for_services(timeout_sec=15):
            print(json.dumps({"error": "no parameter services"}))
            return 3
        for name, value in script.get("set", []):
            future = client.set_parameters([Parameter(name, value=value)])
            executor.spin_until_future_complete(future, timeout_sec=10)
            (result,) = future.result().results
            print(json.dumps({"set": name, "ok": result.successful, "reason": result.reason}))
        if script.get("describe"):
            future = client.describe_parameters(script["describe"])
            executor.spin_until_future_complete(future, timeout_sec=10)
            for d in future.result().descriptors:
                print(
                    json.dumps(
                        {"describe": d.name, "read_only": d.read_only, "description": d.description}
                    )
                )
    finally:
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
