"""The OpenAI-compatible endpoint with real clients on 127.0.0.1: the openai SDK unchanged (only
``base_url``), httpx, and curl; streaming; the SDK's retries never triggered."""

from __future__ import annotations

import json
import subprocess

import httpx
import msgspec
import openai
import pytest
from servekit import CONTEXT, Answer

from helpers import require_tools

pytestmark = pytest.mark.realtime


def sdk(base: str, **kw) -> openai.OpenAI:
    """The client as docs/SERVE.md sets it up: no retries, a timeout just over the budget."""
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 0.5)
    return openai.OpenAI(base_url=base + "/v1", api_key="unused-on-loopback", **kw)


def test_the_sdk_gets_the_decided_plan_as_the_completion(serve, good_text) -> None:
    """extra_body carries the context; the content is the plan; the decision rides along."""
    base, _ = serve(Answer(good_text))
    completion = sdk(base).chat.completions.create(
        model="plansentry-toy",
        messages=[{"role": "user", "content": "plan task T-1"}],
        extra_body={"plansentry": {"context": CONTEXT, "budget_ms": 150}},
    )
    assert json.loads(completion.choices[0].message.content) == msgspec.json.decode(good_text)
    assert completion.choices[0].finish_reason == "stop"
    decision = completion.model_extra["plansentry"]
    assert decision["source"] == "llm" and decision["on_time"]


def test_the_context_may_travel_as_the_last_user_message(serve, good_text) -> None:
    """A client that cannot add body fields sends the decision point as the message's JSON."""
    base, _ = serve(Answer(b"not a plan"))
    point = json.dumps({"context": CONTEXT, "budget_ms": 120})
    completion = sdk(base).chat.completions.create(
        model="any", messages=[{"role": "user", "content": point}]
    )
    plan = json.loads(completion.choices[0].message.content)
    assert plan["task_id"] == "T-1" and completion.model_extra["plansentry"]["source"] == "stepper"


def test_the_sdk_streams_the_decided_plan(serve, good_text) -> None:
    """stream=True: a valid chunk stream whose content is the plan, the decision on the last."""
    base, _ = serve(Answer(good_text))
    chunks = list(
        sdk(base).chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            extra_body={"plansentry": {"context": CONTEXT}},
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert json.loads(content) == msgspec.json.decode(good_text)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["plansentry"]["source"] == "llm"


def test_the_decision_is_in_the_response_headers(serve, good_text) -> None:
    """with_raw_response shows the x-plansentry-* headers."""
    base, _ = serve(Answer(good_text))
    raw = sdk(base).chat.completions.with_raw_response.create(
        model="m",
        messages=[{"role": "user", "content": "x"}],
        extra_body={"plansentry": {"context": CONTEXT}},
    )
    assert raw.headers["x-plansentry-source"] == "llm"
    assert raw.headers["x-plansentry-state"] == "NOMINAL"
    assert raw.headers["server-timing"].startswith("decide;dur=")


def test_a_failing_model_is_one_request_even_with_the_sdks_default_retries(serve) -> None:
    """The SDK retries 408/409/429/5xx by default; the service answers 200 with the fallback's
    plan, so the SDK, left at max_retries=2, sends exactly one request per decision."""
    base, service = serve(Answer(b"{broken"))
    client = openai.OpenAI(base_url=base + "/v1", api_key="x", timeout=2.0)  # defaults kept
    for _ in range(3):
        client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "x"}],
            extra_body={"plansentry": {"context": CONTEXT}},
        )
    assert service.guard.seq == 3


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": "hello"}]}, "messages[0].content"),
        ({"model": "m", "messages": [{"role": "system", "content": "x"}]}, "plansentry"),
        ({"model": "m", "messages": [], "plansentry": {"budget_ms": 100}}, "plansentry.context"),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": '{"context": {}, "budget_ms": 1}'}],
            },
            "messages[0].content.budget_ms",
        ),
        ({"model": "m", "messages": [{"role": "user"}], "n": 2, "plansentry": {}}, "n"),
        ({"messages": []}, "model"),
        (
            {"model": "m", "messages": [], "plansentry": {"context": {"task_id": 1, "target": 2}}},
            "plansentry.context.task_id",
        ),
    ],
)
def test_a_bad_chat_request_is_a_4xx_the_sdk_does_not_retry(serve, good_text, body, param) -> None:
    """Refusals name the field (OpenAI's error shape), are never retried, never reach the model."""
    planner = Answer(good_text)
    base, _ = serve(planner)
    r = httpx.post(base + "/v1/chat/completions", json=body)
    assert r.status_code == 422 and r.json()["error"]["param"] == param, r.text
    if "model" in body:  # the SDK itself refuses a call without a model
        args = {k: v for k, v in body.items() if k != "plansentry"}
        extra = {"plansentry": body["plansentry"]} if "plansentry" in body else None
        with pytest.raises(openai.UnprocessableEntityError):
            sdk(base, max_retries=2).chat.completions.create(**args, extra_body=extra)
    assert planner.calls == 0


def test_models_lists_the_kit(serve, good_text) -> None:
    """GET /v1/models names the one model this service answers as."""
    base, _ = serve(Answer(good_text))
    assert [m.id for m in sdk(base).models.list()] == ["plansentry-toy"]


def test_curl_posts_a_chat_completion(serve, good_text) -> None:
    """curl, as a shell script would call it."""
    require_tools("curl")
    base, _ = serve(Answer(good_text))
    body = json.dumps({"model": "m", "messages": [], "plansentry": {"context": CONTEXT}})
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            "2",
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            base + "/v1/chat/completions",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    answer = json.loads(out)
    assert json.loads(answer["choices"][0]["message"]["content"]) == msgspec.json.decode(good_text)


def test_the_sdks_api_key_is_the_services_token(serve, good_text) -> None:
    """The SDK sends api_key as Authorization: Bearer: the token works as the key; another key
    gets 401 (AuthenticationError, which the SDK does not retry)."""
    token = "sdk-token-0123456789abcdef"
    base, service = serve(Answer(good_text), token=token)
    ask = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "extra_body": {"plansentry": {"context": CONTEXT}},
    }
    client = openai.OpenAI(base_url=base + "/v1", api_key=token, max_retries=0, timeout=1)
    assert client.chat.completions.create(**ask).model_extra["plansentry"]["source"] == "llm"
    wrong = openai.OpenAI(base_url=base + "/v1", api_key="not-the-token", max_retries=2, timeout=1)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(**ask)
    assert service.guard.seq == 1
