"""The ``plansentry`` command.

- ``check [FILE]``: judge model outputs (JSON lines) as the guard would, one JSON line out per record;
- ``example-order``: the default order ``check`` uses when a record has none;
- ``fsm [--mermaid]``: the state machine's transition table;
- ``replay LOG``: re-run an audit log through the core and count differences (exit 1 if any);
- ``demo``: a picker fleet in real time with a real model (``cli_demo.py``);
- ``simulate``: the fleet simulator and the FMLI matrix (``cli_simulate.py``);
- ``sweep``: a grid of budgets, profiles and fleet sizes, locally or on Ray (``cli_report.py``);
- ``report RUN.json``: one self-contained HTML report (``cli_report.py``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any

import msgspec

from plansentry.core.decider import GuardState
from plansentry.core.fsm import TRANSITIONS, mermaid
from plansentry.runtime.config import ConfigError
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog
from plansentry.telemetry.records import decision_json
from plansentry.telemetry.replay import ReplayError, replay
from plansentry.warehouse.assembly import default_config, make_guard
from plansentry.warehouse.examples import DEFAULT_ROBOT, DEFAULT_START_STATION, default_order
from plansentry.warehouse.map import MapError, Warehouse, default_map, load_map
from plansentry.warehouse.order import OrderError, order_from_json
from plansentry.warehouse.rules import WarehouseDomain

_ENC = msgspec.json.Encoder()
#: Virtual time between two ``check`` records: far apart, so one record's timing never touches the next.
_CHECK_SPACING_NS = 10_000_000_000


def _emit(out: IO[str], record: dict[str, Any]) -> None:
    out.write(_ENC.encode(record).decode() + "\n")
    out.flush()


def _lines(source: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(source, start=1):
        if line.strip():
            yield number, line


def _load_wh(path: str | None) -> Warehouse:
    return default_map() if path is None else load_map(path)


def cmd_check(args: argparse.Namespace, out: IO[str]) -> int:
    wh = _load_wh(args.map)
    overrides: dict[str, object] = {"budget_ms": args.budget_ms}
    if args.repair:
        from plansentry.core.gate import GateConfig

        overrides["gate"] = GateConfig(repair=True)
    config = default_config(**overrides)
    domain = WarehouseDomain(wh)
    hooks = []
    if args.audit_log:
        hooks.append(AuditLog(args.audit_log, wh=wh, config=config, map_path=args.map))
    guard = make_guard(config=config, domain=domain, hooks=hooks)
    runtime = VirtualRuntime(guard)
    fallback_order = default_order(wh)
    start_default = wh.pack_stations[DEFAULT_START_STATION]
    bad = 0
    source = sys.stdin if args.file in (None, "-") else open(args.file, encoding="utf-8")  # noqa: SIM115
    try:
        for number, line in _lines(source):
            rid: Any = None
            try:
                rec = msgspec.json.decode(line)
                if not isinstance(rec, dict):
                    raise ValueError("a record must be a JSON object")
                rid = rec.get("id")
                if rid is None:
                    raise ValueError('missing "id"')
                output = _record_output(rec)
                latency = rec.get("latency_ms", 0.0)
                if (
                    isinstance(latency, bool)
                    or not isinstance(latency, (int, float))
                    or latency < 0
                ):
                    raise ValueError(f'"latency_ms" must be a number >= 0, got {latency!r}')
                order = order_from_json(rec["order"], wh) if "order" in rec else fallback_order
                robot = str(rec.get("robot_id", DEFAULT_ROBOT))
            except (ValueError, OrderError, msgspec.DecodeError) as exc:
                bad += 1
                _emit(out, {"id": rid, "line": number, "error": str(exc)})
                continue
            if not args.stateful and guard.state != GuardState():
                guard.reset("check: each record is judged on its own")
            ctx = domain.context(order, robot, start_default)
            d = runtime.decide(
                ctx,
                now_ns=number * _CHECK_SPACING_NS,
                output=output,
                latency_ms=float(latency),
                request_id=str(rid),
            )
            row = decision_json(d, config.buckets)
            _emit(
                out,
                {
                    "id": rid,
                    "accepted": row["accepted"],
                    "source": row["source"],
                    "failure_mode": row["failure_mode"],
                    "bucket": row["bucket"],
                    "violations": row["violations"],
                    "repairs": row["repairs"],
                    "gate_us": row["gate_us"],
                    "state": row["state_after"],
                    "plan": row["plan"],
                },
            )
    finally:
        if source is not sys.stdin:
            source.close()
        for hook in hooks:
            hook.close()
    return 1 if bad else 0


def _record_output(rec: dict[str, Any]) -> bytes:
    if "output" in rec and "output_b64" in rec:
        raise ValueError('give "output" or "output_b64", not both')
    if "output_b64" in rec:
        try:
            return base64.b64decode(str(rec["output_b64"]), validate=True)
        except binascii.Error as exc:
            raise ValueError(f'"output_b64" is not valid base64: {exc}') from None
    if "output" not in rec:
        raise ValueError('missing "output" (or "output_b64")')
    if not isinstance(rec["output"], str):
        raise ValueError(f'"output" must be a string, got {type(rec["output"]).__name__}')
    return rec["output"].encode("utf-8", "surrogatepass")


def cmd_example_order(args: argparse.Namespace, out: IO[str]) -> int:
    wh = default_map()
    x, y = wh.xy(wh.pack_stations[DEFAULT_START_STATION])
    doc = {
        "robot_id": DEFAULT_ROBOT,
        "start": {"station": DEFAULT_START_STATION, "cell": [x, y]},
        "order": default_order(wh).to_json(),
    }
    out.write(_ENC.encode(doc).decode() + "\n")
    return 0


def cmd_fsm(args: argparse.Namespace, out: IO[str]) -> int:
    if args.mermaid:
        out.write(mermaid())
        return 0
    width = max(len(s.value) for s, _ in TRANSITIONS)
    for (state, event), target in TRANSITIONS.items():
        out.write(f"{state.value:<{width}}  --{event.value}-->  {target.value}\n")
    return 0


def cmd_replay(args: argparse.Namespace, out: IO[str]) -> int:
    result = replay(args.log)
    for diff in result.differences[: args.show]:
        out.write(
            f"seq {diff.seq}: {diff.field}: logged {diff.logged!r}, replayed {diff.replayed!r}\n"
        )
    for number, why in result.bad_lines:
        out.write(f"line {number}: unreadable record: {why}\n")
    if result.torn_tail:
        out.write("last line is incomplete (a write cut short by a crash); not replayed\n")
    out.write(f"{result.decisions} decisions replayed, {len(result.differences)} differences\n")
    return 0 if result.ok else 1


def cmd_demo(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli_demo import run_demo_command

    return run_demo_command(args, out)


def cmd_simulate(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli_simulate import run_simulate_command

    return run_simulate_command(args, out)


def cmd_sweep(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli_report import run_sweep_command

    return run_sweep_command(args, out)


def cmd_report(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli_report import run_report_command

    return run_report_command(args, out)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="plansentry", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="judge model outputs (JSON lines) as the guard would")
    c.add_argument("file", nargs="?", help="JSONL records; '-' or nothing reads stdin")
    c.add_argument("--audit-log", metavar="PATH", help="append the audit log here as it goes")
    c.add_argument("--map", metavar="PATH", help="warehouse map (YAML); default: embedded")
    c.add_argument("--budget-ms", type=float, default=150.0, help="decision budget (ms)")
    c.add_argument("--repair", action="store_true", help="enable the deterministic repair step")
    c.add_argument(
        "--stateful",
        action="store_true",
        help="carry the breaker and state machine across records (default: judge each alone)",
    )
    c.set_defaults(func=cmd_check)

    e = sub.add_parser("example-order", help="print the default order that check uses")
    e.set_defaults(func=cmd_example_order)

    f = sub.add_parser("fsm", help="print the state machine's transition table")
    f.add_argument("--mermaid", action="store_true", help="as a Mermaid state diagram")
    f.set_defaults(func=cmd_fsm)

    m = sub.add_parser(
        "demo", help="a picker fleet in real time with the embedded model planning ahead"
    )
    m.add_argument("--orders", type=int, default=20, help="orders to complete (default 20)")
    m.add_argument("--robots", type=int, default=2, help="robots in the fleet (default 2)")
    m.add_argument("--budget-ms", type=float, default=150.0, help="decision budget (ms)")
    m.add_argument("--model", metavar="PATH", help="a GGUF model; default: embedded SmolLM2-135M")
    m.add_argument(
        "--base-url",
        metavar="URL",
        help="an OpenAI-compatible server instead of the local model (or PLANSENTRY_BASE_URL; "
        "model and key from PLANSENTRY_MODEL, PLANSENTRY_API_KEY)",
    )
    m.add_argument(
        "--dialect",
        default="llama.cpp",
        help="how the server takes a JSON Schema: llama.cpp, openai, vllm, ollama, none",
    )
    mode = m.add_mutually_exclusive_group()
    mode.add_argument(
        "--constrained",
        dest="constrained",
        action="store_true",
        default=True,
        help="hold the model to the order's JSON Schema (default)",
    )
    mode.add_argument("--free", dest="constrained", action="store_false", help="free text")
    m.add_argument("--prompt", default="few_shot", help="prompt variant: zero_shot or few_shot")
    m.add_argument("--threads", type=int, default=None, help="model threads (default: all cores)")
    m.add_argument("--seed", type=int, default=0, help="seed of the orders (default 0)")
    m.add_argument(
        "--time-scale",
        type=float,
        default=20.0,
        help="warehouse seconds per wall-clock second (default 20)",
    )
    m.add_argument("--audit-log", metavar="PATH", help="append the audit log here")
    m.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics while the demo runs",
    )
    m.add_argument("--json", action="store_true", help="print one JSON document at the end")
    m.set_defaults(func=cmd_demo)

    s = sub.add_parser(
        "simulate",
        help="fleet simulation: unguarded, guarded and oracle controllers, and the FMLI matrix",
    )
    from plansentry.cli_simulate import add_arguments

    add_arguments(s)
    s.set_defaults(func=cmd_simulate)

    from plansentry.cli_report import add_report_arguments, add_sweep_arguments

    w = sub.add_parser(
        "sweep", help="a grid of budgets x profiles x fleet sizes, locally or on Ray"
    )
    add_sweep_arguments(w)
    w.set_defaults(func=cmd_sweep)

    h = sub.add_parser("report", help="one self-contained HTML report from a JSON document")
    add_report_arguments(h)
    h.set_defaults(func=cmd_report)

    r = sub.add_parser("replay", help="re-run an audit log through the core; exit 1 on differences")
    r.add_argument("log")
    r.add_argument("--show", type=int, default=20, help="differences to print (default 20)")
    r.set_defaults(func=cmd_replay)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args, sys.stdout)
    except (MapError, ConfigError, OrderError, ReplayError, OSError) as exc:
        print(f"plansentry: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
