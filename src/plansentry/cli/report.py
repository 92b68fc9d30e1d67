"""``plansentry report``: a JSON document (``simulate``, ``sweep``, ``demo``, ``fmli``) to one HTML file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO

from plansentry.core.errors import ConfigError, InputError
from plansentry.telemetry.reader import Refused, read_document


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
    doc = read_document(args.run)
    if isinstance(doc, Refused):
        raise InputError(doc.line)
    try:
        page = render(doc)
    except ReportError as exc:
        raise InputError(f"{args.run}: {exc}") from None
    Path(args.out).write_text(page, encoding="utf-8")
    out.write(f"wrote {args.out} ({len(page) / 1024:.0f} KiB)\n")
    return 0
