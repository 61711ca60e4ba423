"""The offline regression gate (EVALS.md 5.6): a report checked against the accepted baseline.

It fails on any regression (a case passing in the baseline that does not pass now), any
hallucinated answer, stale inputs (a prompt, the tool schemas, the semantic model, a case file or a
warehouse changed since the baseline was accepted), prompt token growth over 10%, and cases missing
from the baseline (or, on a full run, baseline cases that were not run). Improvements never fail.
A partial run (`-k`) is checked only on the cases, case files and warehouses it ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

TOKEN_GROWTH_LIMIT = 0.10
ACCEPT_HINT = "review evals/reports/latest.md and run `make eval-accept`"


@dataclass
class Gate:
    """The gate's verdict: every failure by kind, plus the improvements it only lists."""

    baseline: str
    problems: list[str] = field(default_factory=list)
    regressions: list[dict[str, Any]] = field(default_factory=list)
    hallucinated: list[dict[str, Any]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    token_growth: list[str] = field(default_factory=list)
    new_cases: list[str] = field(default_factory=list)
    removed_cases: list[str] = field(default_factory=list)
    improvements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing failed."""
        failing = (self.problems, self.regressions, self.hallucinated, self.stale)
        return not any(failing) and not (self.token_growth or self.new_cases or self.removed_cases)

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-ready data (for the report)."""
        return {"ok": self.ok, **asdict(self), "lines": self.lines(limit=1000)}

    def lines(self, limit: int = 8) -> list[str]:
        """A few lines saying why the gate failed (or that it passed), for a terminal."""
        out = [f"gate {'passed' if self.ok else 'FAILED'} against {self.baseline}"]

        def add(items: list[str]) -> None:
            out.extend(f"  {line}" for line in items[:limit])
            if len(items) > limit:
                out.append(f"  … and {len(items) - limit} more (see the report)")

        add(self.problems)
        add(
            [f"regression: {r['id']} ({r['was']} → {r['now']}) {_why(r)}" for r in self.regressions]
        )
        add([f"hallucinated: {h['id']} answered a {h['expect']} case" for h in self.hallucinated])
        add([f"baseline stale: {s}; {ACCEPT_HINT}" for s in self.stale])
        add([f"prompt token growth: {t}" for t in self.token_growth])
        if self.new_cases:
            add([f"new cases not in the baseline ({ACCEPT_HINT}): " + ", ".join(self.new_cases)])
        if self.removed_cases:
            add(["baseline cases not run: " + ", ".join(self.removed_cases)])
        if self.improvements:
            names = [
                f"{i['id']}{' (known failure)' * bool(i['known_failure'])}"
                for i in self.improvements
            ]
            add(["improvements (never fail): " + ", ".join(names)])
        return out


def _why(record: Mapping[str, Any]) -> str:
    reasons = ", ".join(record["reasons"]) or "no reason code"
    return f"{reasons}: {record['detail']}" if record.get("detail") else reasons


def _short(sha: Any) -> str:
    return str(sha)[:8] if sha else "none"


def _prompt_changes(old: Mapping[str, Any], new: Mapping[str, Any], gate: Gate) -> None:
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None or b is None:
            gate.stale.append(f"prompt `{name}` {'added' if a is None else 'removed'}")
            continue
        if (a["sha256"], a["version"]) != (b["sha256"], b["version"]):
            gate.stale.append(
                f"prompt `{name}` changed (v{a['version']} → v{b['version']}, sha "
                f"{_short(a['sha256'])} → {_short(b['sha256'])}, {a['tokens']} → {b['tokens']} "
                "tokens)"
            )
        if a["tokens"] and b["tokens"] > a["tokens"] * (1 + TOKEN_GROWTH_LIMIT):
            growth = (b["tokens"] - a["tokens"]) / a["tokens"]
            gate.token_growth.append(
                f"`{name}` {a['tokens']} → {b['tokens']} tokens (+{growth:.1%}, limit "
                f"{TOKEN_GROWTH_LIMIT:.0%})"
            )


def _hash_changes(
    what: str, old: Mapping[str, Any], new: Mapping[str, Any], partial: bool, gate: Gate
) -> None:
    names = sorted(new) if partial else sorted(set(old) | set(new))
    for name in names:
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        sha_a = a.get("sha256") if isinstance(a, Mapping) else a
        sha_b = b.get("sha256") if isinstance(b, Mapping) else b
        state = "added" if a is None else "removed" if b is None else "changed"
        gate.stale.append(f"{what} `{name}` {state} (sha {_short(sha_a)} → {_short(sha_b)})")


def check_gate(
    baseline: Mapping[str, Any] | None,
    report: Mapping[str, Any],
    *,
    partial: bool = False,
    baseline_name: str = "evals/baseline.json",
) -> Gate:
    """Check a report (see `evals/summary.py`) against a baseline (see `evals/baseline.py`)."""
    gate = Gate(baseline=baseline_name)
    records = report["cases"]
    gate.hallucinated = [
        {"id": c["id"], "expect": c["expect"], "detail": c["detail"]}
        for c in records
        if c["status"] == "hallucinated"
    ]
    if baseline is None:
        gate.problems.append(f"no baseline at {baseline_name}; {ACCEPT_HINT}")
        return gate
    for key in ("mode", "backend"):
        if baseline.get(key, report["run"][key]) != report["run"][key]:
            gate.problems.append(
                f"the baseline's {key} is {baseline.get(key)}; this run's is {report['run'][key]}"
            )
    old, new = baseline.get("inputs", {}), report["inputs"]
    _prompt_changes(old.get("prompts", {}), new["prompts"], gate)
    for key, what in (
        ("tool_schemas_sha256", "tool schemas (tools/*.py, app/agent/parts.py)"),
        ("semantic_model_sha256", "semantic model (data/semantic/*.yaml)"),
    ):
        if old.get(key) != new[key]:
            gate.stale.append(f"{what} changed (sha {_short(old.get(key))} → {_short(new[key])})")
    _hash_changes("case file", old.get("cases_sha256", {}), new["cases_sha256"], partial, gate)
    _hash_changes("warehouse", old.get("warehouses", {}), new["warehouses"], partial, gate)
    accepted: Mapping[str, Any] = baseline.get("cases", {})
    for c in records:
        before = accepted.get(c["id"])
        if before is None:
            gate.new_cases.append(c["id"])
        elif before["status"] == "pass" and c["status"] != "pass":
            gate.regressions.append(
                {
                    "id": c["id"],
                    "was": "pass",
                    "now": c["status"],
                    "reasons": c["reasons"],
                    "detail": c["detail"],
                }
            )
        elif before["status"] != "pass" and c["status"] == "pass":
            gate.improvements.append(
                {
                    "id": c["id"],
                    "was": before["status"],
                    "now": "pass",
                    "known_failure": bool(c.get("known_failure")),
                }
            )
    if not partial:
        run = {c["id"] for c in records}
        gate.removed_cases = sorted(set(accepted) - run)
    return gate
