"""What a model planner is to the runtime: a callable that answers a context with raw text.

A planner gets the decision's context and a :class:`StopToken`, and returns the model's output as
``bytes`` or ``str`` (or an awaitable of one). It must not judge the output: that is the gate's job.
It should check the stop token often (per token, for a local model) and return promptly once it is
set. Domains turn a context into a :class:`Prompt`; planners send prompts to models.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, final

_CtxContra = TypeVar("_CtxContra", contravariant=True)


class PlannerStopped(RuntimeError):
    """Raised by a planner that gave up because its stop token was set (its decision is taken)."""


class RetryLater(RuntimeError):
    """Raised by a planner whose model asked to be called again later (an HTTP 429 or 503 with
    ``Retry-After``). The call counts as a ``transport`` failure, and the guard asks the model
    again only after ``retry_after_s`` (capped at the breaker's longest cool-down): every decision
    before then is taken without the model, recording why."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@final
class StopToken:
    """Tells a planner to stop: set when its decision's cut-off passes. Thread-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def stop(self) -> None:
        self._event.set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._event.wait(timeout_s)


class Planner(Protocol[_CtxContra]):
    """A model behind the guard: ``(ctx, stop) -> output`` as ``bytes`` or ``str``, sync or async."""

    def __call__(
        self, ctx: _CtxContra, stop: StopToken, /
    ) -> bytes | str | Awaitable[bytes | str]: ...


@final
@dataclass(frozen=True, slots=True)
class Prompt:
    """A chat request for one decision.

    ``messages`` are OpenAI-style ``{"role", "content"}`` mappings. ``json_schema``, if set, is the
    schema a constrained decoder should hold the output to (it may be narrower than the gate's
    schema, never wider). ``max_tokens`` caps the reply.
    """

    messages: Sequence[Mapping[str, str]]
    max_tokens: int
    json_schema: Mapping[str, Any] | None = None
    variant: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)


class PromptBuilder(Protocol[_CtxContra]):
    """Turns a decision's context into a prompt (the domain's side of a model planner)."""

    def __call__(self, ctx: _CtxContra, /) -> Prompt: ...
