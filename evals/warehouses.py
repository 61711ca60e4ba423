"""Build (or reuse) the pinned eval warehouses listed in evals/config.yaml."""

from __future__ import annotations

import fcntl
import hashlib
import json
from datetime import date
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).resolve().parent / "config.yaml"
OUT_DIR = ROOT / "warehouse" / "evals"


@cache
def warehouse_specs() -> dict[str, dict[str, str]]:
    """Name → {scale, seed, end} of every pinned warehouse."""
    raw = yaml.safe_load(CONFIG.read_text())
    return {k: {kk: str(vv) for kk, vv in v.items()} for k, v in raw["warehouses"].items()}


def generator_fingerprint() -> str:
    """Hash of the generator code, DDL and rollups: a changed one rebuilds every warehouse."""
    digest = hashlib.sha256()
    data = ROOT / "data"
    compile_dir = ROOT / "app" / "sql" / "compile"
    rollups = [
        data / "semantic" / "rollups.yaml",
        *(compile_dir / n for n in ("rollups.py", "ledger_rollups.py", "ranked_rollups.py")),
    ]
    for f in sorted([*data.glob("*.py"), *(data / "ddl").glob("*.sql")]) + rollups:
        digest.update(f.name.encode() + f.read_bytes())
    return digest.hexdigest()[:16]


def ensure_warehouse(name: str) -> Path:
    """Path of the named warehouse, built from its seed if missing or stale."""
    from data.build import build_warehouse

    spec = warehouse_specs()[name]
    fp = generator_fingerprint()
    path = OUT_DIR / f"{name}-{spec['seed']}-{fp}.duckdb"
    if path.exists():
        return path
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with open(OUT_DIR / f".{name}.lock", "w") as lock:  # parallel test workers build once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            for old in OUT_DIR.glob(f"{name}-*.duckdb"):
                old.unlink()
            build_warehouse(
                spec["scale"],
                int(spec["seed"]),
                date.fromisoformat(spec["end"]),
                path,
                progress=False,
            )
    return path


def warehouse_fingerprint(name: str) -> str:
    """SHA-256 identifying a pinned warehouse's data: its seed spec and the generator's code."""
    spec = warehouse_specs()[name]
    text = json.dumps({"name": name, **spec, "generator": generator_fingerprint()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a warehouse file's bytes (for warehouses not built from a pinned seed)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
