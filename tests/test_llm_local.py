"""LEDGERLENS_LLM=local without the runtime: settings, reusing a server, status, stop, the CLI."""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.cli import main
from app.core.settings import Settings
from app.llm.catalogue import find_model
from app.llm.errors import LocalLLMError
from app.llm.local import (
    LOCAL_TIMEOUT_S,
    ensure_server,
    models_dir,
    running_server,
    stop_server,
    use_local_llm,
)
from app.llm.server import ServerState, read_state, write_state
from app.llm.status import local_status, render_status

MODEL = "qwen2.5-coder-0.5b"


class _Handler(BaseHTTPRequestHandler):
    model = MODEL

    def do_GET(self) -> None:
        if self.path == "/health":
            body: object = {"status": "ok"}
        elif self.path == "/v1/models":
            body = {"object": "list", "data": [{"id": self.model, "object": "model"}]}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_server() -> Iterator[str]:
    """A stand-in llama.cpp server answering /health and /v1/models; yields its root URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, llm="local", llm_local_model=MODEL, llm_local_port=0)


def _record(settings: Settings, root: str, pid: int | None = None, model: str = MODEL) -> None:
    state = ServerState(pid or os.getpid(), f"{root}/v1", model, "/nowhere.gguf")
    write_state(models_dir(settings), state)


def test_the_backend_is_read_from_ledgerlens_llm(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEDGERLENS_LLM", "local")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    s = Settings()
    assert s.llm == "local" and s.data_dir == tmp_path / "ledgerlens"
    monkeypatch.setenv("LEDGERLENS_LLM", "cloud")
    with pytest.raises(ValidationError):
        Settings()


def test_remote_settings_are_left_alone(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, llm_base_url="http://127.0.0.1:9/v1")
    assert use_local_llm(s) is s


def test_local_points_the_agent_at_a_running_server(settings: Settings, fake_server: str) -> None:
    _record(settings, fake_server)
    s = use_local_llm(settings)
    assert s.llm_base_url == f"{fake_server}/v1" and s.llm_model == MODEL and s.llm_configured
    assert s.llm_timeout_s == LOCAL_TIMEOUT_S and s.llm_max_retries == 0
    explicit = use_local_llm(settings.model_copy(update={"llm_timeout_s": 5.0}))
    assert explicit.llm_timeout_s == 5.0  # a timeout the user set is kept


def test_a_server_on_the_port_that_serves_the_model_is_reused(
    settings: Settings, fake_server: str
) -> None:
    port = int(fake_server.rsplit(":", 1)[1])
    state = ensure_server(settings.model_copy(update={"llm_local_port": port}))
    assert state.base_url == f"{fake_server}/v1" and state.model == MODEL


def test_a_server_of_another_model_is_not_taken_over(settings: Settings, fake_server: str) -> None:
    _record(settings, fake_server, model="qwen2.5-coder-1.5b")
    with pytest.raises(LocalLLMError, match="llm stop"):
        ensure_server(settings.model_copy(update={"llm_local_port": 8765}))


def test_nothing_installed_says_what_to_run(settings: Settings) -> None:
    with pytest.raises(LocalLLMError, match=f"ledgerlens llm install --model {MODEL}"):
        use_local_llm(settings)


def test_an_unknown_model_names_the_setting(settings: Settings) -> None:
    with pytest.raises(LocalLLMError, match="LEDGERLENS_LLM_LOCAL_MODEL"):
        ensure_server(settings.model_copy(update={"llm_local_model": "gpt-5"}))


def test_a_dead_server_s_record_is_cleared(settings: Settings, fake_server: str) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _record(settings, fake_server, pid=gone.pid)
    assert running_server(settings) is None
    assert read_state(models_dir(settings)) is None


def test_status_lists_the_catalogue_and_the_answering_server(
    settings: Settings, fake_server: str
) -> None:
    before = render_status(local_status(settings))
    assert any(line.startswith("server: not running") for line in before)
    assert any(MODEL in line and "not installed" in line for line in before)
    _record(settings, fake_server)
    status = local_status(settings)
    assert status.server is not None and status.server_models == (MODEL,)
    assert f"server: answering at {fake_server}/v1" in render_status(status)[-1]


def test_status_sees_an_installed_model(settings: Settings) -> None:
    spec = find_model(MODEL)
    folder = models_dir(settings)
    folder.mkdir(parents=True)
    with (folder / spec.filename).open("wb") as f:
        f.truncate(spec.size)  # sparse: the size and the stamp are what status reads
    (folder / f"{spec.filename}.sha256").write_text(f"{spec.sha256}  {spec.filename}\n")
    (row,) = [m for m in local_status(settings).models if m.spec.name == MODEL]
    assert row.installed and row.path == str(folder / spec.filename)


def test_stop_ends_the_recorded_process(settings: Settings) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        _record(settings, "http://127.0.0.1:9", pid=child.pid)
        stopped = stop_server(settings)
        assert stopped is not None and stopped.pid == child.pid
        with pytest.raises(ProcessLookupError):  # stopped and reaped
            os.kill(child.pid, 0)
        assert read_state(models_dir(settings)) is None
        assert stop_server(settings) is None
    finally:
        child.kill()
        child.wait()


def test_cli_status_and_a_refused_serve(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("LEDGERLENS_DATA_DIR", str(tmp_path))
    assert main(["llm", "status"]) == 0
    out = capsys.readouterr().out
    assert "qwen2.5-coder-1.5b" in out and "Apache-2.0" in out and "server: not running" in out
    assert main(["llm", "serve", "--model", MODEL, "--port", "0"]) == 1
    assert f"ledgerlens llm install --model {MODEL}" in capsys.readouterr().err


def test_cli_ask_with_local_and_nothing_installed_says_so(
    monkeypatch, tmp_path: Path, capsys, demo_path: Path
) -> None:
    monkeypatch.setenv("LEDGERLENS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEDGERLENS_LLM", "local")
    assert main(["ask", "gross volume last quarter", "--warehouse", str(demo_path)]) == 1
    assert "ledgerlens llm install" in capsys.readouterr().err
