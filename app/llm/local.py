"""The local backend for the app and CLI: start or reuse the server, stop it, say how it is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import SecretStr

from app.core.settings import Settings
from app.llm.catalogue import ModelSpec, find_model
from app.llm.errors import LocalLLMError
from app.llm.install import is_installed, model_path, runtime_available
from app.llm.server import HOST, ServerState, clear_state, read_state

# A request to a model on a few shared CPU cores takes minutes, not seconds; retrying one that
# timed out only repeats it. Used when the user has not set these themselves.
LOCAL_TIMEOUT_S = 600.0
LOCAL_MAX_RETRIES = 0
LOG_FILE = "server.log"
# Servers this process started, kept so their handles are not collected while they run (they are
# meant to outlive a one-shot CLI call) and so stopping one here can reap it.
_SPAWNED: dict[int, subprocess.Popen[bytes]] = {}


def models_dir(settings: Settings) -> Path:
    """Where installed models, the server's state file and its log live."""
    return settings.data_dir / "models"


def _get_json(url: str, timeout: float) -> object | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # loopback only
            body: object = json.loads(resp.read())
            return body
    except (urllib.error.URLError, OSError, ValueError):
        return None


def answering(root: str, timeout: float = 2.0) -> bool:
    """Whether the server at `root` (no /v1) says it is ready on /health."""
    body = _get_json(f"{root}/health", timeout)
    return isinstance(body, dict) and body.get("status") == "ok"


def served_models(base_url: str, timeout: float = 2.0) -> list[str]:
    """The model ids an OpenAI-compatible server lists on /models (empty if it does not answer)."""
    body = _get_json(f"{base_url}/models", timeout)
    data = body.get("data") if isinstance(body, dict) else None
    return [m["id"] for m in data or [] if isinstance(m, dict) and "id" in m]


def _alive(pid: int) -> bool:
    try:  # reap it first if it is our own child that has exited
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_server(settings: Settings) -> ServerState | None:
    """The recorded local server if its process lives and it answers, else None."""
    folder = models_dir(settings)
    state = read_state(folder)
    if state is None:
        return None
    if not _alive(state.pid):
        clear_state(folder, state.pid)
        return None
    return state if answering(state.root) else None


def _wait_answering(state: ServerState, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(state.pid):
        if answering(state.root):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return False


def _reusable(settings: Settings, spec: ModelSpec) -> ServerState | None:
    state = read_state(models_dir(settings))
    # recorded: answering, or still loading for whoever started it
    if (
        state is not None
        and state.model == spec.name
        and _wait_answering(state, settings.llm_local_start_timeout_s)
    ):
        return state
    port = settings.llm_local_port
    if port and running_server(settings) is None:  # an unrecorded server on our port: ours?
        base = f"http://{HOST}:{port}/v1"
        if spec.name in served_models(base):
            return ServerState(0, base, spec.name, "")
    return None


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        return " ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def start_server_process(
    settings: Settings, spec: ModelSpec, state_dir: Path | None = None
) -> ServerState:
    """Start the server in its own session (it outlives this process) and wait until it answers.

    Its state file and log go to `state_dir` (default: the models folder, where the app looks).
    """
    folder = state_dir or models_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = model_path(models_dir(settings), spec)
    log = folder / LOG_FILE
    cmd = [
        sys.executable,
        "-m",
        "app.llm",
        f"--model-path={path}",
        f"--model-name={spec.name}",
        f"--port={settings.llm_local_port}",
        f"--threads={settings.llm_local_threads}",
        f"--context={settings.llm_local_context}",
        f"--state-dir={folder}",
    ]
    with log.open("ab") as out:
        child = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    _SPAWNED[child.pid] = child
    deadline = time.monotonic() + settings.llm_local_start_timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            _SPAWNED.pop(child.pid, None)
            raise LocalLLMError(f"the local model server exited: {_log_tail(log)} (log: {log})")
        state = read_state(folder)
        if state is not None and state.pid == child.pid and answering(state.root):
            return state
        time.sleep(0.2)
    stop_process(child.pid)
    raise LocalLLMError(
        f"the local model server did not answer within {settings.llm_local_start_timeout_s:.0f} s "
        f"(LEDGERLENS_LLM_LOCAL_START_TIMEOUT_S); log: {log}"
    )


def ensure_server(settings: Settings) -> ServerState:
    """The running local server for the configured model: reused if up, started if not."""
    try:
        spec = find_model(settings.llm_local_model)
    except KeyError as err:
        raise LocalLLMError(f"{err.args[0]} (LEDGERLENS_LLM_LOCAL_MODEL)") from err
    reused = _reusable(settings, spec)
    if reused is not None:
        return reused
    other = running_server(settings)
    if other is not None and settings.llm_local_port != 0:
        raise LocalLLMError(
            f"the local server at {other.base_url} runs {other.model}, not {spec.name}; "
            "stop it with `ledgerlens llm stop`"
        )
    if not is_installed(models_dir(settings), spec):
        raise LocalLLMError(
            f"the local model {spec.name} is not installed; run "
            f"`ledgerlens llm install --model {spec.name}`"
        )
    if not runtime_available():
        raise LocalLLMError("the llama.cpp runtime is not installed; run `ledgerlens llm install`")
    return start_server_process(settings, spec)


def use_local_llm(settings: Settings) -> Settings:
    """`settings` pointed at the local server when LEDGERLENS_LLM=local (started if need be)."""
    if settings.llm != "local":
        return settings
    state = ensure_server(settings)
    update: dict[str, object] = {
        "llm_base_url": state.base_url,
        "llm_model": state.model,
        "llm_api_key": SecretStr("local"),
    }
    if "llm_timeout_s" not in settings.model_fields_set:
        update["llm_timeout_s"] = LOCAL_TIMEOUT_S
    if "llm_max_retries" not in settings.model_fields_set:
        update["llm_max_retries"] = LOCAL_MAX_RETRIES
    return settings.model_copy(update=update)


def stop_server(settings: Settings, timeout_s: float = 30.0) -> ServerState | None:
    """Stop the recorded local server (SIGTERM, then wait); returns what was stopped."""
    folder = models_dir(settings)
    state = read_state(folder)
    if state is None or not _alive(state.pid):
        if state is not None:
            clear_state(folder, state.pid)
        return None
    stop_process(state.pid, timeout_s)
    clear_state(folder, state.pid)
    return state


def stop_process(pid: int, timeout_s: float = 30.0) -> None:
    """SIGTERM a server process and wait for it to go (SIGKILL after `timeout_s`)."""
    child = _SPAWNED.pop(pid, None)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if child is not None:
        try:
            child.wait(timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
