"""The rclpy node: the guard of one kit behind ``~/request`` and ``~/decision``, and its health on
``/diagnostics``. The only module of plansentry that imports ROS (rclpy, ``std_msgs``,
``diagnostic_msgs``, ``rcl_interfaces``: the ``ros2`` extra).

Threads: the ROS executor (one thread) only takes messages off DDS: a request's callback reads
the receipt instant and hands the text to an asyncio loop in a thread of its own, where every
call to the :class:`~plansentry.serve.service.Service` is made, as in ``plansentry serve``: the
request is parsed, the decision awaited by its deadline (the model's synchronous calls on the
runtime's worker threads), and the reply published from there. A slow decision never holds the
executor, so a request is stamped at receipt however many wait.

QoS of ``~/request`` and ``~/decision`` (:func:`request_qos`): reliable (a lost request costs a
robot its whole timeout, and DDS resends on loopback in microseconds), volatile (a request
stored for a node that joins later would be decided past its budget, and a decision stored for a
robot that joins later answers nothing it asked), keep-last with ``qos_depth`` (64: a burst of
every robot's ask and decide at once, with room). ``/diagnostics``: reliable, volatile, depth 10,
as ``diagnostic_updater`` publishes it, so that any aggregator matches.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from typing import Any, Final, final

import msgspec
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (
    IntegerRange,
    ParameterDescriptor,
    ParameterType,
    SetParametersResult,
)
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from plansentry.core.errors import ConfigError, PlansentryError
from plansentry.ros2 import protocol
from plansentry.ros2.health import Since, Tally, health
from plansentry.ros2.params import PARAMETERS, Settings, Spec, api_key, check_robots, settings
from plansentry.serve.errors import RequestError
from plansentry.serve.service import Service

log = logging.getLogger("plansentry.ros2")

#: How often ``/diagnostics`` is published and expired tickets are swept.
PERIOD_S: Final = 1.0
#: A ticket id that is never handed out: a ticket another robot holds is unknown to this one.
_FOREIGN: Final = ""
_ENCODER: Final = msgspec.json.Encoder()
_TYPES: Final = {
    "str": ParameterType.PARAMETER_STRING,
    "int": ParameterType.PARAMETER_INTEGER,
    "str[]": ParameterType.PARAMETER_STRING_ARRAY,
}


def request_qos(depth: int) -> QoSProfile:
    """The QoS of ``~/request`` and ``~/decision`` (the module docstring says why)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


DIAGNOSTICS_QOS: Final = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)


def descriptor(spec: Spec) -> ParameterDescriptor:
    """The descriptor ``ros2 param describe`` shows for ``spec``: a ``double`` is dynamically
    typed, so that ``150`` is taken for ``150.0`` (:mod:`plansentry.ros2.params`)."""
    d = ParameterDescriptor(
        name=spec.name,
        description=spec.description,
        read_only=spec.read_only,
        dynamic_typing=spec.kind == "float",
    )
    if spec.kind != "float":
        d.type = _TYPES[spec.kind]
    if spec.kind == "int" and spec.low is not None and spec.high is not None:
        d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=0)]
    if spec.kind == "float" and spec.low is not None and spec.high is not None:
        d.additional_constraints = f"a number in [{spec.low:g}, {spec.high:g}]"
    return d


def declare(node: Node) -> dict[str, Any]:
    """Declare every parameter on ``node``; the values it was given (overrides, else defaults).
    A value of the wrong type or out of range is a :class:`ConfigError` naming the parameter."""
    from rclpy.exceptions import ParameterException

    values: dict[str, Any] = {}
    for spec in PARAMETERS:
        default: Any = spec.default
        if spec.kind == "str[]":
            default = Parameter.Type.STRING_ARRAY
        try:
            param = node.declare_parameter(spec.name, default, descriptor(spec))
        except ParameterException as exc:
            raise ConfigError(f"parameter {spec.name}: {_first_line(exc)}") from None
        values[spec.name] = param.value
    return values


def _kit_and_planner(s: Settings) -> tuple[Any, Any]:
    """The kit and the planner the parameters name; an error names the parameter at fault."""
    from plansentry.runtime.kit import load_kit
    from plansentry.serve.upstream import make_planner

    try:
        kit = load_kit(s.serve.kit, params=s.serve.kit_params)
    except PlansentryError as exc:
        raise ConfigError(f"parameter kit: {exc}") from None
    key = api_key(s)
    try:
        planner = make_planner(s.serve, kit, api_key=key)
    except PlansentryError as exc:
        raise ConfigError(f"parameter upstream: {exc}") from None
    return kit, planner


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@final
class GuardNode:
    """The node named ``name`` in ``context``, its service, loop and executor (see the module
    docstring). Building it declares and checks the parameters (a :class:`ConfigError` for a bad
    one) and builds the service (loads the kit, the planner, opens the audit log); :meth:`start`
    takes requests; :meth:`stop` drains and closes everything."""

    def __init__(self, context: Context, *, name: str = "plansentry", meta: dict[str, Any]) -> None:
        self.context = context
        self.node = Node(name, context=context)
        try:
            self.settings: Settings = settings(declare(self.node))
            self.tally = Tally()
            cfg = self.settings.serve
            kit, planner = _kit_and_planner(self.settings)
            self.service = Service(
                cfg,
                kit=kit,
                planner=planner,
                hooks=[self.tally],
                meta={"ros2": {"node": self.node.get_fully_qualified_name(), **meta}},
            )
        except BaseException:
            self.node.destroy_node()
            raise
        self.robots = self.settings.robots
        self.refused = 0
        self.draining = False
        self._since = Since()
        self._pending: set[asyncio.Future[None]] = set()
        self.loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self.loop.run_forever, name="plansentry-ros2-loop", daemon=True
        )
        qos = request_qos(self.settings.qos_depth)
        self.decisions = self.node.create_publisher(String, "~/decision", qos)
        self.diagnostics = self.node.create_publisher(
            DiagnosticArray, "/diagnostics", DIAGNOSTICS_QOS
        )
        self.requests = self.node.create_subscription(String, "~/request", self._on_request, qos)
        self.node.add_on_set_parameters_callback(self._on_set)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self._spin_thread = threading.Thread(
            target=self._spin, name="plansentry-ros2-executor", daemon=True
        )
        self._periodic: concurrent.futures.Future[None] | None = None

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._loop_thread.start()
        self._periodic = asyncio.run_coroutine_threadsafe(self._every_period(), self.loop)
        self._spin_thread.start()

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        with contextlib.suppress(ExternalShutdownException):
            self.executor.spin()

    def stop(self, *, drain_s: float) -> int:
        """Take no more requests, let those taken finish by their deadlines (at most ``drain_s``),
        then stop the model calls, close the audit log and leave the ROS graph. Returns how many
        requests were still unanswered at ``drain_s`` (0 when the drain completed)."""
        self.draining = True
        left = 0
        if self._loop_thread.is_alive():
            try:
                left = asyncio.run_coroutine_threadsafe(self._drain(drain_s), self.loop).result(
                    drain_s + 5
                )
            except Exception:
                log.exception("draining failed")
        self.service.close()
        self.executor.shutdown(timeout_sec=2)
        self.node.destroy_node()
        if self._loop_thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._loop_thread.join(5)
        if self._spin_thread.is_alive():
            self._spin_thread.join(5)
        return left

    async def _drain(self, drain_s: float) -> int:
        if self._periodic is not None:
            self._periodic.cancel()
        pending = [f for f in self._pending if not f.done()]
        if pending:
            _, left = await asyncio.wait(pending, timeout=drain_s)
            return len(left)
        return 0

    # -- requests ----------------------------------------------------------------------------

    def _on_request(self, msg: String) -> None:
        """On the executor's thread: stamp the receipt, hand the text to the loop."""
        received_ns = self.service.clock.now_ns()
        if self.draining:
            return  # stopping: the robot's own timeout answers it, as documented
        with contextlib.suppress(RuntimeError):  # the loop has closed: stopping
            self.loop.call_soon_threadsafe(self._take, msg.data, received_ns)

    def _take(self, text: str, received_ns: int) -> None:
        task = self.loop.create_task(self._handle(text, received_ns))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _handle(self, text: str, received_ns: int) -> None:
        req: protocol.Request | None = None
        try:
            req = protocol.parse(
                text, max_bytes=self.settings.serve.max_body_bytes, robots=self.robots
            )
            out = await self._answer(req, received_ns)
        except protocol.Refusal as refusal:
            self.refused += 1
            out = protocol.error_reply(refusal)
        except RequestError as exc:
            assert req is not None
            self.refused += 1
            out = protocol.error_reply(protocol.Refusal(exc, req.robot_id, req.request_id))
        except Exception as exc:  # a bug must cost one reply, never the node
            log.exception("a request failed")
            out = protocol.reply(
                "error",
                req.robot_id if req is not None else None,
                req.request_id if req is not None else None,
                error={
                    "message": f"internal error: {_first_line(exc)}",
                    "type": "internal_error",
                    "param": None,
                    "code": "internal",
                },
            )
        self._publish(out)

    async def _answer(self, req: protocol.Request, received_ns: int) -> dict[str, Any]:
        service = self.service
        rid = protocol.audit_id(req)
        if req.op == "ask":
            ctx = service.context(req.context)
            ticket = service.ask_ahead(ctx, ttl_s=req.ttl_s, request_id=rid)
            return protocol.reply("ticket", req.robot_id, req.request_id, ticket=ticket)
        if req.op == "cancel":
            assert req.ticket is not None
            ok = self._owns(req) and service.cancel(req.ticket)
            return protocol.reply("cancelled", req.robot_id, req.request_id, cancelled=ok)
        budget_ns = service.budget_ns(req.budget_ms)
        ctx = None if req.context is None else service.context(req.context)
        ticket_id = req.ticket
        if ticket_id is not None and not self._owns(req):
            ticket_id = _FOREIGN
        decision, state = await service.decide(
            received_ns=received_ns,
            budget_ns=budget_ns,
            ticket_id=ticket_id,
            context=ctx,
            request_id=rid,
        )
        body = service.decision_json(
            decision, received_ns=received_ns, budget_ns=budget_ns, ticket=state
        )
        return protocol.reply("decision", req.robot_id, req.request_id, decision=body)

    def _owns(self, req: protocol.Request) -> bool:
        """Whether the ticket ``req`` names was asked by ``req``'s robot (tickets cross one topic
        that every robot reads: one robot must not spend another's)."""
        held = self.service.tickets.peek(req.ticket or _FOREIGN)
        return held is not None and held.request_id.startswith(req.robot_id + "/")

    def _publish(self, out: dict[str, Any]) -> None:
        try:
            self.decisions.publish(String(data=_ENCODER.encode(out).decode()))
        except Exception:  # the context is shutting down
            log.warning("a reply could not be published (the node is stopping)")

    # -- parameters and health -----------------------------------------------------------------

    def _on_set(self, params: list[Parameter[Any]]) -> SetParametersResult:
        """Only ``robots`` may change at run time (ROS refuses the read-only ones itself)."""
        for p in params:
            if p.name == "robots":
                try:
                    self.robots = check_robots(p.value or [])
                except ConfigError as exc:
                    return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    async def _every_period(self) -> None:
        while True:
            await asyncio.sleep(PERIOD_S)
            try:
                self.service.expire_tickets()
                self.publish_health()
            except Exception:
                log.exception("the periodic report failed")

    def publish_health(self) -> None:
        service = self.service
        state = service.guard.state
        now = service.clock.now_ns()
        h = health(
            self.tally,
            self._since,
            state=state.state,
            breaker=state.breaker.phase.value,
            skipped=service.guard.skip_reason(now),
            stuck_workers=service.runtime.stuck_workers,
            overloaded=service.overloaded,
            refused=self.refused,
            extra={
                "kit": service.kit.name,
                "rules_version": service.kit.rules_version,
                "tickets": len(service.tickets),
                "inflight": service.inflight,
            },
        )
        status = DiagnosticStatus(
            level=bytes([h.level]),
            name=f"plansentry: {self.node.get_fully_qualified_name()}",
            message=h.message,
            hardware_id=service.kit.name,
            values=[KeyValue(key=k, value=v) for k, v in h.values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.node.get_clock().now().to_msg()
        self.diagnostics.publish(array)
