"""Load data/semantic/*.yaml into a checked SemanticModel; the packaged model, kept parsed."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
import sqlglot
from pydantic import ValidationError

from app.core import resources
from app.core.errors import SemanticModelError
from app.semantic import checks, model, rollups, statements
from app.semantic.cache import cached_parse
from app.semantic.checks import check_model
from app.semantic.model import (
    Ambiguity,
    Dimension,
    Join,
    ListSpec,
    Measure,
    Metric,
    Report,
    SemanticModel,
)
from app.semantic.rollups import Rollup
from app.semantic.statements import Statement

SEMANTIC_DIR = resources.semantic_dir()


def load_yaml(text: str | bytes) -> Any:
    """Parse YAML safely, with libyaml's loader when PyYAML has it (same result, ~10x faster)."""
    import yaml  # only here: the packaged model usually comes from the parse cache

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_semantic_model(directory: Path = SEMANTIC_DIR) -> SemanticModel:
    """Load, validate and hash the semantic model YAML files."""
    files = sorted(directory.glob("*.yaml"))
    raw: dict[str, object] = {}
    digest = hashlib.sha256()
    for f in files:
        text = f.read_bytes()
        digest.update(f.name.encode() + b"\0" + text)
        raw.update(load_yaml(text) or {})
    try:
        metrics = {m["name"]: Metric(**m) for m in raw["metrics"]}  # type: ignore[attr-defined]
        dims = {d["name"]: Dimension(**d) for d in raw["dimensions"]}  # type: ignore[attr-defined]
        lists = {s["name"]: ListSpec(**s) for s in raw["lists"]}  # type: ignore[attr-defined]
        listed: Any = raw.get("measures") or []  # measures.yaml is optional
        measures = {m["name"]: Measure(**m) for m in listed}
        model = SemanticModel(
            metrics=metrics,
            dimensions=dims,
            joins=tuple(Join(**j) for j in raw["joins"]),  # type: ignore[attr-defined]
            lists=lists,
            measures=measures,
            ambiguous=tuple(Ambiguity(**a) for a in raw["ambiguous"]),  # type: ignore[attr-defined]
            countries=raw["countries"],
            states=raw["states"],
            currencies=raw["currencies"],
            zero_decimal_currencies=raw["zero_decimal_currencies"],
            sha256=digest.hexdigest(),
            reports={r["name"]: Report(**r) for r in raw.get("reports", [])},  # type: ignore[attr-defined]
            rollups={r["name"]: Rollup(**r) for r in raw.get("rollups", [])},  # type: ignore[attr-defined]
            statements={s["name"]: Statement(**s) for s in raw.get("statements", [])},  # type: ignore[attr-defined]
        )
    except (KeyError, TypeError, ValidationError) as err:
        raise SemanticModelError(f"invalid semantic model: {err}") from err
    check_model(model)
    checks.check_rollups(model)
    try:
        statements.check_statements(model.statements, model.metrics)
    except ValueError as err:
        raise SemanticModelError(f"invalid semantic model: {err}") from err
    return model


@cache
def semantic_model() -> SemanticModel:
    """The packaged semantic model, loaded once (and kept, validated, in the parse cache)."""
    code = [
        Path(__file__).read_bytes(),
        Path(model.__file__).read_bytes(),
        Path(checks.__file__).read_bytes(),  # a cached model passed these cross-checks
        Path(rollups.__file__).read_bytes(),
        Path(statements.__file__).read_bytes(),
        pydantic.VERSION.encode(),
        str(getattr(sqlglot, "__version__", "")).encode(),
    ]
    # A cached entry's types are validated again; its cross-checks passed when it was written.
    return cached_parse(
        "semantic",
        SEMANTIC_DIR.glob("*.yaml"),
        code,
        load_semantic_model,
        lambda m: m.model_dump_json(by_alias=True),
        SemanticModel.model_validate_json,
    )
