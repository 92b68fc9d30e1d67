"""Replications and the engines that run them: a whole run of the fleet simulator.

One run is split into replications of a fixed size (``cycles_per_replication`` cycles, or
``hours_per_replication`` hours). Each replication is a complete, independent fleet simulation with
its own seed, derived from the run's seed and the replication's index, so a run gives the same figures
whether its replications run in one process or in many (``--workers``, or Ray), and in any order.

Inside a replication the same stream of tasks is worked by each controller in turn, each in its own
SimPy environment. A cycle is one decision point: a robot ready to start a task (a requeued one
included). While it executes a task it asks the model for its next one (plan ahead); the answer is
needed at the next decision point. With ``plan_ahead=False`` it asks at the decision point (a
safe move asks again as it starts to hold, either way).

With an audit directory (``simulate --audit-log``), the guarded controller at the run's budget
writes its decisions, as the audit log does, to one part file per replication
(:func:`audit_part`); :func:`merge_audit` joins them in replication order.
"""

from __future__ import annotations

import collections
import functools
import os
import random
import shutil
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, final

import simpy

from plansentry.report.tally import Tally
from plansentry.runtime.world import Task
from plansentry.sim.config import SimConfig, SimConfigError, int_at_least
from plansentry.sim.controllers import (
    Controller,
    GuardedController,
    Job,
    OracleController,
    PilotGuardController,
    UnguardedController,
)
from plansentry.sim.scene import Scene, scene_for


@final
class _Dispatch:
    """The task backlog of one controller: new tasks until the replication's end, requeued first."""

    def __init__(
        self,
        env: simpy.Environment,
        tasks: list[Task[Any]],
        extend: Callable[[], None],
        cycles: int | None,
        hours: float | None,
        startup_s: float,
    ) -> None:
        self.env = env
        self.tasks = tasks
        self.extend = extend
        self.cycles = cycles
        self.until = None if hours is None else startup_s + hours * 3600
        self.issued = 0
        self.requeued: collections.deque[Job] = collections.deque()

    def take(self) -> Job | None:
        if self.requeued:
            return self.requeued.popleft()
        if self.cycles is not None and self.issued >= self.cycles:
            return None
        if self.until is not None and self.env.now >= self.until:
            return None
        while self.issued >= len(self.tasks):
            self.extend()
        job = Job(self.tasks[self.issued], self.issued)
        self.issued += 1
        return job


def run_replication(
    scene: Scene,
    index: int,
    cycles: int | None,
    hours: float | None,
    budgets: tuple[float, ...],
    *,
    audit_dir: str | None = None,
) -> dict[str, Tally]:
    """One replication: every controller (each guard at every budget) on the same tasks. With
    ``audit_dir``, the guarded controller at the run's budget writes its audit log there
    (:func:`audit_part`)."""
    cfg = scene.config
    seed = random.Random(f"plansentry-sim:{cfg.seed}:{index}").getrandbits(48)
    stream = scene.world.tasks(random.Random(seed), f"R{index:03d}")
    tasks: list[Task[Any]] = []

    def extend() -> None:
        for _ in range(1_000):
            tasks.append(next(stream))

    out: dict[str, Tally] = {}
    runs: list[tuple[str, Callable[[], Controller]]] = []
    if "unguarded" in cfg.controllers:
        runs.append(("unguarded", lambda: UnguardedController(scene, seed)))
    if "guarded" in cfg.controllers:
        for b in budgets:
            make = functools.partial(GuardedController, scene, seed, b)
            if audit_dir is not None and b == cfg.budget_ms:
                make = functools.partial(_logged_guarded, scene, seed, b, audit_dir, index)
            runs.append((_key("guarded", b, cfg), make))
    if "pilot_guard" in cfg.controllers:
        for b in budgets:
            runs.append(
                (
                    _key("pilot_guard", b, cfg),
                    functools.partial(PilotGuardController, scene, seed, b),
                )
            )
    if "oracle" in cfg.controllers:
        runs.append(("oracle", lambda: OracleController(scene, seed)))
    for key, make_controller in runs:
        env = simpy.Environment()
        dispatch = _Dispatch(env, tasks, extend, cycles, hours, cfg.startup_s)
        ctl = make_controller()
        try:
            for r in range(cfg.robots):
                env.process(_robot(env, ctl, dispatch, f"R{r + 1}", scene.start(r)))
            env.run()
        finally:
            for hook in getattr(ctl, "hooks", ()):
                hook.close()
        out[key] = ctl.tally
    return out


def audit_part(audit_dir: str, index: int) -> Path:
    """The part file of replication ``index``'s audit log in ``audit_dir``."""
    return Path(audit_dir) / f"replication-{index:06d}.jsonl"


def _logged_guarded(
    scene: Scene, seed: int, budget_ms: float, audit_dir: str, index: int
) -> GuardedController:
    """The guarded controller with an audit log of its own replication: a header (a fresh
    guard, which is what a header means to replay) naming the kit, the run and the replication."""
    from plansentry.telemetry.audit import AuditLog

    kit, config = GuardedController.setup(scene, budget_ms)
    part = audit_part(audit_dir, index)
    part.unlink(missing_ok=True)  # a re-run replication (a retried worker) starts its part anew
    log = AuditLog(
        part,
        kit=kit,
        config=config,
        meta={
            "simulated": True,
            "seed": scene.config.seed,
            "replication": index,
            "profile": scene.config.profile.name,
        },
    )
    return GuardedController(scene, seed, budget_ms, hooks=(log,))


def merge_audit(audit_dir: str, indices: Sequence[int], target: str | Path) -> int:
    """Append the part files of replications ``indices``, in that order, to ``target``, streaming
    (one buffer at a time), and delete them; returns the bytes written. A ``target`` whose last
    line a crash tore gets a newline first, as the audit log does on reopening."""
    written = 0
    fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(fd, "ab") as out:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            written += out.write(b"\n")
        for i in indices:
            part = audit_part(audit_dir, i)
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            written += part.stat().st_size
            part.unlink()
    return written


def _key(name: str, budget_ms: float, cfg: SimConfig) -> str:
    return name if budget_ms == cfg.budget_ms else f"{name}@{budget_ms:g}"


def _robot(
    env: simpy.Environment, ctl: Controller, dispatch: _Dispatch, name: str, start: Any
) -> Generator[simpy.Event, Any, None]:
    cfg = ctl.scene.config
    plan_ahead = cfg.plan_ahead
    job = dispatch.take()
    pending = None
    if job is not None and plan_ahead:
        pending = ctl.ask(job, name, start, 0.0)
    yield env.timeout(cfg.startup_s)
    if job is not None and not plan_ahead:
        pending = ctl.ask(job, name, start, env.now)
    began = env.now
    while job is not None and pending is not None:
        t = env.now
        step = ctl.cycle(pending, t)
        if step.requeue:
            job.attempt += 1
            dispatch.requeued.append(job)
        job = dispatch.take()
        if job is None:
            pending = None
        elif plan_ahead or step.requeue:
            # A safe move asks again as it starts to hold, with or without plan-ahead.
            pending = ctl.ask(job, name, step.end, t + step.ask_after_s)
        else:
            yield env.timeout(step.busy_s)  # at the next decision point, then ask
            pending = ctl.ask(job, name, step.end, env.now)
            continue
        yield env.timeout(step.busy_s)
    ctl.tally.robot_s += env.now - began


# ----------------------------------------------------------------------------------------------
# A whole run: replications are the units of work an engine runs anywhere

#: config, replication index, cycles, hours; and, only for a run that writes an audit log, the
#: directory of its part files.
Unit = (
    tuple[SimConfig, int, int | None, float | None]
    | tuple[SimConfig, int, int | None, float | None, str]
)
Result = dict[str, Tally]


def run_unit(unit: Unit) -> Result:
    """One replication of one configuration (what an engine distributes)."""
    config, index, cycles, hours = unit[:4]
    audit_dir = unit[4] if len(unit) > 4 else None
    return run_replication(
        scene_for(config), index, cycles, hours, budgets_of(config), audit_dir=audit_dir
    )


def merge_results(results: Sequence[Result]) -> dict[str, Tally]:
    """Tallies merged in the order given (replication order), whatever ran them."""
    merged: dict[str, Tally] = {}
    for result in results:
        for key, tally in result.items():
            merged.setdefault(key, Tally()).merge(tally)
    return merged


class Engine(Protocol):
    """Runs units anywhere and returns their results in the order given (local processes, Ray)."""

    name: str

    def map(self, units: Sequence[Unit], on_done: Callable[[int], None]) -> list[Result]: ...


@final
class LocalEngine:
    """Runs units in this process (``workers=1``) or in that many spawned processes; returns their
    results in the order given."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        int_at_least("workers", workers, 1)
        self.workers = workers

    def map(self, units: Sequence[Unit], on_done: Callable[[int], None]) -> list[Result]:
        if self.workers == 1 or len(units) == 1:
            out = []
            for unit in units:
                out.append(run_unit(unit))
                on_done(1)
            return out
        import concurrent.futures
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # no inherited threads or locks
        with concurrent.futures.ProcessPoolExecutor(
            min(self.workers, len(units)), mp_context=ctx
        ) as pool:
            futures = [pool.submit(run_unit, u) for u in units]
            for _ in concurrent.futures.as_completed(futures):
                on_done(1)
            return [f.result() for f in futures]


def budgets_of(config: SimConfig) -> tuple[float, ...]:
    """The guard budgets a run simulates: its own, then the sweep's."""
    return tuple(dict.fromkeys((config.budget_ms, *config.sweep_budgets_ms)))


@final
@dataclass(frozen=True, slots=True)
class SimRun:
    """A finished run: its configuration (``fallback_overrun_p`` resolved), each controller's
    merged tally (keys ``unguarded``, ``guarded``, ``pilot_guard``, ``oracle``, and
    ``guarded@<budget>`` and ``pilot_guard@<budget>`` for a sweep), and what its documents need
    of the world: the ``config`` the world lays out (its calibration included), the fallback's
    declared worst case and slowest measured run, and the world's notes on residual causes that
    cannot occur."""

    config: SimConfig
    tallies: dict[str, Tally]
    document_config: dict[str, Any]
    fallback_wcet_ms: float
    fallback_measured_max_ms: float
    notes: Mapping[str, str]


def finished(scene: Scene, tallies: dict[str, Tally]) -> SimRun:
    """The run of ``scene``'s configuration that gave ``tallies``."""
    time = scene.world.fallback_time
    return SimRun(
        scene.config,
        tallies,
        scene.document_config(),
        time.wcet_ms,
        time.quantiles_ms[-1],
        dict(scene.world.notes(scene.config.profile.faults)),
    )


def simulate(
    config: SimConfig,
    *,
    workers: int = 1,
    on_replication: Callable[[int, int], None] = lambda _done, _total: None,
    audit_log: str | Path | None = None,
) -> SimRun:
    """Run every replication (in ``workers`` processes) and merge them in replication order, so
    the figures do not depend on ``workers``. ``on_replication(done, total)`` reports progress.

    ``audit_log``: append the guarded controller's decisions (at the run's budget) to this file
    in the audit-log format, one header per replication, in replication order whatever
    ``workers`` is. Each replication streams its records to a part file beside the target (a
    temporary directory, removed after), and the parts are appended in order: memory does not
    grow with the log.
    """
    engine = LocalEngine(workers)
    scene = scene_for(config)  # here first: a bad kit, world or profile fails before any process
    config = scene.config  # fallback_overrun_p resolved: every worker runs the same figures
    reps = config.replications()
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        on_replication(done, len(reps))

    if audit_log is None:
        results = engine.map([(config, *rep) for rep in reps], tick)
        return finished(scene, merge_results(results))
    if "guarded" not in config.controllers:
        raise SimConfigError("an audit log needs the guarded controller")
    import tempfile

    target = Path(audit_log)
    with tempfile.TemporaryDirectory(prefix=".plansentry-audit-", dir=target.parent) as parts:
        results = engine.map([(config, *rep, parts) for rep in reps], tick)
        merge_audit(parts, [rep[0] for rep in reps], target)
    return finished(scene, merge_results(results))
