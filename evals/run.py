"""Run eval cases through the same ask() users call, on every pinned warehouse, and score them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.answer import Answer
from app.assistant import Assistant, Conversation
from app.errors import AssistantError
from app.settings import Settings
from evals.cases import Case, load_cases
from evals.compare import Match, Table, result_matches
from evals.scoring import Status, run_scorers, status_for
from evals.warehouses import ensure_warehouse

CASES_DIR = Path(__file__).resolve().parent / "cases"
_RANK: dict[Status, int] = {"pass": 0, "missed": 1, "wrong": 2, "hallucinated": 3, "error": 4}


@dataclass
class CaseResult:
    """The verdict on one case across its warehouses."""

    case: Case
    status: Status
    reasons: list[str]
    answers: dict[str, Answer] = field(default_factory=dict)
    matches: dict[str, Match | None] = field(default_factory=dict)
    detail: str = ""


class Runner:
    """Holds one assistant per pinned warehouse and scores cases against them."""

    def __init__(self, settings: Settings | None = None) -> None:
        """Prepare an empty pool of assistants."""
        self.settings = settings or Settings()
        self._assistants: dict[str, Assistant] = {}

    def assistant(self, warehouse: str) -> Assistant:
        """The assistant for a pinned warehouse (built on first use)."""
        if warehouse not in self._assistants:
            path = ensure_warehouse(warehouse)
            s = self.settings.model_copy(update={"warehouse_path": path})
            self._assistants[warehouse] = Assistant(s)
        return self._assistants[warehouse]

    def run_case(self, case: Case) -> CaseResult:
        """Ask the case's question on each of its warehouses; the worst verdict wins."""
        result = CaseResult(case=case, status="pass", reasons=[])
        for wh in case.warehouses:
            status, reasons, detail = self._run_on(case, wh, result)
            if _RANK[status] > _RANK[result.status]:
                result.status, result.reasons, result.detail = status, reasons, f"[{wh}] {detail}"
        return result

    def _run_on(self, case: Case, wh: str, result: CaseResult) -> tuple[Status, list[str], str]:
        assistant = self.assistant(wh)
        inputs = case.inputs
        conv = Conversation()
        for turn in inputs.history:
            assistant.ask(turn, as_of=inputs.as_of, account=inputs.account, conversation=conv)
        answer = assistant.ask(
            inputs.question, as_of=inputs.as_of, account=inputs.account, conversation=conv
        )
        result.answers[wh] = answer
        match = None
        if case.expected.outcome == "answer" and answer.status == "answered":
            match = self._match(case, wh, answer)
            result.matches[wh] = match
            if match is None:
                return "error", ["reference_error"], "reference SQL failed"
        scores = run_scorers(case, answer)
        status, reasons = status_for(case, answer, match, scores)
        detail = match.detail if match is not None and not match.ok else answer.error or ""
        if match is not None and match.first_diff is not None:
            d = match.first_diff
            detail = f"row {d.row}, column {d.column}: expected {d.expected}, got {d.actual}"
        return status, reasons, detail

    def _match(self, case: Case, wh: str, answer: Answer) -> Match | None:
        assistant = self.assistant(wh)
        predicted = Table([c.name for c in answer.columns], [tuple(r) for r in answer.rows])
        assert case.expected.compare is not None and case.expected.reference_sql
        best: Match | None = None
        for sql in (case.expected.reference_sql, *case.expected.alternatives):
            try:
                ref = assistant.run_sql(sql, case.inputs.account)
            except AssistantError:
                return None
            m = result_matches(
                Table(ref.columns, ref.rows, ref.types),
                predicted,
                case.expected.compare,
                allow_empty=case.expected.empty,
            )
            if m.ok:
                return m
            best = best or m
        return best

    def reference_rows(self, case: Case, wh: str = "demo") -> int:
        """Row count of a case's reference result (cases must be non-empty on demo)."""
        assert case.expected.reference_sql
        return len(
            self.assistant(wh).run_sql(case.expected.reference_sql, case.inputs.account).rows
        )

    def close(self) -> None:
        """Close every warehouse connection."""
        for a in self._assistants.values():
            a.executor.close()


def run_all(paths: Iterable[str | Path] = (CASES_DIR,)) -> list[CaseResult]:
    """Load and run every case under the given paths."""
    runner = Runner()
    try:
        return [runner.run_case(c) for c in load_cases(list(paths))]
    finally:
        runner.close()
