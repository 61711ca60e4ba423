"""Share links: reproduce a shared question on current data and say whether the result changed."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.answer import Answer
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.pipeline.rawsql import answer_sql
from app.store import AppStore, Share, StoreError, answer_hash


@dataclass(frozen=True)
class Reproduced:
    """A share token's question answered again, and whether its result differs from the shared."""

    share: Share
    answer: Answer
    changed: bool


def open_share(assistant: Assistant, store: AppStore, token: str) -> Reproduced:
    """Rerun a shared question with its account, as-of date and currency on current data.

    The shared plan is run again (else its SQL, else its words); a notice on the answer says
    whether the result differs from the one shared.
    """
    share = store.shared(token)
    if share.as_of is None:
        raise StoreError(f"The shared answer {token!r} has no as-of date to reproduce.")
    request = Request(
        share.question, as_of=share.as_of, account=share.account, currency=share.currency
    )
    if share.plan is not None:
        answer = assistant.answer_plan(share.plan, request)
    elif share.sql is not None:
        answer = answer_sql(assistant.session, share.sql, request)
    else:
        answer = assistant.ask(request)
    changed = answer_hash(answer) != share.result_hash
    when = share.created.date().isoformat()
    if changed:
        note = (
            f"Shared by {share.user} on {when} and rerun on current data: the result has "
            "changed since it was shared."
        )
    else:
        note = f"Shared by {share.user} on {when}; rerun on current data, the result is unchanged."
    answer = answer.model_copy(update={"notices": [note, *answer.notices]})
    return Reproduced(share=share, answer=answer, changed=changed)
