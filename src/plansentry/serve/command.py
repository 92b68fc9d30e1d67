"""The ``plansentry serve`` command: build the service, bind, serve on uvicorn, drain on SIGTERM.

SIGTERM (or SIGINT) stops accepting connections, lets every decision in flight finish by its
deadline (they are bounded by ``max_budget_ms``), then stops the model calls of outstanding
tickets and closes the audit log, whose every record was written before its decision was
returned. The process then exits 0.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import IO

from plansentry.core.errors import ConfigError
from plansentry.serve.config import ServeConfig, is_loopback
from plansentry.serve.upstream import EMBEDDED, describe, read_secret

TOKEN_ENV = "PLANSENTRY_SERVE_TOKEN"
KEY_ENV = "PLANSENTRY_API_KEY"


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = ServeConfig()
    p.add_argument("--host", default=d.host, help=f"bind address (default {d.host})")
    p.add_argument("--port", type=int, default=d.port, help=f"port (default {d.port}; 0: any)")
    p.add_argument("--kit", default=d.kit, help=f"domain kit to serve (default {d.kit})")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="a kit parameter")
    p.add_argument(
        "--upstream",
        default=d.upstream,
        help=f"{EMBEDDED!r} (the local model, default) or an OpenAI-compatible base URL",
    )
    p.add_argument("--upstream-model", default=None, help="the upstream's model name")
    p.add_argument("--dialect", default=d.dialect, help="how the upstream takes a JSON Schema")
    p.add_argument(
        "--upstream-key-file", help=f"the upstream's API key, from a file (or ${KEY_ENV})"
    )
    p.add_argument("--budget-ms", type=float, default=d.budget_ms, help="default budget")
    p.add_argument("--max-budget-ms", type=float, default=d.max_budget_ms)
    p.add_argument("--ticket-ttl-s", type=float, default=d.ticket_ttl_s)
    p.add_argument("--max-tickets", type=int, default=d.max_tickets)
    p.add_argument("--max-inflight", type=int, default=d.max_inflight)
    p.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes)
    p.add_argument("--workers", type=int, default=d.workers, help="threads for a local model")
    p.add_argument("--switch-interval-s", type=float, default=d.switch_interval_s)
    p.add_argument("--send-margin-ms", type=float, default=d.send_margin_ms)
    p.add_argument("--audit-log", default=d.audit_log, help=f"(default {d.audit_log})")
    p.add_argument("--no-audit-log", action="store_true", help="keep no audit log")
    p.add_argument("--token-file", help=f"the access token callers must send (or ${TOKEN_ENV})")
    p.add_argument(
        "--insecure-no-token",
        action="store_true",
        help="allow a non-loopback bind without an access token (anyone who reaches it may ask)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request (uvicorn's)")


def config_from(args: argparse.Namespace) -> ServeConfig:
    """The configuration the flags name; a :class:`ConfigError` naming the flag otherwise."""
    token = (
        read_secret(args.token_file, "--token-file")
        if args.token_file
        else os.environ.get(TOKEN_ENV) or None
    )
    return ServeConfig(
        host=args.host,
        port=args.port,
        kit=args.kit,
        kit_params=_key_values(args.param),
        upstream=args.upstream,
        upstream_model=args.upstream_model,
        dialect=args.dialect,
        budget_ms=args.budget_ms,
        max_budget_ms=args.max_budget_ms,
        ticket_ttl_s=args.ticket_ttl_s,
        max_tickets=args.max_tickets,
        max_inflight=args.max_inflight,
        max_body_bytes=args.max_body_bytes,
        workers=args.workers,
        switch_interval_s=args.switch_interval_s,
        send_margin_ms=args.send_margin_ms,
        audit_log=None if args.no_audit_log else args.audit_log,
        token=token,
        insecure_no_token=args.insecure_no_token,
    )


def _key_values(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param takes KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a :class:`ConfigError` if it cannot be had.

    Created with ``IPPROTO_TCP`` named, as asyncio's own servers are: asyncio turns Nagle's
    algorithm off (``TCP_NODELAY``) only on sockets whose protocol says TCP. With it on, a response
    written in two parts (headers, body) on a kept-alive connection waits for the caller's
    delayed ACK: 40 ms per decision, measured here before this was set."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _say(line: str) -> None:
    print(f"plansentry serve: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, out: IO[str]) -> int:
    config = config_from(args)
    try:
        from plansentry.serve.server import serve
    except ImportError as exc:
        raise ConfigError(
            f"plansentry serve needs: pip install 'plansentry[serve]' ({exc})"
        ) from None
    from plansentry.serve.service import Service

    key = (
        read_secret(args.upstream_key_file, "--upstream-key-file")
        if args.upstream_key_file
        else None
    )
    sock = bind(config.host, config.port)
    service = Service(config, api_key=key)
    port = sock.getsockname()[1]
    host = f"[{config.host}]" if ":" in config.host else config.host
    if config.token is None and not is_loopback(config.host):
        _say(
            f"WARNING: listening on {config.host} WITHOUT an access token (--insecure-no-token): "
            "anyone who can reach this port can ask for plans a robot will execute"
        )
    _say(
        f"kit {service.kit.name} ({service.kit.rules_version}), upstream {describe(config)}, "
        f"audit log {config.audit_log or 'off'}, token {'required' if config.token else 'off'}"
    )
    _say(f"listening on http://{host}:{port}")
    serve(service, sock, access_log=args.access_log)
    _say(f"stopped after {service.guard.seq} decisions; audit log closed")
    return 0
