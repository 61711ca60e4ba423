"""Run the security suite and print its counts: `python -m tests.security_report [--update]`.

Runs tests/test_attacks.py, test_fuzz.py, test_faults.py and test_limits.py under pytest, reads
what each test recorded (`record_property`) and prints one table: hostile SQL tried / rejected /
scoped / stopped / leaked, hostile questions and data, fuzz examples, faults survived, limits.
`--update` also rewrites the table between the markers in SECURITY.md. Exit status 1 when a test
failed or anything leaked.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = ("test_attacks.py", "test_fuzz.py", "test_faults.py", "test_limits.py")
START, END = "<!-- security-report:start -->", "<!-- security-report:end -->"


@dataclass
class Collector:
    """A pytest plugin keeping each test's outcome and recorded properties."""

    tests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the call phase, and setup failures (a test that never ran)."""
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.tests.append((report.nodeid, report.outcome, dict(report.user_properties)))


def _table(collector: Collector) -> tuple[str, bool]:
    families: dict[str, Counter[str]] = defaultdict(Counter)
    injections: Counter[str] = Counter()
    fuzz: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    limits: Counter[str] = Counter()
    failed = 0
    for nodeid, outcome, props in collector.tests:
        ok = outcome == "passed"
        failed += outcome == "failed"
        if "attack_outcome" in props:
            row = families[str(props["attack_family"])]
            row["tried"] += 1
            row[str(props["attack_outcome"])] += 1
            row["leaked"] += bool(props["attack_leaked"])
            row["failed"] += not ok
        elif "injection_outcome" in props:
            injections["tried"] += 1
            injections[str(props["injection_outcome"])] += 1
            injections["leaked"] += bool(props["injection_leaked"])
            injections["failed"] += not ok
        elif "fuzz_examples" in props:
            fuzz["examples"] += int(props["fuzz_examples"])
            fuzz["properties"] += 1
            fuzz["failed"] += not ok
        elif "fault" in props or "test_faults.py" in nodeid:
            faults["tried"] += 1
            faults["survived"] += ok
        elif "test_limits.py" in nodeid:
            limits["tried"] += 1
            limits["held"] += ok
    total: Counter[str] = sum(families.values(), Counter())
    lines = [
        "| Hostile SQL family | tried | rejected by the guard | scoped and run "
        "| scoped, DuckDB error (own values only) | stopped by a limit | leaked |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in [*sorted(families.items()), ("**total**", total)]:
        cells = [row[k] for k in ("tried", "rejected", "scoped", "error", "stopped", "leaked")]
        lines.append(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    lines += [
        "",
        "| Other checks | count |",
        "| --- | ---: |",
        f"| hostile questions and hostile-data answers | {injections['tried']} |",
        f"| … refused | {injections['refused']} |",
        f"| … answered for the asking account only | {injections['answered']} |",
        f"| … leaked | {injections['leaked']} |",
        f"| fuzz examples run ({fuzz['properties']} properties) | {fuzz['examples']} |",
        f"| faults survived | {faults['survived']} of {faults['tried']} |",
        f"| limit tests passing | {limits['held']} of {limits['tried']} |",
        f"| failed tests | {failed} |",
    ]
    leaked = total["leaked"] + injections["leaked"]
    return "\n".join(lines), failed == 0 and leaked == 0


def _update(path: Path, table: str) -> None:
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the table, optionally write it into SECURITY.md."""
    parser = argparse.ArgumentParser(prog="python -m tests.security_report")
    parser.add_argument("--update", action="store_true", help="rewrite the table in SECURITY.md")
    args = parser.parse_args(argv)
    collector = Collector()
    paths = [str(ROOT / "tests" / name) for name in FILES]
    pytest.main(["-q", "-p", "no:cacheprovider", *paths], plugins=[collector])
    table, clean = _table(collector)
    print()
    print(table)
    if args.update:
        _update(ROOT / "SECURITY.md", table)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
