"""What every ``plansentry`` command shares: JSON lines out, a progress bar, comma-separated lists."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, Any, TypeVar

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from plansentry.core.errors import ConfigError
from plansentry.telemetry.reader import Refused, unreadable_summary

T = TypeVar("T")
_ENC = msgspec.json.Encoder()


def emit(out: IO[str], record: dict[str, Any]) -> None:
    """Write one JSON line and flush it (a reader downstream sees it at once)."""
    out.write(_ENC.encode(record).decode() + "\n")
    out.flush()


def progress_bar(label: str, unit: str = "replications") -> Progress:
    """A progress bar on stderr, shown only on a terminal (logs and pipes stay clean)."""
    err = Console(file=sys.stderr, highlight=False)
    return Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def comma_list(text: str, kind: type[T], flag: str) -> tuple[T, ...]:
    """``"a,b,c"`` as a tuple of ``kind``; a :class:`ConfigError` naming ``flag`` otherwise."""
    try:
        values = tuple(kind(x) for x in text.split(",") if x.strip())  # type: ignore[call-arg]
    except ValueError:
        raise ConfigError(f"{flag} must be a comma-separated list, got {text!r}") from None
    if not values:
        raise ConfigError(f"{flag} is empty")
    return values


def key_values(pairs: list[str] | None, flag: str) -> dict[str, str]:
    """``["k=v", ...]`` as a mapping; a :class:`ConfigError` naming ``flag`` for a pair without ``=``."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} takes KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def tell_unreadable(command: str, refused: Sequence[Refused], err: IO[str] | None = None) -> int:
    """Write each line that could not be read (``FILE:LINE: REASON``) and then how many, to
    standard error; the number of them that are not torn tails (a command's exit 1 if any)."""
    err = err if err is not None else sys.stderr
    for r in refused:
        err.write(f"{r.line}\n")
    err.write(f"plansentry {command}: {unreadable_summary(refused)}\n")
    return sum(not r.torn for r in refused)
