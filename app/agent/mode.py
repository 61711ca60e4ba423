"""Whether a backend gets native tool calls or JSON-schema constrained steps, and why.

`auto` decides from what is known without a request: a base URL on this machine (llama.cpp,
Ollama, a local vLLM) or a model name known to write tool calls as text gets `json`; anything
else (the OpenAI API, a remote gateway) gets `native`. JSON mode works on every server that
honours `response_format` with a JSON schema, so it is the safe choice when in doubt.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from app.core.settings import Settings

Mode = Literal["native", "json"]

_LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain", "host.docker.internal"})
# Small local models that answer a tool schema with the call as JSON text in `content`.
_NO_TOOL_MODELS = ("gguf", "qwen2.5-coder", "qwen2.5-0.5b", "smollm", "gemma-3-270m", "tinyllama")


@dataclass(frozen=True)
class ToolMode:
    """The mode the agent uses for one backend, and the one-line reason shown with the answer."""

    mode: Mode
    why: str

    @property
    def text(self) -> str:
        """`json (auto: ...)`, for the answer's LLM info."""
        return f"{self.mode} ({self.why})"


def is_local(base_url: str | None) -> bool:
    """Whether an OpenAI-compatible base URL points at this machine."""
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    if host in _LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def tool_mode(settings: Settings) -> ToolMode:
    """The configured mode, or the one `auto` picks for this base URL and model."""
    if settings.llm_tool_mode != "auto":
        return ToolMode(settings.llm_tool_mode, "set by llm_tool_mode")
    if is_local(settings.llm_base_url):
        host = urlsplit(settings.llm_base_url or "").hostname
        return ToolMode("json", f"auto: the base URL is on this machine ({host})")
    name = settings.llm_model.lower()
    known = next((p for p in _NO_TOOL_MODELS if p in name), None)
    if known is not None:
        return ToolMode("json", f"auto: model {settings.llm_model} writes tool calls as text")
    return ToolMode("native", "auto: a remote OpenAI-compatible API")
