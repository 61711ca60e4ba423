"""Find the semantic model's words (metrics, dimensions, filter values) in a question."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.semantic.model import SemanticModel
from app.understand.phrases import PhraseTable

# Metric words that more often name a dimension or an entity than the metric itself.
WEAK_METRIC_WORDS = frozenset(
    {
        "customers",
        "charges",
        "payments",
        "transactions",
        "subscriptions",
        "net",
        "tax",
        "taxes",
        "overdue",
        "disputes",
        "refunds",
        "payouts",
        "churn",
        "fees",
    }
)
# Short country/state codes that are also English words: only matched when written in capitals.
CASE_SENSITIVE = frozenset({"us", "in", "or", "on", "me", "de", "it", "ca", "al", "pa", "co", "ma"})


@dataclass(frozen=True)
class Hit:
    """A phrase found in the question and what it means."""

    start: int
    end: int
    kind: str  # metric | ambiguous | dimension | value | list
    name: str  # metric name, dimension name, list name or ambiguity index
    phrase: str = ""


@dataclass(frozen=True)
class Lexicon:
    """Compiled phrase tables of one semantic model (plus values seen in the warehouse)."""

    metric_words: dict[str, str]
    ambiguous_words: dict[str, int]
    dimension_words: dict[str, tuple[str, ...]]
    value_words: dict[str, tuple[tuple[str, str], ...]]
    list_words: dict[str, str]
    metric_table: PhraseTable
    dimension_table: PhraseTable
    value_table: PhraseTable
    list_table: PhraseTable
    other_senses: frozenset[str] = frozenset()  # "make up": an ambiguous word in another sense
    verbs_of_things: frozenset[int] = frozenset()  # ambiguities read as a verb after a thing
    _metric_hits: dict[str, tuple[Hit, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def senses_elsewhere(self, text: str) -> list[tuple[int, int]]:
        """Spans where an ambiguous word means something else ("made up of", "charges made")."""
        out = []
        for start, end in self.metric_table.spans(text):
            word = _norm(text[start:end])
            if word in self.other_senses or self._verb_of_things(word, text, start):
                out.append((start, end))
        return out

    def _verb_of_things(self, word: str, text: str, start: int) -> bool:
        """An ambiguous verb right after a word naming things: "charges (were) made"."""
        if self.ambiguous_words.get(word) not in self.verbs_of_things:
            return False
        m = _THING_BEFORE.search(text, 0, start)
        return m is not None and (
            (thing := m.group(1).lower()) in self.list_words or thing in WEAK_METRIC_WORDS
        )

    def metrics(self, text: str) -> list[Hit]:
        """Non-overlapping metric or ambiguous-word hits, longest first.

        Several readers ask for the same text's hits: the last few texts' hits are kept.
        """
        found = self._metric_hits.get(text)
        if found is None:
            found = tuple(self._metric_hits_in(text))
            if len(self._metric_hits) >= 32:
                self._metric_hits.clear()
            self._metric_hits[text] = found
        return list(found)

    def _metric_hits_in(self, text: str) -> Iterator[Hit]:
        for start, end in self.metric_table.spans(text):
            word = _norm(text[start:end])
            if word in self.metric_words:
                yield Hit(start, end, "metric", self.metric_words[word], phrase=word)
            elif word in self.ambiguous_words and not self._verb_of_things(word, text, start):
                yield Hit(start, end, "ambiguous", str(self.ambiguous_words[word]), phrase=word)

    def dimensions(self, text: str) -> list[tuple[Hit, tuple[str, ...]]]:
        """Dimension-word hits with their candidate dimensions."""
        return [
            (
                Hit(start, end, "dimension", "", phrase=_norm(text[start:end])),
                self.dimension_words[_norm(text[start:end])],
            )
            for start, end in self.dimension_table.spans(text)
        ]

    def values(self, text: str) -> list[tuple[Hit, tuple[tuple[str, str], ...]]]:
        """Filter-value hits with their candidate (dimension, value) pairs."""
        out = []
        for start, end in self.value_table.spans(text):
            raw = text[start:end]
            word = _norm(raw)
            if word in CASE_SENSITIVE and raw != raw.upper():
                continue
            cands = self.value_words.get(word)
            if cands:
                out.append((Hit(start, end, "value", "", phrase=word), cands))
        return out

    def lists(self, text: str) -> list[Hit]:
        """Hits of entity words that can be listed (invoices, disputes, charges)."""
        return [
            Hit(start, end, "list", self.list_words[_norm(text[start:end])])
            for start, end in self.list_table.spans(text)
        ]


_THING_BEFORE = re.compile(r"([a-z]+)\s+(?:(?:was|were|been|being|is|are|get|got)\s+)?$", re.I)


_SPACES = re.compile(r"[\s-]+")


def _norm(s: str) -> str:
    return _SPACES.sub(" ", s.lower()).strip()


def build_lexicon(model: SemanticModel, data_values: dict[str, dict[str, str]]) -> Lexicon:
    """Phrase tables from the semantic model and the warehouse's plan/product names."""
    metric_words: dict[str, str] = {}
    for m in model.metrics.values():
        for w in (*m.synonyms, m.name.replace("_", " "), m.label):
            metric_words.setdefault(_norm(w), m.name)
        for w in (w for f in m.implied_filters if f.names_metric for w in f.words):
            metric_words.setdefault(_norm(w), m.name)
    ambiguous: dict[str, int] = {}
    for i, a in enumerate(model.ambiguous):
        for w in a.words:
            ambiguous[_norm(w)] = i
            metric_words.pop(_norm(w), None)
    # Phrases that hide an ambiguous word: matched (longest first) but naming no metric.
    other_senses = [_norm(w) for a in model.ambiguous for w in a.except_in]
    dim_words: dict[str, list[str]] = {}
    for d in model.dimensions.values():
        for w in (*d.synonyms, d.name.replace("_", " ")):
            dim_words.setdefault(_norm(w), []).append(d.name)
    values: dict[str, list[tuple[str, str]]] = {}

    def add(word: str, dim: str, value: str) -> None:
        key = _norm(word)
        if (dim, value) not in values.setdefault(key, []):
            values[key].append((dim, value))

    for d in model.dimensions.values():
        if isinstance(d.values, dict):
            for value, words in d.values.items():
                for w in words:
                    add(w, d.name, value)
        elif d.values in ("countries", "states", "currencies"):
            table = getattr(model, d.values)
            for code, words in table.items():
                for w in words:
                    add(w, d.name, code)
                if d.values == "currencies":
                    add(code, d.name, code)
        elif d.values == "data":
            for phrase, value in data_values.get(d.name, {}).items():
                add(phrase, d.name, value)
    list_words = {_norm(w): s.name for s in model.lists.values() for w in s.synonyms}
    return Lexicon(
        metric_words=metric_words,
        ambiguous_words=ambiguous,
        dimension_words={k: tuple(v) for k, v in dim_words.items()},
        value_words={k: tuple(v) for k, v in values.items()},
        list_words=list_words,
        metric_table=PhraseTable([*metric_words, *ambiguous, *other_senses]),
        dimension_table=PhraseTable(list(dim_words)),
        value_table=PhraseTable(list(values)),
        list_table=PhraseTable(list(list_words)),
        other_senses=frozenset(other_senses),
        verbs_of_things=frozenset(i for i, a in enumerate(model.ambiguous) if a.verb_of_things),
    )


_CACHE: dict[tuple[str, object], Lexicon] = {}


def lexicon_for(model: SemanticModel, data_values: dict[str, dict[str, str]]) -> Lexicon:
    """A cached lexicon for this model and set of warehouse values."""
    key = (
        model.sha256,
        tuple(sorted((d, tuple(sorted(v.items()))) for d, v in data_values.items())),
    )
    if key not in _CACHE:
        _CACHE[key] = build_lexicon(model, data_values)
    return _CACHE[key]
