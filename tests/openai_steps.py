"""The script steps of the scripted OpenAI server (`tests/openai_server.py`) and their helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Text:
    """Reply with assistant text."""

    content: str
    finish_reason: str = "stop"
    usage: tuple[int, int] | None = None
    cached: int | None = None  # usage.prompt_tokens_details.cached_tokens, as llama.cpp sends


@dataclass(frozen=True)
class ToolCall:
    """One tool call; `arguments` is a dict (sent as JSON) or a raw string (sent as is)."""

    name: str
    arguments: dict[str, Any] | str
    id: str | None = None

    def raw_arguments(self) -> str:
        """The arguments exactly as they go on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class ToolCalls:
    """Reply with one or more tool calls (names are checked against the request's tools)."""

    calls: tuple[ToolCall, ...]
    content: str | None = None
    allow_unknown: bool = False
    usage: tuple[int, int] | None = None


@dataclass(frozen=True)
class Structured:
    """Reply with a JSON object the way the request asked for structured output.

    `response_format` json_schema/json_object → JSON content; a forced tool (function calling) →
    a call of that tool with the object as arguments; `tool` names the tool when it is ambiguous.
    """

    payload: Any
    tool: str | None = None
    usage: tuple[int, int] | None = None


@dataclass(frozen=True)
class HttpError:
    """Reply with an OpenAI-style error body and status."""

    status: int
    message: str
    type: str
    code: str | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    should_retry: bool | None = None


@dataclass(frozen=True)
class Delay:
    """Wait `seconds`, then reply with `then` (to trip client timeouts)."""

    seconds: float
    then: Step


@dataclass(frozen=True)
class Garbage:
    """Reply with a body that is not JSON (or not SSE) under a JSON content type."""

    body: bytes = b"<html>upstream proxy error</html> {not json"
    status: int = 200


Step: TypeAlias = (
    Text | ToolCalls | Structured | HttpError | Delay | Garbage | Callable[[dict[str, Any]], Any]
)


def text(
    content: str,
    *,
    usage: tuple[int, int] | None = None,
    finish_reason: str = "stop",
    cached: int | None = None,
) -> Text:
    """A plain assistant reply (`finish_reason` "length": cut at max_tokens)."""
    return Text(content, finish_reason, usage, cached)


def tool_call(
    name: str,
    arguments: dict[str, Any] | str,
    *,
    id: str | None = None,
    content: str | None = None,
    allow_unknown: bool = False,
) -> ToolCalls:
    """A reply calling one tool; a string `arguments` is sent raw (so it may be malformed)."""
    return ToolCalls((ToolCall(name, arguments, id),), content, allow_unknown)


def tool_calls(
    *calls: ToolCall, content: str | None = None, allow_unknown: bool = False
) -> ToolCalls:
    """A reply calling several tools at once."""
    return ToolCalls(tuple(calls), content, allow_unknown)


def structured(payload: Any, *, tool: str | None = None) -> Structured:
    """A structured-output reply, served as the request asked (response_format or forced tool)."""
    return Structured(payload, tool)


_ERROR_KINDS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", "service_unavailable", "The engine is currently overloaded."),
}


def error(
    status: int,
    message: str | None = None,
    *,
    retry_after: float | None = None,
    retry_after_ms: int | None = None,
    should_retry: bool | None = None,
) -> HttpError:
    """An HTTP error with an OpenAI-style body; `retry_after` sets the Retry-After header."""
    kind, code, default = _ERROR_KINDS.get(status, ("server_error", None, f"HTTP {status}"))
    return HttpError(
        status, message or default, kind, code, retry_after, retry_after_ms, should_retry
    )


def delay(seconds: float, then: Step) -> Delay:
    """Sleep before replying with `then`."""
    return Delay(seconds, then)


def garbage(body: bytes | None = None, *, status: int = 200) -> Garbage:
    """A reply (200 unless `status` says otherwise) whose body is not JSON."""
    return Garbage(body if body is not None else Garbage.body, status)


def rough_token_count(value: str) -> int:
    """About four characters per token: a stand-in for a tokenizer."""
    return (len(value) + 3) // 4
