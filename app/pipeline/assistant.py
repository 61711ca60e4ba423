"""ask(): understand → plan → compile → guard → execute → explain, and nothing else."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import ValidationError

from app.core.answer import Answer, Column, Definition, Timings
from app.core.errors import (
    AssistantError,
    CompileError,
    ExecutionError,
    GuardError,
    QueryTimeout,
)
from app.core.plan import Assumption, CannotAnswer, NeedsClarification, QueryPlan
from app.core.settings import Settings
from app.explain.prose import explain
from app.run.engines import open_warehouse
from app.run.warehouse import Result, Warehouse
from app.semantic.catalog import warehouse_tables
from app.semantic.model import SemanticModel, semantic_model
from app.sql.compile import AccountInfo, CompileContext, compile_plan
from app.sql.guard.checks import Guarded, Policy, check_sql
from app.understand import SUGGESTIONS, EngineContext, lexicon_for, plan_question


@dataclass
class Conversation:
    """One user's conversation: the previous plan that follow-ups edit, and the answers."""

    previous: QueryPlan | None = None
    answers: list[Answer] = field(default_factory=list)


class Assistant:
    """The question-answering pipeline over one warehouse; safe to share between threads."""

    def __init__(self, settings: Settings, executor: Warehouse | None = None) -> None:
        """Open (or reuse) the warehouse: read-only DuckDB, or Spark (the `engine` setting)."""
        self.settings = settings
        self.executor: Warehouse = executor or open_warehouse(settings)
        self.model: SemanticModel = semantic_model()
        self._accounts: dict[str, AccountInfo] = {}
        self._values: dict[str, dict[str, dict[str, str]]] = {}
        self._fresh: dict[str, datetime | None] = {}

    # ----------------------------------------------------------------- warehouse lookups
    def run_sql(self, sql: Any, account: str | None, max_rows: int | None = None) -> Result:
        """Guard then execute SQL for an account (the only path to DuckDB)."""
        guarded = self.guard(sql, account)
        return self.executor.run(guarded, max_rows=max_rows)

    def guard(self, sql: Any, account: str | None, read_dialect: str = "duckdb") -> Guarded:
        """Apply the guard with this assistant's limits."""
        policy = Policy(
            account=account,
            tables=warehouse_tables(),
            max_rows=self.settings.max_rows,
            read_dialect=read_dialect,
        )
        return check_sql(sql, policy)

    def account_info(self, account: str) -> AccountInfo | None:
        """Time zone, currency and name of an account (None when it does not exist)."""
        if account not in self._accounts:
            res = self.run_sql(
                "SELECT id, settings_dashboard_timezone, default_currency, business_profile_name "
                "FROM accounts",
                account,
            )
            if not res.rows:
                return None
            r = res.rows[0]
            self._accounts[account] = AccountInfo(
                id=str(r[0]), timezone=str(r[1]), currency=str(r[2]), name=str(r[3] or "")
            )
        return self._accounts[account]

    def freshness(self, account: str) -> datetime | None:
        """Latest loaded balance-transaction time of the account (the warehouse is read-only)."""
        if account not in self._fresh:
            self._fresh[account] = self.executor.freshness(account)
        return self._fresh[account]

    def data_values(self, account: str) -> dict[str, dict[str, str]]:
        """Plan and product names of the account, so the engine recognises them as filters."""
        if account not in self._values:
            plans = self.run_sql(
                "SELECT DISTINCT nickname FROM prices WHERE nickname IS NOT NULL", account
            )
            prods = self.run_sql(
                "SELECT DISTINCT name FROM products WHERE name IS NOT NULL", account
            )
            values: dict[str, dict[str, str]] = {"plan": {}, "product": {}}
            for (n,) in plans.rows:
                values["plan"][str(n).lower()] = str(n)
            for (n,) in prods.rows:
                values["product"][str(n).lower()] = str(n)
                values["product"][f"{str(n).lower()} plan"] = str(n)
            self._values[account] = values
        return self._values[account]

    # ----------------------------------------------------------------- the pipeline
    def ask(
        self,
        question: str,
        *,
        as_of: date,
        account: str | None = None,
        conversation: Conversation | None = None,
    ) -> Answer:
        """Answer one question for one account as of a date; never raises for bad input."""
        t0 = time.perf_counter()
        account = account or self.settings.default_account
        timings = Timings()
        base = {"question": question, "account": account, "as_of": as_of}
        if len(question) > self.settings.max_question_chars:
            ref = CannotAnswer(
                reason=f"The question is longer than {self.settings.max_question_chars} "
                "characters (the `max_question_chars` setting).",
                reason_class="too_long",
                suggestions=SUGGESTIONS[:3],
            )
            return self.finish(_refused(ref, base), t0, timings, conversation)
        try:
            info = self.account_info(account)
            if info is None:
                ref = CannotAnswer(
                    reason=f"Unknown account {account}.", reason_class="other_tenant"
                )
                return self.finish(_refused(ref, base), t0, timings, conversation)
            lex = lexicon_for(self.model, self.data_values(account))
            ectx = EngineContext(
                model=self.model,
                lexicon=lex,
                as_of=as_of,
                account=account,
                fiscal_year_start_month=self.settings.fiscal_year_start_month,
                previous=conversation.previous if conversation else None,
            )
            try:
                planned = plan_question(question, ectx)
            except ValidationError as err:  # a plan part out of range (e.g. top 5000)
                first = err.errors()[0] if err.errors() else {"msg": str(err)}
                planned = CannotAnswer(reason=f"I can't answer that as asked: {first['msg']}.")
            timings.understand_ms = ms_since(t0)
            if isinstance(planned, CannotAnswer):
                return self.finish(_refused(planned, base), t0, timings, conversation)
            if isinstance(planned, NeedsClarification):
                return self.finish(
                    Answer(
                        status="clarify",
                        clarification=planned,
                        headline=planned.question,
                        suggestions=[c.question for c in planned.choices],
                        **base,
                    ),
                    t0,
                    timings,
                    conversation,
                )
            return self._answer_plan(planned, info, as_of, base, t0, timings, conversation)
        except AssistantError as err:
            return self.finish(
                Answer(
                    status="error",
                    error=str(err),
                    headline="Something went wrong answering this.",
                    **base,
                ),
                t0,
                timings,
                conversation,
            )

    def answer_plan(
        self,
        plan: QueryPlan,
        *,
        as_of: date,
        account: str | None = None,
        question: str = "",
        conversation: Conversation | None = None,
        backend: str = "engine",
    ) -> Answer:
        """Compile, guard, run and explain a ready QueryPlan (reporting pages and the agent)."""
        t0 = time.perf_counter()
        account = account or self.settings.default_account
        base: dict[str, Any] = {"question": question, "account": account, "as_of": as_of}
        info = self.account_info(account)
        if info is None:
            ref = CannotAnswer(reason=f"Unknown account {account}.", reason_class="other_tenant")
            return self.finish(_refused(ref, base), t0, Timings(), conversation)
        answer = self._answer_plan(plan, info, as_of, base, t0, Timings(), conversation)
        answer.backend = backend
        return answer

    def _answer_plan(
        self,
        plan: QueryPlan,
        info: AccountInfo,
        as_of: date,
        base: dict[str, Any],
        t0: float,
        timings: Timings,
        conversation: Conversation | None,
    ) -> Answer:
        t = time.perf_counter()
        try:
            compiled = compile_plan(
                plan, CompileContext(account=info, as_of=as_of, model=self.model)
            )
        except CompileError as err:
            ref = CannotAnswer(
                reason=str(err), reason_class="out_of_scope", suggestions=SUGGESTIONS[:3]
            )
            return self.finish(
                Answer(status="refused", refusal=ref, headline=str(err), plan=plan, **base),
                t0,
                timings,
                conversation,
            )
        timings.compile_ms = ms_since(t)
        t = time.perf_counter()
        try:
            guarded = self.guard(compiled.expression, info.id)
        except GuardError as err:
            failed = _failed("rejected", err, plan, "The generated query was rejected.", base)
            return self.finish(failed, t0, timings, conversation)
        timings.guard_ms = ms_since(t)
        t = time.perf_counter()
        try:
            result = self.executor.run(guarded)
        except (QueryTimeout, ExecutionError) as err:
            failed = _failed("error", err, plan, "The query could not finish.", base)
            failed.sql = guarded.sql
            return self.finish(failed, t0, timings, conversation)
        timings.execute_ms = ms_since(t)
        t = time.perf_counter()
        labels = {m: self.model.metrics[m].label for m in plan.metrics}
        ex = explain(
            compiled.columns,
            result.rows,
            metric_labels=labels,
            period=compiled.period,
            truncated=result.truncated,
            listing=plan.listing is not None,
        )
        timings.explain_ms = ms_since(t)
        assumptions = _assumptions(
            plan, compiled.notes, compiled.period, compiled.currency, info, self.model
        )
        answer = Answer(
            status="answered",
            headline=ex.headline,
            value=ex.value,
            columns=_columns(compiled.columns, result),
            rows=[list(r) for r in result.rows],
            truncated=result.truncated,
            chart=compiled.chart,
            sql=guarded.sql,
            plan=plan,
            definitions=[
                Definition(
                    metric=m,
                    label=self.model.metrics[m].label,
                    definition=self.model.metrics[m].definition,
                )
                for m in plan.metrics
                if not plan.listing
            ],
            period=compiled.period,
            currency=compiled.currency,
            filters=[
                f"{f.dimension} {f.op} {', '.join(str(v) for v in f.values)}" for f in plan.filters
            ],
            assumptions=assumptions,
            explanation=ex.explanation if ex.numbers_verified else "",
            numbers_verified=ex.numbers_verified,
            backend="engine",
            freshness=self.freshness(info.id),
            **base,
        )
        if conversation is not None:
            conversation.previous = plan
        return self.finish(answer, t0, timings, conversation)

    def finish(
        self, answer: Answer, t0: float, timings: Timings, conversation: Conversation | None
    ) -> Answer:
        """Stamp the answer's timings, then remember it in the conversation."""
        timings.total_ms = ms_since(t0)
        answer.timings = timings
        return self.remember(answer, conversation)

    def remember(self, answer: Answer, conversation: Conversation | None) -> Answer:
        """Add the row-cap notice and keep the answer (only the newest turns are kept)."""
        if answer.truncated and not any("`max_rows`" in n for n in answer.notices):
            answer.notices.append(
                f"Showing {len(answer.rows):,} rows of more; the rest is cut by the `max_rows` "
                "setting."
            )
        if conversation is not None:
            conversation.answers.append(answer)
            del conversation.answers[: -self.settings.max_conversation_turns]  # oldest go first
        return answer


def _refused(refusal: CannotAnswer, base: dict[str, Any]) -> Answer:
    return Answer(
        status="refused",
        refusal=refusal,
        headline=refusal.reason,
        suggestions=list(refusal.suggestions),
        **base,
    )


def _failed(
    status: Literal["rejected", "error"],
    err: Exception,
    plan: QueryPlan,
    headline: str,
    base: dict[str, Any],
) -> Answer:
    return Answer(status=status, error=str(err), plan=plan, headline=headline, **base)


def _columns(cols: list[Column], result: Result) -> list[Column]:
    if [c.name for c in cols] == list(result.columns):
        return cols
    return [Column(name=n, kind="label") for n in result.columns]


def _assumptions(
    plan: QueryPlan,
    notes: list[Assumption],
    period: Any,
    currency: str | None,
    info: AccountInfo,
    model: SemanticModel,
) -> list[Assumption]:
    out: dict[str, Assumption] = {}
    for a in [*plan.assumptions, *notes]:
        out.setdefault(a.key, a)
    for m in plan.metrics if not plan.listing else ():
        out.setdefault(
            f"{m}_definition", Assumption(key=f"{m}_definition", text=model.metrics[m].definition)
        )
    if period is not None:
        out["period"] = Assumption(key="period", text=f"Period: {period.text}.")
    if currency and not plan.listing:
        money = any(
            model.metrics[m].unit == "money" or model.metrics[m].aggregation == "ratio"
            for m in plan.metrics
        )
        if money:
            out["reporting_currency"] = Assumption(
                key="reporting_currency",
                text=f"Amounts in {currency.upper()}; other currencies converted per day with the "
                "previous day's rate (exchange_rates_from_usd).",
            )
    elif not plan.listing:
        out["by_currency"] = Assumption(
            key="by_currency", text="Amounts kept in their original currencies."
        )
    return list(out.values())


def ms_since(t0: float) -> float:
    """Milliseconds since a perf_counter reading."""
    return round((time.perf_counter() - t0) * 1000, 3)


def ask(
    question: str,
    *,
    as_of: date,
    account: str | None = None,
    settings: Settings | None = None,
    conversation: Conversation | None = None,
) -> Answer:
    """Answer one question with a fresh assistant (convenience for scripts and tests)."""
    assistant = Assistant(settings or Settings())
    try:
        return assistant.ask(question, as_of=as_of, account=account, conversation=conversation)
    finally:
        assistant.executor.close()
