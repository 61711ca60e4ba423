"""One model call at a time: usage (with cached prompt tokens), length cuts, tool calls in text.

Every call goes through `invoke` or `stream_reply`: a client failure becomes `LlmUnavailable`
(the router falls back to the engine), a reply cut at the output limit (`finish_reason` length)
becomes `LengthCut` (the agent refuses with its own message and never sends the same request
again), and the tokens are added to the run's `Usage`, cached prompt tokens included
(`usage.prompt_tokens_details.cached_tokens`, which llama.cpp's server also reports).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    convert_to_openai_messages,
)

from app.agent.parts import describe
from app.agent.prompts import prompt_hashes
from app.agent.tokens import count_messages, estimate_cost
from app.core.answer import LlmUsage
from app.core.errors import AssistantError, LlmUnavailable
from app.core.settings import Settings
from app.pipeline.assistant import Assistant

_FENCE = re.compile(r"```(?:json|sql)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_SELECT = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


class LengthCut(AssistantError):
    """The model's reply stopped at the output token limit, so it is incomplete."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the reply was cut at the {limit}-token output limit")
        self.limit = limit


@dataclass
class Usage:
    """Calls and tokens of one agent run, reported with the answer."""

    model: str
    tool_mode: str = ""
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    def add(self, messages: Sequence[BaseMessage], reply: BaseMessage) -> None:
        """Count one call: the server's usage when it sent one, else a tiktoken estimate."""
        self.calls += 1
        meta = getattr(reply, "usage_metadata", None)
        if meta:
            self.prompt_tokens += int(meta.get("input_tokens", 0))
            self.completion_tokens += int(meta.get("output_tokens", 0))
            details = meta.get("input_token_details") or {}
            self.cached_tokens += int(details.get("cache_read", 0) or 0)
            return
        self.prompt_tokens += count_messages(openai_messages(messages), self.model)
        self.completion_tokens += count_messages(openai_messages([reply]), self.model) - 3

    def report(self) -> LlmUsage:
        """The usage as shown with the answer."""
        return LlmUsage(
            model=self.model,
            calls=self.calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cached_tokens=self.cached_tokens,
            cost_usd=estimate_cost(self.model, self.prompt_tokens, self.completion_tokens),
            prompts=prompt_hashes(),
            tool_mode=self.tool_mode,
        )


def openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Messages in OpenAI's wire format (for token estimates)."""
    return list(convert_to_openai_messages(list(messages)))


def guarded(fn: Callable[[], Any], limit: int = 0) -> Any:
    """Run one model call; a length cut is `LengthCut`, any other client failure unavailable."""
    try:
        return fn()
    except AssistantError:
        raise
    except Exception as err:  # the model boundary: any client failure means "unavailable"
        # The openai SDK raises this for a structured-output reply that hit max_tokens.
        if type(err).__name__ == "LengthFinishReasonError":
            raise LengthCut(limit) from err
        raise LlmUnavailable(describe(err)) from err


def check_length(reply: BaseMessage, limit: int) -> None:
    """Raise LengthCut when the server says the reply stopped at the token limit."""
    meta = getattr(reply, "response_metadata", None) or {}
    if meta.get("finish_reason") == "length":
        raise LengthCut(limit)


def invoke(model: Any, messages: list[BaseMessage], usage: Usage, limit: int) -> AIMessage:
    """One non-streaming call, counted and checked for a length cut."""
    reply = guarded(lambda: model.invoke(messages), limit)
    if not isinstance(reply, AIMessage):
        raise LlmUnavailable(f"the model sent a {type(reply).__name__}, not a message")
    usage.add(messages, reply)
    check_length(reply, limit)
    return reply


@dataclass
class Reply:
    """A streamed reply, whole, and its text as it arrived."""

    message: AIMessage
    partial: list[str]


def stream_reply(model: Any, messages: list[BaseMessage], usage: Usage, limit: int) -> Reply:
    """One streamed call, counted and checked for a length cut."""

    def consume() -> Reply:
        acc: AIMessageChunk | None = None
        partial: list[str] = []
        for chunk in model.stream(messages):
            acc = chunk if acc is None else acc + chunk
            if isinstance(chunk.content, str) and chunk.content:
                partial.append(chunk.content)
        if acc is None:
            raise LlmUnavailable("the model sent an empty reply")
        msg = AIMessage(
            content=acc.content,
            tool_calls=acc.tool_calls,
            invalid_tool_calls=acc.invalid_tool_calls,
            usage_metadata=acc.usage_metadata,
            response_metadata=acc.response_metadata,
            id=acc.id,
        )
        return Reply(msg, ["".join(partial)] if partial else [])

    reply: Reply = guarded(consume, limit)
    usage.add(messages, reply.message)
    check_length(reply.message, limit)
    return reply


def json_object(text: str) -> Any:
    """The first JSON value in text (bare, fenced or in <tool_call> tags); None if there is none."""
    candidates = [m.group(1) for m in _TAG.finditer(text)]
    candidates += [m.group(1) for m in _FENCE.finditer(text)]
    candidates.append(text)
    for candidate in candidates:
        start = candidate.find("{")
        if start < 0:
            continue
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate[start:])
        except ValueError:
            continue
        return value
    return None


def content_tool_call(text: str, tools: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
    """A tool call the model wrote as text in `content` (JSON or a fenced SELECT), if any."""
    value = json_object(text)
    if isinstance(value, dict):
        function = value.get("function")
        inner: dict[str, Any] = function if isinstance(function, dict) else value
        name = inner.get("name")
        args = inner.get("arguments", inner.get("args", inner.get("parameters")))
        if isinstance(args, str):
            args = json_object(args)
        if isinstance(name, str) and name in tools and isinstance(args, dict):
            return name, args
        if isinstance(value.get("sql"), str) and "run_sql" in tools:
            return "run_sql", {"sql": value["sql"]}
    for block in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        if _SELECT.match(block) and "run_sql" in tools:
            return "run_sql", {"sql": block.strip().rstrip(";")}
    return None


@dataclass
class Run:
    """One question's run: the model, the shared pipeline, the settings and the run's usage."""

    model: Any
    assistant: Assistant
    settings: Settings
    usage: Usage
    backend: str
