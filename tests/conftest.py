"""Shared fixtures: the pinned demo warehouse and an assistant over it."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from evals.run import Runner
from evals.warehouses import ensure_warehouse
from tests.network_guard import blocked_network_calls, network_guard  # noqa: F401 (fixtures)
from tests.openai_server import OpenAIServer
from tests.spark_connect_server import ConnectServer, connect_jar


@pytest.fixture(scope="session")
def demo_path() -> Path:
    return ensure_warehouse("demo")


@pytest.fixture(scope="session")
def demo_export(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse exported to Parquet once per session (what the Spark engine reads)."""
    from app.run.export import export_parquet

    out = tmp_path_factory.mktemp("parquet") / "demo"
    export_parquet(demo_path, out)
    return out


@pytest.fixture(scope="session")
def spark_connect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    """A Spark Connect server on 127.0.0.1 for the session, from pyspark's own jars."""
    from app.run.spark_session import LOG4J2, find_java

    if find_java() is None:
        pytest.skip(
            "Spark Connect needs a Java runtime (17+): apt-get install default-jre-headless"
        )
    if connect_jar() is None:
        pytest.fail("pyspark ships no spark-connect jar in its jars folder (pyspark 4.x does)")
    with ConnectServer(tmp_path_factory.mktemp("spark-connect"), log4j=LOG4J2) as server:
        yield server


@pytest.fixture
def server_settings(openai_server: OpenAIServer, demo_path: Path) -> Callable[..., Settings]:
    """Settings that point the agent at the scripted OpenAI server (a local base URL: JSON mode)."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "warehouse_path": demo_path,
            "llm_base_url": openai_server.base_url,
            "llm_model": "qwen2.5-coder-1.5b-instruct",
            "llm_timeout_s": 5.0,
            "llm_max_retries": 0,
            "llm_explain": False,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture(scope="session")
def assistant(demo_path: Path) -> Iterator[Assistant]:
    a = Assistant(Settings(warehouse_path=demo_path))
    yield a
    a.session.close()


@pytest.fixture(scope="session")
def eval_runner() -> Iterator[Runner]:
    """One eval Runner per session: the case tests and the offline gate share its results."""
    runner = Runner(Settings())
    yield runner
    runner.close()


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (empty script: `enqueue` steps)."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def llm_settings(demo_path: Path) -> Settings:
    """LLM configured (never reached: tests pass a scripted model); native mode, small budgets."""
    return Settings(
        warehouse_path=demo_path,
        llm_base_url="http://127.0.0.1:9/v1",
        llm_tool_mode="native",
        llm_explain=False,
        llm_correction_budget=2,
        llm_tool_call_budget=4,
    )
