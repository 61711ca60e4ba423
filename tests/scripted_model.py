"""A scripted LangChain chat model that runs the full tool loop (bind_tools → bind)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

Reply = AIMessage | Callable[[list[BaseMessage]], AIMessage] | Exception


class ScriptedChatModel(GenericFakeChatModel):
    """Replies from a script; records what it was sent; streams tool calls like real providers."""

    script: list[Any]
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[Any] = Field(default_factory=list)

    def __init__(self, script: Sequence[Reply], **kw: Any) -> None:
        super().__init__(messages=iter(()), script=list(script), seen=[], bound_tools=[], **kw)

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        self.bound_tools.append(tools)
        return self.bind(tools=tools, **kwargs)

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        self.seen.append(list(messages))
        if not self.script:
            raise AssertionError("scripted model ran out of replies")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step):
            step = step(messages)
        assert isinstance(step, AIMessage)
        return step

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        msg = self._next(messages)
        text = msg.content if isinstance(msg.content, str) else ""
        for i, word in enumerate(text.split(" ")):
            yield ChatGenerationChunk(message=AIMessageChunk(content=(" " if i else "") + word))
        chunks = [
            {
                "name": c["name"],
                "args": json.dumps(c["args"]),
                "id": c.get("id"),
                "index": i,
                "type": "tool_call_chunk",
            }
            for i, c in enumerate(msg.tool_calls)
        ]
        chunks += [
            {
                "name": c.get("name"),
                "args": c.get("args"),
                "id": c.get("id"),
                "index": len(chunks) + i,
                "type": "tool_call_chunk",
            }
            for i, c in enumerate(msg.invalid_tool_calls)
        ]
        if chunks:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))


def decision(action: str, plan: dict[str, Any] | None = None, reason: str = "") -> AIMessage:
    """A structured-output reply (as a tool call, how BaseChatModel asks for structure)."""
    args: dict[str, Any] = {"action": action, "reason": reason}
    if plan is not None:
        args["plan"] = plan
    return AIMessage(
        content="", tool_calls=[{"name": "AgentDecision", "args": args, "id": "call_decision"}]
    )


def call(name: str, n: int = 1, **args: Any) -> AIMessage:
    """A reply that calls one tool."""
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{n}"}])


def text(content: str) -> AIMessage:
    """A plain text reply."""
    return AIMessage(content=content)
