"""The audit log of a drone session replays with zero differences through ``plansentry replay``,
which rebuilds the kit from the log's header through the ``drone`` entry point."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import msgspec

from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog

MS = 1_000_000


def mixed_session(kit, runtime, contexts, good_bytes, unsafe_bytes, n: int, seed: int) -> None:
    """Good answers mostly; malformed, late, unsafe and empty ones; starved and stranded drones;
    an outage from 40 to 55 that opens the breaker, then probes."""
    rng = random.Random(seed)
    for i in range(n):
        ctx = rng.choice(contexts)
        r = 0.99 if 40 <= i < 55 else rng.random()
        if r < 0.6:
            out, latency = good_bytes, rng.uniform(5, 120)
        elif r < 0.7:
            out, latency = good_bytes, 400.0
        elif r < 0.8:
            out, latency = unsafe_bytes, 30.0
        else:
            out, latency = rng.choice([b"", b"{", b"[1]", b'{"end": "home"}']), 20.0
        runtime.decide(ctx, now_ns=i * 900 * MS, output=out, latency_ms=latency)


def write_session(tmp_path, kit, ctx, starved_ctx, stranded_ctx, good_plan, good_bytes):
    unsafe = msgspec.json.encode(msgspec.structs.replace(good_plan, speed_mps=25.0))
    path = tmp_path / "drone-audit.jsonl"
    config = kit.config()
    with AuditLog(path, kit=kit, config=config) as log:
        guard = kit.guard(config=config, hooks=[log])
        contexts = [ctx, ctx, ctx, starved_ctx, stranded_ctx]
        mixed_session(kit, VirtualRuntime(guard), contexts, good_bytes, unsafe, 120, seed=3)
        guard.reset("operator: new battery")
        mixed_session(kit, VirtualRuntime(guard), contexts, good_bytes, unsafe, 30, seed=4)
    return path


def replay(path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_mixed_session_replays_with_zero_differences(
    tmp_path, kit, ctx, starved_ctx, stranded_ctx, good_plan, good_bytes
) -> None:
    """Accepted, refused, late; mission planner, return home, landing; breaker trips and probes:
    ``plansentry replay`` in a fresh process reproduces every decision."""
    path = write_session(tmp_path, kit, ctx, starved_ctx, stranded_ctx, good_plan, good_bytes)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["domain"]["name"] == "drone"
    assert lines[0]["domain"]["rules_version"] == "drone-rules/1"
    decisions = [r["decision"] for r in lines if r["type"] == "decision"]
    sources = {d["source"] for d in decisions}
    assert {"llm", "mission_planner", "return_to_home", "safe_move"} <= sources
    assert {"NOMINAL", "DEGRADED", "BYPASS", "PROBING", "SAFE_HOLD"} <= {
        d["state_after"] for d in decisions
    }
    done = replay(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("150 decisions replayed, 0 differences")


def test_replay_finds_a_tampered_decision(
    tmp_path, kit, ctx, starved_ctx, stranded_ctx, good_plan, good_bytes
) -> None:
    """A logged source changed by hand: replay reports that difference and exits 1."""
    path = write_session(tmp_path, kit, ctx, starved_ctx, stranded_ctx, good_plan, good_bytes)
    lines = path.read_text().splitlines()
    rec = json.loads(lines[5])
    rec["decision"]["source"] = "tampered"
    lines[5] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    done = replay(path)
    assert done.returncode == 1
    assert "source: logged 'tampered'" in done.stdout and "1 differences" in done.stdout
