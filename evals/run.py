"""Run eval cases through the same ask() users call, on every pinned warehouse, and score them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.errors import AssistantError
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.router import Router
from app.semantic.model import SemanticModel
from app.sql.guard.checks import Guarded
from evals.cases import Case, InvalidCase, load_cases
from evals.compare import CaseError, Diff, Table
from evals.scorers import Score, Status, result_matches, run_scorers, status_for
from evals.warehouses import ensure_warehouse

CASES_DIR = Path(__file__).resolve().parent / "cases"
_RANK: dict[Status, int] = {"pass": 0, "missed": 1, "wrong": 2, "hallucinated": 3, "error": 4}

Ask = Callable[[str, date, str, Conversation], Answer]
"""One backend call: (question, as_of, account, conversation) → Answer."""
Backend = Callable[[Assistant], Ask]
"""Builds the ask function for one warehouse from the runner's assistant over it."""


def engine_backend(assistant: Assistant) -> Ask:
    """The deterministic engine behind the router, exactly what users call (never an LLM)."""
    router = Router(assistant.settings, assistant, engine_only=True)

    def ask(question: str, as_of: date, account: str, conversation: Conversation) -> Answer:
        return router.ask(
            Request(question, as_of=as_of, account=account, conversation=conversation)
        )

    return ask


class BackendFailure(Exception):
    """A backend could not answer for a reason with its own code (e.g. `stale_cassette`)."""

    def __init__(self, reason: str, detail: str) -> None:
        """Keep the reason code beside the message."""
        super().__init__(detail)
        self.reason = reason


class _ReferenceFailed(Exception):
    """The case's reference SQL did not run, or was empty where it must not be."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass
class CaseResult:
    """The verdict on one case across its warehouses (the worst warehouse wins)."""

    id: str
    status: Status
    reasons: list[str]
    detail: str = ""
    case: Case | None = None
    source: Path | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    matches: dict[str, Score] = field(default_factory=dict)
    latencies: dict[str, float] = field(default_factory=dict)
    reference_rows: dict[str, int] = field(default_factory=dict)
    first_diff: Diff | None = None
    error: str | None = None
    runs: list[Status] = field(default_factory=list)

    @property
    def answer(self) -> Answer | None:
        """The answer on the first warehouse the case ran on."""
        return next(iter(self.answers.values()), None)

    @property
    def latency_ms(self) -> float | None:
        """Wall time of the asked question (not its history) on the first warehouse."""
        return next(iter(self.latencies.values()), None)


def invalid_result(invalid: InvalidCase) -> CaseResult:
    """The result recorded for a case that could not be loaded: `error` / `invalid_case`."""
    return CaseResult(
        id=invalid.name,
        status="error",
        reasons=["invalid_case"],
        detail=invalid.message,
        source=invalid.file,
        error=invalid.message,
        runs=["error"],
    )


class Runner:
    """Holds one assistant per warehouse and scores cases against them (thread-safe)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        backend: Backend = engine_backend,
        warehouse: Path | None = None,
        semantic: SemanticModel | None = None,
        repeat: int = 1,
        only: str | None = None,
    ) -> None:
        """Prepare the pool; `warehouse` runs every case on that one file instead of its list.

        `only` names the one pinned warehouse a case runs on when its list has it (live runs).
        """
        self.settings = settings or Settings()
        self.backend = backend
        self.warehouse = warehouse
        self.semantic = semantic
        self.repeat = max(1, repeat)
        self.only = only
        self._assistants: dict[str, Assistant] = {}
        self._asks: dict[str, Ask] = {}
        self._results: dict[str, CaseResult] = {}
        self._guarded_sql: dict[tuple[str, str], Guarded] = {}
        self._lock = threading.Lock()

    def warehouses_for(self, case: Case) -> list[str]:
        """Names of the warehouses a case runs on in this runner."""
        if self.warehouse:
            return [self.warehouse.stem]
        if self.only in case.warehouses:
            return [self.only]
        return list(case.warehouses)

    def assistant(self, warehouse: str) -> Assistant:
        """The assistant for a warehouse name (built, with its warehouse, on first use)."""
        with self._lock:
            if warehouse not in self._assistants:
                path = self.warehouse if self.warehouse else ensure_warehouse(warehouse)
                s = self.settings.model_copy(update={"warehouse_path": path})
                assistant = Assistant(s)
                if self.semantic is not None:
                    assistant.model = self.semantic
                self._asks[warehouse] = self.backend(assistant)
                self._assistants[warehouse] = assistant
            return self._assistants[warehouse]

    @property
    def semantic_sha256(self) -> str:
        """Hash of the semantic model the assistants use."""
        from app.semantic.load import semantic_model

        return (self.semantic or semantic_model()).sha256

    def run_case(self, case: Case) -> CaseResult:
        """Run a case `repeat` times; the first run is the result, every run's status is kept."""
        runs = [self._run_once(case) for _ in range(self.repeat)]
        runs[0].runs = [r.status for r in runs]
        return runs[0]

    def result(self, case: Case) -> CaseResult:
        """The case's result, run once per runner and then remembered."""
        if case.name not in self._results:
            self._results[case.name] = self.run_case(case)
        return self._results[case.name]

    def run(
        self,
        cases: Sequence[Case],
        *,
        jobs: int = 1,
        progress: Callable[[CaseResult], None] | None = None,
    ) -> list[CaseResult]:
        """Run cases (in `jobs` threads), in the given order; remembered results are reused."""
        for name in sorted({w for c in cases for w in self.warehouses_for(c)}):
            self.assistant(name)  # build warehouses and connections before the threads start

        def one(case: Case) -> CaseResult:
            result = self.result(case)
            if progress is not None:
                progress(result)
            return result

        if jobs <= 1:
            return [one(c) for c in cases]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(one, cases))

    def _run_once(self, case: Case) -> CaseResult:
        result = CaseResult(id=case.name, status="pass", reasons=[], case=case, source=case.source)
        for wh in self.warehouses_for(case):
            try:
                status, reasons, detail = self._run_on(case, wh, result)
            except (_ReferenceFailed, BackendFailure) as exc:
                status, reasons, detail = "error", [exc.reason], str(exc)
            except CaseError as exc:
                status, reasons, detail = "error", ["invalid_case"], str(exc)
            except Exception as exc:  # one broken backend call must not abort a whole run
                status, reasons, detail = "error", ["backend_error"], f"{type(exc).__name__}: {exc}"
            if _RANK[status] > _RANK[result.status]:
                result.status, result.reasons = status, reasons
                result.detail = f"[{wh}] {detail}" if detail else f"[{wh}]"
                result.first_diff = result.matches[wh].diff if wh in result.matches else None
                result.error = detail if status == "error" else None
        return result

    def _guarded(self, assistant: Assistant, sql: str, account: str) -> Guarded:
        # The guard's verdict does not depend on the warehouse: check each reference once.
        key = (sql, account)
        if key not in self._guarded_sql:
            self._guarded_sql[key] = assistant.session.guard(sql, account)
        return self._guarded_sql[key]

    def _references(self, case: Case, wh: str, result: CaseResult) -> list[Table]:
        assistant = self.assistant(wh)
        assert case.expected.reference_sql is not None
        tables = []
        for number, sql in enumerate((case.expected.reference_sql, *case.expected.alternatives)):
            try:
                ref = assistant.session.executor.run(
                    self._guarded(assistant, sql, case.inputs.account)
                )
            except AssistantError as exc:
                which = "reference_sql" if number == 0 else f"alternatives[{number - 1}]"
                raise _ReferenceFailed("reference_error", f"{which} failed: {exc}") from exc
            tables.append(Table(ref.columns, ref.rows, ref.types))
        result.reference_rows[wh] = len(tables[0].rows)
        if wh == "demo" and not self.warehouse and not case.expected.empty and not tables[0].rows:
            detail = "the reference result is empty on demo; declare `empty: true` if intended"
            raise _ReferenceFailed("reference_empty", detail)
        return tables

    def _run_on(self, case: Case, wh: str, result: CaseResult) -> tuple[Status, list[str], str]:
        self.assistant(wh)
        ask, inputs = self._asks[wh], case.inputs
        answer_case = case.expected.outcome == "answer"
        references = self._references(case, wh, result) if answer_case else []
        conversation = Conversation()
        for turn in inputs.history:
            ask(turn, inputs.as_of, inputs.account, conversation)
        started = time.perf_counter()
        answer = ask(inputs.question, inputs.as_of, inputs.account, conversation)
        result.latencies[wh] = round((time.perf_counter() - started) * 1000, 3)
        result.answers[wh] = answer
        match = None
        if answer_case and answer.status == "answered":
            # Plan answers carry canonical column names, which must match (EVALS.md 5.4 rule 5).
            by_name = answer.plan is not None
            match = result_matches(case, answer, references, by_name=by_name)
            result.matches[wh] = match
        scores = run_scorers(case, answer)
        status, reasons = status_for(case, answer, match, scores)
        if status == "pass":
            return status, reasons, ""
        failing = [s for s in [match, *scores.values()] if s is not None and not s.ok]
        detail = failing[0].detail if failing else answer.error or answer.headline
        return status, reasons, detail

    def reference_rows(self, case: Case, wh: str = "demo") -> int:
        """Row count of a case's reference result (cases must be non-empty on demo)."""
        assert case.expected.reference_sql
        return len(
            self.assistant(wh)
            .session.run_sql(case.expected.reference_sql, case.inputs.account)
            .rows
        )

    def close(self) -> None:
        """Close every warehouse connection (remembered results stay; later runs reopen them)."""
        with self._lock:
            for a in self._assistants.values():
                a.session.close()
            self._assistants.clear()
            self._asks.clear()


def run_all(paths: Iterable[str | Path] = (CASES_DIR,)) -> list[CaseResult]:
    """Load and run every case under the given paths."""
    runner = Runner()
    try:
        return runner.run(load_cases(list(paths)))
    finally:
        runner.close()
