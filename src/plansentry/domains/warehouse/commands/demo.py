"""``plansentry demo``: wiring, live terminal output and the end-of-run report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from plansentry.core.errors import ConfigError
from plansentry.domains.warehouse.demo import DemoConfig, DemoRecord, run_demo, summarize
from plansentry.domains.warehouse.kit import warehouse_kit
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.prompts import VARIANTS, PromptFor
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.telemetry.audit import AuditLog
from plansentry.telemetry.records import decision_json


def run(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        config = DemoConfig(
            orders=args.orders, robots=args.robots, seed=args.seed, time_scale=args.time_scale
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.prompt not in VARIANTS:
        raise ConfigError(f"--prompt {args.prompt!r} unknown; use one of {', '.join(VARIANTS)}")
    domain = WarehouseDomain(default_map())
    kit, wh = warehouse_kit(domain=domain), domain.wh
    guard_config = kit.config(budget_ms=args.budget_ms)
    hooks: list[Any] = (
        [AuditLog(args.audit_log, kit=kit, config=guard_config)] if args.audit_log else []
    )
    metrics = None
    if args.metrics_port is not None:
        from plansentry.telemetry.metrics import GuardMetrics

        metrics = GuardMetrics()
        hooks.append(metrics)
    guard = kit.guard(config=guard_config, hooks=hooks)
    planner, model_name, stops = _planner(args, wh)
    # Room for a call that was stopped at its deadline and is still letting go of the model.
    runtime = RealtimeRuntime(guard, workers=2 * config.robots + 1)
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
            f"({'constrained' if args.constrained else 'free'}, prompt {args.prompt}); "
            f"warehouse time x{config.time_scale:g}"
        )

    def live(rec: DemoRecord) -> None:
        if args.json:
            return
        d = rec.decision
        latency = f"{d.latency_ns / 1e6:7.0f} ms" if d.latency_ns is not None else "      - "
        mode = d.failure_mode.value if d.failure_mode else "-"
        colour = "green" if d.accepted else ("red" if d.source == "safe_move" else "yellow")
        console.print(
            f"#{d.seq:<3} {rec.robot} {rec.order.order_id}  [{colour}]{d.source:<9}[/] model {latency}  "
            f"{mode:<9} {d.state_after.value:<9} {'on time' if d.on_time else '[red]LATE[/]'}"
        )

    try:
        run = run_demo(runtime, domain, planner, config, on_record=live)
    finally:
        runtime.close()
        for hook in hooks:
            hook.close()
    doc = summarize(run, guard_config.buckets, guard_config.budget_ns)
    doc["model"]["path"] = model_name
    doc["model"]["constrained"] = args.constrained
    doc["model"]["prompt"] = args.prompt
    doc["model"]["stops"] = stops()
    if args.json:
        doc["decisions"] = [
            {
                "robot": r.robot,
                "order_id": r.order.order_id,
                **decision_json(r.decision, guard_config.buckets, kit),
                **({"unguarded": r.unguarded.reason} if r.unguarded else {}),
            }
            for r in run.records
        ]
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        _report(console, doc)
    late = run.records and any(not r.decision.on_time for r in run.records)
    return 1 if late or run.unserved else 0


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
    g, u, m = doc["guarded"], doc["unguarded"], doc["model"]
    console.print(
        f"\n{g['orders_completed']} orders completed, {g['orders_requeued']} requeued, "
        f"{g['lost_orders']} not served; {g['decisions_on_time']}/{g['cycles']} decisions on time; "
        f"{doc['wall_s']} s. Model: {m['passed_gate']}/{m['consulted']} answers passed the gate, "
        f"latency p50 {m['latency_ms_p50']} ms."
    )
    table = Table(
        title="Failure modes (FMLI), this run",
        caption="* what the unguarded controller would have done with the same outputs",
    )
    for col in (
        "mode",
        "bucket",
        "n",
        "rate",
        "detect ms",
        "fallback",
        "halts*",
        "down s*",
        "unsafe*",
    ):
        table.add_column(col)
    for row in doc["fmli"]:
        table.add_row(
            row["failure_mode"],
            row["bucket"],
            str(row["count"]),
            f"{row['rate']:.0%}",
            f"{row['detect_ms_p50']:.2f}",
            ", ".join(f"{k} {v}" for k, v in row["mitigation"].items()),
            str(row["halts_unguarded"]),
            f"{row['downtime_s_unguarded']:.0f}",
            str(row["unsafe_unguarded"]),
        )
    console.print(table)
    side = Table(title="Same model outputs, with and without the guard")
    side.add_column("")
    side.add_column("guarded")
    side.add_column("unguarded (counterfactual)")
    side.add_row("halts", str(g["halts"]), str(u["halts"]))
    side.add_row("downtime s", f"{g['downtime_s']:.0f}", f"{u['downtime_s']:.0f}")
    side.add_row("unsafe plans executed", str(g["unsafe_executed"]), str(u["unsafe_executed"]))
    side.add_row("items lost", str(g["items_lost"]), str(u["items_lost"]))
    console.print(side)
    if u["timeouts_not_costed"]:
        console.print(
            f"{u['timeouts_not_costed']} model answers missed their decision point; the guard stopped "
            "them, so the unguarded controller's wait for them is not costed above."
        )
