"""Fixtures of the service tests (helpers: servekit.py): the toy kit, a plan it passes, and a
running service per test."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import pytest
from servekit import CONTEXT, make_service, running

from plansentry.serve.service import Service
from plansentry.testing.toy import toy_kit


@pytest.fixture(scope="session")
def kit():
    return toy_kit()


@pytest.fixture(scope="session")
def good_text(kit) -> bytes:
    """The toy fallback's plan for CONTEXT, as the model's answer: the gate passes it."""
    ctx = kit.codec.context_from_json(CONTEXT)
    return msgspec.json.encode(kit.codec.plan_to_json(kit.fallbacks[0].plan(ctx).plan))


@pytest.fixture
def serve(tmp_path, kit):
    """``serve(planner, **config)``: a running service; yields (base URL, service)."""
    with contextlib.ExitStack() as stack:

        def start(planner, **config: Any) -> tuple[str, Service]:
            service = make_service(tmp_path, kit, planner, **config)
            return stack.enter_context(running(service)), service

        yield start
