"""MRR event lists: the subscriptions (or customers) an MRR event happened to, with its MRR.

"Subscriptions that churned last month, with the customer and the MRR each one took with it",
"Which subscriptions started paying last month, and how much MRR did each add?", "Which trials
converted to paid last month? List the subscription, customer and the MRR it added": an entity
(subscriptions, trials, customers), an event of the MRR ledger said as a verb (churned, started
paying, converted, upgraded, downgraded) and the MRR it moved. The plan is that event's MRR
metric broken down by the entity (and its customer when asked), one row per entity and
currency: like a list, each row keeps its own currency. The MRR word is required: without it
the question is a list of objects, which the list reader answers.

The reader runs after the metric reader (whose "MRR" or "trials converted" it replaces) and
before the list, filter and breakdown readers, which then no longer see the words it used.
"""

from __future__ import annotations

import re

from app.core.plan import Filter
from app.understand.reading import EngineContext, Reading, amend, blank

# The event verbs of the MRR ledger, each with the flow metric that sums its MRR.
_EVENTS: tuple[tuple[str, str], ...] = (
    (
        r"converted(?:\s+from\s+(?:a\s+|their\s+|the\s+)?trials?)?"
        r"(?:\s+(?:in)?to\s+(?:a\s+)?(?:paid|paying)(?:\s+(?:plans?|subscriptions?))?)?",
        "trial_conversion_mrr",
    ),
    (
        r"(?:churned|cancell?ed|canceled|ended|stopped\s+paying|lapsed)",
        "churned_mrr",
    ),
    (r"(?:started|began|begun|start)\s+paying|started|became\s+paying", "new_mrr"),
    (r"upgraded|expanded", "expansion_mrr"),
    (r"downgraded|contracted", "contraction_mrr"),
)
_SUBSCRIPTION = r"subscriptions?|subs|trials?"
_CUSTOMER = r"customers?|clients?|subscribers?"
_LINK = r"(?:\s+(?:that|which|who))?(?:\s+(?:have|has|had|were|was|got|did))?"
_EVENT = re.compile(
    rf"\b(?P<entity>{_SUBSCRIPTION}|{_CUSTOMER})\b{_LINK}\s+(?P<event>"
    + "|".join(f"(?P<e{i}>{pattern})" for i, (pattern, _) in enumerate(_EVENTS))
    + r")\b",
    re.I,
)
_MRR = re.compile(r"\b(?:mrr|monthly\s+recurring\s+revenue)\b", re.I)
# What the MRR did for each row: "the MRR each one took with it", "how much MRR did each add".
_MOVED = (
    r"(?:(?:that|which)\s+)?(?:(?:each(?:\s+one)?|it|they|each\s+of\s+them)\s+)?"
    r"(?:took(?:\s+with\s+(?:it|them))?|added|adds|add|brought(?:\s+in)?|lost|removed|contributed"
    r"|gained|represented)"
)
_MRR_PHRASE = re.compile(
    rf"\bhow\s+much\s+(?:mrr|monthly\s+recurring\s+revenue)\s+(?:did|does|do)\s+"
    rf"(?:each(?:\s+one)?|it|they)\s+(?:add|bring(?:\s+in)?|lose|take|contribute)\b"
    rf"|\b(?:mrr|monthly\s+recurring\s+revenue)(?:\s+{_MOVED}\b)?",
    re.I,
)
# The entity's customer as a column: "with the customer", "for which customers", "customer".
_CUSTOMER_COLUMN = re.compile(
    rf"(?:\bfor\s+which\s+|\b(?:their|its)\s+)?\b(?:{_CUSTOMER})(?:\s+names?)?\b", re.I
)
# A count or a total of them ("how many subscriptions churned"), not a row per entity.
_TOTAL = re.compile(
    r"\b(?:how\s+many|number\s+of|count\s+of|in\s+total|total|altogether|combined|overall)\b"
    r"|\bhow\s+much\b(?!\s+(?:mrr|monthly\s+recurring\s+revenue)\s+(?:did|does|do)\s+"
    r"(?:each|it|they)\b)",
    re.I,
)
_ENTITY_AGAIN = re.compile(rf"\b(?:{_SUBSCRIPTION})(?:\s+ids?)?\b", re.I)


def read_mrr_event_list(r: Reading, ctx: EngineContext) -> Reading:
    """Read "subscriptions that churned, with the MRR each lost" as that MRR by subscription."""
    if r.listing or r.aggregate is not None or r.grain is not None:
        return r
    found = _EVENT.search(_readable(r))
    if found is None or not _MRR.search(r.text) or _TOTAL.search(r.text):
        return r
    if len(_kinds(_readable(r))) > 1:
        return r  # "customers that expanded or churned": their movements (below)
    metric = next(m for i, (_, m) in enumerate(_EVENTS) if found.group(f"e{i}"))
    if metric not in ctx.model.metrics:
        return r
    entity_word = found.group("entity").lower()
    customer_first = re.fullmatch(_CUSTOMER, entity_word) is not None
    dims = ["customer" if customer_first else "subscription"]
    spans = [found.span()]
    for m in _MRR_PHRASE.finditer(r.text):
        spans.append(m.span())
    if not customer_first:
        for m in _ENTITY_AGAIN.finditer(r.text, found.end()):
            spans.append(m.span())
        customer = [m for m in _CUSTOMER_COLUMN.finditer(r.text) if m.start() >= found.end()]
        if customer:
            dims.append("customer")
            spans += [m.span() for m in customer]
    masked = r.masked
    for start, end in spans:
        masked = blank(masked, start, end)
    return amend(
        r,
        metrics=(metric,),
        named_metric=True,
        dimensions=(*dims, *(d for d in r.dimensions if d not in dims), "currency"),
        masked=masked,
    )


def _readable(r: Reading) -> str:
    """The question with only the time phrases blanked (metric words are read again here)."""
    text = r.text
    for start, end in r.time.spans:
        text = blank(text, start, end)
    return text


# Each customer's MRR movement, classified: "which customers' MRR changed in December compared
# with November, and was each change new, expansion, contraction, churn or reactivation?"
_KINDS: tuple[tuple[str, str], ...] = (
    ("new", r"new"),
    ("expansion", r"expansions?|expanded|expanding"),
    ("contraction", r"contractions?|contracted|contracting"),
    ("churned", r"churn|churned|churns"),
    ("reactivation", r"reactivations?|reactivated"),
)
_KIND = re.compile(r"\b(?:" + "|".join(p for _, p in _KINDS) + r")\b", re.I)
_PER_CUSTOMER = re.compile(
    r"\b(?:which|each|every|per|by|for\s+each|for\s+every)\s+(?:of\s+(?:our|the)\s+)?"
    r"customers?\b|\bcustomers?['’]s?(?=\s)|\bcustomers?\s+whose\b",
    re.I,
)
_CLASSIFY = re.compile(
    r"\b(?:classif(?:y|ied|ication)|categori[sz]ed?|whether|was\s+(?:each|it|the)"
    r"(?:\s+(?:mrr\s+)?change)?|(?:mrr\s+)?movers?|moved|changed|change|changes)\b",
    re.I,
)
# The two amounts shown: "old and new MRR", "previous and current MRR".
_BOTH = re.compile(
    r"\b(?:old|previous|prior|starting|before)\s+(?:and|&|vs\.?|versus)\s+"
    r"(?:new|current|ending|after|month[- ]end)(?:\s+(?:mrr|monthly\s+recurring\s+revenue))?",
    re.I,
)
_OR = re.compile(r"(?<=[\s,])(?:or|and)(?=\s)", re.I)


def read_mrr_movement_list(r: Reading, ctx: EngineContext) -> Reading:
    """Read "which customers' MRR changed, and was each new, expansion, ..." as a movement list."""
    if r.listing or r.aggregate is not None or "mrr_movement" not in ctx.model.dimensions:
        return r
    text = _readable(r)
    kinds = _kinds(text)
    cue = _PER_CUSTOMER.search(text)
    classify = _CLASSIFY.search(text) is not None
    if cue is None or not _MRR.search(text) or len(kinds) < (3 if classify else 2):
        return r
    # Without a word asking to classify, the kinds said pick the customers ("which customers
    # expanded or churned"); with one, they are the classes ("was each new, expansion ...").
    picked = (
        () if classify or len(kinds) == len(_KINDS) else tuple(k for k, _ in _KINDS if k in kinds)
    )
    spans = [cue.span(), *(m.span() for m in _MRR_PHRASE.finditer(text))]
    for pattern in (_KIND, _CLASSIFY, _BOTH, _PER_CUSTOMER, _OR):
        spans += [m.span() for m in pattern.finditer(text)]
    masked = r.masked
    for start, end in spans:
        masked = blank(masked, start, end)
    others = tuple(d for d in r.dimensions if d not in ("customer", "currency"))
    return amend(
        r,
        metrics=("mrr",),
        named_metric=True,
        dimensions=("customer", *others, "mrr_movement", "currency"),
        comparison=None,  # each month is compared with the one before it by definition
        filters=(
            *r.filters,
            *([Filter(dimension="mrr_movement", op="in", values=picked)] if picked else []),
        ),
        masked=masked,
    )


def _kinds(text: str) -> set[str]:
    """The MRR movement kinds the text names (new, expansion, contraction, churned, ...)."""
    for both in _BOTH.finditer(text):  # "old and new MRR" names amounts, not a kind
        text = blank(text, both.start(), both.end())
    return {k for m in _KIND.finditer(text) for k, p in _KINDS if re.fullmatch(p, m[0], re.I)}
