"""Readers of the semantic model's words: ranking, metrics, lists, filter values, breakdowns."""

from __future__ import annotations

import re

from app.core.plan import Assumption, Choice, Filter, FilterOp, NeedsClarification
from app.semantic.model import SemanticModel
from app.understand.lexicon import WEAK_METRIC_WORDS, Hit
from app.understand.reading import Direction, EngineContext, Reading, amend, blank, blank_all

_TOP = re.compile(
    r"\b(?<!\bat\s)(?<!\bat\s\s)"  # "at least 2 cards" and "at most 3" count things: no ranking
    r"(?:(top|best|largest|biggest|highest|most)|(bottom|worst|smallest|lowest|least))"
    r"(?:\s+(\d{1,4}|one|two|three|five|ten|twenty))?\b",
    re.IGNORECASE,
)
_WHICH_N = re.compile(r"\bwhich\s+(\d{1,4})\b", re.IGNORECASE)
_SHOW_TOP = re.compile(r"\b(?:show|give|only)\s+(?:me\s+)?(?:the\s+)?top\s+(\d{1,4})\b", re.I)
RANKING_PATTERNS = (_TOP, _WHICH_N, _SHOW_TOP)  # what read_ranking blanks (lists read them again)
_WORD_NUM = {"one": 1, "two": 2, "three": 3, "five": 5, "ten": 10, "twenty": 20}
_BY = re.compile(
    r"\b(?:by|per|for\s+each|for\s+every|in\s+each|across|split\s+by|broken\s+down\s+by|"
    r"breakdown\s+by|grouped\s+by|group\s+by|which|and\s+(?:for\s+)?(?:each|every))\s+",
    re.IGNORECASE,
)
_CONVERT = re.compile(
    r"\b(reported|converted|convert|expressed|shown|translated)\s+"
    r"(in|to|into)\s+(us\s+)?$",
    re.I,
)
# "in <currency>" reports in it; after a word for the rows or how they were paid it filters.
_REPORT_IN = re.compile(r"\bin\s+(?:us\s+)?$", re.I)
_ROWS_IN = re.compile(
    r"\b(?:only|charges?|payments?|transactions?|refunds?|disputes?|invoices?|payouts?|"
    r"subscriptions?|customers?|pay|paid|paying|charged|billed|invoiced|priced|denominated|made)"
    r"\s+in\s+(?:us\s+)?$",
    re.I,
)
# Between two values of one list: "Visa and Mastercard", "DE, FR or ES".
_LIST_JOIN = re.compile(r"^\s*(?:,\s*)?(?:(?:and|or|nor|&)\s+)?$|^\s*,\s*$", re.I)
# Between two metrics of one enumeration: "gross volume, refunds and disputes" (a word needed).
_ENUMERATION = re.compile(r"^\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)$", re.I)
_ZONE_AFTER = re.compile(r"\s+time(?:\s+zone)?\b", re.I)
# "in our local time": the account's reporting time zone (lists leave it to read_filters)
LOCAL_TIME = re.compile(r"\b(?:in\s+)?(?:our\s+)?local\s+(?:time(?:\s+zone)?|dates?)\b", re.I)
_EXCLUDE = re.compile(r"\b(excluding|except|exclude|without|other\s+than|not)\s+$", re.I)


def read_ranking(r: Reading, ctx: EngineContext) -> Reading:
    """Read "top 10", "worst 3", "which 5": how many to rank and in which direction."""
    n: int | None = None
    direction: Direction = "top"
    if (t := _TOP.search(r.masked)) is not None:
        direction = "bottom" if t.group(2) else "top"
        word = t.group(3)
        count = int(_WORD_NUM.get(word.lower(), word)) if word else 0
        n = count or (10 if (t.group(1) or "").lower() == "top" else 1)
    if (w := _WHICH_N.search(r.masked)) is not None:
        n = int(w.group(1))
    if (s := _SHOW_TOP.search(r.masked)) is not None:
        n = int(s.group(1))
    if n is None:
        return r
    masked = blank_all(blank_all(blank_all(r.masked, _TOP), _WHICH_N), _SHOW_TOP)
    return amend(r, ranking_n=n, direction=direction, masked=masked)


def read_metrics(r: Reading, ctx: EngineContext) -> Reading:
    """Read the metrics; an ambiguous word gets its default (an assumption) or a clarification."""
    model, text = ctx.model, r.text
    hits = _outside_dimension_words(ctx.lexicon.metrics(r.masked), r.masked, ctx)
    strong = [h for h in hits if h.kind == "metric" and h.phrase not in WEAK_METRIC_WORDS]
    weak = [h for h in hits if h.kind == "metric" and h.phrase in WEAK_METRIC_WORDS]
    elsewhere = ctx.lexicon.senses_elsewhere(r.masked)  # "payments made": created, not earned
    ambiguous = [h for h in hits if h.kind == "ambiguous"]
    metrics: list[str] = []
    notes: list[Assumption] = []
    clarify: NeedsClarification | None = None
    chosen = strong
    if not chosen and ambiguous:
        word = ambiguous[0]
        amb = model.ambiguous[int(word.name)]
        if amb.clarify:
            clarify = NeedsClarification(
                question=amb.question or f"Which {word.phrase} do you mean?",
                choices=tuple(
                    Choice(label=model.metrics[a].label, question=_swap(text, word, a, model))
                    for a in amb.alternatives
                ),
            )
        else:
            assert amb.default
            metrics.append(amb.default)
            alts = ", ".join(model.metrics[a].label for a in amb.alternatives)
            key = f"default_{word.phrase.replace(' ', '_')}"
            notes.append(Assumption(key=key, text=f"{amb.note}. Alternatives: {alts}."))
    if not chosen and not metrics and weak and clarify is None:
        chosen = weak[:1]
    chosen = _enumerated(chosen, weak, text)
    for h in chosen:
        if h.name not in metrics:
            metrics.append(h.name)
    masked = r.masked
    for start, end in [*((h.start, h.end) for h in [*chosen, *ambiguous]), *elsewhere]:
        masked = blank(masked, start, end)
    return amend(
        r,
        masked=masked,
        metrics=tuple(metrics),
        named_metric=bool(strong) or bool(ambiguous and metrics),
        clarify=clarify,
        assumptions=(*r.assumptions, *notes),
    )


def _outside_dimension_words(hits: list[Hit], masked: str, ctx: EngineContext) -> list[Hit]:
    """The hits not inside a longer dimension phrase: "VAT number" names no VAT collected."""
    spans = [(h.start, h.end) for h, _ in ctx.lexicon.dimensions(masked)]
    return [
        h
        for h in hits
        if not any(s <= h.start and h.end <= e and e - s > h.end - h.start for s, e in spans)
    ]


def _enumerated(chosen: list[Hit], weak: list[Hit], text: str) -> list[Hit]:
    """Add weak metric words listed with a chosen one ("gross volume, refunds and disputes")."""
    out = list(chosen)
    added = True
    while added and out:
        added = False
        for h in weak:
            if h in out:
                continue
            if any(_ENUMERATION.match(_between(h, o, text)) for o in out):
                out.append(h)
                added = True
    return sorted(out, key=lambda h: h.start)


def _between(a: Hit, b: Hit, text: str) -> str:
    first, second = (a, b) if a.start < b.start else (b, a)
    return text[first.end : second.start]


_HOW_MUCH_DID_WE = re.compile(
    r"^\s*how\s+much\s+(?:did|do|have|has)\s+(?:we|i|our\s+\w+)\s+$", re.I
)


def _swap(text: str, hit: Hit, metric: str, model: SemanticModel) -> str:
    """The question with the ambiguous word replaced by one metric's name.

    "How much did we make last month" becomes "What was gross volume last month".
    """
    label = model.metrics[metric].label.lower()
    if _HOW_MUCH_DID_WE.match(text[: hit.start]):
        return f"What was {label}{text[hit.end :]}"
    for lead in ("how many ", "number of "):
        if hit.phrase.startswith(lead):  # "how many transactions" → "how many successful charges"
            label = f"{text[hit.start : hit.start + len(lead)]}{label}"
    return text[: hit.start] + label + text[hit.end :]


def read_filters(r: Reading, ctx: EngineContext) -> Reading:
    """Read filter values ("in Germany", "excluding EUR"), the currency and implied filters."""
    model, masked = ctx.model, r.masked
    filters: list[Filter] = list(r.filters)  # an earlier reader's (MRR movement kinds)
    used: list[tuple[int, int]] = []  # spans of the values read, blanked at the end
    notes: list[Assumption] = []
    clarify: NeedsClarification | None = None
    listed: dict[str, tuple[int, FilterOp]] = {}  # dimension → (end of its last value, its op)
    currency = None
    tables = {model.metrics[m].table for m in r.metrics if model.metrics[m].table}
    # A value word inside a dimension's name is not a filter ("card" in "card brand").
    names = [(h.start, h.end) for h, _ in ctx.lexicon.dimensions(masked)]
    hits = ctx.lexicon.values(masked)
    currencies = [h.start for h, cands in hits if any(d == "currency" for d, _ in cands)]
    for hit, cands in hits:
        inside = ((s, e) for s, e in names if (s, e) != (hit.start, hit.end))
        if any(s <= hit.start and hit.end <= e for s, e in inside):
            continue
        if (zone := _ZONE_AFTER.match(masked, hit.end)) is not None:
            # "in New York time" names a time zone, not a filter on New York
            if _zone_city(ctx.timezone) == hit.phrase:
                used.append((hit.start, zone.end()))
                notes.append(Assumption(key="local_time", text=f"Dates are in {ctx.timezone}."))
            else:
                clarify = _other_zone(r.text, hit.start, zone.end(), ctx.timezone)
            continue
        dim, value = _pick_value(cands, tables, model)
        if dim is None or _pays_in(masked, hit.start, currencies, dim, tables, model):
            continue
        used.append((hit.start, hit.end))
        before = masked[max(0, hit.start - 25) : hit.start]
        excluded = _EXCLUDE.search(before)
        op: FilterOp = "neq" if excluded else "eq"
        if excluded:
            offset = max(0, hit.start - 25)
            used.append((offset + excluded.start(), offset + excluded.end()))
        last = listed.get(dim)
        if last is not None and _LIST_JOIN.match(masked[last[0] : hit.start]):
            op = last[1]  # "excluding Visa and Mastercard": the list keeps its first word's sense
        listed[dim] = (hit.end, op)
        if dim == "currency":
            currency = value if op == "eq" else currency
            following = next((c for c in currencies if c > hit.start), None)
            reports, words = _reports_in(r.text, hit.start, hit.end, following)
            used += [words] if words else []
            if reports:
                continue  # "reported in EUR", "MRR in USD": a reporting currency, not a filter
        several: FilterOp = "in" if op == "eq" else "not_in"
        existing = next((f for f in filters if f.dimension == dim and f.op in (op, several)), None)
        if existing:
            filters.remove(existing)
            values = (*existing.values, value)
            filters.append(Filter(dimension=dim, op=several, values=values))
        else:
            filters.append(Filter(dimension=dim, op=op, values=(value,)))
    implied: dict[str, list[str]] = {}
    for name in r.metrics:
        for f in model.metrics[name].implied_filters:
            if any(x.dimension == f.dimension for x in filters):
                continue
            for w in f.words:
                if (m := re.search(rf"\b{re.escape(w)}\b", r.text, re.I)) is not None:
                    implied.setdefault(f.dimension, []).extend(f.values)
                    used.append(m.span())
                    break
    filters += [Filter(dimension=d, values=tuple(dict.fromkeys(v))) for d, v in implied.items()]
    if (local := LOCAL_TIME.search(masked)) is not None:
        used.append(local.span())  # "in our local time": the account's reporting time zone
        notes.append(Assumption(key="local_time", text=f"Dates are in {ctx.timezone}."))
    for start, end in used:
        masked = blank(masked, start, end)
    return amend(
        r,
        filters=tuple(filters),
        currency=currency,
        masked=masked,
        assumptions=(*r.assumptions, *notes[:1]),
        clarify=r.clarify or clarify,
    )


def _pays_in(
    masked: str,
    start: int,
    currencies: list[int],
    dim: str,
    tables: set[str | None],
    model: SemanticModel,
) -> bool:
    """Whether a value word of another table says how the rows were paid ("volume paid in CAD").

    "Paid" there is the verb before a currency (read with the currency), not the invoice status;
    on the metric's own table ("invoices paid in EUR") it stays a filter.
    """
    following = next((c for c in currencies if c > start), None)
    if following is None or not _ROWS_IN.match(masked, start, following):
        return False
    return model.dimensions[dim].table not in tables


def _reports_in(
    text: str, start: int, end: int, following: int | None
) -> tuple[bool, tuple[int, int] | None]:
    """Whether the currency word at [start, end) is the currency to report in, not a filter.

    The rule: "reported/converted/shown in <currency>" and "in <currency>" after the measure or
    the period report in it, every amount converted with the dated rates ("gross volume in EUR",
    "MRR at each month end in 2025 in USD", the follow-up "in US dollars?"). It is a filter after
    a word for the rows or how they were paid ("charges in EUR", "paid in CAD", "only in GBP"),
    in a list of currencies ("in EUR and GBP"), and without "in" ("EUR charges", "excluding GBP").
    Also returns the span of the words read before the currency ("paid in", "reported in").
    """
    offset = max(0, start - 30)
    near = text[offset:start]
    words = _CONVERT.search(near) or _ROWS_IN.search(near) or _REPORT_IN.search(near)
    span = (offset + words.start(), offset + words.end()) if words else None
    if _CONVERT.search(near):
        return True, span
    if following is not None and _LIST_JOIN.match(text[end:following]):
        return False, span
    return bool(_REPORT_IN.search(near)) and not _ROWS_IN.search(near), span


def _zone_city(timezone: str) -> str:
    """The city an IANA zone is named after, as people write it ("America/New_York" → new york)."""
    return timezone.rsplit("/", 1)[-1].replace("_", " ").lower()


def _other_zone(text: str, start: int, end: int, timezone: str) -> NeedsClarification:
    """Ask before answering in another zone than the account's: periods are cut in the account's."""
    without = " ".join((text[:start].rstrip().removesuffix(" in") + " " + text[end:]).split())
    return NeedsClarification(
        question=f"Periods are cut in the account's time zone, {timezone}; answer in that zone?",
        choices=(Choice(label=f"In {timezone}", question=without),),
    )


def _pick_value(
    cands: tuple[tuple[str, str], ...], tables: set[str | None], model: SemanticModel
) -> tuple[str | None, str]:
    """Prefer the dimension on the metric's own table (tax country for tax metrics)."""
    reachable = []
    for dim, value in cands:
        d = model.dimensions[dim]
        if d.table == "*":
            reachable.append((0, dim, value))
            continue
        for t in tables:
            if t == d.table:
                reachable.append((0, dim, value))
            elif t and model.join_path(t, d.table) is not None:
                reachable.append((1, dim, value))
    if not reachable and cands:
        return cands[0]
    if not reachable:
        return None, ""
    reachable.sort()
    return reachable[0][1], reachable[0][2]


def _namesake(
    word: str, dim: str | None, tables: set[str | None], model: SemanticModel
) -> str | None:
    """The metric's own table's dimension a bare word names, when its own is on another table.

    "Refunds by reason" is the refund reason, not the disputes' reason.
    """
    if dim is None or not tables or model.dimensions[dim].table in (*tables, "*"):
        return None
    bare = word.lower().removesuffix("s")
    for d in model.dimensions.values():
        if d.table in tables and any(s.split()[-1].removesuffix("s") == bare for s in d.synonyms):
            return d.name
    return None


# Between two breakdowns of one list: "by product, plan and country".
_CHAIN = re.compile(r"^\s*(?:,\s*)?(?:(?:and|&)\s+)?$", re.I)


def read_dimensions(r: Reading, ctx: EngineContext) -> Reading:
    """Read the breakdowns: dimension words after "by", "per", "top N", or "and" after one."""
    model, masked = ctx.model, r.masked
    dims: list[str] = list(r.dimensions)  # an earlier reader's (an MRR event list's rows)
    tables = {model.metrics[m].table for m in r.metrics if model.metrics[m].table}
    markers = [m.end() for m in _BY.finditer(masked)]
    top = [m.end() for m in _TOP.finditer(r.text)] + [m.end() for m in _WHICH_N.finditer(r.text)]
    used: list[tuple[int, int]] = []
    for hit, cands in ctx.lexicon.dimensions(masked):
        near = any(0 <= hit.start - p <= 12 for p in markers + top)
        after_and = bool(re.search(r"\band\s+$", masked[max(0, hit.start - 6) : hit.start]))
        chained = bool(used) and bool(_CHAIN.match(masked[used[-1][1] : hit.start]))
        if not (near or (after_and and chained)):
            continue
        dim, _ = _pick_value(tuple((c, "") for c in cands), tables, model)
        dim = _namesake(hit.phrase, dim, tables, model) or dim
        if dim and dim not in dims:
            dims.append(dim)
        if dim:
            used.append((hit.start, hit.end))
    for start, end in used:
        masked = blank(masked, start, end)
    if dims and r.time.grain_implied and r.grain == r.time.grain:
        # "over the last 14 days, by outcome": a breakdown asked for, no daily series
        note = Assumption(
            key="time_reading",
            text=f"One total per {model.dimensions[dims[0]].label.lower()} "
            "for the whole period, not a series.",
        )
        assumptions = (*r.assumptions, note)
        return amend(r, dimensions=tuple(dims), masked=masked, grain=None, assumptions=assumptions)
    return amend(r, dimensions=tuple(dims), masked=masked)
