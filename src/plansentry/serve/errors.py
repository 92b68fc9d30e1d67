"""Errors a caller of the service can cause: each is one HTTP status and one line naming the field.

::

    InputError (plansentry.core.errors)
    └── RequestError            a request the service refuses before it reaches the model
                                (status 400, 401, 404, 405, 413, 415 or 422; ``param`` names the
                                field, dotted: ``context.robot_id``, ``budget_ms``)

The body is OpenAI's error shape, on every endpoint, so one client handles both APIs::

    {"error": {"message": "...", "type": "invalid_request_error", "param": "budget_ms",
               "code": "invalid_value"}}

The service never answers a decision with 408, 409, 429 or 5xx: the OpenAI SDK retries those,
which would take a robot past its deadline. Every response also says ``x-should-retry: false``.
"""

from __future__ import annotations

import re
from typing import Any, Final, final

import msgspec

from plansentry.core.errors import InputError

#: Statuses the service may answer on its request paths, with their OpenAI error types.
ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
}


@final
class RequestError(InputError):
    """A request refused with ``status``; ``param`` names the offending field, if one does."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str) -> None:
        if status not in ERROR_TYPES:
            raise ValueError(f"the service never answers {status}")
        super().__init__(f"{param}: {message}" if param else message)
        self.status = status
        self.param = param
        self.code = code
        self.detail = message

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": str(self),
                "type": ERROR_TYPES[self.status],
                "param": self.param,
                "code": self.code,
            }
        }


_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def from_validation(exc: msgspec.ValidationError, prefix: str = "") -> RequestError:
    """A msgspec validation error as a 422 naming the field (``$.a[0].b`` becomes ``a[0].b``);
    an error about the whole document (an array where an object is due) names ``prefix`` or, at
    the top, ``body``."""
    text = str(exc)
    match = _PATH.search(text)
    path = match.group("path") if match else ""
    message = text[: match.start()] if match else text
    named = _NAMED.search(message)
    if named:
        path = f"{path}.{named.group('name')}"
    param = (prefix + path).lstrip(".") or "body"
    return RequestError(422, message, param=param, code="invalid_value")


def from_input(exc: InputError, root: str) -> RequestError:
    """A kit codec's :class:`InputError` as a 422 naming the field under ``root`` (the request
    field the codec read): codecs start their messages with the dotted path
    (``"context.robot_id: missing"``, ``"order.lines[0].bin: no bin ..."``), and msgspec's end
    with it (``"... - at `$.target`"``)."""
    text = str(exc)
    head, sep, rest = text.partition(": ")
    if not sep or " " in head:
        head, rest = "", text
    match = _PATH.search(rest)
    if match:
        head, rest = head + match.group("path"), rest[: match.start()]
    leaf = root.rsplit(".", 1)[-1]  # the codec names its own root: "context"
    if head == leaf or head.startswith((leaf + ".", leaf + "[")):
        head = root[: len(root) - len(leaf)] + head
    else:
        head = f"{root}.{head}" if head else root
    return RequestError(422, rest, param=head, code="invalid_value")
