"""Execution by rware itself: a fleet controller that turns each decided plan into rware actions and
steps a real rware ``Warehouse`` with several robots, and a checker that reads what happened from
rware's state after each step, sharing no rule with the kit.

- :func:`make_env`: a headless rware 2.0.0 warehouse (``render_mode=None``; rware imports its
  pyglet viewer only in ``render()``, which nothing here calls);
- :func:`read_state`: rware's state as plain data (:class:`State`), read from the environment's
  own objects (agents, shelves, request queue), never from the kit's view;
- :class:`Checker`: the independent judge. After each step it counts, from :class:`State` and
  rware's rewards alone: deliveries (rware's own reward, one per requested shelf brought to a
  goal), steps, moves rware refused (a ``FORWARD`` whose ``req_action`` rware set back to
  ``NOOP``, split by what stood in the target cell), loaded robots on a cell where another shelf
  stands, robots that have not moved for ``stall_steps`` steps (a deadlock, or a robot told to
  stay), and the requests still waiting at the end with their age;
- :class:`Fleet`: the controller. A robot without a plan asks its :class:`Decider` for one (a
  context built from rware's state: task, robot, requests not yet taken by another robot, the
  standing shelves, where the other robots stand and where their plans will put shelves down),
  then follows it: it turns to face the
  next cell (``LEFT``/``RIGHT``) and drives ``FORWARD``, lifts the shelf on its cell
  (``TOGGLE_LOAD``), drives to the goal and back, and puts the shelf down. A plan whose next cell
  is not one step away, or off the floor, cannot be driven: the robot halts (``broken``). A robot
  whose moves rware refuses ``stuck_steps`` times in a row drops its plan and asks again.

Each executed plan's fate as rware saw it is kept (:class:`PlanRecord`), beside the gate's
verdict on it where the decider gives one, and :func:`rware_judgement` sums it up in a word: the
two judges side by side.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, final

from plansentry_rware.context import Robot, RwareContext
from plansentry_rware.examples import COLUMN_HEIGHT, SIZES
from plansentry_rware.layout import Cell, Layout, layout_from_env
from plansentry_rware.schema import RwarePlan

NOOP: Final = 0
FORWARD: Final = 1
LEFT: Final = 2
RIGHT: Final = 3
TOGGLE_LOAD: Final = 4

#: rware's ``Direction`` values, and the clockwise order its ``RIGHT`` turns through.
UP, DOWN, WEST, EAST = 0, 1, 2, 3
_CLOCKWISE: Final = (UP, EAST, DOWN, WEST)
_HEADING: Final = {(0, -1): UP, (0, 1): DOWN, (-1, 0): WEST, (1, 0): EAST}


def make_env(
    size: str = "tiny",
    *,
    robots: int = 2,
    requests: int | None = None,
    seed: int = 0,
) -> Any:
    """A headless rware warehouse of a registered ``size``, reset with ``seed`` (requests: the
    request queue's length, default ``robots``, as rware's ``-v2`` tasks have it)."""
    from rware.warehouse import ObservationType, RewardType, Warehouse

    shelf_rows, shelf_columns = SIZES[size]
    env = Warehouse(
        shelf_columns=shelf_columns,
        column_height=COLUMN_HEIGHT,
        shelf_rows=shelf_rows,
        n_agents=robots,
        msg_bits=0,
        sensor_range=1,
        request_queue_size=requests if requests is not None else robots,
        max_inactivity_steps=None,
        max_steps=None,
        reward_type=RewardType.INDIVIDUAL,
        observation_type=ObservationType.FLATTENED,
        render_mode=None,
    )
    env.reset(seed=seed)
    return env


@final
@dataclass(frozen=True, slots=True)
class State:
    """rware's state after a step, as plain data."""

    positions: tuple[Cell, ...]
    directions: tuple[int, ...]
    carrying: tuple[int | None, ...]
    req_actions: tuple[int, ...]
    shelves: tuple[tuple[int, Cell], ...]  # every shelf, carried ones at their robot's cell
    requests: tuple[int, ...]


def read_state(env: Any) -> State:
    """rware's own state (see the module docstring)."""
    wh = env.unwrapped
    agents = wh.agents
    return State(
        positions=tuple((int(a.x), int(a.y)) for a in agents),
        directions=tuple(int(a.dir.value) for a in agents),
        carrying=tuple(
            None if a.carrying_shelf is None else int(a.carrying_shelf.id) for a in agents
        ),
        req_actions=tuple(
            NOOP if a.req_action is None else int(a.req_action.value) for a in agents
        ),
        shelves=tuple((int(s.id), (int(s.x), int(s.y))) for s in wh.shelfs),
        requests=tuple(int(s.id) for s in wh.request_queue),
    )


@final
@dataclass(slots=True)
class Counts:
    """What rware's checker counted (see :class:`Checker`)."""

    steps: int = 0
    robot_steps: int = 0
    deliveries: int = 0
    forward_moves: int = 0
    refused_moves: int = 0
    refused_by_shelf: int = 0
    refused_by_robot: int = 0
    refused_other: int = 0
    loaded_on_shelf: int = 0
    stalls: int = 0
    requests_waiting: int = 0
    oldest_request_steps: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


@final
class Checker:
    """rware's judge: reads :class:`State` before and after each step and rware's rewards; knows
    nothing of the kit's rules. ``stall_steps``: a robot that has not changed cell for this many
    steps is counted once as a stall (again after it moves and stops again)."""

    def __init__(self, first: State, *, stall_steps: int = 20) -> None:
        self.counts = Counts()
        self.stall_steps = stall_steps
        self._still = [0] * len(first.positions)
        self._since = {r: 0 for r in first.requests}
        self._prev = first

    def observe(self, actions: list[int], rewards: list[float], now: State) -> list[str]:
        """Count one step (``actions`` sent, ``rewards`` rware returned, ``now`` the state after
        it); returns, per robot, why a forward move was refused (``""``: not refused)."""
        c, prev = self.counts, self._prev
        c.steps += 1
        c.robot_steps += len(actions)
        c.deliveries += round(float(sum(rewards)))
        standing = {}
        for sid, cell in prev.shelves:
            if sid not in prev.carrying:
                standing[cell] = sid
        occupied = set(prev.positions)
        why = [""] * len(actions)
        for i, action in enumerate(actions):
            if action != FORWARD:
                continue
            c.forward_moves += 1
            if now.req_actions[i] != NOOP and now.positions[i] != prev.positions[i]:
                continue
            if now.req_actions[i] == FORWARD:  # into the wall: rware kept it in place
                c.refused_other += 1
                why[i] = "edge"
                c.refused_moves += 1
                continue
            c.refused_moves += 1
            target = _ahead(prev.positions[i], prev.directions[i])
            if prev.carrying[i] is not None and target in standing:
                c.refused_by_shelf += 1
                why[i] = "shelf"
            elif target in occupied:
                c.refused_by_robot += 1
                why[i] = "robot"
            else:
                c.refused_other += 1
                why[i] = "other"
        now_standing: dict[Cell, list[int]] = {}
        for sid, cell in now.shelves:
            now_standing.setdefault(cell, []).append(sid)
        for i, carried in enumerate(now.carrying):
            if carried is not None and len(now_standing.get(now.positions[i], ())) > 1:
                c.loaded_on_shelf += 1
            if now.positions[i] == prev.positions[i]:
                self._still[i] += 1
                if self._still[i] == self.stall_steps:
                    c.stalls += 1
            else:
                self._still[i] = 0
        for r in now.requests:
            self._since.setdefault(r, c.steps)
        for r in list(self._since):
            if r not in now.requests:
                del self._since[r]
        c.requests_waiting = len(self._since)
        c.oldest_request_steps = max((c.steps - s for s in self._since.values()), default=0)
        self._prev = now
        return why


def _ahead(cell: Cell, direction: int) -> Cell:
    x, y = cell
    return {UP: (x, y - 1), DOWN: (x, y + 1), WEST: (x - 1, y), EAST: (x + 1, y)}[direction]


@final
@dataclass(frozen=True, slots=True)
class Order:
    """A decider's answer for one robot: the plan to drive (``None``: stay this step), the steps to
    stand still first (waiting for an answer, or a restart), who planned it (``source``), and the
    gate's verdict on the model's text where one was made (``verdict``: ``""`` accepted, else the
    failure mode and rules; ``None``: not judged), and how the answer was written (``kind``)."""

    plan: RwarePlan | None
    wait_steps: int = 0
    source: str = ""
    verdict: str | None = None
    kind: str = ""


class Decider(Protocol):
    """Decides one robot's next plan (the classical planner, the guard, an unguarded controller)."""

    def __call__(self, ctx: RwareContext, step: int) -> Order: ...


@final
@dataclass(slots=True)
class PlanRecord:
    """One plan as rware executed it: ``outcome`` is ``completed``, ``broken`` (not drivable),
    ``abandoned`` (refused ``stuck_steps`` times in a row) or ``running`` (the run ended)."""

    robot: int
    step: int
    plan: RwarePlan
    source: str
    verdict: str | None
    kind: str
    outcome: str = "running"
    delivered: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    loaded_on_shelf: int = 0
    crossed_empty_home: int = 0
    detail: str = ""


@final
@dataclass(slots=True)
class _Driving:
    record: PlanRecord
    ops: list[tuple[str, Cell | None]]
    refused_in_a_row: int = 0
    pending: str = ""  # "load" / "unload": a toggle sent, its effect read next step


def rware_judgement(rec: PlanRecord) -> str:
    """How rware's execution judged one plan: ``good``, ``bad:<why>``, ``blocked`` (rware refused
    its moves into other robots until the controller gave it up), ``idle`` (a plan without a
    single cell) or ``running`` (the run ended first)."""
    if not rec.plan.cells():
        return "idle"  # no leg at all: the robot toggled its load where it stood
    if rec.outcome == "broken":
        return "bad:not drivable (" + rec.detail.split(" is not")[0] + ")"
    if rec.refused.get("shelf"):
        return "bad:rware refused a loaded move into a standing shelf"
    if rec.loaded_on_shelf:
        return "bad:a loaded robot stood on a shelf"
    if rec.outcome == "completed":
        if rec.plan.to_goal and not rec.delivered:
            return "bad:driven to the end, nothing delivered"
        return "good"
    if rec.outcome == "abandoned":
        if rec.detail.startswith("rware kept the shelf"):
            return "bad:rware would not let the shelf down (a highway cell)"
        return "blocked"
    return "running"


def _ops(plan: RwarePlan, loaded: bool) -> list[tuple[str, Cell | None]]:
    ops: list[tuple[str, Cell | None]] = [("move", c) for c in plan.to_shelf]
    if not loaded:
        ops.append(("load", None))
    ops += [("move", c) for c in plan.to_goal]
    ops += [("move", c) for c in plan.back]
    ops.append(("unload", None))
    return ops


def _turn(facing: int, want: int) -> int:
    i, j = _CLOCKWISE.index(facing), _CLOCKWISE.index(want)
    return LEFT if (j - i) % 4 == 3 else RIGHT


@final
class Fleet:
    """Several robots in one rware warehouse, each driven by ``decide`` (see the module
    docstring). ``restart_steps``: how long a robot halts when a plan cannot be driven."""

    def __init__(
        self,
        env: Any,
        decide: Decider,
        *,
        stuck_steps: int = 4,
        restart_steps: int = 12,
        stall_steps: int = 20,
        on_step: Callable[[Fleet], None] | None = None,
    ) -> None:
        self.env = env
        self.decide = decide
        self.stuck_steps = stuck_steps
        self.restart_steps = restart_steps
        self.layout: Layout = layout_from_env(env)
        self.state = read_state(env)
        self.checker = Checker(self.state, stall_steps=stall_steps)
        n = len(self.state.positions)
        self._driving: list[_Driving | None] = [None] * n
        self._wait = [0] * n
        self._tasks = [0] * n
        self.records: list[PlanRecord] = []
        self.sources: Counter[str] = Counter()  # every order's source (``pilot:restart``...)
        self.on_step = on_step
        self.step_no = 0

    @property
    def counts(self) -> Counts:
        return self.checker.counts

    def context(self, i: int) -> RwareContext:
        """Robot ``i``'s decision context, from rware's state."""
        s = self.state
        claimed = {d.record.plan.shelf for j, d in enumerate(self._driving) if d and j != i}
        drops = {
            d.record.plan.back[-1]
            for j, d in enumerate(self._driving)
            if d and j != i and d.record.plan.back
        }
        carried = {c for c in s.carrying if c is not None}
        self._tasks[i] += 1
        return RwareContext(
            task_id=f"R{i + 1}-{self._tasks[i]}",
            robot=Robot(f"R{i + 1}", s.positions[i], s.carrying[i]),
            requests=tuple(r for r in s.requests if r not in claimed and r not in carried),
            shelves=tuple((sid, cell) for sid, cell in s.shelves if sid not in carried),
            reserved=frozenset(p for j, p in enumerate(s.positions) if j != i),
            layout=self.layout,
            claimed=frozenset(drops),
        )

    def run(self, steps: int) -> Counts:
        """Step rware ``steps`` times; the checker's counts."""
        for _ in range(steps):
            self.step()
        return self.counts

    def step(self) -> None:
        s = self.state
        actions = []
        for i in range(len(s.positions)):
            actions.append(self._action(i))
        _obs, rewards, _done, _trunc, _info = self.env.step(actions)
        now = read_state(self.env)
        why = self.checker.observe(actions, list(rewards), now)
        for i, d in enumerate(self._driving):
            if d is None:
                continue
            rec = d.record
            rec.delivered += round(float(rewards[i]))
            if why[i]:
                rec.refused[why[i]] = rec.refused.get(why[i], 0) + 1
                d.refused_in_a_row += 1
                if d.refused_in_a_row >= self.stuck_steps:
                    self._finish(i, "abandoned", f"refused {d.refused_in_a_row} times in a row")
                    continue
            elif actions[i] == FORWARD:
                d.refused_in_a_row = 0
                cell = now.positions[i]
                loaded_home = now.carrying[i] is not None and cell in self.layout.shelf_homes
                # not the drop cell: its move and the unload are then all that is left
                if loaded_home and d.ops[:1] == [("move", cell)] and len(d.ops) > 2:
                    rec.crossed_empty_home += 1
            if now.carrying[i] is not None:
                mine = {sid for sid, c in now.shelves if c == now.positions[i]}
                if len(mine) > 1:
                    rec.loaded_on_shelf += 1
        self.state = now
        self.step_no += 1
        if self.on_step is not None:
            self.on_step(self)

    def _finish(self, i: int, outcome: str, detail: str = "") -> None:
        d = self._driving[i]
        if d is not None:
            d.record.outcome = outcome
            d.record.detail = detail
        self._driving[i] = None

    def _action(self, i: int) -> int:
        if self._wait[i] > 0:
            self._wait[i] -= 1
            return NOOP
        d = self._driving[i]
        if d is None:
            order = self.decide(self.context(i), self.step_no)
            self.sources[order.source] += 1
            if order.plan is None:
                self._wait[i] = max(0, order.wait_steps - 1)
                return NOOP
            loaded = self.state.carrying[i] is not None
            rec = PlanRecord(i, self.step_no, order.plan, order.source, order.verdict, order.kind)
            self.records.append(rec)
            d = self._driving[i] = _Driving(rec, _ops(order.plan, loaded))
            if order.wait_steps > 0:
                self._wait[i] = order.wait_steps - 1
                return NOOP
        return self._drive(i, d)

    def _drive(self, i: int, d: _Driving) -> int:
        s = self.state
        pos, carrying = s.positions[i], s.carrying[i]
        if d.pending == "load":
            d.pending = ""
            if carrying is None:
                self._halt(i, "no shelf to lift on its cell")
                return NOOP
            d.ops.pop(0)
        elif d.pending == "unload":
            d.pending = ""
            if carrying is not None:
                self._finish(i, "abandoned", "rware kept the shelf on the robot (a highway cell)")
                return NOOP
            d.ops.pop(0)
        while d.ops and d.ops[0][0] == "move" and d.ops[0][1] == pos:
            d.ops.pop(0)
        if not d.ops:
            self._finish(i, "completed")
            return NOOP
        op, cell = d.ops[0]
        if op == "load":
            if carrying is not None:
                d.ops.pop(0)
                return self._drive(i, d)
            d.pending = "load"
            return TOGGLE_LOAD
        if op == "unload":
            d.pending = "unload"
            return TOGGLE_LOAD
        assert cell is not None
        step = (cell[0] - pos[0], cell[1] - pos[1])
        want = _HEADING.get(step)
        if want is None or not self.layout.inside(cell):
            self._halt(i, f"next cell {list(cell)} is not one step from {list(pos)}")
            return NOOP
        facing = s.directions[i]
        return FORWARD if facing == want else _turn(facing, want)

    def _halt(self, i: int, why: str) -> None:
        self._finish(i, "broken", why)
        self._wait[i] = self.restart_steps


def wilson_per_1000(successes: int, trials: int) -> tuple[float, float, float]:
    """``successes`` per 1,000 ``trials`` and its 95 % Wilson interval (plansentry.report.stats)."""
    from plansentry.report.stats import wilson

    lo, hi = wilson(successes, trials)
    rate = successes / trials if trials else math.nan
    return 1000 * rate, 1000 * lo, 1000 * hi
