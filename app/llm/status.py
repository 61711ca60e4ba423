"""What `ledgerlens llm status` reports: the catalogue, what is installed, what is running."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.settings import Settings
from app.llm.catalogue import MODELS, ModelSpec
from app.llm.install import is_installed, model_path, runtime_available
from app.llm.local import models_dir, running_server, served_models
from app.llm.server import ServerState


@dataclass(frozen=True)
class ModelStatus:
    """One catalogue model and whether a verified copy is installed."""

    spec: ModelSpec
    installed: bool
    path: str


@dataclass(frozen=True)
class Status:
    """The local backend at a glance."""

    runtime: bool  # xllamacpp importable
    models: tuple[ModelStatus, ...]
    selected: str  # llm_local_model
    server: ServerState | None  # a recorded server that answers /health
    server_models: tuple[str, ...]  # what it lists on /v1/models


def local_status(settings: Settings) -> Status:
    """Installed models, the runtime, and the running server (asked over HTTP)."""
    folder = models_dir(settings)
    models = tuple(
        ModelStatus(spec, is_installed(folder, spec), str(model_path(folder, spec)))
        for spec in MODELS
    )
    server = running_server(settings)
    listed = tuple(served_models(server.base_url)) if server is not None else ()
    return Status(runtime_available(), models, settings.llm_local_model, server, listed)


def render_status(status: Status) -> list[str]:
    """The status as lines of plain text."""
    lines = [f"runtime: {'xllamacpp installed' if status.runtime else 'not installed'}"]
    for m in status.models:
        mark = "*" if m.spec.name == status.selected else " "
        state = f"installed at {m.path}" if m.installed else "not installed"
        lines.append(
            f"{mark} {m.spec.name:<20} {m.spec.size / 1e6:>7,.0f} MB  {m.spec.licence:<11} {state}"
        )
    if status.server is None:
        lines.append("server: not running (`ledgerlens llm serve`, or LEDGERLENS_LLM=local)")
    else:
        pid = f", pid {status.server.pid}" if status.server.pid else ""
        models = ", ".join(status.server_models) or "none listed"
        lines.append(f"server: answering at {status.server.base_url}{pid}; models: {models}")
    return lines
