"""Account for every word of a question: what the readers left unread, and whether it matters.

Each reader blanks what it used out of ``Reading.masked``; this last reader looks at what is left.
A leftover word is one of:

- ``typo``: close to a word of the semantic model or of time ("plna" → plan, "quater" → quarter);
- ``meaning``: a word that would change the number if it were read: an aggregation (median,
  average), a share, a grouping (weekday, buckets), a word of the model the plan does not use, a
  time word the time reader could not place, an id; or an unknown word that stands where meaning
  goes: right after "by", "per", "in", "via"…, just before a word that was read ("Apple Pay
  charges"), asking something of one ("additions to deferred revenue"), or in a list of columns
  after "with", "(", ":" or a dash;
- ``ignored``: anything else (the answer names it).

The engine answers only when no leftover is a typo or changes the meaning; otherwise it asks
("did you mean …?") or refuses with what it can answer, so it never answers a different question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.plan import Assumption
from app.semantic.model import SemanticModel
from app.understand.lexicon import WEAK_METRIC_WORDS, Lexicon
from app.understand.reading import EngineContext, Leftover, Reading, amend, blank_all
from app.understand.typos import typo, vocabulary
from app.understand.words import BEFORE_FILTER, FUNCTION_WORDS, MEANING_WORDS, TIME_WORDS

_COMBINED = re.compile(
    r"\ball\s+(?!others?\b)(\w+\s+){0,2}(combined|together|in\s+one\s+total|into\s+one\s+total)",
    re.I,
)
# Phrases no reader takes whose meaning changes the answer (each is reported, so not answered):
# a group of "all the others" beside named values, and statements the model does not hold.
_UNREAD_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?:\band|\bor|,)\s+(?:all\s+)?(?:the\s+)?(?:(?:other|remaining)\b(?:\s+\w+)?"
            r"|others\b|the\s+rest\b|everything\s+else\b|everyone\s+else\b)",
            re.I,
        ),
        "a group of all the other values beside the ones named",
    ),
    (
        re.compile(
            r"\bP\s*&\s*L\b|\bprofit\s+(?:and|&)\s+loss\b|\bincome\s+statements?\b"
            r"|\bbalance\s+sheets?\b|\bcash\s+flow\s+statements?\b",
            re.I,
        ),
        "a financial statement, which the semantic model does not hold",
    ),
    (
        re.compile(
            r"\b(?:of\s+)?all[\s-]+time\b|\blife[\s-]?time\b|\bsince\s+(?:inception|day\s+one"
            r"|the\s+(?:very\s+)?(?:start|beginning)(?!\s+of))\b",
            re.I,
        ),
        "a period from the first day of data, which I can't set: name the years instead",
    ),
)
# "each of our subscriptions", "per customer": a grouping, even by the things the metric counts.
_GROUP_BEFORE = re.compile(
    r"\b(?:each|every|per|by)\s+(?:(?:one\s+)?of\s+)?(?:(?:our|the|my|their|its)\s+)?$", re.I
)
_AVERAGE = frozenset({"average", "avg", "mean"})
_AVERAGE_RATE = Assumption(
    key="average_rate",
    text="'Average' rate read as the rate over the whole period (total over total), not an "
    "average of daily or monthly rates.",
)
_HEAD_OF = re.compile(r"\s+(?:of|to|on|for)\s+(?:(?:the|our|its|their|all)\s+)?([A-Za-z]\w*)", re.I)
_LAST_WORD = re.compile(r"([A-Za-z][\w'’]*)[^A-Za-z]*$")
_TOKEN = re.compile(r"[A-Za-z][\w'’]*")
_WORDISH = re.compile(r"[\w'’]")
_NUMBER = re.compile(r"(?<![\w.,$€£¥/-])\d[\d,.]*(?![\w/-])")
_ID = re.compile(r"^[a-z]+_\w+$")
_OWN_ACCOUNT = re.compile(r"^acct_\w+$")  # screened before reading: only the asking account
# After these, the words name columns or measures: "with X", "(X, Y)", "— X, Y", ": X, Y".
_TAIL = re.compile(r"\b(with|including|plus|along\s+with)\b|[(:—–]|\s-\s", re.I)


def read_leftovers(r: Reading, ctx: EngineContext) -> Reading:
    """Classify every content word left in ``masked`` (the last reader)."""
    tables: set[str] | None = None  # the plan's tables, looked up at the first content word
    masked = blank_all(r.masked, _COMBINED)  # "all currencies combined": no breakdown, said twice
    out: list[Leftover] = []
    notes: list[Assumption] = []
    tail = _TAIL.search(r.text)
    tail_at = tail.start() if tail else len(r.text)  # words after it name columns or measures
    for m in _TOKEN.finditer(masked):
        raw = m.group(0)
        word = raw.lower().replace("’", "'").removesuffix("'s").strip("'")
        if not word or word in FUNCTION_WORDS or len(word) == 1 or _OWN_ACCOUNT.match(word):
            continue
        if tables is None:
            tables = _own_tables(r, ctx)
        if _entity_table(word, ctx) in tables and not _GROUP_BEFORE.search(r.text, 0, m.start()):
            continue  # "German customers", "card payments": names what the metric counts
        if word in _AVERAGE and _rates_only(r, ctx) and _next_is_used(r.text, masked, m.end()):
            notes.append(_AVERAGE_RATE)  # "average refund rate": a rate is already an average
            continue
        spot = _Spot(
            before=_word_before(r.text, m.start()),
            modifies=_next_is_used(r.text, masked, m.end()),
            in_tail=tail_at < m.start(),
            heads=_heads_used(r.text, masked, m.end()),
        )
        out.append(_classify(raw, word, m.start(), m.end(), spot, ctx.lexicon))
    for n in _NUMBER.finditer(masked):  # "with more than 3 subscriptions": a count nobody read
        out.append(Leftover(n.group(0), n.start(), n.end(), "meaning", "a number I could not use"))
    for pattern, why in _UNREAD_PHRASES:
        for p in pattern.finditer(masked):
            out = [lo for lo in out if not p.start() <= lo.start < p.end()]  # said once, whole
            out.append(Leftover(p.group(0).strip(" ,"), p.start(), p.end(), "meaning", why))
    out.sort(key=lambda lo: lo.start)
    return amend(r, leftovers=tuple(out), assumptions=(*r.assumptions, *notes[:1]))


def _rates_only(r: Reading, ctx: EngineContext) -> bool:
    return bool(r.metrics) and all(ctx.model.metrics[m].aggregation == "ratio" for m in r.metrics)


@dataclass(frozen=True)
class _Spot:
    """Where an unread word stands: the word before it, and what follows it."""

    before: str
    modifies: bool  # the next word was read (a metric, entity or value): this one qualifies it
    in_tail: bool  # after "with"/"including": a column or measure asked for
    heads: bool = False  # "additions to deferred revenue": asks something of a word that was read


def _classify(
    raw: str,
    word: str,
    start: int,
    end: int,
    spot: _Spot,
    lexicon: Lexicon,
) -> Leftover:
    if word in MEANING_WORDS:
        return Leftover(raw, start, end, "meaning", MEANING_WORDS[word])
    if word in TIME_WORDS:
        return Leftover(raw, start, end, "meaning", "part of a time phrase I could not read")
    if _known(word, lexicon):
        return Leftover(raw, start, end, "meaning", "a word I know but could not use here")
    fix = typo(word, vocabulary(lexicon))
    if fix is not None:
        return Leftover(raw, start, end, "typo", f"did you mean {fix}?", suggestion=fix)
    if _ID.match(word):
        return Leftover(raw, start, end, "meaning", "an id I can't filter by")
    if spot.before in BEFORE_FILTER:
        return Leftover(raw, start, end, "meaning", f"a filter or grouping after '{spot.before}'")
    if spot.modifies:
        return Leftover(raw, start, end, "meaning", "a qualifier I can't apply")
    if spot.heads and not word.endswith(("ed", "ing")):  # "applied on each invoice": a verb
        return Leftover(raw, start, end, "meaning", "what is asked of a word that was read")
    if spot.in_tail:
        return Leftover(raw, start, end, "meaning", "a column or measure I can't add")
    return Leftover(raw, start, end, "ignored")


def _heads_used(text: str, masked: str, end: int) -> bool:
    """Whether "of/to/on/for [the/our] <a word that was read>" follows ("additions to revenue")."""
    m = _HEAD_OF.match(text, end)
    if m is None or m.group(1).lower() in TIME_WORDS:
        return False  # "the whole of last quarter": a period, not a measure
    return not masked[m.start(1) : m.end(1)].strip()


def _next_is_used(text: str, masked: str, end: int) -> bool:
    """Whether the next word of the question was read by a reader (blank in ``masked``)."""
    m = _TOKEN.search(text, end)
    if m is None or text[end : m.start()].strip(" "):
        return False  # punctuation in between: not a modifier
    word = m.group(0).lower()
    return not masked[m.start() : m.end()].strip() and word not in FUNCTION_WORDS


def _own_tables(r: Reading, ctx: EngineContext) -> set[str]:
    """The tables the plan measures or lists, and the tables they reach without fan-out."""
    model = ctx.model
    names = set(r.metrics)
    for m in r.metrics:  # a ratio measures its numerator's and denominator's tables
        names.update(x for x in (model.metrics[m].numerator, model.metrics[m].denominator) if x)
    own = {model.metrics[m].table for m in names if m in model.metrics and model.metrics[m].table}
    if r.listing and r.listing in model.lists:
        own.add(model.lists[r.listing].table)
    return set().union(*(_reached(model, t) for t in own if t))


_REACHED: dict[tuple[str, str], frozenset[str]] = {}


def _reached(model: SemanticModel, table: str) -> frozenset[str]:
    """The table and every table it reaches through many-to-one joins (cached per model)."""
    key = (model.sha256, table)
    if key not in _REACHED:
        every = {j.to for j in model.joins} | {j.from_ for j in model.joins}
        _REACHED[key] = frozenset(
            {table, *(t for t in every if model.join_path(table, t) is not None)}
        )
    return _REACHED[key]


def _entity_table(word: str, ctx: EngineContext) -> str | None:
    """The table a weak metric word or entity word names ("customers", "payments")."""
    lex, model = ctx.lexicon, ctx.model
    if any(j.to == word or j.from_ == word for j in model.joins):
        return word  # "customers", "invoices": a table's own name
    if word in lex.list_words:
        return model.lists[lex.list_words[word]].table
    if word in WEAK_METRIC_WORDS or (word + "s") in WEAK_METRIC_WORDS:
        name = lex.metric_words.get(word) or lex.metric_words.get(word + "s")
        if name is not None:
            return model.metrics[name].table
    return None


def _word_before(text: str, start: int) -> str:
    """The last word before ``start`` (lower case), or ""."""
    i = start  # the search starts where the run of word characters holding the last letter starts
    while i > 0 and not _is_letter(text[i - 1]):
        i -= 1
    while i > 0 and _WORDISH.match(text[i - 1]):
        i -= 1
    m = _LAST_WORD.search(text, i, start)
    return m.group(1).lower() if m else ""


def _is_letter(c: str) -> bool:
    return c.isascii() and c.isalpha()


def _known(word: str, lexicon: Lexicon) -> bool:
    """Whether the word alone (or its singular/plural) is a word of the model."""
    return any(_known_form(w, lexicon) for w in (word, word + "s", word.removesuffix("s")))


def _known_form(word: str, lexicon: Lexicon) -> bool:
    return (
        word in lexicon.metric_words
        or word in lexicon.ambiguous_words
        or word in lexicon.dimension_words
        or word in lexicon.list_words
        or (word in lexicon.value_words and len(word) > 2)
    )
