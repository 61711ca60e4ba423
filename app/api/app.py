"""The FastAPI app: start a conversation on one account, ask in it (JSON or SSE), read answers."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query
from fastapi import Request as HttpRequest
from fastapi.responses import Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api import problems
from app.api.auth import Authenticator
from app.api.embed import install_embed
from app.api.keys import Caller, KeyPolicy
from app.api.problems import ApiProblem
from app.api.rows import rows_csv, rows_json
from app.api.schemas import ConversationOut, NewConversation, NewMessage, Page, Problem
from app.api.stream import stream_answer
from app.api.tokens import EmbedVerifier
from app.core.answer import Answer, Step
from app.core.conversation import PageContext
from app.core.plan import QueryPlan, TimeRange
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.router import Router
from app.store import AppStore, ConversationSummary, StoreError

log = logging.getLogger(__name__)

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": Problem, "content": {problems.MEDIA_TYPE: {}}} for s in (401, 403, 404, 422, 429)
}
_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "model": Answer,
        "description": "The Answer; with `Accept: text/event-stream`, its steps as Server-Sent "
        "Events (planning, sql, guard, executing, rows, explanation; `step` for the LLM agent's "
        "own) and then one `answer` event whose `id` is the message number.",
        "content": {"text/event-stream": {}},
    }
}


_bearer = HTTPBearer(
    auto_error=False,
    description="An API key (`ledgerlens api-key`) or a signed embed token (`ledgerlens token`).",
)


def _caller(
    http: HttpRequest,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    api: Api = http.app.state.api
    return api.caller(credentials)


Who = Annotated["Caller", Depends(_caller)]


def wall_clock() -> datetime:
    """The time of a request, read here at the API edge and passed down as `at`."""
    return datetime.now(UTC)  # allowed-clock: API edge


class Api:
    """The state behind the routes: settings, the router, the app-state store and who asks."""

    def __init__(
        self,
        settings: Settings,
        router: Router,
        store: AppStore,
        auth: Authenticator,
        clock: Callable[[], datetime],
    ) -> None:
        """Keep what every route needs."""
        self.settings, self.router, self.store, self.auth, self.clock = (
            settings,
            router,
            store,
            auth,
            clock,
        )

    def caller(self, credentials: HTTPAuthorizationCredentials | None) -> Caller:
        """The caller a request's key or embed token stands for; with neither, the local user."""
        return self.auth.caller(credentials.credentials if credentials else None)

    def check_account(self, caller: Caller, account: str) -> None:
        """Refuse (403) an account outside the caller's scope, before saying whether it exists."""
        if not caller.may_read(account):
            log.info("refused: %s asked for an account outside its scope", caller.user)
            raise ApiProblem(403, f"{caller.noun} may not read account {account}.", "account-scope")

    def conversation(self, caller: Caller, conversation_id: str) -> ConversationSummary:
        """One of the caller's conversations, on an account they may still read."""
        try:
            found = self.store.conversation(conversation_id, user=caller.user)
        except StoreError:
            raise ApiProblem(
                404, f"No conversation {conversation_id}.", "unknown-conversation"
            ) from None
        self.check_account(caller, found.account)
        return found

    def answer_of(self, caller: Caller, conversation_id: str, n: int) -> Answer:
        """The answer to message `n` (1 = the first) of one of the caller's conversations."""
        self.conversation(caller, conversation_id)
        for turn in self.store.turns(conversation_id, user=caller.user):
            if turn.seq == n:
                return turn.answer
        raise ApiProblem(
            404, f"No message {n} in conversation {conversation_id}.", "unknown-message"
        )

    def request(self, caller: Caller, conv: ConversationSummary, message: NewMessage) -> Request:
        """The pipeline's request: the conversation's account, date and currency, never a body's."""
        as_of = conv.as_of or self._latest_date(conv.account)
        page = self._page(caller, message.page) if message.page is not None else None
        history = self.store.load_conversation(
            conv.id, user=caller.user, keep=self.settings.max_conversation_turns
        )
        request = Request(
            message.question,
            as_of=as_of,
            account=conv.account,
            currency=conv.currency,
            page=page,
            conversation=history,
        )
        if len(message.question) > self.settings.max_question_chars:  # the pipeline's own words
            refused = self.router.assistant.ask(Request(message.question, as_of, conv.account))
            raise ApiProblem(422, refused.headline, "question-too-long")
        return request

    def ask(
        self, conversation_id: str, request: Request, on_step: Callable[[Step], None] | None = None
    ) -> tuple[int, Answer]:
        """Answer through the router (guard, tenant scoping) and keep the turn; its number."""
        answer = self.router.ask(request, on_step)
        turn = self.store.record_turn(conversation_id, request, answer, at=self.clock())
        return turn.seq, answer

    def _latest_date(self, account: str) -> date:
        fresh = self.router.assistant.session.freshness(account)
        return fresh.date() if fresh else self.clock().date()

    def _page(self, caller: Caller, page: Page) -> PageContext:
        if caller.page is not None and page.name not in ("", caller.page):
            raise ApiProblem(
                403, f"{caller.noun} is for the page {caller.page!r}, not {page.name!r}.", "page"
            )
        model = self.router.assistant.model
        if page.metric not in model.metrics:
            known = ", ".join(sorted(model.metrics))
            raise ApiProblem(422, f"Unknown metric {page.metric!r}; known: {known}.", "page")
        if page.period is not None and page.period.end <= page.period.start:
            raise ApiProblem(422, "The page's period must end after it starts.", "page")
        time = TimeRange(start=page.period.start, end=page.period.end) if page.period else None
        plan = QueryPlan(metrics=(page.metric,), time=time, filters=tuple(page.filters))
        key = hashlib.sha256(page.model_dump_json().encode()).hexdigest()[:16]
        return PageContext(name=page.name or caller.page or "api", plan=plan, key=key)


def create_app(
    settings: Settings,
    *,
    router: Router | None = None,
    store: AppStore | None = None,
    keys: KeyPolicy | None = None,
    clock: Callable[[], datetime] = wall_clock,
) -> FastAPI:
    """The API over a router and store (opened from the settings unless given).

    Keys come from the `api_keys_path` setting unless given, embed tokens are checked with the
    `embed_secret` or `embed_public_key_path` setting; with neither, every request is the one
    local user (`ledgerlens serve` then binds only to loopback).
    """
    store = store or AppStore.open(settings)
    router = router or Router(settings, Assistant(settings, store=store))
    if keys is None and settings.api_keys_path is not None:
        keys = KeyPolicy.load(settings.api_keys_path)
    auth = Authenticator(settings, keys, EmbedVerifier.configured(settings), clock)
    api = Api(settings, router, store, auth, clock)
    app = FastAPI(
        title="Ledgerlens API",
        version="1",
        description="Ask finance questions about one merchant account; every query goes "
        "through the guard and is scoped to the conversation's account.",
    )
    problems.install(app)
    install_embed(app, settings)
    app.state.api = api

    @app.post("/v1/conversations", status_code=201, responses=_ERRORS)
    def start(body: NewConversation, who: Who) -> ConversationOut:
        """Start a conversation on one account; its account, date and currency never change."""
        account = body.account or who.only_account or settings.default_account
        api.check_account(who, account)
        if router.assistant.session.account_info(account) is None:
            raise ApiProblem(404, f"Unknown account {account}.", "unknown-account")
        currency = body.currency.lower() if body.currency else None
        cid = store.start_conversation(
            who.user, account, at=clock(), as_of=body.as_of, currency=currency
        )
        return ConversationOut(id=cid, account=account, as_of=body.as_of, currency=currency)

    @app.get("/v1/conversations/{conversation_id}", responses=_ERRORS)
    def show(conversation_id: str, who: Who) -> ConversationOut:
        """A conversation: its account, date, currency and how many messages it holds."""
        c = api.conversation(who, conversation_id)
        return ConversationOut(
            id=c.id, account=c.account, as_of=c.as_of, currency=c.currency, messages=c.turns
        )

    @app.post(
        "/v1/conversations/{conversation_id}/messages",
        responses={**_ERRORS, **_ANSWER},
        response_model=None,
    )
    def message(
        conversation_id: str,
        body: NewMessage,
        who: Who,
        accept: Annotated[str, Header()] = "application/json",
    ) -> Response:
        """Ask a question in a conversation: the Answer, or its steps streamed as SSE."""
        conv = api.conversation(who, conversation_id)
        request = api.request(who, conv, body)
        if "text/event-stream" in accept:
            events: Iterator[str] = stream_answer(
                lambda on_step: api.ask(conversation_id, request, on_step), conv.account
            )
            return StreamingResponse(
                events, media_type="text/event-stream", headers={"Cache-Control": "no-store"}
            )
        n, answer = api.ask(conversation_id, request)
        return Response(
            answer.model_dump_json(),
            media_type="application/json",
            headers={"Location": f"/v1/conversations/{conversation_id}/messages/{n}"},
        )

    @app.get(
        "/v1/conversations/{conversation_id}/messages/{n}",
        responses={**_ERRORS, 200: {"model": Answer}},
        response_model=None,
    )
    def answer(conversation_id: str, n: int, who: Who) -> Response:
        """The Answer to message `n` (1 = the first) of a conversation."""
        found = api.answer_of(who, conversation_id, n)
        return Response(found.model_dump_json(), media_type="application/json")

    @app.get(
        "/v1/conversations/{conversation_id}/messages/{n}/rows",
        responses={**_ERRORS, 200: {"content": {"text/csv": {}, "application/json": {}}}},
        response_model=None,
    )
    def rows(
        conversation_id: str,
        n: int,
        who: Who,
        format: Annotated[Literal["csv", "json"], Query()] = "json",
    ) -> Response:
        """The rows of message `n`'s answer, as CSV (a header line first) or JSON."""
        found = api.answer_of(who, conversation_id, n)
        if format == "csv":
            name = f"ledgerlens-{conversation_id[:8]}-{n}.csv"
            return Response(
                rows_csv(found),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(rows_json(found), media_type="application/json")

    return app
