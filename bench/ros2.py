"""``plansentry ros2`` measured: the DDS hop's added latency against a direct decision.

One warehouse decision (budget 150 ms) through the node (``plansentry ros2`` in its own process,
Fast DDS on this host, ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``, a ROS domain of its own)
from robots in this process (each its own rclpy node, tests/ros2/robot.py's :class:`Robot`),
against the same decision taken directly, in this process, with
:meth:`RealtimeRuntime.decide_now`. Both use an :class:`OpenAICompatPlanner` whose loopback
upstream answers the classical plan at once (tests/faultproxy.py's ``StreamingUpstream``: the
model is not what is measured). Blocks of each are interleaved, so the machine's noise falls on
both alike. With 1 robot, one decision at a time; with 16, sixteen threads at once, each a robot
(through the node) or a caller of the same runtime (direct). Reported: p50, p99 and p99.9 of
each, their differences (the goal: p99 added <= 2 ms), and the decisions the node took late.

Usage: ``python bench/ros2.py [--json] [--rounds 1000] [--robots 1,16]``. The machine is shared:
quote differences measured side by side in one run, never a timing measured alone.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "tests" / "ros2"))

from _common import emit, machine, percentiles_ms  # noqa: E402
from faultproxy import StreamingUpstream  # noqa: E402
from plansentry.domains.warehouse.kit import warehouse_kit  # noqa: E402
from plansentry.domains.warehouse.schema import encode_plan  # noqa: E402
from plansentry.planners.openai_compat import OpenAICompatPlanner  # noqa: E402
from plansentry.runtime.realtime import RealtimeRuntime  # noqa: E402

BUDGET_MS = 150.0
BLOCK = 50


def _node(env: dict[str, str], upstream: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "plansentry.cli", "ros2", "--ros-args",
         "-p", "kit:=warehouse", "-p", f"upstream:={upstream}", "-p", "audit_log:=''",
         "-p", f"budget_ms:={BUDGET_MS}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError("plansentry ros2 exited before it was up")
        if "decisions on" in line:
            return proc
    proc.kill()
    raise RuntimeError("plansentry ros2 did not start")


def _run(n_threads: int, fns: list[Any], rounds: int) -> list[int]:
    """``rounds`` calls on each of ``n_threads`` threads at once (thread i calls ``fns[i]``);
    every call's duration."""
    out: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(n_threads)

    def work(fn: Any) -> None:
        mine = []
        start.wait()
        for _ in range(rounds):
            t0 = time.perf_counter_ns()
            fn()
            mine.append(time.perf_counter_ns() - t0)
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=work, args=(fns[i],)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def bench(robot_counts: list[int], rounds: int) -> dict[str, Any]:
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import MultiThreadedExecutor
    from robot import Robot

    kit = warehouse_kit()
    ctx_json = dict(kit.example_context)
    ctx = kit.codec.context_from_json(ctx_json)
    plan = encode_plan(kit.fallbacks[0].plan(ctx).plan)
    upstream = StreamingUpstream(plan.decode()).start()
    base = f"http://127.0.0.1:{upstream.port}/v1"
    env = {**os.environ, "ROS_DOMAIN_ID": str(100 - os.getpid() % 20)}
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    rt = RealtimeRuntime(
        kit.guard(config=kit.config(budget_ms=BUDGET_MS)), workers=16, switch_interval_s=0.0005
    )
    direct = OpenAICompatPlanner(kit.prompt, base_url=base, max_connections=16)
    node = _node(env, base)
    context = Context()
    rclpy.init(context=context)
    n_max = max(robot_counts)
    robots = [Robot(context, i, "/plansentry") for i in range(n_max)]
    executor = MultiThreadedExecutor(num_threads=2, context=context)
    for r in robots:
        executor.add_node(r.node)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    sources: Counter[str] = Counter()
    late = Counter[str]()
    out: dict[str, Any] = {
        "what": "one warehouse decision (budget 150 ms) through plansentry ros2 (its own process, "
        "Fast DDS on this host) from rclpy robots in this process, against the same decision "
        "taken directly (RealtimeRuntime.decide_now, same upstream); interleaved in blocks of "
        f"{BLOCK} per thread",
        "machine": machine(),
    }
    try:
        deadline = time.monotonic() + 30
        while not all(r.matched() for r in robots):
            if time.monotonic() > deadline:
                raise RuntimeError("the robots never matched the node")
            time.sleep(0.01)
        body = {"op": "decide", "context": ctx_json, "budget_ms": BUDGET_MS}

        def via_node(robot: Robot, key: str) -> Any:
            def call() -> None:
                _, reply = robot.ask(body, 5.0)
                d = reply["decision"]
                sources[f"{key}:node:{d['source']}"] += 1
                if not d["on_time"]:
                    late[key] += 1

            return call

        def via_direct(key: str) -> Any:
            def call() -> None:
                sources[f"{key}:direct:{rt.decide_now(ctx, direct).source}"] += 1

            return call

        for n in robot_counts:
            key = f"robots_{n}"
            node_fns = [via_node(robots[i], key) for i in range(n)]
            direct_fns = [via_direct(key) for _ in range(n)]
            _run(n, node_fns, 20)  # warm-up: connections, caches
            _run(n, direct_fns, 20)
            samples: dict[str, list[int]] = {"direct": [], "node": []}
            for _ in range(max(1, rounds // BLOCK)):
                samples["direct"] += _run(n, direct_fns, BLOCK)
                samples["node"] += _run(n, node_fns, BLOCK)
            d, h = percentiles_ms(samples["direct"]), percentiles_ms(samples["node"])
            out[key] = {
                "direct": d,
                "node": h,
                "added_p50_ms": round(h["p50_ms"] - d["p50_ms"], 3),
                "added_p99_ms": round(h["p99_ms"] - d["p99_ms"], 3),
                "added_p999_ms": round(h["p999_ms"] - d["p999_ms"], 3),
                "late_decisions": late[key],
            }
    finally:
        executor.shutdown(timeout_sec=2)
        spin.join(5)
        context.try_shutdown()
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(30)
        except subprocess.TimeoutExpired:
            node.kill()
        rt.close()
        upstream.stop()
    out["sources"] = dict(sources)
    return out


def human(doc: dict[str, Any]) -> str:
    lines = [doc["what"]]
    for key, row in doc.items():
        if key.startswith("robots_"):
            lines.append(
                f"{key}: direct p50 {row['direct']['p50_ms']} ms p99 {row['direct']['p99_ms']} ms; "
                f"node p50 {row['node']['p50_ms']} ms p99 {row['node']['p99_ms']} ms p99.9 "
                f"{row['node']['p999_ms']} ms; added p50 {row['added_p50_ms']} ms, p99 "
                f"{row['added_p99_ms']} ms, p99.9 {row['added_p999_ms']} ms; late "
                f"{row['late_decisions']}"
            )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--rounds", type=int, default=1000, help="decisions per thread and way")
    p.add_argument("--robots", default="1,16", help="robot counts, comma-separated")
    args = p.parse_args()
    counts = [int(x) for x in args.robots.split(",")]
    emit(bench(counts, args.rounds), args.json, human)


if __name__ == "__main__":
    main()
