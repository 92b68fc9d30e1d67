"""``plansentry demo``: wiring, live terminal output and the end-of-run report."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import inspect
import json
import os
import sys
import time
from typing import IO, Any

from rich.console import Console

from plansentry.cli.fmli import print_matrix
from plansentry.core.errors import ConfigError
from plansentry.domains.warehouse.demo import (
    DemoConfig,
    DemoRecord,
    SerialModel,
    auto_time_scale,
    demo_orders,
    is_async,
    measure_unseen,
    meta,
    run_demo,
    summarize,
)
from plansentry.domains.warehouse.kit import warehouse_kit
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.order import Order
from plansentry.domains.warehouse.prompts import VARIANTS, PromptFor
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.runtime.planner import StopToken
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.telemetry.audit import AuditLog


def run(args: argparse.Namespace, out: IO[str]) -> int:
    auto = str(args.time_scale).strip().lower() == "auto"
    try:
        scale = 1.0 if auto else float(args.time_scale)
        config = DemoConfig(
            orders=args.orders, robots=args.robots, seed=args.seed, time_scale=scale
        )
    except ValueError as exc:
        why = f"--time-scale must be a number or auto ({exc})" if "convert" in str(exc) else exc
        raise ConfigError(str(why)) from None
    if args.prompt not in VARIANTS:
        raise ConfigError(f"--prompt {args.prompt!r} unknown; use one of {', '.join(VARIANTS)}")
    domain = WarehouseDomain(default_map())
    kit, wh = warehouse_kit(domain=domain), domain.wh
    guard_config = kit.config(budget_ms=args.budget_ms)
    planner, model_name, stops = _planner(args, wh)
    scale_note = ""
    if auto:
        generation_s = warm_up(planner, domain, demo_orders(wh, config)[0])
        scale, median_s = auto_time_scale(domain, config, generation_s)
        config = dataclasses.replace(config, time_scale=round(scale, 2))
        scale_note = (
            f" (auto: a warm-up plan took {generation_s:.1f} s, the median order {median_s:.0f} s "
            "of warehouse time)"
        )
    hooks: list[Any] = (
        [AuditLog(args.audit_log, kit=kit, config=guard_config, meta=meta(config))]
        if args.audit_log
        else []
    )
    metrics = None
    if args.metrics_port is not None:
        from plansentry.telemetry.metrics import GuardMetrics

        metrics = GuardMetrics()
        hooks.append(metrics)
    guard = kit.guard(config=guard_config, hooks=hooks)
    # Room for a call that was stopped at its deadline and is still letting go of the model.
    runtime = RealtimeRuntime(guard, workers=2 * config.robots + 1)
    serial = None if is_async(planner) else SerialModel(planner, runtime.clock.now_ns)
    console = Console(file=sys.stderr if args.json else out, highlight=False)
    if metrics is not None:
        try:
            port = metrics.serve(args.metrics_port)
        except OSError as exc:
            raise ConfigError(f"--metrics-port {args.metrics_port}: {exc}") from None
        Console(file=sys.stderr, highlight=False).print(f"metrics: http://127.0.0.1:{port}/metrics")
    if not args.json:
        console.print(
            f"[bold]plansentry demo[/]: {config.robots} robots, {config.orders} orders, budget "
            f"{args.budget_ms:g} ms, model {model_name} "
            f"({'constrained' if args.constrained else 'free'}, prompt {args.prompt}), one "
            f"generation at a time; warehouse time x{config.time_scale:g}{scale_note}"
        )

    def live(rec: DemoRecord) -> None:
        if args.json:
            return
        d = rec.decision
        latency = f"{d.latency_ns / 1e6:6.0f} ms" if d.latency_ns is not None else "      - "
        mode = d.failure_mode.value if d.failure_mode else "-"
        colour = "green" if d.accepted else ("red" if d.source == "safe_move" else "yellow")
        console.print(
            f"#{d.seq:<3} {rec.robot} {rec.order.order_id} [{colour}]{d.source:<9}[/] "
            f"model {latency} {mode:<9} {d.state_after.value:<9} "
            f"{'on time' if d.on_time else '[red]LATE[/]'}"
        )

    def measured(rec: DemoRecord) -> None:
        if args.json or rec.late is None:
            return
        late = rec.late
        what = "asked" if rec.decision.consulted else "not asked"
        total = (
            f"{(late.arrival.at_ns - late.asked_ns) / 1e6:6.0f} ms"
            if late.arrival.at_ns is not None and late.asked_ns is not None
            else "-"
        )
        gen = (late.generation_ns or 0) / 1e6
        console.print(
            f"#{rec.decision.seq:<3} {rec.robot} {rec.order.order_id} {what}: answered after "
            f"{total} (generation {gen:.0f} ms)"
        )

    try:
        run = run_demo(runtime, domain, serial or planner, config, on_record=live)
        unseen = sum(r.to_rerun for r in run.records)
        if unseen and not args.json:
            console.print(
                f"Measuring the {unseen} answers the fleet never saw (stopped at their cut-off, or "
                "skipped by the breaker): each prompt run again to completion, one at a time, "
                "after the fleet's run."
            )
        measure_unseen(
            run,
            guard,
            planner,
            clock=runtime.clock.now_ns,
            started=serial.started if serial is not None else None,
            on_measured=measured,
        )
    finally:
        runtime.close()
        for hook in hooks:
            hook.close()
    doc = summarize(run, kit, guard_config)
    doc["model"]["path"] = model_name
    doc["model"]["constrained"] = args.constrained
    doc["model"]["prompt"] = args.prompt
    doc["model"]["stops"] = stops()
    if args.json:
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        _report(console, doc)
    late = run.records and any(not r.decision.on_time for r in run.records)
    return 1 if late or run.unserved else 0


def warm_up(planner: Any, domain: WarehouseDomain, order: Order) -> float:
    """Seconds the model takes to plan ``order`` (the run's first), warm: it plans it twice (the
    first loads the model and its prompt cache, a cold start no later call pays) and the second
    is timed."""
    wh = domain.wh
    ctx = domain.context(order, "R1", wh.pack_stations[sorted(wh.pack_stations)[0]])
    took = 0.0
    for _ in range(2):
        t0 = time.monotonic()
        try:
            out = planner(ctx, StopToken())
            if inspect.isawaitable(out):
                asyncio.run(_awaited(out))
        except Exception as exc:  # a model that cannot answer at all: say so now, in one line
            raise ConfigError(
                f"the model failed its warm-up plan: {type(exc).__name__}: {exc}"
            ) from None
        took = time.monotonic() - t0
    return took


async def _awaited(out: Any) -> Any:
    return await out


def _planner(args: argparse.Namespace, wh: Any) -> tuple[Any, str, Any]:
    """The planner the flags ask for, its name for the report, and a count of its stops."""
    prompt = PromptFor(wh, args.prompt)
    if args.base_url or os.environ.get("PLANSENTRY_BASE_URL"):
        try:
            from plansentry.planners.openai_compat import OpenAICompatPlanner
        except ImportError as exc:
            raise ConfigError(
                f"--base-url needs httpx: pip install 'plansentry[http]' ({exc})"
            ) from None
        try:
            remote = OpenAICompatPlanner(
                prompt, base_url=args.base_url, dialect=args.dialect, constrained=args.constrained
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return remote, f"{remote.model} at {remote.url}", lambda: 0
    try:
        from plansentry.planners.llamacpp import LlamaCppPlanner, ModelNotFound
    except ImportError as exc:
        raise ConfigError(
            f"the demo needs llama-cpp-python: pip install 'plansentry[llm]' ({exc})"
        ) from None
    try:
        local = LlamaCppPlanner(
            prompt, model_path=args.model, constrained=args.constrained, n_threads=args.threads
        )
    except ModelNotFound as exc:
        raise ConfigError(str(exc)) from None
    return local, local.model_path, lambda: local.stats.stopped


def _report(console: Console, doc: dict[str, Any]) -> None:
    g, m = doc["guarded"], doc["model"]
    console.print(
        f"\n{g['orders_completed']} orders completed, {g['orders_requeued']} requeued, "
        f"{g['lost_orders']} not served; {g['decisions_on_time']}/{g['decisions']} decisions on "
        f"time; {doc['wall_s']} s (and {doc['rerun_s']} s measuring unseen answers). Model: "
        f"{m['passed_gate']}/{m['consulted']} answers in the run passed the gate; latency p50 "
        f"{m['latency_ms_p50']} ms in the run; unseen answers p50 {m['unseen_latency_ms_p50']} "
        f"ms, max {m['unseen_latency_ms_max']} ms. Independent safety checker: "
        f"{g['unsafe_by_safety_checker']} executed plans unsafe."
    )
    print_matrix(console, doc)
