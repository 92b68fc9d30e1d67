"""Where the service's model answers come from: the embedded model, or any OpenAI-compatible
server. The kit's prompt builder writes every request: the domain's prompt, built from the
decision's context, is what goes upstream (a caller's own messages never do).

The upstream's key is read from ``PLANSENTRY_API_KEY`` or a key file, never from the command line
(where ``ps`` shows it); it lives in the planner's ``Authorization`` header only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plansentry.core.errors import ConfigError, KitError, PlannerError
from plansentry.runtime.kit import DomainKit
from plansentry.runtime.planner import Planner
from plansentry.serve.config import ServeConfig

EMBEDDED = "embedded"


def read_secret(path: str | Path, what: str) -> str:
    """A secret from a file (its first line, stripped); a :class:`ConfigError` naming ``what``."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror}") from None
    if not text:
        raise ConfigError(f"{what}: {path} is empty")
    return text.splitlines()[0].strip()


def describe(config: ServeConfig) -> str:
    """The upstream as the logs and ``/readyz`` name it (never with a key)."""
    if config.upstream == EMBEDDED:
        return "embedded model (SmolLM2-135M-Instruct, llama.cpp)"
    url = urlsplit(config.upstream)
    host = url.hostname or ""
    netloc = f"{host}:{url.port}" if url.port else host  # no user:password@, no ?key=
    return f"{url.scheme}://{netloc}{url.path} (model {config.upstream_model or 'default'})"


def make_planner(
    config: ServeConfig, kit: DomainKit[Any, Any], *, api_key: str | None = None
) -> Planner[Any]:
    """The planner ``config.upstream`` names, prompting with ``kit``'s prompt builder."""
    if kit.prompt is None:
        raise KitError(f"domain kit {kit.name!r} has no prompt builder: no model can be asked")
    if config.upstream == EMBEDDED:
        try:
            from plansentry.planners.llamacpp import LlamaCppPlanner
        except ImportError as exc:
            raise PlannerError(
                f"the embedded model needs llama-cpp-python: pip install 'plansentry[llm]' ({exc})"
            ) from None
        return LlamaCppPlanner(kit.prompt)
    if not config.upstream.startswith(("http://", "https://")):
        raise ConfigError(
            f"upstream must be {EMBEDDED!r} or an http(s):// base URL, got {config.upstream!r}"
        )
    try:
        from plansentry.planners.openai_compat import OpenAICompatPlanner
    except ImportError as exc:
        raise PlannerError(
            f"an OpenAI-compatible upstream needs httpx: pip install 'plansentry[http]' ({exc})"
        ) from None
    try:
        return OpenAICompatPlanner(
            kit.prompt,
            base_url=config.upstream,
            model=config.upstream_model,
            api_key=api_key,
            dialect=config.dialect,
            max_connections=max(1, min(config.max_inflight, 64)),
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
