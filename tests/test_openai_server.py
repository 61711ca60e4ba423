"""The scripted 127.0.0.1 server speaks the wire the real clients expect (openai, ChatOpenAI)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from tests.openai_server import (
    OpenAIServer,
    ToolCall,
    delay,
    error,
    garbage,
    structured,
    text,
    tool_call,
    tool_calls,
)

MODEL = "gpt-4o-mini"
HI = [{"role": "user", "content": "hi"}]
RUN_SQL = {
    "type": "function",
    "function": {
        "name": "run_sql",
        "description": "Run one SELECT.",
        "parameters": {
            "type": "object",
            "properties": {"sql": {"type": "string"}},
            "required": ["sql"],
        },
    },
}


class Period(BaseModel):
    """A reporting period."""

    metric: str
    months: int


@pytest.fixture
def client(openai_server: OpenAIServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=openai_server.base_url, api_key="sk-test-SECRET123", max_retries=0, timeout=2.0
    ) as c:
        yield c


def chat(server: OpenAIServer, **kw: Any) -> ChatOpenAI:
    options: dict[str, Any] = {"temperature": 0, "timeout": 2.0, "max_retries": 0}
    options.update(kw)
    return ChatOpenAI(
        model=MODEL,
        base_url=server.base_url,
        api_key="sk-test-SECRET123",  # type: ignore[arg-type]
        **options,
    )


def run_sql(sql: str) -> str:
    """Run one SELECT."""
    return sql


# ---------------------------------------------------------------------- openai SDK


def test_models_endpoint_lists_the_configured_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL]


def test_text_reply_with_usage_and_the_request_is_recorded(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    openai_server.enqueue(text("Net volume was $1,234.56.", usage=(42, 7)))
    reply = client.chat.completions.create(model=MODEL, messages=HI, temperature=0)
    assert reply.choices[0].message.content == "Net volume was $1,234.56."
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (42, 7)
    (seen,) = openai_server.requests
    assert seen.body == {"model": MODEL, "messages": HI, "temperature": 0}
    assert seen.has_authorization
    assert "authorization" not in seen.headers
    assert "SECRET123" not in repr(openai_server.requests)


def test_usage_is_counted_when_not_scripted(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    openai_server.enqueue(text("twelve chars"))
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x" * 40}]
    )
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (10, 3)


def test_streaming_with_include_usage(openai_server: OpenAIServer, client: openai.OpenAI) -> None:
    openai_server.enqueue(text("MRR grew 4% last quarter.", usage=(30, 8)))
    stream = client.chat.completions.create(
        model=MODEL, messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert "".join(pieces) == "MRR grew 4% last quarter."
    assert len([p for p in pieces if p]) > 1  # really streamed in pieces
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 38
    assert openai_server.bodies[0]["stream_options"] == {"include_usage": True}


def test_tool_calls_including_malformed_arguments(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    openai_server.enqueue(
        tool_calls(
            ToolCall("run_sql", {"sql": "SELECT 1"}, id="call_a"),
            ToolCall("run_sql", '{"sql": "SELECT', id="call_b"),
        )
    )
    reply = client.chat.completions.create(model=MODEL, messages=HI, tools=[RUN_SQL])
    calls = reply.choices[0].message.tool_calls or []
    assert reply.choices[0].finish_reason == "tool_calls"
    assert [(c.id, c.function.name) for c in calls] == [
        ("call_a", "run_sql"),
        ("call_b", "run_sql"),
    ]
    assert json.loads(calls[0].function.arguments) == {"sql": "SELECT 1"}
    assert calls[1].function.arguments == '{"sql": "SELECT'
    assert openai_server.bodies[0]["tools"] == [RUN_SQL]


def test_streamed_tool_call_arguments_reassemble(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    openai_server.enqueue(tool_call("run_sql", {"sql": "SELECT count(*) FROM charges"}))
    stream = client.chat.completions.create(model=MODEL, messages=HI, tools=[RUN_SQL], stream=True)
    args = "".join(
        (c.choices[0].delta.tool_calls or [])[0].function.arguments or ""  # type: ignore[union-attr]
        for c in stream
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert json.loads(args) == {"sql": "SELECT count(*) FROM charges"}


def test_unknown_tool_or_tool_choice_none_is_a_scripting_error(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    openai_server.enqueue(tool_call("drop_table", {}), tool_call("run_sql", {"sql": "SELECT 1"}))
    with pytest.raises(openai.BadRequestError, match="not among the request's tools"):
        client.chat.completions.create(model=MODEL, messages=HI, tools=[RUN_SQL])
    with pytest.raises(openai.BadRequestError, match="tool_choice='none'"):
        client.chat.completions.create(
            model=MODEL, messages=HI, tools=[RUN_SQL], tool_choice="none"
        )


def test_hallucinated_tool_can_be_scripted(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    openai_server.enqueue(tool_call("drop_table", {}, allow_unknown=True))
    reply = client.chat.completions.create(model=MODEL, messages=HI, tools=[RUN_SQL])
    assert (reply.choices[0].message.tool_calls or [])[0].function.name == "drop_table"  # type: ignore[union-attr]


def test_response_format_json_schema(openai_server: OpenAIServer, client: openai.OpenAI) -> None:
    openai_server.enqueue(structured({"metric": "mrr", "months": 3}))
    reply = client.chat.completions.parse(model=MODEL, messages=HI, response_format=Period)
    assert reply.choices[0].message.parsed == Period(metric="mrr", months=3)
    sent = openai_server.bodies[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Period"


class SdkClock:
    """The `time` module as the openai SDK sees it, recording the SDK's retry sleeps."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        time.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_429_then_success_with_the_sdk_retry(
    openai_server: OpenAIServer, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai_server.enqueue(error(429, retry_after=0.01), text("after the wait"))
    clock = SdkClock()
    monkeypatch.setattr(openai._base_client, "time", clock)
    reply = client.with_options(max_retries=1).chat.completions.create(model=MODEL, messages=HI)
    assert reply.choices[0].message.content == "after the wait"
    assert clock.slept == [0.01]  # Retry-After honoured, not the 0.5 s backoff
    retries = [r.headers.get("x-stainless-retry-count") for r in openai_server.requests]
    assert retries == ["0", "1"]


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
        (401, openai.AuthenticationError),
    ],
)
def test_http_errors_map_to_sdk_errors(
    openai_server: OpenAIServer, client: openai.OpenAI, status: int, exc: type[Exception]
) -> None:
    openai_server.enqueue(error(status, "scripted failure"))
    with pytest.raises(exc, match="scripted failure") as caught:
        client.chat.completions.create(model=MODEL, messages=HI)
    assert isinstance(caught.value, openai.APIStatusError)
    assert caught.value.status_code == status


def test_delay_trips_the_client_timeout(openai_server: OpenAIServer, client: openai.OpenAI) -> None:
    openai_server.enqueue(delay(2.0, text("too late")))
    # A timeout, not the late reply: the client gave up at its own limit, before the server spoke.
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).chat.completions.create(model=MODEL, messages=HI)


def test_garbage_body_is_not_json(openai_server: OpenAIServer, client: openai.OpenAI) -> None:
    # The SDK surfaces a 200 with a non-JSON body as the raw JSONDecodeError, not an openai error.
    openai_server.enqueue(garbage())
    with pytest.raises(json.JSONDecodeError):
        client.chat.completions.create(model=MODEL, messages=HI)


def test_garbage_error_body_is_an_api_error(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    openai_server.enqueue(garbage(b"<html>502 Bad Gateway</html>", status=502))
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=MODEL, messages=HI)
    assert caught.value.status_code == 502


def test_exhausted_script_is_a_clear_500_without_retries(
    openai_server: OpenAIServer, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.InternalServerError, match="script exhausted"):
        client.with_options(max_retries=3).chat.completions.create(model=MODEL, messages=HI)
    assert len(openai_server.requests) == 1


def test_callable_step_sees_the_request(openai_server: OpenAIServer, client: openai.OpenAI) -> None:
    openai_server.enqueue(lambda req: text(f"you said {req['messages'][-1]['content']}"))
    reply = client.chat.completions.create(model=MODEL, messages=HI)
    assert reply.choices[0].message.content == "you said hi"


# ---------------------------------------------------------------------- ChatOpenAI


def test_chatopenai_invoke(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(text("Refunds were 2.1% of volume.", usage=(50, 9)))
    reply = chat(openai_server).invoke([HumanMessage("refund rate?")])
    assert reply.content == "Refunds were 2.1% of volume."
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 50
    assert reply.usage_metadata["output_tokens"] == 9
    body = openai_server.bodies[0]
    assert (body["model"], body["temperature"]) == (MODEL, 0.0)
    assert body["messages"] == [{"role": "user", "content": "refund rate?"}]


def test_chatopenai_stream_with_usage(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(text("Gross volume was $9,000.00 in May.", usage=(20, 10)))
    chunks = list(chat(openai_server, stream_usage=True).stream("gross volume in May?"))
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert isinstance(total, AIMessageChunk)
    assert total.content == "Gross volume was $9,000.00 in May."
    assert total.usage_metadata is not None and total.usage_metadata["total_tokens"] == 30
    assert len(chunks) > 3


def test_chatopenai_bind_tools_gives_tool_calls(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        tool_call("run_sql", {"sql": "SELECT 1"}, id="call_1"),
        tool_call("run_sql", "{not json", id="call_2"),
    )
    model = chat(openai_server).bind_tools([run_sql])
    first = model.invoke("how many charges?")
    assert first.tool_calls == [
        {"name": "run_sql", "args": {"sql": "SELECT 1"}, "id": "call_1", "type": "tool_call"}
    ]
    assert openai_server.bodies[0]["tools"][0]["function"]["name"] == "run_sql"
    second = model.invoke("again")
    assert second.tool_calls == []
    assert [c["args"] for c in second.invalid_tool_calls] == ["{not json"]


def test_chatopenai_streamed_tool_calls(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(tool_call("run_sql", {"sql": "SELECT 2"}, id="call_9"))
    chunks = list(chat(openai_server).bind_tools([run_sql]).stream("count?"))
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert isinstance(total, AIMessageChunk)
    assert total.tool_calls == [
        {"name": "run_sql", "args": {"sql": "SELECT 2"}, "id": "call_9", "type": "tool_call"}
    ]


def test_chatopenai_structured_output_default_is_json_schema(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(structured({"metric": "arr", "months": 12}))
    result = chat(openai_server).with_structured_output(Period).invoke("ARR over a year")
    assert result == Period(metric="arr", months=12)
    body = openai_server.bodies[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert "tools" not in body


def test_chatopenai_structured_output_function_calling(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(structured({"metric": "mrr", "months": 1}))
    model = chat(openai_server).with_structured_output(Period, method="function_calling")
    assert model.invoke("MRR last month") == Period(metric="mrr", months=1)
    body = openai_server.bodies[0]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Period"}}


def test_chatopenai_retries_a_429(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(error(429, retry_after_ms=10), text("ok"))
    assert chat(openai_server, max_retries=1).invoke("hi").content == "ok"
    assert len(openai_server.requests) == 2


def test_chatopenai_timeout(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(delay(2.0, text("late")))
    with pytest.raises(openai.APITimeoutError):
        chat(openai_server, timeout=0.2).invoke("hi")


def test_usage_callback_sums_the_calls(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(text("a", usage=(10, 1)), text("b", usage=(20, 2)))
    model = chat(openai_server)
    with get_usage_metadata_callback() as cb:
        model.invoke("one")
        model.invoke("two")
    usage = cb.usage_metadata[MODEL]
    assert (usage["input_tokens"], usage["output_tokens"]) == (30, 3)
