"""The accepted baseline (EVALS.md 5.6): the run's inputs and per-case verdicts, byte-stable.

Inputs are hashes of everything a verdict depends on: the prompts (version, sha256, tokens), the
agent's tool and decision schemas (`tools/*.py`, `app/agent/parts.py`), the semantic model
(`data/semantic/*.yaml`), each case file, and each warehouse's fingerprint. The baseline holds no
timestamps or latencies, and is written with sorted keys, so identical runs write identical bytes.

`python -m evals.baseline accept [REPORT] [--baseline FILE]` (what `make eval-accept` runs) writes
the baseline from the latest offline report after checking that nothing changed since that run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from evals.warehouses import file_fingerprint, warehouse_fingerprint, warehouse_specs

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "evals" / "baseline.json"
LATEST_REPORT = ROOT / "evals" / "reports" / "latest.json"
SCHEMA_VERSION = 1


class BaselineError(ValueError):
    """A baseline or report file that cannot be used; the message says why."""


def display_path(path: Path) -> str:
    """A stable name for a file: relative to the repository when inside it, else as given."""
    resolved = path.resolve()
    for base in (ROOT, Path.cwd()):
        if resolved.is_relative_to(base):
            return resolved.relative_to(base).as_posix()
    return resolved.as_posix()


def sha256_files(files: Iterable[Path]) -> str:
    """One SHA-256 over several files: each file's display path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(files, key=display_path):
        digest.update(display_path(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def tool_files() -> list[Path]:
    """The files whose text defines the schemas the agent's model sees.

    The tools (`tools/*.py`: the functions, whose signatures and docstrings are the schemas, and
    the derivation in `tools/schema.py`) and the decision schema (`app/agent/parts.py`).
    """
    return [*sorted((ROOT / "tools").glob("*.py")), ROOT / "app" / "agent" / "parts.py"]


def prompt_inputs(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """Prompt name → {version, sha256, tokens} from `app.agent.prompts.all_prompts`."""
    from app.agent.prompts import all_prompts

    return {
        p.name: {"version": p.version, "sha256": p.sha256, "tokens": p.tokens}
        for p in all_prompts(directory)
    }


def warehouse_inputs(names: Iterable[str], override: Path | None = None) -> dict[str, Any]:
    """Warehouse name → its seed spec and fingerprint (or, for a given file, its bytes' hash)."""
    if override is not None:
        return {override.stem: {"sha256": file_fingerprint(override)}}
    specs = warehouse_specs()
    return {n: {**specs[n], "sha256": warehouse_fingerprint(n)} for n in sorted(set(names))}


def current_inputs(
    case_files: Iterable[Path],
    warehouses: Mapping[str, Any],
    semantic_sha256: str,
    *,
    prompts_dir: Path | None = None,
) -> dict[str, Any]:
    """Everything a verdict depends on, hashed (the `inputs` of reports and the baseline)."""
    return {
        "prompts": prompt_inputs(prompts_dir),
        "tool_schemas_sha256": sha256_files(tool_files()),
        "semantic_model_sha256": semantic_sha256,
        "cases_sha256": {
            display_path(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in case_files
        },
        "warehouses": dict(warehouses),
    }


def baseline_from_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The baseline a report would be accepted as: inputs, counts and per-case verdicts."""
    summary = report["summary"]
    keep = ("cases", "pass", "wrong", "missed", "hallucinated", "error", "execution_accuracy")
    return {
        "schema_version": SCHEMA_VERSION,
        "mode": report["run"]["mode"],
        "backend": report["run"]["backend"],
        "inputs": report["inputs"],
        "summary": {
            **{k: summary[k] for k in keep},
            "valid_sql_rate": summary["valid_sql_rate"],
        },
        "cases": {
            c["id"]: {"path": c["path"], "status": c["status"], "reasons": c["reasons"]}
            for c in report["cases"]
        },
    }


def dumps(data: Mapping[str, Any]) -> str:
    """Canonical JSON text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_baseline(path: Path, baseline: Mapping[str, Any]) -> None:
    """Write the baseline file (canonical JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(baseline), encoding="utf-8")


def load_json(path: Path, what: str) -> dict[str, Any]:
    """Read a baseline or report JSON file, with an error naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BaselineError(f"no {what} at {display_path(path)}") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{display_path(path)} is not a readable {what}: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise BaselineError(f"{display_path(path)}: not a schema_version {SCHEMA_VERSION} {what}")
    return data


def accept(report_path: Path = LATEST_REPORT, baseline_path: Path = BASELINE) -> str:
    """Write the baseline from a full offline report whose inputs are still current."""
    from app.semantic.load import semantic_model
    from evals.cases import case_files
    from evals.run import CASES_DIR

    report = load_json(report_path, "eval report")
    run = report["run"]
    if run["mode"] != "offline" or not run["full_suite"]:
        raise BaselineError(
            f"{display_path(report_path)} is not a full offline run of evals/cases/ on the pinned "
            "warehouses; run `make eval` first"
        )
    names = report["inputs"]["warehouses"]
    now = current_inputs(case_files([CASES_DIR]), warehouse_inputs(names), semantic_model().sha256)
    changed = sorted(k for k in now if now[k] != report["inputs"].get(k))
    if changed:
        raise BaselineError(
            f"{', '.join(changed)} changed since {display_path(report_path)} was written; "
            "run `make eval` again, review it, then accept"
        )
    write_baseline(baseline_path, baseline_from_report(report))
    return (
        f"Wrote {display_path(baseline_path)} from {display_path(report_path)} (run {run['id']})."
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.baseline accept [REPORT] [--baseline FILE]`."""
    parser = argparse.ArgumentParser(prog="python -m evals.baseline")
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accept", help="write the baseline from the latest offline report")
    acc.add_argument("report", nargs="?", type=Path, default=LATEST_REPORT)
    acc.add_argument("--baseline", type=Path, default=BASELINE)
    args = parser.parse_args(argv)
    try:
        print(accept(args.report, args.baseline))
    except BaselineError as err:
        print(f"eval-accept: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
