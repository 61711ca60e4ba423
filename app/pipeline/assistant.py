"""ask(request): understand → plan → compile → guard → execute → explain; one Answer, built once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from app.core.answer import Answer, ChartSpec, Definition, Timings
from app.core.errors import (
    AssistantError,
    CompileError,
    ExecutionError,
    GuardError,
    QueryTimeout,
)
from app.core.plan import CannotAnswer, NeedsClarification, PlanResult, QueryPlan
from app.core.request import Request
from app.core.settings import Settings
from app.explain.headline import summing
from app.explain.prose import explain
from app.explain.why import Claim, Why, explain_why
from app.pipeline.answering import (
    answer_assumptions,
    failed,
    ms_since,
    refused,
    result_columns,
    row_cap_notices,
    total_notes,
    total_timings,
)
from app.pipeline.session import Session
from app.pipeline.unrecorded import check_recorded
from app.pipeline.verified import Verifier
from app.run.warehouse import Warehouse
from app.semantic.describe import filter_text, period_words, read_back
from app.semantic.model import SemanticModel
from app.sql.compile import AccountInfo, CompileContext, Compiled, compile_plan
from app.store import AppStore
from app.understand import SUGGESTIONS, EngineContext, lexicon_for, plan_question
from app.understand.readers import why_claim

_WATERFALL = ChartSpec(type="waterfall", x="step", y=["amount"])


class Assistant:
    """The question-answering pipeline over one session; safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        executor: Warehouse | None = None,
        *,
        store: AppStore | None = None,
    ) -> None:
        """Open a session on the warehouse (or on the given one); a store adds verified answers."""
        self.settings = settings
        self.session = Session(settings, executor)
        self.model: SemanticModel = self.session.model
        self.store = store
        self.verifier = Verifier(store, self.session) if store is not None else None

    def engine_context(
        self, info: AccountInfo, as_of: date, previous: QueryPlan | None = None
    ) -> EngineContext:
        """What the engine reads a question of this account with: lexicon, dates, time zone."""
        return EngineContext(
            model=self.model,
            lexicon=lexicon_for(self.model, self.session.data_values(info.id)),
            as_of=as_of,
            account=info.id,
            fiscal_year_start_month=self.settings.fiscal_year_start_month,
            previous=previous,
            timezone=info.timezone,
        )

    def ask(self, request: Request) -> Answer:
        """Answer one question for one account as of a date; never raises for bad input."""
        t0 = time.perf_counter()
        account = self.session.account(request)
        timings = Timings()
        base = {"question": request.question, "account": account, "as_of": request.as_of}
        if len(request.question) > self.settings.max_question_chars:
            ref = CannotAnswer(
                reason=f"The question is longer than {self.settings.max_question_chars} "
                "characters (the `max_question_chars` setting).",
                reason_class="too_long",
                suggestions=SUGGESTIONS[:3],
            )
            return refused(ref, base, total_timings(timings, t0))
        try:
            info = self.session.account_info(account)
            if info is None:
                ref = CannotAnswer(
                    reason=f"Unknown account {account}.", reason_class="other_tenant"
                )
                return refused(ref, base, total_timings(timings, t0))
            ectx = self.engine_context(info, request.as_of, request.previous)
            try:
                planned = plan_question(request.question, ectx)
            except ValidationError as err:  # a plan part out of range (e.g. top 5000)
                first = err.errors()[0] if err.errors() else {"msg": str(err)}
                planned = CannotAnswer(reason=f"I can't answer that as asked: {first['msg']}.")
            timings.understand_ms = ms_since(t0)
            if isinstance(planned, CannotAnswer):
                return refused(planned, base, total_timings(timings, t0))
            if isinstance(planned, NeedsClarification):
                return Answer(
                    status="clarify",
                    clarification=planned,
                    headline=planned.question,
                    suggestions=[c.question for c in planned.choices],
                    timings=total_timings(timings, t0),
                    **base,
                )
            currency = self._currency(request)
            answer = self._answer_plan(planned, info, currency, base, t0, timings, "engine")
            if self.verifier is None:
                return answer
            alone = replace(ectx, previous=None)  # a verified question is read on its own
            return self.verifier.mark(answer, request, account, lambda q: _replan(q, alone))
        except AssistantError as err:
            return Answer(
                status="error",
                error=str(err),
                headline="Something went wrong answering this.",
                timings=total_timings(timings, t0),
                **base,
            )

    def answer_plan(self, plan: QueryPlan, request: Request, *, backend: str = "engine") -> Answer:
        """Compile, guard, run and explain a ready QueryPlan (reporting pages and the agent)."""
        t0 = time.perf_counter()
        account = self.session.account(request)
        base: dict[str, Any] = {
            "question": request.question,
            "account": account,
            "as_of": request.as_of,
        }
        info = self.session.account_info(account)
        if info is None:
            ref = CannotAnswer(reason=f"Unknown account {account}.", reason_class="other_tenant")
            return refused(ref, base, total_timings(Timings(), t0))
        currency = self._currency(request)
        return self._answer_plan(plan, info, currency, base, t0, Timings(), backend)

    def _why(
        self, plan: QueryPlan, compiled: Compiled, rows: Sequence[Sequence[Any]], question: str
    ) -> Why | None:
        """A 'why' question's premise check and driver bridge: one period against the previous."""
        claim = why_claim(question)
        one = plan.comparison is not None and not plan.dimensions and plan.grain is None
        if claim is None or not one or len(rows) != 1 or compiled.period is None:
            return None
        if compiled.compared is None or plan.listing or plan.aggregate is not None:
            return None
        return explain_why(
            compiled.columns,
            rows[0],
            metric=plan.metrics[0],
            model=self.model,
            claim=Claim(*claim),
            period=compiled.period,
            compared=compiled.compared,
            converted=compiled.uses_rates,
        )

    def _rate_notices(self, compiled: Compiled, account: str) -> list[str]:
        """A notice when converted amounts reach past the last exchange rate in the data."""
        period = compiled.period
        if compiled.currency is None or period is None or not compiled.uses_rates:
            return []
        last = period.point or period.end - timedelta(days=1)
        rates_end = self.session.rates_end(account)
        if rates_end is None or last <= rates_end:
            return []
        return [
            f"Exchange rates in the data end on {rates_end - timedelta(days=1)}; amounts after "
            f"{rates_end} were converted with that last rate."
        ]

    def _currency(self, request: Request) -> str | None:
        """The reporting currency a plan without its own is answered in (None: the account's)."""
        currency = request.currency or self.settings.reporting_currency
        return currency.lower() if currency else None

    def _answer_plan(
        self,
        plan: QueryPlan,
        info: AccountInfo,
        currency: str | None,
        base: dict[str, Any],
        t0: float,
        timings: Timings,
        backend: str,
    ) -> Answer:
        t = time.perf_counter()
        base = {**base, "backend": backend}
        recorded = check_recorded(plan, self.session, info.id)
        if recorded.refusal is not None:
            return refused(recorded.refusal, {**base, "plan": plan}, total_timings(timings, t0))
        try:
            ctx = CompileContext(
                account=info,
                as_of=base["as_of"],
                model=self.model,
                currency=currency,
                rollups=self.session.candidate_rollups(info.id),
            )
            compiled = compile_plan(plan, ctx)
            if not self.session.rollups_fresh(info.id, compiled.expression):
                ctx = replace(ctx, rollups=self.session.fresh_rollups(info.id))
                compiled = compile_plan(plan, ctx)  # the facts for what a stale rollup held
        except CompileError as err:
            ref = CannotAnswer(
                reason=str(err), reason_class="out_of_scope", suggestions=SUGGESTIONS[:3]
            )
            return Answer(
                status="refused",
                refusal=ref,
                headline=str(err),
                plan=plan,
                timings=total_timings(timings, t0),
                **base,
            )
        timings.compile_ms = ms_since(t)
        t = time.perf_counter()
        try:
            guarded = self.session.guard(compiled.expression, info.id)
        except GuardError as err:
            return failed(
                "rejected", err, plan, "The generated query was rejected.", base, None, timings, t0
            )
        timings.guard_ms = ms_since(t)
        t = time.perf_counter()
        try:
            result = self.session.executor.run(guarded)
        except (QueryTimeout, ExecutionError) as err:
            return failed(
                "error", err, plan, "The query could not finish.", base, guarded.sql, timings, t0
            )
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
            statement=plan.statement is not None,
            rule=summing(plan, self.model),
            title=compiled.title,
            limit=compiled.row_limit,
            grain=plan.grain,
        )
        why = self._why(plan, compiled, result.rows, base["question"])
        if why is not None:  # the premise up front, then the driver bridge
            ex = replace(
                ex,
                headline=why.headline,
                explanation=why.explanation,
                numbers_verified=why.numbers_verified,
            )
        timings.explain_ms = ms_since(t)
        notes = [*compiled.notes, *total_notes(ex.total, compiled)]
        assumptions = answer_assumptions(
            plan, notes, compiled.period, compiled.currency, info, self.model
        )
        period = compiled.period
        when = period_words(period.start, period.end, period.label, period.point) if period else ""
        return Answer(
            status="answered",
            headline=ex.headline,
            value=ex.value,
            columns=result_columns(compiled.columns, result),
            rows=[list(r) for r in result.rows],
            truncated=result.truncated,
            total=ex.total,
            shares=ex.shares,
            notices=[
                *row_cap_notices(result),
                *recorded.notices,
                *self._rate_notices(compiled, info.id),
            ],
            chart=_WATERFALL if why is not None and why.bridge else compiled.chart,
            bridge=why.bridge if why is not None else [],
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
            filters=[filter_text(f, self.model) for f in plan.filters],
            assumptions=assumptions,
            explanation=ex.explanation if ex.numbers_verified else "",
            numbers_verified=ex.numbers_verified,
            freshness=self.session.freshness(info.id),
            timings=total_timings(timings, t0),
            read_back=read_back(plan, self.model, period=when, currency=compiled.currency),
            ignored=list(plan.ignored),
            **base,
        )


def _replan(question: str, ectx: EngineContext) -> PlanResult | None:
    """The engine's plan of a question (None when a plan part is out of range)."""
    try:
        return plan_question(question, ectx)
    except ValidationError:
        return None
