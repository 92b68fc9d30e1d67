"""The warehouse's own ``plansentry`` commands: ``demo`` and ``example-order`` (``simulate``,
``sweep`` and ``fit`` are generic: they run the kit's world, :mod:`plansentry.sim`).

Each command module is imported only when its command runs; this one only builds the parsers.
"""

from __future__ import annotations

import argparse
from typing import IO, Any


def _demo(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.domains.warehouse.commands import demo

    return demo.run(args, out)


def _example_order(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli.common import emit
    from plansentry.domains.warehouse.examples import (
        DEFAULT_ROBOT,
        DEFAULT_START_STATION,
        default_order,
    )
    from plansentry.domains.warehouse.map import default_map

    wh = default_map()
    x, y = wh.xy(wh.pack_stations[DEFAULT_START_STATION])
    emit(
        out,
        {
            "robot_id": DEFAULT_ROBOT,
            "start": {"station": DEFAULT_START_STATION, "cell": [x, y]},
            "order": default_order(wh).to_json(),
        },
    )
    return 0


def add_commands(subparsers: Any) -> None:
    """Add the warehouse's commands to ``plansentry``'s parser."""
    m = subparsers.add_parser(
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
        default="auto",
        help="warehouse seconds per wall-clock second, or auto (default): set from a warm-up "
        "generation so that a robot's order takes about twice the fleet's generation time",
    )
    m.add_argument("--audit-log", metavar="PATH", help="append the audit log here")
    m.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics while the demo runs",
    )
    m.add_argument("--json", action="store_true", help="print one JSON document at the end")
    m.set_defaults(func=_demo)

    e = subparsers.add_parser(
        "example-order", help="print the default order that check uses for the warehouse"
    )
    e.set_defaults(func=_example_order)
