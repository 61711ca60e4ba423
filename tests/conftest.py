"""Shared fixtures: the pinned demo warehouse and an assistant over it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.assistant import Assistant
from app.settings import Settings
from evals.warehouses import ensure_warehouse


@pytest.fixture(scope="session")
def demo_path() -> Path:
    return ensure_warehouse("demo")


@pytest.fixture(scope="session")
def assistant(demo_path: Path) -> Iterator[Assistant]:
    a = Assistant(Settings(warehouse_path=demo_path))
    yield a
    a.executor.close()
