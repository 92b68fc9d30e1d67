"""``plansentry serve`` measured: the hop's added latency, a fleet against a misbehaving upstream,
the connection pool's gain, and the ASGI servers it was chosen among.

Sections (``--sections``, default all but ``servers``):

- ``added``: one decision through the service (a separate ``plansentry serve`` process, a
  kept-alive connection from ``http.client``) against the same decision in-process
  (:meth:`RealtimeRuntime.decide_now`), both with the warehouse kit and an
  :class:`OpenAICompatPlanner` whose upstream answers the classical plan at once (a loopback
  stand-in with no think time: the model is not what is measured). Interleaved in blocks; p50 and
  p99 of each, and their differences (the goal: p99 added <= 2 ms on loopback).
- ``load``: ``--robots`` robot clients (asyncio, one kept-alive connection each) for
  ``--seconds`` against a service whose upstream is the fault proxy drawing a fault per request
  (stalls, 503s, 429 with Retry-After, garbage, resets, silent connections, streams without
  ``[DONE]``, good answers). Each robot asks ahead, "executes" 0.2-1 s, then decides its ticket
  with a 150 ms budget; every third decision goes through ``/v1/chat/completions`` instead. Overrun
  = the instant the response is back minus (send instant + budget), on the robot's clock: p50,
  p99, p99.9 and the maximum; non-200 answers; the service's RSS after warm-up and at the end.
- ``pool``: the OpenAI-compatible planner's connection pool against no pool, per call, over plain
  HTTP and over TLS (a self-signed certificate made with ``openssl`` in a temporary directory).
  A handshake on loopback is far cheaper than one with a hosted API across a network: the gain
  here is a floor, not an estimate of a hosted API's.
- ``servers``: the service's decide route on uvicorn (h11, httptools), granian (ASGI) and aiohttp,
  each in its own process with an instant in-process planner, measured side by side from one
  client. Needs ``pip install granian aiohttp httptools`` (not in any extra: only the choice is).

Usage: ``python bench/serve.py [--json] [--sections added,load,pool] [--robots 64] [--seconds 60]``.
The machine is shared: quote medians and ratios measured side by side in one run, never a timing
measured alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _common import emit, machine, ms, percentiles_ms  # noqa: E402
from faultproxy import FaultProxy, StreamingUpstream  # noqa: E402
from plansentry.domains.warehouse.kit import warehouse_kit  # noqa: E402
from plansentry.domains.warehouse.schema import encode_plan  # noqa: E402
from plansentry.planners.local_server import free_port  # noqa: E402
from plansentry.planners.openai_compat import OpenAICompatPlanner  # noqa: E402
from plansentry.runtime.planner import StopToken  # noqa: E402
from plansentry.runtime.realtime import RealtimeRuntime  # noqa: E402

SECTIONS = ("added", "load", "pool", "servers")
BUDGET_MS = 150.0
#: The load test's upstream faults, per request: (weight, fault proxy mode, parameter).
FAULT_MIX: list[tuple[float, str, float]] = [
    (0.600, "pass", 0.0),
    (0.070, "finish_no_done", 0.0),
    (0.080, "delay", 3.0),
    (0.080, "status", 503),
    (0.050, "garbage", 0.0),
    (0.050, "reset", 200),
    (0.067, "half_open", 0.0),
    (0.003, "retry_after", 1),
]


def _kit_and_context() -> tuple[Any, dict[str, Any], bytes]:
    kit = warehouse_kit()
    ctx_json = dict(kit.example_context)
    ctx = kit.codec.context_from_json(ctx_json)
    plan = kit.fallbacks[0].plan(ctx).plan
    return kit, ctx_json, encode_plan(plan)


@contextlib.contextmanager
def _service(upstream: str, *extra: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``plansentry serve`` (warehouse kit) in its own process on 127.0.0.1; yields its port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "plansentry.cli", "serve", "--port", str(port),
         "--upstream", upstream, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_up(port, proc)
        yield port, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_up(port: int, proc: subprocess.Popen[Any] | None = None, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no server on port {port}")


def _post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


# -- added latency ---------------------------------------------------------------------------


def _side_by_side(cases: dict[str, Any], rounds: int, block: int) -> dict[str, list[int]]:
    for fn in cases.values():  # warm-up
        for _ in range(50):
            fn()
    samples: dict[str, list[int]] = {name: [] for name in cases}
    for _ in range(max(1, rounds // block)):
        for name, fn in cases.items():
            for _ in range(block):
                t0 = time.perf_counter_ns()
                fn()
                samples[name].append(time.perf_counter_ns() - t0)
    return samples


def _added(samples: dict[str, list[int]]) -> dict[str, Any]:
    inproc, served = percentiles_ms(samples["in_process"]), percentiles_ms(samples["service"])
    return {
        "in_process": inproc,
        "service": served,
        "added_p50_ms": round(served["p50_ms"] - inproc["p50_ms"], 3),
        "added_p99_ms": round(served["p99_ms"] - inproc["p99_ms"], 3),
    }


def bench_added(rounds: int, block: int) -> dict[str, Any]:
    """Two planners, each in-process and through the service, interleaved: ``instant`` (an
    in-process planner returning the classical plan: what is left is the hop and the service)
    and ``openai_upstream`` (the OpenAI-compatible planner against a loopback upstream answering
    at once: its HTTP call to the upstream is in both)."""
    kit, ctx_json, plan = _kit_and_context()
    ctx = kit.codec.context_from_json(ctx_json)
    body = json.dumps({"context": ctx_json, "budget_ms": BUDGET_MS}).encode()
    out: dict[str, Any] = {
        "what": "one warehouse decision (budget 150 ms) through the service (a separate process, "
        "one http.client keep-alive connection) against the same decision in-process "
        "(RealtimeRuntime.decide_now); interleaved in blocks of 100",
    }
    upstream = StreamingUpstream(plan.decode()).start()
    base = f"http://127.0.0.1:{upstream.port}/v1"
    rt = RealtimeRuntime(
        kit.guard(config=kit.config(budget_ms=BUDGET_MS)), switch_interval_s=0.0005
    )
    remote = OpenAICompatPlanner(kit.prompt, base_url=base)
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, str(HERE / "serve.py"), "--child", "plansentry", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    sources: Counter[str] = Counter()
    try:
        _wait_up(port, child)
        with _service(base, "--no-audit-log") as (remote_port, _):
            for name, planner, service_port in (
                ("instant", lambda _c, _s: plan, port),
                ("openai_upstream", remote, remote_port),
            ):
                conn = http.client.HTTPConnection("127.0.0.1", service_port)

                def in_process(planner: Any = planner, name: str = name) -> None:
                    sources[f"{name}:in_process:{rt.decide_now(ctx, planner).source}"] += 1

                def service(conn: http.client.HTTPConnection = conn, name: str = name) -> None:
                    status, raw = _post(conn, "/v1/decide", body)
                    assert status == 200, raw
                    sources[f"{name}:service:{json.loads(raw)['source']}"] += 1

                cases = {"in_process": in_process, "service": service}
                out[name] = _added(_side_by_side(cases, rounds, block))
                conn.close()
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(30)
        rt.close()
        upstream.stop()
    out["sources"] = dict(sources)
    return out


# -- the fleet against a misbehaving upstream -----------------------------------------------


async def _http(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: bytes
) -> tuple[int, bytes]:
    writer.write(
        b"POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body)
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def _robot(
    port: int, ctx_json: dict[str, Any], until: float, rng: random.Random, out: dict[str, Any]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ctx = json.dumps(ctx_json).encode()
    n = 0
    try:
        while time.monotonic() < until:
            n += 1
            status, body = await _http(reader, writer, "/v1/tickets", b'{"context": %s}' % ctx)
            out["statuses"][f"ask:{status}"] += 1
            ticket = json.loads(body)["ticket"] if status in (200, 201) else ""
            await asyncio.sleep(rng.uniform(0.2, 1.0))  # executing the current plan
            point: dict[str, Any] = {"context": ctx_json, "budget_ms": BUDGET_MS}
            if ticket:
                point["ticket"] = ticket
            if n % 3 == 0:
                path = "/v1/chat/completions"
                req = json.dumps({"model": "m", "messages": [], "plansentry": point}).encode()
            else:
                path, req = "/v1/decide", json.dumps(point).encode()
            t0 = time.monotonic_ns()
            status, body = await _http(reader, writer, path, req)
            back = time.monotonic_ns()
            out["statuses"][f"{path.rsplit('/', 1)[1]}:{status}"] += 1
            out["overrun_ns"].append(back - t0 - int(BUDGET_MS * 1e6))
            if status == 200:
                d = json.loads(body)
                d = d.get("plansentry", d)
                out["server_slack_ns"].append(int(d["timing"]["slack_ms"] * 1e6))
                if d["timing"]["slack_ms"] < 0:  # late inside the service: say which decision
                    out["late_inside"].append(
                        {
                            "path": path,
                            "failure_mode": d["failure_mode"],
                            "skipped": d["skipped"],
                            "source": d["source"],
                            **d["timing"],
                        }
                    )
                out["sources"][d["source"]] += 1
                out["modes"][
                    d["failure_mode"] or ("not_asked" if not d["consulted"] else "none")
                ] += 1
                if d["skipped"]:  # why the model was not asked, without the varying seconds
                    out["skipped"][d["skipped"].split(":")[0]] += 1
    finally:
        writer.close()


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def bench_load(robots: int, seconds: float, seed: int) -> dict[str, Any]:
    load_start = os.getloadavg()  # the machine is shared: say how busy it was
    _, ctx_json, plan = _kit_and_context()
    upstream = StreamingUpstream(plan.decode(), think_s=0.02).start()
    proxy = FaultProxy(upstream.port, seed=seed).start()
    proxy.mix, proxy.content = FAULT_MIX, plan.decode()
    out: dict[str, Any] = {
        "statuses": Counter(), "sources": Counter(), "modes": Counter(), "overrun_ns": [],
        "server_slack_ns": [], "skipped": Counter(), "late_inside": [],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, _service(
        f"http://127.0.0.1:{proxy.port}/v1",
        "--audit-log", f"{tmp}/audit.jsonl", "--max-tickets", str(robots * 4),
    ) as (port, proc):  # fmt: skip
        warm_s = min(5.0, seconds / 6)

        async def fleet() -> tuple[int, int]:
            rng = random.Random(seed)
            until = time.monotonic() + seconds
            tasks = [
                asyncio.ensure_future(
                    _robot(port, ctx_json, until, random.Random(rng.random()), out)
                )
                for _ in range(robots)
            ]
            await asyncio.sleep(warm_s)
            rss_start = _rss_kib(proc.pid)
            await asyncio.gather(*tasks)
            return rss_start, _rss_kib(proc.pid)

        rss_start, rss_end = asyncio.run(fleet())
        with open(f"{tmp}/audit.jsonl", encoding="utf-8") as log:
            audit_lines = sum(1 for _ in log)
    proxy.stop()
    upstream.stop()
    overrun = out["overrun_ns"]
    late = sum(1 for o in overrun if o > 5_000_000)
    errors = sum(n for k, n in out["statuses"].items() if int(k.split(":")[1]) >= 500)
    return {
        "what": f"{robots} robots for {seconds:g} s, ask ahead then decide (budget "
        f"{BUDGET_MS:g} ms), upstream through the fault proxy drawing per request",
        "fault_mix": [{"weight": w, "mode": m, "param": p} for w, m, p in FAULT_MIX],
        "faults_drawn": dict(proxy.drawn),
        "decisions": len(overrun),
        "overrun": percentiles_ms(overrun),
        "later_than_deadline_plus_5ms": late,
        "server_slack": {  # the deadline minus when the service had its response ready
            **percentiles_ms(out["server_slack_ns"]),
            "min_ms": ms(min(out["server_slack_ns"], default=None)),
            "late": len(out["late_inside"]),
            "late_decisions": out["late_inside"],
        },
        "load_average_1_5_15_min": {"start": load_start, "end": os.getloadavg()},
        "statuses": dict(out["statuses"]),
        "server_errors": errors,
        "sources": dict(out["sources"]),
        "failure_modes": dict(out["modes"]),
        "skipped": dict(out["skipped"]),
        "audit_log_lines": audit_lines,
        "rss_kib_after_warmup": rss_start,
        "rss_kib_at_end": rss_end,
        "rss_growth_kib": rss_end - rss_start,
    }


# -- the connection pool ---------------------------------------------------------------------


def _self_signed(folder: str) -> tuple[str, str]:
    cert, key = f"{folder}/cert.pem", f"{folder}/key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def bench_pool(calls: int, block: int) -> dict[str, Any]:
    kit, ctx_json, plan = _kit_and_context()
    ctx = kit.codec.context_from_json(ctx_json)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = _self_signed(tmp)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert, key)
        for scheme, sctx in (("http", None), ("https", server_ctx)):
            upstream = StreamingUpstream(plan.decode(), ssl_context=sctx).start()
            base = f"{scheme}://127.0.0.1:{upstream.port}/v1"
            planners = {
                "pool": OpenAICompatPlanner(kit.prompt, base_url=base, verify=cert),
                "no_pool": OpenAICompatPlanner(
                    kit.prompt, base_url=base, verify=cert, keep_alive=False
                ),
            }
            samples: dict[str, list[int]] = {k: [] for k in planners}

            async def run(planners: dict[str, Any] = planners, samples: Any = samples) -> None:
                for p in planners.values():  # warm-up
                    for _ in range(20):
                        await p(ctx, StopToken())
                for _ in range(max(1, calls // block)):
                    for name, p in planners.items():
                        for _ in range(block):
                            t0 = time.perf_counter_ns()
                            got = await p(ctx, StopToken())
                            samples[name].append(time.perf_counter_ns() - t0)
                            assert got == plan
                for p in planners.values():
                    await p.aclose()

            connections_before = upstream.connections
            asyncio.run(run())
            upstream.stop()
            pool, no_pool = percentiles_ms(samples["pool"]), percentiles_ms(samples["no_pool"])
            out[scheme] = {
                "pool": pool,
                "no_pool": no_pool,
                "gain_p50_ms": round(no_pool["p50_ms"] - pool["p50_ms"], 3),
                "gain_p99_ms": round(no_pool["p99_ms"] - pool["p99_ms"], 3),
                "connections_opened": upstream.connections - connections_before,
                "calls": 2 * (calls // block) * block + 40,
            }
    out["note"] = (
        "loopback: a TLS handshake here is a floor; a hosted API's handshake crosses a network "
        "(round trips) and costs far more"
    )
    return out


# -- the ASGI servers ------------------------------------------------------------------------


def _instant_service() -> Any:
    """The service a server child serves: warehouse kit, an instant in-process planner."""
    from plansentry.serve.config import ServeConfig
    from plansentry.serve.service import Service

    kit, _, plan = _kit_and_context()
    return Service(
        ServeConfig(kit="warehouse", audit_log=None), kit=kit, planner=lambda _c, _s: plan
    )


def asgi_app() -> Any:
    """``granian --factory serve:asgi_app``: the service's ASGI application."""
    from plansentry.serve.app import build_app

    return build_app(_instant_service())


def _child(server: str, port: int) -> None:
    if server == "plansentry":  # the command's own server and socket, the instant planner
        from plansentry.serve.command import bind
        from plansentry.serve.server import serve

        serve(_instant_service(), bind("127.0.0.1", port))
        return
    if server.startswith("uvicorn"):
        import uvicorn

        uvicorn.run(
            asgi_app(), host="127.0.0.1", port=port, log_level="warning",
            http="h11" if server == "uvicorn-h11" else "httptools",
        )  # fmt: skip
        return
    if server == "aiohttp":
        from aiohttp import web

        from plansentry.serve.schemas import DecideRequest

        service = _instant_service()

        async def decide(request: web.Request) -> web.Response:
            received = service.clock.now_ns()
            import msgspec

            point = msgspec.json.decode(await request.read(), type=DecideRequest)
            budget = service.budget_ns(point.budget_ms)
            d, _ = await service.decide(
                received_ns=received, budget_ns=budget, ticket_id=None,
                context=service.context(point.context), request_id=None,
            )  # fmt: skip
            body = service.decision_json(d, received_ns=received, budget_ns=budget, ticket=None)
            return web.json_response(body)

        app = web.Application()
        app.router.add_post("/v1/decide", decide)
        app.router.add_get("/healthz", lambda _r: web.json_response({"ok": True}))
        web.run_app(app, host="127.0.0.1", port=port, print=None)
        return
    raise SystemExit(f"unknown server {server}")


def bench_servers(rounds: int, block: int) -> dict[str, Any]:
    _, ctx_json, _ = _kit_and_context()
    body = json.dumps({"context": ctx_json, "budget_ms": BUDGET_MS}).encode()
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    missing = []
    for server in ("uvicorn-h11", "uvicorn-httptools", "granian", "aiohttp"):
        module = {"uvicorn-httptools": "httptools", "granian": "granian", "aiohttp": "aiohttp"}
        if server in module:
            import importlib.util

            if importlib.util.find_spec(module[server]) is None:
                missing.append(server)
                continue
        port = free_port()
        if server == "granian":
            cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1", "--factory", "serve:asgi_app"]  # fmt: skip
        else:
            cmd = [sys.executable, str(HERE / "serve.py"), "--child", server, "--port", str(port)]
        procs[server] = (
            subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            port,
        )
    samples: dict[str, list[int]] = {k: [] for k in procs}
    try:
        conns = {}
        for name, (proc, port) in procs.items():
            _wait_up(port, proc)
            conns[name] = http.client.HTTPConnection("127.0.0.1", port)
            for _ in range(100):
                assert _post(conns[name], "/v1/decide", body)[0] == 200
        for _ in range(max(1, rounds // block)):
            for name, conn in conns.items():
                for _ in range(block):
                    t0 = time.perf_counter_ns()
                    status, _ = _post(conn, "/v1/decide", body)
                    samples[name].append(time.perf_counter_ns() - t0)
                    assert status == 200
    finally:
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGINT)
        for proc, _ in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {
        "what": "POST /v1/decide round trip, warehouse kit, instant in-process planner; one "
        "process per server, one http.client keep-alive connection each, interleaved in blocks",
        "servers": {k: percentiles_ms(v) for k, v in samples.items()},
        "not_installed": missing,
    }


def human(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--sections", default="added,load,pool", help=f"of {','.join(SECTIONS)}")
    p.add_argument("--rounds", type=int, default=4000, help="decisions per case (added)")
    p.add_argument("--robots", type=int, default=64)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--calls", type=int, default=1000, help="calls per case (pool)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(args.child, args.port)
        return
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    doc: dict[str, Any] = {"machine": {**machine(), "note": "shared by several engineers"}}
    if "added" in sections:
        doc["added"] = bench_added(args.rounds, 100)
    if "pool" in sections:
        doc["pool"] = bench_pool(args.calls, 50)
    if "servers" in sections:
        doc["servers"] = bench_servers(args.rounds, 100)
    if "load" in sections:
        doc["load"] = bench_load(args.robots, args.seconds, args.seed)
    doc["command"] = "python bench/serve.py " + " ".join(sys.argv[1:])
    emit(doc, args.json, human)


if __name__ == "__main__":
    main()
