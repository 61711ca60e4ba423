"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for wire tests of the real clients.

Stdlib only. Each `POST /v1/chat/completions` consumes the next step of the script:

    with OpenAIServer([text("hi"), tool_call("run_sql", {"sql": "SELECT 1"})]) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test")

Steps: `text`, `tool_call`/`tool_calls`, `structured`, `error`, `delay`, `garbage`, or any callable
`(request_json) -> step`. A request with no step left gets a 500 that says so (and tells the SDK
not to retry). Every request is kept in `server.requests` (body and headers; an Authorization
header is noted as present, its value is never kept).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.openai_steps import (
    Delay,
    Garbage,
    HttpError,
    Step,
    Structured,
    Text,
    ToolCall,
    ToolCalls,
    delay,
    error,
    garbage,
    rough_token_count,
    structured,
    text,
    tool_call,
    tool_calls,
)

__all__ = [
    "Delay",
    "Garbage",
    "HttpError",
    "OpenAIServer",
    "RecordedRequest",
    "Step",
    "Structured",
    "Text",
    "ToolCall",
    "ToolCalls",
    "delay",
    "error",
    "garbage",
    "rough_token_count",
    "structured",
    "text",
    "tool_call",
    "tool_calls",
]

# A fixed `created` stamp: replies never read a clock.
CREATED = 1_767_225_600
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})


@dataclass
class RecordedRequest:
    """One request as the server saw it (secret headers dropped, their presence noted)."""

    method: str
    path: str
    headers: dict[str, str]
    has_authorization: bool
    body: Any


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class OpenAIServer:
    """The scripted server; a context manager that serves on an ephemeral 127.0.0.1 port."""

    def __init__(
        self,
        script: Iterable[Step] = (),
        *,
        models: Iterable[str] = ("gpt-4o-mini",),
        count_tokens: Callable[[str], int] = rough_token_count,
    ) -> None:
        self.models = tuple(models)
        self.count_tokens = count_tokens
        self.requests: list[RecordedRequest] = []
        self._script: list[Step] = list(script)
        self._served = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/v1`, for `base_url=` of the clients."""
        if self._httpd is None:
            raise RuntimeError("the server is not running; use it as a context manager")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> OpenAIServer:
        """Bind an ephemeral port and serve in a background thread."""
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-server"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (delayed replies are woken and dropped)."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ script
    def enqueue(self, *steps: Step) -> None:
        """Append steps to the script."""
        with self._lock:
            self._script.extend(steps)

    @property
    def remaining(self) -> int:
        """Steps not consumed yet."""
        with self._lock:
            return len(self._script)

    @property
    def bodies(self) -> list[Any]:
        """The JSON bodies of the chat-completion requests, in order."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_step(self) -> tuple[int, Step | None]:
        with self._lock:
            self._served += 1
            return self._served, (self._script.pop(0) if self._script else None)

    # ------------------------------------------------------------------ replies
    def reply(self, method: str, path: str, body: Any) -> Iterator[_Reply | float]:
        """Yield the reply for one request (a float is a pause before the next item)."""
        route = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and route == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": CREATED, "owned_by": "openai_server"}
                for m in self.models
            ]
            yield _json(200, {"object": "list", "data": data})
            return
        if method != "POST" or route != "/v1/chat/completions":
            yield _error_reply(
                HttpError(404, f"no route {method} {route}", "invalid_request_error")
            )
            return
        if not isinstance(body, dict):
            yield _error_reply(
                HttpError(
                    400, "openai_server: request body is not a JSON object", "invalid_request_error"
                )
            )
            return
        number, step = self._next_step()
        if step is None:
            message = (
                f"openai_server: script exhausted — request #{number} has no scripted reply "
                f"({number - 1} steps were served)"
            )
            yield _error_reply(HttpError(500, message, "server_error", should_retry=False))
            return
        for _ in range(10):  # a callable may return another callable; bounded
            if not callable(step):
                break
            step = step(body)
        while isinstance(step, Delay):
            yield step.seconds
            step = step.then
        yield self._render(step, body, number)

    def _render(self, step: Any, body: dict[str, Any], number: int) -> _Reply:
        if isinstance(step, HttpError):
            return _error_reply(step)
        if isinstance(step, Garbage):
            return _Reply(step.status, step.body)
        if isinstance(step, Structured):
            step = _structured_as(step, body)
        if isinstance(step, ToolCalls):
            problem = _tool_problem(step, body)
            if problem:
                return _error_reply(
                    HttpError(400, problem, "invalid_request_error", should_retry=False)
                )
        if not isinstance(step, Text | ToolCalls):
            raise TypeError(f"openai_server: not a script step: {step!r}")
        message, finish = _message(step, number)
        usage = self._usage(step, body, message)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _stream_chunks(body, number, message, finish, usage if include_usage else None)
            sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            return _Reply(200, sse.encode(), "text/event-stream")
        return _json(
            200,
            {
                "id": f"chatcmpl-{number}",
                "object": "chat.completion",
                "created": CREATED,
                "model": body.get("model", ""),
                "system_fingerprint": None,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                ],
                "usage": usage,
            },
        )

    def _usage(
        self, step: Text | ToolCalls, body: dict[str, Any], message: dict[str, Any]
    ) -> dict[str, Any]:
        if step.usage is not None:
            prompt, completion = step.usage
        else:
            prompt_text = "".join(_text_of(m.get("content")) for m in body.get("messages") or [])
            if body.get("tools"):
                prompt_text += json.dumps(body["tools"])
            completion_text = (message.get("content") or "") + "".join(
                c["function"]["name"] + c["function"]["arguments"]
                for c in message.get("tool_calls") or []
            )
            prompt = self.count_tokens(prompt_text)
            completion = self.count_tokens(completion_text)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if isinstance(step, Text) and step.cached is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": step.cached}
        return usage


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _structured_as(step: Structured, body: dict[str, Any]) -> Text | ToolCalls:
    content = json.dumps(step.payload)
    response_format = body.get("response_format")
    if step.tool is None and isinstance(response_format, dict):
        return Text(content, usage=step.usage)
    name = step.tool or _forced_tool(body)
    if name is None:
        return Text(content, usage=step.usage)
    return ToolCalls((ToolCall(name, content),), usage=step.usage)


def _forced_tool(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return name if isinstance(name, str) else None
    tools = body.get("tools") or []
    if choice in ("required", "any") and len(tools) == 1:
        name = tools[0].get("function", {}).get("name")
        return name if isinstance(name, str) else None
    return None


def _tool_problem(step: ToolCalls, body: dict[str, Any]) -> str | None:
    if step.allow_unknown:
        return None
    offered = [t.get("function", {}).get("name") for t in body.get("tools") or []]
    if body.get("tool_choice") == "none":
        return "openai_server: a tool call was scripted but the request set tool_choice='none'"
    unknown = [c.name for c in step.calls if c.name not in offered]
    if unknown:
        return (
            f"openai_server: scripted tool call(s) {unknown} not among the request's tools "
            f"{offered} (use allow_unknown=True to script a hallucinated tool)"
        )
    return None


def _message(step: Text | ToolCalls, number: int) -> tuple[dict[str, Any], str]:
    if isinstance(step, Text):
        return {"role": "assistant", "content": step.content, "refusal": None}, step.finish_reason
    calls = [
        {
            "id": c.id or f"call_{number}_{i}",
            "type": "function",
            "function": {"name": c.name, "arguments": c.raw_arguments()},
        }
        for i, c in enumerate(step.calls)
    ]
    message = {"role": "assistant", "content": step.content, "refusal": None, "tool_calls": calls}
    return message, "tool_calls"


def _pieces(value: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", value)


def _stream_chunks(
    body: dict[str, Any],
    number: int,
    message: dict[str, Any],
    finish: str,
    usage: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": body.get("model", ""),
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if usage is not None:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [chunk({"content": p}) for p in _pieces(message.get("content") or "")]
    for index, call in enumerate(message.get("tool_calls") or []):
        head = {"index": index, "id": call["id"], "type": "function"}
        head["function"] = {"name": call["function"]["name"], "arguments": ""}
        chunks.append(chunk({"tool_calls": [head]}))
        for piece in _pieces(call["function"]["arguments"]):
            chunks.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    chunks.append(chunk({}, finish))
    if usage is not None:
        last = chunk({})
        last["choices"] = []
        last["usage"] = usage
        chunks.append(last)
    return chunks


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), "application/json", headers or {})


def _error_reply(err: HttpError) -> _Reply:
    headers: dict[str, str] = {}
    if err.retry_after is not None:
        headers["Retry-After"] = f"{err.retry_after:g}"
    if err.retry_after_ms is not None:
        headers["retry-after-ms"] = str(err.retry_after_ms)
    if err.should_retry is not None:
        headers["x-should-retry"] = "true" if err.should_retry else "false"
    body = {"error": {"message": err.message, "type": err.type, "param": None, "code": err.code}}
    return _json(err.status, body, headers)


def _handler_for(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so nothing lingers after a test.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._serve(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            self._serve(body)

        def _serve(self, body: Any) -> None:
            names = {k.lower() for k in self.headers}
            server.requests.append(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={
                        k.lower(): v
                        for k, v in self.headers.items()
                        if k.lower() not in SECRET_HEADERS
                    },
                    has_authorization="authorization" in names,
                    body=body,
                )
            )
            try:
                for item in server.reply(self.command, self.path, body):
                    if isinstance(item, float | int):
                        if server._stopping.wait(item):
                            return
                        continue
                    self._send(item)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its timeout fired first)

        def _send(self, reply: _Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler
