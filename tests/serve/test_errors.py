"""Refusals name the field: msgspec's paths and kit codecs' messages become dotted params."""

from __future__ import annotations

import msgspec
import pytest

from plansentry.core.errors import InputError
from plansentry.serve.errors import RequestError, from_input, from_validation
from plansentry.serve.schemas import DecideRequest


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b'{"budget_ms": "x"}', "budget_ms"),
        (b'{"budget_ms": 0}', "budget_ms"),
        (b'{"nope": 1}', "nope"),
        (b'{"ticket": "a b"}', "ticket"),
        (b'{"request_id": ""}', "request_id"),
        (b"[]", "body"),
        (b"null", "body"),
    ],
)
def test_a_validation_error_names_its_field(body, param) -> None:
    """msgspec's `$.a.b` path (or the unknown field) becomes the error's param."""
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(body, type=DecideRequest)
    err = from_validation(caught.value)
    assert (err.status, err.param) == (422, param) and str(err).startswith(param + ": ")


@pytest.mark.parametrize(
    ("message", "root", "param"),
    [
        ("context.robot_id: missing", "context", "context.robot_id"),
        ("order.lines[0].bin: no bin 'X'", "context", "context.order.lines[0].bin"),
        ("context: Expected `int`, got `str` - at `$.target`", "context", "context.target"),
        (
            "context: Expected `int` - at `$.target`",
            "plansentry.context",
            "plansentry.context.target",
        ),
        ("something went wrong here", "context", "context"),
    ],
)
def test_a_codec_error_names_its_field_under_the_request_field(message, root, param) -> None:
    """Codecs start messages with a dotted path; it is placed under the request's own field."""
    err = from_input(InputError(message), root)
    assert (err.status, err.param) == (422, param)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
def test_the_service_never_answers_a_status_the_openai_sdk_retries(status) -> None:
    """RequestError refuses every status the OpenAI SDK would retry."""
    with pytest.raises(ValueError, match="never answers"):
        RequestError(status, "x", code="x")
