"""Did you mean…? The model's word a misspelt word of a question is probably meant as.

The vocabulary is every single word of the semantic model's phrases and of time; a candidate
keeps the typo's first letter and is at most two letters longer or shorter, and is accepted
when difflib's ratio reaches 0.84 (0.7 for the same letters in another order).
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeAlias

from app.understand.lexicon import Lexicon
from app.understand.reading import Leftover
from app.understand.words import FUNCTION_WORDS, TIME_WORDS


@functools.lru_cache(maxsize=4096)
def typo(word: str, vocab: Vocabulary) -> str | None:
    """The vocabulary word this one is probably a misspelling of (None if none is close).

    Kept per word: the same few unknown words ("show", "give", "every") come in most questions.
    """
    if len(word) < 4 or word in vocab.words:
        return None
    best, best_ratio = None, 0.0
    letters = Counter(word)
    for cand, cand_letters in vocab.by_initial.get(word[0], ()):  # typos keep the initial
        if abs(len(cand) - len(word)) > 2:
            continue
        if any(_shared_prefix(cand, w) >= min(len(cand), len(w)) - 1 for w in _spellings(word)):
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


def _spellings(word: str) -> tuple[str, ...]:
    """The word in US and UK spelling ("recognize", "recognise"): a variant is no typo."""
    for us, uk in (("iz", "is"), ("yz", "ys")):
        if us in word:
            return word, word.replace(us, uk)
        if uk in word:
            return word, word.replace(uk, us)
    return (word,)


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
class Vocabulary:
    """The words a typo may be meant as, and by initial with their letters."""

    words: frozenset[str]
    by_initial: dict[str, tuple[_Candidate, ...]]


_VOCABULARY: dict[int, tuple[Lexicon, Vocabulary]] = {}


def vocabulary(lexicon: Lexicon) -> Vocabulary:
    """Single words of the model's phrases and of time that a typo may be meant as, by initial."""
    cached = _VOCABULARY.get(id(lexicon))
    if cached is not None and cached[0] is lexicon:
        return cached[1]
    words: set[str] = set(TIME_WORDS)
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
    found = Vocabulary(vocabulary, {k: tuple(v) for k, v in by_initial.items()})
    _VOCABULARY[id(lexicon)] = (lexicon, found)
    return found


def corrected(text: str, leftovers: tuple[Leftover, ...]) -> str:
    """The question with each typo replaced by its suggestion."""
    out = text
    for lo in sorted(leftovers, key=lambda x: x.start, reverse=True):
        if lo.kind == "typo" and lo.suggestion:
            out = out[: lo.start] + lo.suggestion + out[lo.end :]
    return out
