"""Record and replay chat-model calls at the LangChain message level (EVALS.md 5.2, layer C).

A request's key is the SHA-256 of canonical JSON of {rendered messages, bound tool schemas, other
bound options (tool_choice, response_format, stop...), model name and params, prompt name→sha256};
its cassette `<key>.json` holds the recorded `AIMessage` and its provenance. `RecordingChatModel`
(made by `record`) wraps a real model and writes cassettes; `ReplayChatModel` answers from them and
raises `StaleCassette` for any request it has no recording of. Neither touches the network itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from app.core.errors import AssistantError

CASSETTE_DIR = Path(__file__).resolve().parent / "cassettes"
SCHEMA_VERSION = 1
_DROPPED_PARAMS = ("model", "model_name", "stream")
_SECRET_PARAM = re.compile(r"api_key|secret|authori[sz]ation|header|password", re.IGNORECASE)
_SECRET_TEXT = (
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}"), "sk-[REDACTED]"),
    (re.compile(r"\bBearer\s+[^\s\"']+", re.IGNORECASE), "Bearer [REDACTED]"),
)
_KEPT_METADATA = ("finish_reason", "model_name")


class StaleCassette(AssistantError):
    """No recording matches this model request: prompt, tools, settings or conversation moved."""

    def __init__(self, key: str, last_user_message: str, cassette_dir: Path) -> None:
        super().__init__(
            f"no recorded reply for model request {key} in {cassette_dir} (last user message: "
            f"{last_user_message[:200]!r}); the conversation, tools, model settings or prompts "
            "changed since recording: record again with a live run (--record)"
        )
        self.key = key
        self.last_user_message = last_user_message
        self.cassette_dir = cassette_dir


def render_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The parts of each message that reach the model: type, content, tool calls, tool_call_id."""
    out: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {"type": m.type, "content": m.content}
        if m.name:
            item["name"] = m.name
        if isinstance(m, AIMessage):
            item["tool_calls"] = [
                {"name": c["name"], "args": c["args"], "id": c.get("id")} for c in m.tool_calls
            ]
            if m.invalid_tool_calls:
                item["invalid_tool_calls"] = [
                    {"name": c.get("name"), "args": c.get("args"), "id": c.get("id")}
                    for c in m.invalid_tool_calls
                ]
        if isinstance(m, ToolMessage):
            item["tool_call_id"] = m.tool_call_id
        out.append(item)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, type) and issubclass(value, BaseModel):
        return value.model_json_schema()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot key a model request on a {type(value).__name__}: {value!r}")


def canonical_json(value: Any) -> str:
    """Sorted-key, compact JSON: the bytes a key is hashed from."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )


def request_key(request: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a request."""
    return hashlib.sha256(canonical_json(request).encode("utf-8")).hexdigest()


def model_identity(model: BaseChatModel) -> tuple[str, dict[str, Any]]:
    """The model name and the request parameters (temperature, seed...) a chat model sends."""
    raw = getattr(model, "_default_params", None)
    params = dict(raw if isinstance(raw, Mapping) else model._identifying_params)
    name = getattr(model, "model_name", None) or params.get("model") or params.get("model_name")
    kept = {
        k: v
        for k, v in params.items()
        if v is not None and k not in _DROPPED_PARAMS and not _SECRET_PARAM.search(k)
    }
    return str(name or model._llm_type), json.loads(canonical_json(kept))


def redact(value: Any, secrets: Sequence[str] = ()) -> Any:
    """`value` with API keys, bearer tokens and the given secret strings replaced, at any depth."""
    if isinstance(value, str):
        for secret in secrets:
            if len(secret) >= 4:
                value = value.replace(secret, "[REDACTED]")
        for pattern, replacement in _SECRET_TEXT:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value


def _recorded(result: ChatResult) -> dict[str, Any]:
    """The stored form of a reply: content, tool calls, usage and two metadata fields."""
    generation = result.generations[0]
    message = generation.message
    if not isinstance(message, AIMessage):
        raise TypeError(f"expected an AIMessage from the model, got {type(message).__name__}")
    # As BaseChatModel would merge them: run output, generation info, then the message's own.
    merged = {
        **(result.llm_output or {}),
        **(generation.generation_info or {}),
        **message.response_metadata,
    }
    metadata = {k: merged[k] for k in _KEPT_METADATA if merged.get(k) is not None}
    return {
        "content": message.content,
        "tool_calls": [
            {"name": c["name"], "args": c["args"], "id": c.get("id"), "type": "tool_call"}
            for c in message.tool_calls
        ],
        "invalid_tool_calls": [dict(c) for c in message.invalid_tool_calls],
        "usage_metadata": dict(message.usage_metadata) if message.usage_metadata else None,
        "response_metadata": metadata,
    }


def _message(recorded: Mapping[str, Any]) -> AIMessage:
    return AIMessage(
        content=recorded["content"],
        tool_calls=recorded["tool_calls"],
        invalid_tool_calls=recorded["invalid_tool_calls"],
        usage_metadata=recorded["usage_metadata"],
        response_metadata=dict(recorded["response_metadata"]),
    )


def _last_user_message(messages: Sequence[BaseMessage]) -> str:
    for m in reversed(messages):
        if m.type == "human":
            return m.text if hasattr(m, "text") else str(m.content)
    return ""


class _KeyedChatModel(BaseChatModel):
    """What recording and replay share: tool binding, structured output and the request key."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    cassette_dir: Path = CASSETTE_DIR
    prompt_hashes: dict[str, str] = Field(default_factory=dict)
    model_name: str
    model_params: dict[str, Any] = Field(default_factory=dict)
    structured_output_method: Literal["json_schema", "function_calling"] = "json_schema"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, **self.model_params}

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools as OpenAI tool schemas (they become part of the request key)."""
        strict = kwargs.get("strict")
        schemas = [convert_to_openai_tool(t, strict=strict) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=schemas, **kwargs)

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Structured output by `response_format` json_schema (default, as ChatOpenAI) or tools."""
        method = kwargs.pop("method", None) or self.structured_output_method
        if method == "function_calling":
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        strict = kwargs.pop("strict", None)
        if method != "json_schema" or kwargs:
            raise ValueError(f"unsupported structured output options: {method=} {kwargs}")
        function = convert_to_openai_tool(schema)["function"]
        json_schema: dict[str, Any] = {"name": function["name"], "schema": function["parameters"]}
        if function.get("description"):
            json_schema["description"] = function["description"]
        if strict is not None:
            json_schema["strict"] = strict
        llm = self.bind(
            response_format={"type": "json_schema", "json_schema": json_schema},
            ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
        )
        parser: Runnable[Any, Any] = (
            PydanticOutputParser(pydantic_object=schema)
            if isinstance(schema, type) and is_basemodel_subclass(schema)
            else JsonOutputParser()
        )
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks(
            [fallback], exception_key="parsing_error"
        )

    def request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The canonical request whose SHA-256 is the cassette key."""
        bound = {k: v for k, v in options.items() if k != "tools" and not k.startswith("ls_")}
        if stop:
            bound["stop"] = stop
        return {
            "messages": render_messages(messages),
            "tools": list(options.get("tools") or []),
            "options": bound,
            "model": self.model_name,
            "params": self.model_params,
            "prompts": dict(sorted(self.prompt_hashes.items())),
        }


class ReplayChatModel(_KeyedChatModel):
    """Answers each request from its cassette; a request never recorded raises `StaleCassette`."""

    misses: list[str] = Field(default_factory=list)
    used: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def like(
        cls,
        model: BaseChatModel,
        *,
        prompt_hashes: Mapping[str, str],
        cassette_dir: Path = CASSETTE_DIR,
    ) -> ReplayChatModel:
        """A replay model keyed like `model` (name, params, profile); `model` is never called."""
        name, params = model_identity(model)
        return cls(
            cassette_dir=cassette_dir,
            prompt_hashes=dict(prompt_hashes),
            model_name=name,
            model_params=params,
            profile=model.profile,
        )

    @property
    def _llm_type(self) -> str:
        return "replay"

    def provenance_label(self) -> str:
        """'replayed from <model> recorded <date>' for the cassettes used so far."""
        seen = sorted({(p["model"], p["recorded_on"]) for p in self.used})
        return "; ".join(f"replayed from {m} recorded {d}" for m, d in seen)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        key = request_key(self.request(messages, stop, kwargs))
        path = self.cassette_dir / f"{key}.json"
        if not path.is_file():
            self.misses.append(key)
            raise StaleCassette(key, _last_user_message(messages), self.cassette_dir)
        cassette = json.loads(path.read_text(encoding="utf-8"))
        if cassette.get("schema_version") != SCHEMA_VERSION or cassette.get("key") != key:
            raise StaleCassette(key, _last_user_message(messages), self.cassette_dir)
        self.used.append(cassette["provenance"])
        return ChatResult(generations=[ChatGeneration(message=_message(cassette["response"]))])


class RecordingChatModel(_KeyedChatModel):
    """Forwards each request to a real model and writes the exchange as a cassette."""

    inner: BaseChatModel
    recorded_on: date
    base_url_host: str | None = None

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _secrets(self) -> list[str]:
        return [v.get_secret_value() for _, v in self.inner if isinstance(v, SecretStr)]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self.request(messages, stop, kwargs)
        key = request_key(request)
        options = {k: v for k, v in kwargs.items() if k != "tools" and not k.startswith("ls_")}
        tools = kwargs.get("tools")
        bound = self.inner.bind_tools(tools, **options) if tools else self.inner.bind(**options)
        # Call the wrapped model's own _generate: no second callback run, so usage counts once.
        target = getattr(bound, "bound", self.inner)
        extra = getattr(bound, "kwargs", {})
        result = target._generate(messages, stop=stop, **extra)
        recorded = _recorded(result)
        cassette = {
            "schema_version": SCHEMA_VERSION,
            "key": key,
            "provenance": {
                "model": self.model_name,
                "base_url_host": self.base_url_host,
                "recorded_on": self.recorded_on.isoformat(),
            },
            "request": request,
            "response": recorded,
        }
        text = json.dumps(
            redact(json.loads(canonical_json(cassette)), self._secrets()),
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
        )
        self.cassette_dir.mkdir(parents=True, exist_ok=True)
        (self.cassette_dir / f"{key}.json").write_text(text + "\n", encoding="utf-8")
        return ChatResult(generations=[ChatGeneration(message=_message(recorded))])


def _host(model: BaseChatModel) -> str | None:
    url = getattr(model, "openai_api_base", None)
    if not url:
        client = getattr(model, "root_client", None)
        url = str(getattr(client, "base_url", "") or "")
    return urlsplit(url).hostname if url else None


def record(
    model: BaseChatModel,
    *,
    prompt_hashes: Mapping[str, str],
    recorded_on: date,
    cassette_dir: Path = CASSETTE_DIR,
) -> RecordingChatModel:
    """Wrap a real chat model so that every request it answers is written as a cassette."""
    name, params = model_identity(model)
    return RecordingChatModel(
        inner=model,
        recorded_on=recorded_on,
        base_url_host=_host(model),
        cassette_dir=cassette_dir,
        prompt_hashes=dict(prompt_hashes),
        model_name=name,
        model_params=params,
        profile=model.profile,
    )
