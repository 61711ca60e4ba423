"""Record from ChatOpenAI on the local server, replay with no server; stale requests fail loudly."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from evals.replay import (
    RecordingChatModel,
    ReplayChatModel,
    StaleCassette,
    model_identity,
    record,
    redact,
    request_key,
)
from tests.openai_server import OpenAIServer, structured, text, tool_call

SECRET = "sk-test-SECRET123"
PROMPTS = {"system": "a" * 64, "plan": "b" * 64}
RECORDED_ON = date(2026, 1, 5)
QUESTION = "How many charges succeeded in December 2025?"


def run_sql(sql: str) -> str:
    """Run one read-only SELECT on the warehouse and return a preview."""
    return sql


def run_sql_v2(sql: str) -> str:
    """Run one read-only SELECT on the warehouse (capped at 50 rows)."""
    return sql


run_sql_v2.__name__ = "run_sql"


class Period(BaseModel):
    """A reporting period."""

    metric: str
    months: int


def real_model(server: OpenAIServer, **kw: Any) -> ChatOpenAI:
    options: dict[str, Any] = {"temperature": 0, "timeout": 2.0, "max_retries": 0}
    options.update(kw)
    return ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key=SECRET, **options)  # type: ignore[arg-type]


def converse(
    model: BaseChatModel, question: str = QUESTION, tool: Callable[[str], str] = run_sql
) -> list[AIMessage]:
    """A tool round trip: question → tool call → tool result → final answer."""
    bound = model.bind_tools([tool])
    messages: list[BaseMessage] = [
        SystemMessage("You answer finance questions."),
        HumanMessage(question),
    ]
    first = bound.invoke(messages)
    assert isinstance(first, AIMessage)
    messages.append(first)
    messages += [ToolMessage("[[412]]", tool_call_id=c["id"]) for c in first.tool_calls]
    second = bound.invoke(messages)
    assert isinstance(second, AIMessage)
    return [first, second]


def essence(m: AIMessage) -> tuple[Any, ...]:
    return (m.content, m.tool_calls, m.invalid_tool_calls, m.usage_metadata, m.response_metadata)


def script() -> list[Any]:
    return [
        tool_call("run_sql", {"sql": "SELECT count(*) FROM charges"}, id="call_x1"),
        text("412 charges succeeded in December 2025.", usage=(120, 11)),
    ]


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, list[AIMessage], ChatOpenAI]:
    """Cassettes of one conversation recorded through ChatOpenAI → local server (now stopped)."""
    with OpenAIServer(script()) as server:
        real = real_model(server)
        replies = converse(
            record(real, prompt_hashes=PROMPTS, recorded_on=RECORDED_ON, cassette_dir=tmp_path)
        )
        assert len(server.requests) == 2
        assert server.bodies[1]["messages"][-1] == {
            "role": "tool",
            "content": "[[412]]",
            "tool_call_id": "call_x1",
        }
    return tmp_path, replies, real


def replayer(
    directory: Path, model: BaseChatModel, prompts: dict[str, str] = PROMPTS
) -> ReplayChatModel:
    return ReplayChatModel.like(model, prompt_hashes=prompts, cassette_dir=directory)


def test_recording_writes_one_cassette_per_request(
    recorded: tuple[Path, list[AIMessage], ChatOpenAI],
) -> None:
    directory, replies, _ = recorded
    files = sorted(directory.glob("*.json"))
    assert len(files) == 2
    assert replies[0].tool_calls[0]["args"] == {"sql": "SELECT count(*) FROM charges"}
    assert replies[1].content == "412 charges succeeded in December 2025."
    for path in files:
        doc = json.loads(path.read_text())
        assert path.name == f"{doc['key']}.json"
        assert doc["key"] == request_key(doc["request"])
        assert doc["provenance"] == {
            "model": "gpt-4o-mini",
            "base_url_host": "127.0.0.1",
            "recorded_on": "2026-01-05",
        }
        assert doc["request"]["params"] == {"temperature": 0.0}
        assert doc["request"]["prompts"] == PROMPTS


def test_replay_gives_identical_messages_without_a_server(
    recorded: tuple[Path, list[AIMessage], ChatOpenAI],
) -> None:
    directory, replies, real = recorded
    model = replayer(directory, real)
    replayed = converse(model)
    assert [essence(m) for m in replayed] == [essence(m) for m in replies]
    assert replayed[1].usage_metadata is not None
    assert replayed[1].usage_metadata["input_tokens"] == 120
    assert model.misses == []
    assert model.provenance_label() == "replayed from gpt-4o-mini recorded 2026-01-05"


def test_replay_can_be_built_without_a_client(
    recorded: tuple[Path, list[AIMessage], ChatOpenAI],
) -> None:
    directory, replies, real = recorded
    name, params = model_identity(real)
    model = ReplayChatModel(
        cassette_dir=directory, prompt_hashes=PROMPTS, model_name=name, model_params=params
    )
    assert [essence(m) for m in converse(model)] == [essence(m) for m in replies]


def test_replay_streams_and_reports_usage(
    recorded: tuple[Path, list[AIMessage], ChatOpenAI],
) -> None:
    directory, _, real = recorded
    bound = replayer(directory, real).bind_tools([run_sql])
    messages = [SystemMessage("You answer finance questions."), HumanMessage(QUESTION)]
    with get_usage_metadata_callback() as cb:
        chunks = list(bound.stream(messages))
    assert chunks[-1].tool_calls[0]["id"] == "call_x1"
    assert sum(u["input_tokens"] for u in cb.usage_metadata.values()) > 0


@pytest.mark.parametrize(
    "change",
    ["message", "tool_schema", "params", "prompt_hash", "tool_result"],
)
def test_any_change_is_a_stale_cassette(
    recorded: tuple[Path, list[AIMessage], ChatOpenAI], change: str
) -> None:
    directory, _, real = recorded
    question, tool, prompts = QUESTION, run_sql, PROMPTS
    model: BaseChatModel = real
    if change == "message":
        question = QUESTION.replace("December", "November")
    elif change == "tool_schema":
        tool = run_sql_v2
    elif change == "params":
        model = real.model_copy(update={"temperature": 0.5})
    elif change == "prompt_hash":
        prompts = {**PROMPTS, "plan": "c" * 64}
    replay = replayer(directory, model, prompts)
    if change == "tool_result":
        bound = replay.bind_tools([tool])
        first = bound.invoke(
            [SystemMessage("You answer finance questions."), HumanMessage(question)]
        )
        history = [SystemMessage("You answer finance questions."), HumanMessage(question), first]
        with pytest.raises(StaleCassette) as caught:
            bound.invoke([*history, ToolMessage("[[413]]", tool_call_id="call_x1")])
    else:
        with pytest.raises(StaleCassette) as caught:
            converse(replay, question, tool)
    assert caught.value.last_user_message == question
    assert caught.value.key in str(caught.value)
    assert question in str(caught.value)
    assert replay.misses == [caught.value.key]


def test_missing_directory_is_stale_not_a_crash(tmp_path: Path) -> None:
    model = ReplayChatModel(
        cassette_dir=tmp_path / "none", model_name="gpt-4o-mini", prompt_hashes=PROMPTS
    )
    with pytest.raises(StaleCassette, match="record again"):
        model.invoke("hi")


def test_no_secret_reaches_a_cassette(tmp_path: Path) -> None:
    leaky = text(f"Your key is {SECRET}; header Authorization: Bearer abc.def-123", usage=(5, 5))
    with OpenAIServer([leaky]) as server:
        real = real_model(server, default_headers={"X-Team": "finance"})
        model = record(real, prompt_hashes=PROMPTS, recorded_on=RECORDED_ON, cassette_dir=tmp_path)
        reply = model.invoke([HumanMessage(f"my key is {SECRET}, and sk-other-KEY999")])
        assert server.requests[0].has_authorization
    assert isinstance(reply, AIMessage)
    (path,) = tmp_path.glob("*.json")
    raw = path.read_text()
    for leaked in ("SECRET123", "KEY999", "abc.def-123", "sk-test", "sk-other"):
        assert leaked not in raw
    assert "[REDACTED]" in raw


def test_cassette_bytes_are_stable(tmp_path: Path) -> None:
    contents = []
    for run in ("a", "b"):
        with OpenAIServer(script()) as server:
            converse(
                record(
                    real_model(server),
                    prompt_hashes=PROMPTS,
                    recorded_on=RECORDED_ON,
                    cassette_dir=tmp_path / run,
                )
            )
        contents.append({p.name: p.read_bytes() for p in (tmp_path / run).glob("*.json")})
    assert contents[0] == contents[1]
    assert all(b.endswith(b"}\n") for b in contents[0].values())


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output_records_and_replays(tmp_path: Path, method: str) -> None:
    with OpenAIServer([structured({"metric": "mrr", "months": 3})]) as server:
        real = real_model(server)
        recorder = record(
            real, prompt_hashes=PROMPTS, recorded_on=RECORDED_ON, cassette_dir=tmp_path
        )
        first = recorder.with_structured_output(Period, method=method, include_raw=True).invoke(
            "MRR, 3 months"
        )
        body = server.bodies[0]
    if method == "json_schema":
        assert body["response_format"]["json_schema"]["name"] == "Period"
    else:
        assert (
            body["tool_choice"] == "required" and body["tools"][0]["function"]["name"] == "Period"
        )
    replay = replayer(tmp_path, real).with_structured_output(
        Period, method=method, include_raw=True
    )
    again = replay.invoke("MRR, 3 months")
    assert first["parsed"] == again["parsed"] == Period(metric="mrr", months=3)


def test_recorder_passes_usage_once(tmp_path: Path) -> None:
    with OpenAIServer([text("ok", usage=(7, 3))]) as server:
        model = record(
            real_model(server),
            prompt_hashes=PROMPTS,
            recorded_on=RECORDED_ON,
            cassette_dir=tmp_path,
        )
        with get_usage_metadata_callback() as cb:
            model.invoke("hi")
    assert [(u["input_tokens"], u["output_tokens"]) for u in cb.usage_metadata.values()] == [(7, 3)]


def test_recording_model_is_the_documented_type(tmp_path: Path) -> None:
    with OpenAIServer() as server:
        model = record(
            real_model(server), prompt_hashes={}, recorded_on=RECORDED_ON, cassette_dir=tmp_path
        )
    assert isinstance(model, RecordingChatModel)
    assert model.base_url_host == "127.0.0.1"


def test_redact_covers_nested_values() -> None:
    doc = {"a": ["Bearer tok.en-1", {"k": "sk-proj-abcdef"}], "b": "plain", "my-secret-x": 1}
    assert redact(doc, ["my-secret-x"]) == {
        "a": ["Bearer [REDACTED]", {"k": "sk-[REDACTED]"}],
        "b": "plain",
        "[REDACTED]": 1,
    }
