"""``plansentry ros2``: the guard as a ROS 2 node, for robot stacks built on ROS 2.

One node hosts one domain kit against one upstream, with one guard state, as ``plansentry serve``
does over HTTP, and on the same service (:class:`~plansentry.serve.service.Service`): the same
tickets, budgets relative to receipt and the same promise, one decision per request by its budget,
never an error in place of a plan. Requests and decisions are JSON in ``std_msgs/String`` on
``~/request`` and ``~/decision``; ``/diagnostics`` carries the guard's health once a second.

- :mod:`~plansentry.ros2.protocol`: the request and reply JSON, checked (no ROS needed);
- :mod:`~plansentry.ros2.params`: the node's parameters, their descriptors and their checks;
- :mod:`~plansentry.ros2.health`: what ``/diagnostics`` says, and at which level;
- :mod:`~plansentry.ros2.node`: the rclpy node, its QoS and its event loop;
- :mod:`~plansentry.ros2.command`: the command (host-only discovery by default, SIGTERM drain);
- :mod:`~plansentry.ros2.bag`: ``plansentry export-bag``, an audit log as a ROS 2 bag (MCAP).

docs/ROS2.md is the user's guide. Importing this package imports no ROS: rclpy and the message
packages (the ``ros2`` extra) are imported by :mod:`~plansentry.ros2.node` alone, when the command
runs, so the rest of plansentry never needs them.
"""

from __future__ import annotations

__all__: list[str] = []
