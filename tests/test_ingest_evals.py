"""Every eval case gives the same verdict and headline on an imported demo as on the demo itself.

Slow (two runs of the whole eval suite): `pytest -m slow tests/test_ingest_evals.py`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.ingest.fixture import export_delivery
from app.ingest.load import import_delivery
from evals.run import Runner
from tests.eval_corpus import CASES


def verdicts(warehouse: Path) -> dict[str, tuple[str, str | None]]:
    """Status and headline of every case run on one warehouse file."""
    runner = Runner(Settings(), warehouse=warehouse)
    try:
        return {
            case.name: (r.status, r.answer.headline if r.answer else None)
            for case in CASES
            for r in [runner.result(case)]
        }
    finally:
        runner.close()


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["data-pipeline", "sigma-csv"])
def test_imported_demo_gives_the_same_verdicts(
    layout: str, demo_path: Path, tmp_path: Path
) -> None:
    demo = tmp_path / "demo.duckdb"  # same file name stem on both sides: the cases see "demo"
    shutil.copy(demo_path, demo)
    export_delivery(demo_path, tmp_path / "delivery", layout)  # type: ignore[arg-type]
    imported = tmp_path / "imported" / "demo.duckdb"
    import_delivery(tmp_path / "delivery", imported)
    before, after = verdicts(demo), verdicts(imported)
    assert after == before
    assert sum(s == "pass" for s, _ in after.values()) > len(CASES) // 2
