"""The words of a list question: column clauses, order phrases, groups and ids (lists.yaml)."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from app.semantic.model import ListSpec
from app.understand.phrases import PhraseTable

_NUMBER = r"\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundred"
_N = rf"({_NUMBER})"
NUMBER_WORDS = {  # number words a question may use for a count
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twenty": 20,
    "fifty": 50,
    "hundred": 100,
}
_TIME_UNIT = r"(?:days?|weeks?|months?|quarters?|years?|business|calendar|fiscal)\b"
_RECENT = re.compile(
    rf"\b(?:the\s+)?(?:{_N}\s+)?(most\s+recent|latest|newest|oldest|earliest|recent"
    rf"|last(?!\s+(?:(?:{_NUMBER})\s+)?{_TIME_UNIT}))(?:\s+{_N}\b)?",
    re.I,
)
_SIZE = re.compile(
    rf"\b(?:the\s+)?(?:{_N}\s+)?(largest|biggest|highest|smallest|lowest|top)(?:\s+{_N}\b)?",
    re.I,
)
# Not a number of periods: "on which of the two (local) days" counts days, not rows.
_WHICH_N = re.compile(
    rf"\b(?:which|what|show|list|the)\s+(?:me\s+)?(?:the\s+)?{_N}\b"
    r"(?!\s+(?:[a-z]+\s+)?(?:days?|weeks?|months?|quarters?|years?|dates?)\b)",
    re.I,
)
_GROUP = re.compile(r"\b(?:(?:of|for|in|from)\s+(?:each|every)|per)\s+", re.I)
_PAREN = re.compile(r"\(([^()]*)\)")
_WITH = re.compile(r"\bwith\b", re.I)
# A later sentence or a dash that names columns: "...? Show the charge, reason and amount",
# "... last quarter — number, customer and amount", "I need day, txn id and amount".
_ASK = re.compile(
    r"(?:[?.!;]\s*(?:(?:please|also)\s+)?(?:(?:show|list|include|give|display|add)(?:\s+me)?"
    r"|i\s+(?:need|want|would\s+like)|i'd\s+like)|[:—–]|\s-\s)(?:\s+(?:also|too))?(?=\s+\w)",
    re.I,
)
_THEIR = re.compile(
    r"\b(?:and\s+)?(?:(?:what|which)\s+(?:is|are|was|were)\s+)?(?:their|its)\b", re.I
)
# "..., and when did that payout arrive?", "on what date did each payout land in the bank":
# asks for a date of the rows or of an object they link to, up to the next comma or "and".
_WHEN = re.compile(
    r"\b(?:when|(?:on\s+)?(?:what|which)\s+(?:date|day))\s+"
    r"(?:did|does|do|will|was|were|is|are|has|have|had)\b",
    re.I,
)
_WHEN_END = re.compile(r"[?.!;,]|\band\b", re.I)
_END = re.compile(
    r"[?.;!]|\b(?:in|during|since|from|for|over|under|above|below|that|where|who|which|sorted|"
    r"ordered|between|before|after|per|of\s+each|of\s+every|had|have|has|"
    r"(?<!\bit )(?:were|was|is|are))\b",  # "why it was taxed" names a column
    re.I,
)
_SPLIT = re.compile(r"\s*(?:,|\band\b|&|/|\bplus\b|\bor\b)\s*", re.I)
_FILLER_WORDS = """
the their its a an each all any of and with what which is are was were s show me also plus
including result results detail details info information on to they it belong belongs whether
passed check checks need want i that this these those
"""
_FILLER = frozenset(_FILLER_WORDS.split())
_ID = re.compile(
    r"\b(cus|sub|ch|in|re|dp|po|txn|cn|il|price|prod|tax_li|tax|coupon)_[A-Za-z0-9]+\b"
)
_ID_COLUMNS = {
    "cus": ("customer_id",),
    "sub": ("subscription_id", "subscription"),
    "ch": ("charge_id", "charge"),
    "in": ("invoice_id",),
    "re": ("refund", "refund_id"),
    "dp": ("dispute", "dispute_id"),
    "po": ("payout", "payout_id"),
    "txn": ("balance_transaction", "balance_transaction_id"),
    "cn": ("credit_note_id",),
    "il": ("line_item",),
    "price": ("price_id",),
    "tax": ("tax_transaction",),
    "tax_li": ("line_item",),
}


_AGE = re.compile(
    rf"\b(?:(?P<older>older)\s+than\s+{_N}\s+(?P<unit>day|week|month|year)s?"
    rf"|(?P<least>at\s+least|more\s+than|over)\s+{_N}\s+(?P<unit2>day|week|month|year)s?\s+old)\b",
    re.I,
)


_AT_LEAST = re.compile(
    rf"\b(?:{_N}\s*(?:\+|or\s+more)(?:\s+times)?|at\s+least\s+(?:{_N}(?:\s+times)?|(twice|once))"
    rf"|more\s+than\s+(once|{_NUMBER})(?:\s+times)?|(twice)\s+or\s+more"
    rf"|(multiple|several|repeated|repeat|recurring))\b",
    re.I,
)
_TIMES = {"once": 1, "twice": 2}


def at_least(text: str) -> tuple[int, int, int] | None:
    """'two or more', 'at least 3', 'more than once', 'repeated': (start, end, n)."""
    m = _AT_LEAST.search(text)
    if m is None:
        return None
    one, least, least_word, more, twice, word = m.groups()
    if one or least:
        n = number(one or least) or 0
    elif least_word or twice:
        n = _TIMES[(least_word or twice).lower()]
    elif more:
        n = (_TIMES.get(more.lower()) or number(more) or 0) + 1
    else:
        n = 2 if word else 0
    return (m.start(), m.end(), n) if n >= 1 else None


@dataclass(frozen=True)
class Age:
    """'older than 30 days': rows dated before a cut-off day (`inclusive`: on it too)."""

    start: int
    end: int
    before: date
    inclusive: bool


def age(text: str, as_of: date) -> Age | None:
    """An age condition on the rows' date, as a cut-off day counted back from the as-of day."""
    m = _AGE.search(text)
    if m is None:
        return None
    n = number(m.group(2) or m.group(5)) or 0
    unit = (m.group("unit") or m.group("unit2")).lower()
    if unit in ("day", "week"):
        cut = as_of - timedelta(days=n * (7 if unit == "week" else 1))
    else:
        months = as_of.year * 12 + as_of.month - 1 - n * (12 if unit == "year" else 1)
        year, month = divmod(months, 12)
        cut = date(year, month + 1, min(as_of.day, monthrange(year, month + 1)[1]))
    inclusive = (m.group("least") or "").lower().startswith("at")
    return Age(m.start(), m.end(), cut, inclusive)


@dataclass(frozen=True)
class Clause:
    """Words that name columns: '(id and email)', 'with X, Y and Z', 'and their price'."""

    start: int
    end: int
    body_start: int
    exact: bool  # a parenthesis without 'with': exactly these columns
    when: bool = False  # "when did that payout arrive": a date is asked for


@dataclass(frozen=True)
class OrderWords:
    """An order phrase: which way, by recency or size, how many rows, and where it was said."""

    start: int
    end: int
    recent: bool
    desc: bool
    n: int | None


def number(word: str | None) -> int | None:
    """A number written in digits or as a word (None when absent)."""
    if not word:
        return None
    return NUMBER_WORDS.get(word.lower()) or (int(word) if word.isdigit() else None)


def clauses(text: str) -> list[Clause]:
    """The column clauses of a question, left to right."""
    found: list[Clause] = []
    for m in _PAREN.finditer(text):
        inner = m.group(1)
        with_ = _WITH.search(inner)
        body = m.start(1) + (with_.end() if with_ else 0)
        found.append(Clause(m.start(), m.end(), body, exact=with_ is None))
    for pattern in (_WITH, _THEIR, _ASK):
        for m in pattern.finditer(text):
            if any(c.start <= m.start() < c.end for c in found):
                continue
            stop = _END.search(text, m.end())
            end = stop.start() if stop else len(text)
            if text[m.end() : end].strip():
                found.append(Clause(m.start(), end, m.end(), exact=False))
    for m in _WHEN.finditer(text):
        if any(c.start <= m.start() < c.end for c in found):
            continue
        stop = _WHEN_END.search(text, m.end())
        end = stop.start() if stop else len(text)
        if text[m.end() : end].strip():
            found.append(Clause(m.start(), end, m.end(), exact=False, when=True))
    return sorted(found, key=lambda c: c.start)


def items(text: str, clause: Clause) -> list[tuple[int, int]]:
    """The (start, end) of each comma- or 'and'-separated item of a clause's body."""
    out: list[tuple[int, int]] = []
    pos = clause.body_start
    stop = clause.end - 1 if clause.exact else clause.end
    for m in [*_SPLIT.finditer(text, pos, stop), None]:
        end = m.start() if m else stop
        if text[pos:end].strip():
            out.append((pos, end))
        pos = m.end() if m else stop
    return out


def content(phrase: str) -> str:
    """A phrase without filler words and possessives ("the customer's email" → "customer email")."""
    words = re.findall(r"[a-z0-9]+", phrase.lower().replace("'s", ""))
    return " ".join(w for w in words if w not in _FILLER)


def order_words(text: str, by_size: bool) -> OrderWords | None:
    """'5 most recent', 'the latest', 'largest 3' (by size only when the entity has an amount)."""
    m = _RECENT.search(text)
    if m is not None:
        word = m.group(2).lower()
        n = number(m.group(1)) or number(m.group(3))
        return OrderWords(m.start(), m.end(), True, word not in ("oldest", "earliest"), n)
    s = _SIZE.search(text) if by_size else None
    if s is not None:
        word = s.group(2).lower()
        n = number(s.group(1)) or number(s.group(3))
        if word == "top" and n is None:
            return None
        return OrderWords(s.start(), s.end(), False, word not in ("smallest", "lowest"), n)
    return None


def which_n(text: str) -> tuple[int, int, int] | None:
    """'which 5 invoices', 'show the 10 ...': (start, end, n)."""
    m = _WHICH_N.search(text)
    n = number(m.group(1)) if m else None
    return (m.start(1), m.end(1), n) if m and n else None


def group_markers(text: str) -> list[int]:
    """Where the word after 'of each', 'for every', 'per' starts."""
    return [m.end() for m in _GROUP.finditer(text)]


def group_start(text: str, at: int) -> int:
    """Where the group phrase that ends at `at` (its marker) begins."""
    m = next((m for m in _GROUP.finditer(text) if m.end() == at), None)
    return m.start() if m else at


def ids(text: str, spec: ListSpec) -> list[tuple[int, int, str, str]]:
    """Stripe ids in the question that a column of the entity holds: (start, end, column, id)."""
    out = []
    for m in _ID.finditer(text):
        names = _ID_COLUMNS.get(m.group(1), ())
        column = next((n for n in names if spec.column(n) is not None), None)
        if column is not None:
            out.append((m.start(), m.end(), column, m.group(0)))
    return out


def is_stripe_id(values: tuple[object, ...]) -> bool:
    """Whether filter values are Stripe ids ('sub_1vf0etglck')."""
    return bool(values) and all(isinstance(v, str) and _ID.fullmatch(v) for v in values)


_TABLES: dict[int, tuple[ListSpec, PhraseTable, dict[str, str], PhraseTable]] = {}


def column_words(spec: ListSpec) -> tuple[PhraseTable, dict[str, str]]:
    """A phrase table of the entity's column words and the column each names."""
    _, table, words, _ = _tables(spec)
    return table, words


def state_words(spec: ListSpec) -> PhraseTable:
    """A phrase table of the entity's state words."""
    return _tables(spec)[3]


def _tables(spec: ListSpec) -> tuple[ListSpec, PhraseTable, dict[str, str], PhraseTable]:
    """The entity's phrase tables, built once per ListSpec object (kept alive beside them)."""
    if id(spec) not in _TABLES:
        words: dict[str, str] = {}
        for c in spec.columns:
            for w in (*c.synonyms, c.name.replace("_", " ")):
                words.setdefault(norm(w), c.name)
        states = PhraseTable([*spec.states, *spec.aliases])
        _TABLES[id(spec)] = (spec, PhraseTable(list(words)), words, states)
    return _TABLES[id(spec)]


def state_name(spec: ListSpec, phrase: str) -> str:
    """The state a state word names ('lose' → lost)."""
    word = norm(phrase)
    return spec.aliases.get(word, word)


def singular(phrase: str) -> str:
    """The phrase with plural words in the singular, padded so positions stay ("fees" → "fee ")."""

    def one(m: re.Match[str]) -> str:
        word = m.group(0)
        lower = word.lower()
        if lower.endswith("ies") and len(word) > 4:
            return word[:-3] + "y  "
        if lower.endswith(("sses", "xes", "ches", "shes")):
            return word[:-2] + "  "
        if lower.endswith("s") and not lower.endswith(("ss", "us", "is")) and len(word) > 3:
            return word[:-1] + " "
        return word

    return re.sub(r"[A-Za-z]+", one, phrase)


def norm(phrase: str) -> str:
    """Lower case, one space between words (hyphens read as spaces)."""
    return " ".join(phrase.lower().replace("-", " ").split())
