"""The audit log, on the toy domain: replayable with zero differences, and what it keeps across a
kill -9 and a reopen after one."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog, read_log
from plansentry.telemetry.replay import replay

OUTPUTS = [b"", b"{", b"[1]", b"plan: none", b'{"task_id": "T-1"}']


def mixed_session(runtime, ctx, good_bytes, n: int, seed: int) -> None:
    """Mostly good answers, with refusals, late and unsafe ones, and an outage from 100 to 130."""
    rng = random.Random(seed)
    unsafe = good_bytes.replace(b'"speed":1.0', b'"speed":2.0')
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


def write_session(path: Path, kit, ctx, good_bytes, n: int, seed: int = 5) -> None:
    """One guard's session of ``n`` mixed decisions, logged to ``path``."""
    cfg = kit.config()
    with AuditLog(path, kit=kit, config=cfg) as log:
        mixed_session(VirtualRuntime(kit.guard(config=cfg, hooks=[log])), ctx, good_bytes, n, seed)


def test_replay_of_a_mixed_session_has_zero_differences(tmp_path, kit, ctx, good_bytes) -> None:
    """Accepted, refused, late, unsafe; breaker trips and probes: replay reproduces every decision."""
    path = tmp_path / "audit.jsonl"
    write_session(path, kit, ctx, good_bytes, 300)
    states = {
        json.loads(line)["decision"]["state_after"] for line in path.read_text().splitlines()[1:]
    }
    assert {"NOMINAL", "DEGRADED", "BYPASS", "PROBING"} <= states
    result = replay(path)
    assert result.decisions == 300 and result.differences == [] and result.ok


def test_header_names_the_kit_that_wrote_the_log(tmp_path, kit) -> None:
    """The header records the kit's name, rules version and parameters, which replay rebuilds."""
    path = tmp_path / "audit.jsonl"
    AuditLog(path, kit=kit, config=kit.config()).close()
    header = read_log(path).records[0]
    assert header["type"] == "header"
    assert header["domain"] == {"name": "toy", "rules_version": "toy/1", "params": {}}


def test_replay_finds_a_tampered_decision(tmp_path, kit, ctx) -> None:
    """Change one logged failure mode and replay reports exactly that difference."""
    path = tmp_path / "audit.jsonl"
    cfg = kit.config()
    with AuditLog(path, kit=kit, config=cfg) as log:
        VirtualRuntime(kit.guard(config=cfg, hooks=[log])).decide(
            ctx, now_ns=0, output=b"{", latency_ms=1
        )
    text = path.read_text().replace('"failure_mode":"malformed"', '"failure_mode":"schema"')
    path.write_text(text)
    result = replay(path)
    assert [(d.field, d.logged, d.replayed) for d in result.differences] == [
        ("failure_mode", "schema", "malformed")
    ]


def test_raw_output_is_capped_but_its_size_kept(tmp_path, kit, ctx) -> None:
    """A flood is stored up to the byte cap with its true size, and replays as oversize."""
    path = tmp_path / "audit.jsonl"
    cfg = kit.config()
    flood = b"x" * (cfg.gate.max_bytes * 3)
    with AuditLog(path, kit=kit, config=cfg) as log:
        VirtualRuntime(kit.guard(config=cfg, hooks=[log])).decide(
            ctx, now_ns=0, output=flood, latency_ms=1
        )
    rec = read_log(path).records[1]
    assert rec["arrival"]["size_bytes"] == len(flood) and rec["arrival"]["truncated"]
    assert len(rec["arrival"]["text"]) == cfg.gate.max_bytes
    assert replay(path).ok


def tear_last_record(path: Path) -> bytes:
    """Cut the log's last record in half, as a crash in the middle of its write would; returns the
    fragment left behind (the file then ends without a newline)."""
    data = path.read_bytes()
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
    fragment = last[: len(last) // 2]
    path.write_bytes(data[: -len(last) - 1] + fragment)
    return fragment


def test_torn_last_line_is_reported_not_parsed(tmp_path, kit, ctx, good_bytes) -> None:
    """A write cut short by a crash leaves a line without newline: reported, not a record, and
    replay of the records before it has 0 differences."""
    path = tmp_path / "audit.jsonl"
    write_session(path, kit, ctx, good_bytes, 20)
    tear_last_record(path)
    contents = read_log(path)
    assert contents.torn_tail and not contents.bad_lines
    assert [r["type"] for r in contents.records] == ["header"] + ["decision"] * 19
    result = replay(path)
    assert result.torn_tail and result.decisions == 19 and result.differences == []


def test_header_written_after_a_torn_tail_is_not_glued_to_the_fragment(
    tmp_path, kit, ctx, good_bytes
) -> None:
    """Regression: a log reopened after a crash tore its last line appended its header to the
    fragment. The next record starts on a new line; the fragment is one bad line, skipped; replay
    of the new session has 0 differences."""
    path = tmp_path / "audit.jsonl"
    write_session(path, kit, ctx, good_bytes, 20)
    fragment = tear_last_record(path)
    cfg = kit.config()
    with AuditLog(path, kit=kit, config=cfg) as log:
        VirtualRuntime(kit.guard(config=cfg, hooks=[log])).decide(
            ctx, now_ns=0, output=good_bytes, latency_ms=10
        )
    lines = path.read_bytes().split(b"\n")
    assert fragment in lines, "the next record was glued to the torn fragment"
    at = lines.index(fragment)
    assert json.loads(lines[at + 1])["type"] == "header"
    contents = read_log(path)
    assert contents.torn_lines == [at + 1] and contents.bad_lines == []
    assert not contents.torn_tail
    result = replay(path)
    assert result.decisions == 19 + 1 and result.differences == []
    assert result.ok, "a crash the log recovered from is reported, not a failed replay"


def test_an_unreadable_line_not_followed_by_a_reopening_is_a_bad_line(
    tmp_path, kit, ctx, good_bytes
) -> None:
    """Only a fragment directly before a header is a crash's: garbage anywhere else fails replay."""
    path = tmp_path / "audit.jsonl"
    write_session(path, kit, ctx, good_bytes, 5)
    lines = path.read_bytes().split(b"\n")
    lines.insert(3, b'{"type": "decision", "seq"')
    path.write_bytes(b"\n".join(lines))
    contents = read_log(path)
    assert contents.torn_lines == [] and [r.position for r in contents.bad_lines] == [4]
    assert not replay(path).ok


CHILD = textwrap.dedent(
    """
    import sys

    import msgspec

    from plansentry.runtime.virtual import VirtualRuntime
    from plansentry.telemetry.audit import AuditLog
    from plansentry.testing.toy import ToyContext, toy_kit

    kit = toy_kit()
    cfg = kit.config()
    guard = kit.guard(config=cfg, hooks=[AuditLog(sys.argv[1], kit=kit, config=cfg)])
    ctx = ToyContext("T-1", target=7, max_step=3, blocked=frozenset({4}))
    good = msgspec.json.encode(kit.codec.plan_to_json(guard.run_fallbacks(ctx)[0].plan))
    rt = VirtualRuntime(guard)
    outs = [good, b"{", good + b"x" * 5000, b""]  # the third's record spans a page boundary
    i = 0
    while True:
        d = rt.decide(ctx, now_ns=i * 10**9, output=outs[i % 4], latency_ms=float(i % 200))
        sys.stdout.write(f"{d.seq}\\n")
        sys.stdout.flush()
        i += 1
    """
)
KILLS = 100
#: A child that has not returned its decisions by then is hung: the watchdog kills it and the run
#: fails, so the test is bounded in time whatever the child does.
CHILD_TIMEOUT_S = 60.0


def run_and_kill(path: Path, target: int) -> tuple[list[int], str]:
    """Start a logging child, read ``target`` returned sequence numbers, SIGKILL it; returns those
    numbers and the child's stderr."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    watchdog = threading.Timer(CHILD_TIMEOUT_S, child.kill)
    watchdog.start()
    returned: list[int] = []
    try:
        assert child.stdout is not None and child.stderr is not None
        for line in child.stdout:
            returned.append(int(line))
            if len(returned) >= target:
                break
    finally:
        child.kill()  # SIGKILL
        child.wait()
        watchdog.cancel()
    return returned, child.stderr.read().decode(errors="replace")


def check_crash_contract(path: Path, returned: list[int]) -> bool:
    """Assert what the log keeps across a kill -9 of the process that returned ``returned``;
    returns whether its last line is torn."""
    contents = read_log(path)
    logged = [r["decision"]["seq"] for r in contents.records if r["type"] == "decision"]
    assert logged == list(range(len(logged))), f"{path.name}: a record is missing"
    assert not contents.bad_lines, f"{path.name}: a line before the last is torn"
    if contents.torn_tail:  # the record after the last complete one, seq len(logged)
        assert len(logged) not in returned, f"{path.name}: a returned decision is torn"
    assert set(returned) <= set(logged), f"{path.name}: a returned decision is lost"
    assert replay(path).differences == [], path.name
    return contents.torn_tail


@pytest.mark.parametrize(("returned", "kept"), [(19, True), (20, False)])
def test_crash_contract_tells_a_torn_unreturned_record_from_a_torn_returned_one(
    tmp_path, kit, ctx, good_bytes, returned: int, kept: bool
) -> None:
    """On a log whose 20th record is torn, the contract holds if 19 decisions were returned and
    is broken if all 20 were."""
    path = tmp_path / "audit.jsonl"
    write_session(path, kit, ctx, good_bytes, 20)
    tear_last_record(path)
    if kept:
        assert check_crash_contract(path, list(range(returned)))
    else:
        with pytest.raises(AssertionError, match="a returned decision is torn"):
            check_crash_contract(path, list(range(returned)))


def test_kill_9_never_loses_or_tears_a_returned_decision(tmp_path) -> None:
    """Killed at 100 random points: every decision the process returned is in the log as a
    complete record; a torn last line can only be a decision not yet returned; what was written
    replays with 0 differences."""
    rng = random.Random(11)
    runs = [(tmp_path / f"audit-{run}.jsonl", rng.randint(1, 400)) for run in range(KILLS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda run: run_and_kill(*run), runs))
    torn = 0
    for (path, target), (returned, stderr) in zip(runs, results, strict=True):
        assert len(returned) == target, f"{path.name}: the child stopped early: {stderr}"
        torn += check_crash_contract(path, returned)
    print(f"{KILLS} kills, {torn} left a torn last line")  # pytest -s shows it
