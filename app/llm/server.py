"""The llama.cpp server (xllamacpp) on 127.0.0.1: start it in this process, record where it is."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.llm.errors import LocalLLMError

HOST = "127.0.0.1"  # never anything else: the server has no authentication
STATE_FILE = "server.json"


@dataclass(frozen=True)
class ServerConfig:
    """What the server loads and where it listens (port 0: any free port)."""

    model_path: Path
    model_name: str  # the id /v1/models reports; requests may name it
    port: int
    threads: int
    context: int
    verbose: bool = False


@dataclass(frozen=True)
class ServerState:
    """A running server as its state file records it."""

    pid: int
    base_url: str  # ends in /v1: what an OpenAI client takes
    model: str
    model_path: str

    @property
    def root(self) -> str:
        """The server's address without the /v1 suffix (where /health lives)."""
        return self.base_url.removesuffix("/v1")


def _params(config: ServerConfig) -> Any:
    import xllamacpp  # the runtime is an optional extra: imported only when serving

    params = xllamacpp.CommonParams()
    params.model.path = str(config.model_path)
    params.model_alias = {config.model_name}
    params.hostnames = [HOST]
    params.port = config.port
    params.n_ctx = config.context
    params.n_parallel = 1  # one conversation at a time keeps the whole context and prompt cache
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.threads
    params.ui = False
    params.verbosity = 3 if config.verbose else 0
    return params


def start_server(config: ServerConfig) -> Any:
    """Load the model and start the HTTP server; returns the running xllamacpp.Server."""
    if not config.model_path.is_file():
        raise LocalLLMError(f"no model file at {config.model_path}; run `ledgerlens llm install`")
    try:
        import xllamacpp
    except ImportError as err:
        raise LocalLLMError(
            "the llama.cpp runtime is not installed; run `ledgerlens llm install` "
            "(or pip install 'ledgerlens[llm]')"
        ) from err
    try:
        return xllamacpp.Server(_params(config))
    except RuntimeError as err:  # xllamacpp's only signal: bad params, a port in use, a bad file
        raise LocalLLMError(
            f"the llama.cpp server did not start on {HOST}:{config.port} ({err}); is the port "
            "in use? Set LEDGERLENS_LLM_LOCAL_PORT to another port."
        ) from err


def write_state(folder: Path, state: ServerState) -> None:
    """Record a running server in `folder` (written whole, then renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{STATE_FILE}.{state.pid}"
    tmp.write_text(json.dumps(asdict(state)))
    tmp.replace(folder / STATE_FILE)


def read_state(folder: Path) -> ServerState | None:
    """The server recorded in `folder`, if any (it may have stopped since)."""
    try:
        data = json.loads((folder / STATE_FILE).read_text())
        return ServerState(**data)
    except (OSError, ValueError, TypeError):
        return None


def clear_state(folder: Path, pid: int) -> None:
    """Remove the state file if it still names process `pid`."""
    state = read_state(folder)
    if state is not None and state.pid == pid:
        (folder / STATE_FILE).unlink(missing_ok=True)


def serve(config: ServerConfig, state_dir: Path | None, announce: bool = True) -> None:
    """Run the server until SIGINT/SIGTERM, recorded in `state_dir` while it runs."""
    server = start_server(config)
    address = f"{server.listening_address}/v1"
    state = ServerState(os.getpid(), address, config.model_name, str(config.model_path))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if state_dir is not None:
        write_state(state_dir, state)
    if announce:
        print(state.base_url, flush=True)
    try:
        stop.wait()
    finally:
        if state_dir is not None:
            clear_state(state_dir, state.pid)
        del server  # xllamacpp stops the HTTP server and frees the model here


def main(argv: list[str] | None = None) -> int:
    """Run the server from command-line flags (`python -m app.llm`, started by `ledgerlens`)."""
    p = argparse.ArgumentParser(prog="python -m app.llm")
    p.add_argument("--model-path", type=Path, required=True)
    p.add_argument("--model-name", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args(argv)
    config = ServerConfig(a.model_path, a.model_name, a.port, a.threads, a.context, a.verbose)
    try:
        serve(config, a.state_dir)
    except LocalLLMError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
