"""A planner for any OpenAI-compatible chat-completions server: llama.cpp's, vLLM, Ollama, hosted APIs.

Async and streaming (``httpx``): the reply is read as server-sent events and the stop token is
checked on every line, and the runtime cancels the call at its cut-off, which closes the connection.
Everything that goes wrong on the way becomes :class:`TransportError`, so the decision records a
``transport`` failure with the detail:

- an HTTP status other than 200 (429, 5xx, ...), with the start of the body;
- a connection refused or reset, a read error;
- a stream that ends without ``data: [DONE]`` (a truncated body);
- a malformed event (not ``data: <json>`` with ``choices[0].delta``);
- a stream that trickles: no first content within ``first_content_s`` of the request (the server
  may queue it, evaluate the prompt, compile a grammar), or no new content for ``stall_s`` after
  that, whatever else arrives.

Note for llama.cpp's Python server: it finishes a generation whose client went away, and later
requests queue behind it; ``first_content_s`` is what bounds that wait.

Servers spell structured output differently (``dialect``): llama.cpp's server takes
``{"type": "json_object", "schema": ...}`` and refuses OpenAI's ``json_schema`` form; OpenAI, vLLM
and Ollama take ``{"type": "json_schema", "json_schema": {...}}``; ``none`` sends no schema.
Base URL, model and key come from arguments or ``PLANSENTRY_BASE_URL``, ``PLANSENTRY_MODEL``,
``PLANSENTRY_API_KEY``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any, Final, Generic, TypeVar

import httpx

from plansentry.runtime.planner import PlannerStopped, PromptBuilder, StopToken

CtxT = TypeVar("CtxT")

DIALECTS: Final = ("llama.cpp", "openai", "vllm", "ollama", "none")


class TransportError(RuntimeError):
    """The call failed on the way: the message says how (status, reset, truncation, stall)."""


def response_format(dialect: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` body field for ``dialect``; ``None`` where nothing is sent."""
    if dialect == "llama.cpp":
        return {"type": "json_object", "schema": schema}
    if dialect in ("openai", "vllm", "ollama"):
        return {"type": "json_schema", "json_schema": {"name": "plan", "schema": schema}}
    if dialect == "none":
        return None
    raise ValueError(f"dialect {dialect!r} unknown; use one of {', '.join(DIALECTS)}")


class OpenAICompatPlanner(Generic[CtxT]):
    """Answers a context with a chat completion streamed from an OpenAI-compatible server."""

    def __init__(
        self,
        prompt: PromptBuilder[CtxT],
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        dialect: str = "llama.cpp",
        constrained: bool = True,
        stall_s: float = 2.0,
        first_content_s: float = 30.0,
        connect_timeout_s: float = 2.0,
        max_bytes: int = 64 * 1024 + 1,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> None:
        base = base_url or os.environ.get("PLANSENTRY_BASE_URL")
        if not base:
            raise ValueError("no server: give base_url or set PLANSENTRY_BASE_URL")
        response_format(dialect, {})  # validates the dialect now, not at the first call
        if not (stall_s > 0 and first_content_s > 0):
            raise ValueError(
                f"stall_s and first_content_s must be > 0, got {stall_s}, {first_content_s}"
            )
        self.prompt = prompt
        self.url = base.rstrip("/") + "/chat/completions"
        self.model = model or os.environ.get("PLANSENTRY_MODEL", "default")
        key = api_key or os.environ.get("PLANSENTRY_API_KEY")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.dialect = dialect
        self.constrained = constrained
        self.stall_s = stall_s
        self.first_content_s = first_content_s
        self.max_bytes = max_bytes
        self.temperature = temperature
        self.seed = seed
        # A read timeout bounds the wait for the response headers, which a busy server sends late.
        self.timeout = httpx.Timeout(
            connect=connect_timeout_s, read=first_content_s, write=5.0, pool=5.0
        )

    def body(self, ctx: CtxT) -> dict[str, Any]:
        prompt = self.prompt(ctx)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in prompt.messages],
            "max_tokens": prompt.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
            "stream": True,
        }
        if self.constrained and prompt.json_schema is not None:
            fmt = response_format(self.dialect, dict(prompt.json_schema))
            if fmt is not None:
                body["response_format"] = fmt
        return body

    async def __call__(self, ctx: CtxT, stop: StopToken) -> bytes:
        body = self.body(ctx)
        started = time.monotonic()
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                client.stream("POST", self.url, json=body, headers=self.headers) as resp,
            ):
                if resp.status_code != 200:
                    text = (await resp.aread())[:200].decode("utf-8", "replace")
                    raise TransportError(f"HTTP {resp.status_code}: {text}")
                return await self._read(resp, stop, started)
        except httpx.RemoteProtocolError as exc:
            raise TransportError(f"truncated or broken response: {exc}") from None
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None

    async def _read(self, resp: httpx.Response, stop: StopToken, started: float) -> bytes:
        parts: list[str] = []
        size = 0
        lines = resp.aiter_lines()
        last_progress = started  # first content is due first_content_s after the request
        while True:
            if stop.stopped:
                raise PlannerStopped("stopped at the deadline")
            # Before the first content the server evaluates the prompt (and compiles a grammar).
            allowed = self.stall_s if parts else self.first_content_s
            left = allowed - (time.monotonic() - last_progress)
            try:
                if left <= 0:
                    raise TimeoutError
                line = await asyncio.wait_for(anext(lines), timeout=left)
            except StopAsyncIteration:
                raise TransportError("stream ended without [DONE]: truncated") from None
            except TimeoutError:
                raise TransportError(f"stream trickles: no content for {allowed:g} s") from None
            if not line or line.startswith(":"):
                continue  # event separator or keep-alive comment: no progress
            if not line.startswith("data:"):
                raise TransportError(f"malformed server-sent event: {line[:80]!r}")
            data = line[5:].strip()
            if data == "[DONE]":
                return "".join(parts).encode("utf-8", "surrogatepass")
            delta = _delta(data)
            if delta:
                parts.append(delta)
                size += len(delta)
                last_progress = time.monotonic()
                if size >= self.max_bytes:  # a flood: keep what the gate needs to say oversize
                    return "".join(parts).encode("utf-8", "surrogatepass")


def _delta(data: str) -> str:
    try:
        event = json.loads(data)
        choice = event["choices"][0]
        content = choice.get("delta", {}).get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise TransportError(f"malformed server-sent event: {data[:80]!r}") from None
    if content is not None and not isinstance(content, str):
        raise TransportError(f"malformed server-sent event: content is {type(content).__name__}")
    return content or ""
