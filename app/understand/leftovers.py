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

import functools
import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeAlias

from app.core.plan import Assumption
from app.semantic.model import SemanticModel
from app.understand.lexicon import WEAK_METRIC_WORDS, Lexicon
from app.understand.reading import EngineContext, Leftover, Reading, amend, blank_all


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no content of their own in a reporting question.
FUNCTION_WORDS = _words(
    """
    a about above across after again against all also am an and any are as at be been before
    being below between both but by can could did do does doing done during each either else
    ever every for from get gets getting give given got had has have having he her here hers him
    his how i if in into is it its itself just let lets like me might more most much must my
    no nor not now of off on once only or other our ours ourselves out over own please same she
    should show so some such than that the their theirs them themselves then there these they
    this those through to too under until up us very was we were what whats when where which
    while who whom whose why will with within would you your yours yourselves per instead make
    used use using via
    tell see find display list give show me pull bring report get compute calculate look
    many number count total totals sum amount amounts value values figure figures overall
    did does do was were is are be been have has had been
    hi hey thanks thank ok okay kindly quick quickly just exactly roughly approximately
    break broken breakdown split group grouped versus vs compared compare comparison down
    collect collected charge charged bring brought receive received generate
    generated record recorded book booked pay paid bill billed invoice invoiced money still
    away converted convert reported expressed growth grow grew trend trends happen happened
    currently altogether so far ever
    company companys business businesses account accounts books data stripe
    new
    """
)
# Words whose meaning would change the number if they were ignored.
MEANING_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "median",
            "average",
            "avg",
            "mean",
            "typical",
            "percentile",
            "percentiles",
            "p50",
            "p75",
            "p90",
            "p95",
            "p99",
            "quartile",
            "minimum",
            "maximum",
            "min",
            "max",
        ),
        "an aggregation",
    ),
    **dict.fromkeys(("distinct", "unique", "different"), "a distinct count"),
    **dict.fromkeys(
        ("share", "percentage", "percent", "proportion", "fraction", "ratio", "portion", "mix"),
        "a share",
    ),
    **dict.fromkeys(
        (
            "weekday",
            "weekdays",
            "weekend",
            "weekends",
            "hour",
            "hours",
            "hourly",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "cohort",
            "cohorts",
        ),
        "a grouping",
    ),
    **dict.fromkeys(("cumulative", "running", "rolling", "moving"), "a running total"),
    **dict.fromkeys(
        (
            "bucket",
            "buckets",
            "band",
            "bands",
            "tiers",
            "distribution",
            "histogram",
            "aging",
            "ageing",
        ),
        "a grouping into ranges",
    ),
}
# After these words an unknown word is a filter or a grouping the plan would silently drop.
_BEFORE_FILTER = _words(
    "by per each every in from via using with without excluding except only where whose for on "
    "paid made through used use via"
)
_TIME_WORDS = _words(
    "day days daily week weeks weekly month months monthly quarter quarters quarterly year years "
    "yearly annual annually today yesterday last previous prior since until through ytd mtd qtd "
    "fiscal calendar january february march april may june july august september october november "
    "december trailing rolling recent latest current"
)
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
    if word in _TIME_WORDS:
        return Leftover(raw, start, end, "meaning", "part of a time phrase I could not read")
    if _known(word, lexicon):
        return Leftover(raw, start, end, "meaning", "a word I know but could not use here")
    fix = typo(word, _vocabulary(lexicon))
    if fix is not None:
        return Leftover(raw, start, end, "typo", f"did you mean {fix}?", suggestion=fix)
    if _ID.match(word):
        return Leftover(raw, start, end, "meaning", "an id I can't filter by")
    if spot.before in _BEFORE_FILTER:
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
    if m is None or m.group(1).lower() in _TIME_WORDS:
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


@functools.lru_cache(maxsize=4096)
def typo(word: str, vocabulary: _Vocabulary) -> str | None:
    """The vocabulary word this one is probably a misspelling of (None if none is close).

    Kept per word: the same few unknown words ("show", "give", "every") come in most questions.
    """
    if len(word) < 4 or word in vocabulary.words:
        return None
    best, best_ratio = None, 0.0
    letters = Counter(word)
    for cand, cand_letters in vocabulary.by_initial.get(word[0], ()):  # typos keep the initial
        if abs(len(cand) - len(word)) > 2:
            continue
        if _shared_prefix(cand, word) >= min(len(cand), len(word)) - 1:
            continue  # an inflection ("collect", "additions" beside "collected", "additional")
        swapped = len(cand) == len(word) and cand_letters == letters
        floor = 0.7 if swapped else 0.84
        common = sum(min(n, letters[c]) for c, n in cand_letters.items())
        if 2.0 * common / (len(cand) + len(word)) < floor:
            continue  # SequenceMatcher.quick_ratio(), an upper bound of ratio(), is too low
        ratio = SequenceMatcher(None, word, cand).ratio()
        if (ratio >= 0.84 or (swapped and ratio >= 0.7)) and ratio > best_ratio:
            best, best_ratio = cand, ratio
    return best


def _shared_prefix(a: str, b: str) -> int:
    """How many leading characters two words share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


_Candidate: TypeAlias = tuple[str, Counter[str]]  # a word and its letters


@dataclass(frozen=True, eq=False)  # hashed by identity: one per lexicon, a key of typo()'s cache
class _Vocabulary:
    """The words a typo may be meant as, and by initial with their letters."""

    words: frozenset[str]
    by_initial: dict[str, tuple[_Candidate, ...]]


_VOCABULARY: dict[int, tuple[Lexicon, _Vocabulary]] = {}


def _vocabulary(lexicon: Lexicon) -> _Vocabulary:
    """Single words of the model's phrases and of time that a typo may be meant as, by initial."""
    cached = _VOCABULARY.get(id(lexicon))
    if cached is not None and cached[0] is lexicon:
        return cached[1]
    words: set[str] = set(_TIME_WORDS)
    for table in (
        lexicon.metric_words,
        lexicon.ambiguous_words,
        lexicon.dimension_words,
        lexicon.list_words,
    ):
        for phrase in table:
            words.update(w for w in phrase.split() if len(w) >= 4 and w.isalpha())
    for phrase in lexicon.value_words:
        words.update(w for w in phrase.split() if len(w) >= 5 and w.isalpha())
    vocabulary = frozenset(words - FUNCTION_WORDS)
    by_initial: dict[str, list[_Candidate]] = {}
    for w in sorted(vocabulary):
        by_initial.setdefault(w[0], []).append((w, Counter(w)))
    found = _Vocabulary(vocabulary, {k: tuple(v) for k, v in by_initial.items()})
    _VOCABULARY[id(lexicon)] = (lexicon, found)
    return found


def corrected(text: str, leftovers: tuple[Leftover, ...]) -> str:
    """The question with each typo replaced by its suggestion."""
    out = text
    for lo in sorted(leftovers, key=lambda x: x.start, reverse=True):
        if lo.kind == "typo" and lo.suggestion:
            out = out[: lo.start] + lo.suggestion + out[lo.end :]
    return out
