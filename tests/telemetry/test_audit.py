"""The audit log: durable across kill -9, replayable with zero differences."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap

from plansentry.telemetry.audit import AuditLog, read_log
from plansentry.telemetry.replay import replay
from plansentry.warehouse.assembly import default_config, make_guard

OUTPUTS = [b"", b"{", b"[1]", b"plan: none", b'{"order_id": "EX-1"}']


def mixed_session(guard, runtime, ctx, good_bytes, n: int, seed: int) -> None:
    """Mostly good answers, with refusals, late and unsafe ones, and an outage from 100 to 130."""
    rng = random.Random(seed)
    unsafe = good_bytes.replace(b'"speed_mps":0.8', b'"speed_mps":2.0')
    for i in range(n):
        r = 0.99 if 100 <= i < 130 else rng.random()
        if r < 0.8:
            out, lat = good_bytes, rng.uniform(1, 140)
        elif r < 0.85:
            out, lat = good_bytes, 400.0
        elif r < 0.9:
            out, lat = unsafe, 10.0
        else:
            out, lat = rng.choice(OUTPUTS), rng.uniform(1, 100)
        runtime.decide(ctx, now_ns=i * 700_000_000, output=out, latency_ms=lat)


def test_replay_of_a_mixed_session_has_zero_differences(tmp_path, domain, ctx, good_bytes) -> None:
    """Accepted, refused, late, unsafe; breaker trips and probes: replay reproduces every decision."""
    from plansentry.runtime.virtual import VirtualRuntime

    path = tmp_path / "audit.jsonl"
    cfg = default_config()
    with AuditLog(path, wh=domain.wh, config=cfg) as log:
        guard = make_guard(domain=domain, config=cfg, hooks=[log])
        mixed_session(guard, VirtualRuntime(guard), ctx, good_bytes, 300, seed=5)
    states = {
        json.loads(line)["decision"]["state_after"] for line in path.read_text().splitlines()[1:]
    }
    assert {"NOMINAL", "DEGRADED", "BYPASS", "PROBING"} <= states
    result = replay(path)
    assert result.decisions == 300 and result.differences == [] and result.ok


def test_replay_finds_a_tampered_decision(tmp_path, domain, ctx, good_bytes) -> None:
    """Change one logged failure mode and replay reports exactly that difference."""
    from plansentry.runtime.virtual import VirtualRuntime

    path = tmp_path / "audit.jsonl"
    cfg = default_config()
    with AuditLog(path, wh=domain.wh, config=cfg) as log:
        guard = make_guard(domain=domain, config=cfg, hooks=[log])
        VirtualRuntime(guard).decide(ctx, now_ns=0, output=b"{", latency_ms=1)
    text = path.read_text().replace('"failure_mode":"malformed"', '"failure_mode":"schema"')
    path.write_text(text)
    result = replay(path)
    assert [(d.field, d.logged, d.replayed) for d in result.differences] == [
        ("failure_mode", "schema", "malformed")
    ]


def test_raw_output_is_capped_but_its_size_kept(tmp_path, domain, ctx) -> None:
    """A flood is stored up to the byte cap with its true size, and replays as oversize."""
    from plansentry.runtime.virtual import VirtualRuntime

    path = tmp_path / "audit.jsonl"
    cfg = default_config()
    flood = b"x" * (cfg.gate.max_bytes * 3)
    with AuditLog(path, wh=domain.wh, config=cfg) as log:
        guard = make_guard(domain=domain, config=cfg, hooks=[log])
        VirtualRuntime(guard).decide(ctx, now_ns=0, output=flood, latency_ms=1)
    rec = read_log(path).records[1]
    assert rec["arrival"]["size_bytes"] == len(flood) and rec["arrival"]["truncated"]
    assert len(rec["arrival"]["text"]) == cfg.gate.max_bytes
    assert replay(path).ok


def test_torn_last_line_is_reported_not_parsed(tmp_path) -> None:
    """A write cut short by a crash leaves a line without newline: reported, not a record."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"type":"reset","seq":0,"reason":"x"}\n{"type":"deci')
    contents = read_log(path)
    assert contents.torn_tail and len(contents.records) == 1 and not contents.bad_lines


CHILD = textwrap.dedent(
    """
    import sys
    from plansentry.runtime.virtual import VirtualRuntime
    from plansentry.telemetry.audit import AuditLog
    from plansentry.warehouse.assembly import default_config, make_guard
    from plansentry.warehouse.examples import default_order
    from plansentry.warehouse.schema import encode_plan
    cfg = default_config()
    guard = make_guard(config=cfg)
    wh = guard.domain.wh
    log = AuditLog(sys.argv[1], wh=wh, config=cfg)
    guard.hooks.append(log)
    ctx = guard.domain.context(default_order(wh), "R1", wh.pack_stations["PACK-1"])
    good = encode_plan(guard.run_fallbacks(ctx)[0].plan)
    rt = VirtualRuntime(guard)
    outs = [good, b"{", good + b"x" * 5000, b""]
    i = 0
    while True:
        d = rt.decide(ctx, now_ns=i * 10**9, output=outs[i % 4], latency_ms=float(i % 200))
        sys.stdout.write(f"{d.seq}\\n")
        sys.stdout.flush()
        i += 1
    """
)


def test_kill_9_never_loses_a_returned_decision(tmp_path) -> None:
    """Killed at 100 random points, the log holds every decision the process had returned, no
    record is torn, and what was written replays with 0 differences."""
    rng = random.Random(11)
    for run in range(100):
        path = tmp_path / f"audit-{run}.jsonl"
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert child.stdout is not None
        target = rng.randint(1, 400)
        returned = []
        for line in child.stdout:
            returned.append(int(line))
            if len(returned) >= target:
                break
        child.send_signal(signal.SIGKILL)
        child.wait()
        contents = read_log(path)
        logged = {r["decision"]["seq"] for r in contents.records if r["type"] == "decision"}
        assert set(returned) <= logged
        assert not contents.bad_lines and not contents.torn_tail  # one write(2) per record
        assert replay(path).differences == []
