"""``plansentry report``: a JSON document (``simulate``, ``sweep``, ``demo``, ``fmli``) to one HTML file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO

from plansentry.core.errors import ConfigError, InputError


def add_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("run", help="a simulate, sweep or demo JSON document ('-' reads stdin)")
    r.add_argument("--out", default="report.html", help="the HTML file to write (report.html)")


def run(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        from plansentry.report.html import ReportError, render
    except ImportError as exc:
        raise ConfigError(
            f"the report needs matplotlib: pip install 'plansentry[report]' ({exc})"
        ) from None
    text = sys.stdin.read() if args.run == "-" else Path(args.run).read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{args.run}: not JSON: {exc}") from None
    try:
        page = render(doc)
    except ReportError as exc:
        raise InputError(f"{args.run}: {exc}") from None
    Path(args.out).write_text(page, encoding="utf-8")
    out.write(f"wrote {args.out} ({len(page) / 1024:.0f} KiB)\n")
    return 0
