r"""A phrase table: finds known phrases in text as one big alternation would, without compiling it.

The lexicon's tables hold hundreds of phrases; compiled as one regex

    (?<![\w$€£])(?:longest|...|shortest)(?![\w])     (case-insensitive, a space = [\s-]+)

they cost ~10 ms on the first question. ``PhraseTable`` gives the same matches from a trie of the
phrases, walked from each position where a match may start. The walk is exact because a text
character can follow at most one branch (a space or hyphen only the gap, anything else only the
letter it folds to), so the phrases that match at a position lie on one path and the regex's
choice, the longest, is the deepest end that is not followed by a word character. A table with
any other phrase (upper case, a hyphen, doubled spaces, a non-ASCII letter) is the compiled
regex instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final, TypeAlias

_Trie: TypeAlias = dict[str, "_Trie"]
_GAP: Final = " "
_END: Final = "<end>"  # not a single character, so no text character leads there
_NO_FOLD: Final = "<none>"
# Where a phrase may start: a character that is not a space, not preceded by a word character or
# a currency sign (a phrase never starts with a space or a hyphen).
_STARTS: Final = re.compile(r"(?<![\w$€£])[^\s-]")
_SEEN_MAX: Final = 32  # texts whose matches a table keeps: the readers of one question


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _is_gap(c: str) -> bool:
    return c.isspace() or c == "-"


def _plain(phrase: str) -> bool:
    """Words one space apart whose characters the trie matches as ``re`` would (see _trie_char)."""
    return phrase == " ".join(phrase.split()) and all(map(_trie_char, phrase.replace(" ", "")))


def _trie_char(c: str) -> bool:
    """Lower-case ASCII but a hyphen, or a caseless character (€, £): re.I matches it alone."""
    if c == "-":
        return False
    return c == c.lower() if c.isascii() else c == c.lower() == c.upper()


def _regex(phrases: list[str]) -> re.Pattern[str]:
    alts = sorted(phrases, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in alts)
    return re.compile(rf"(?<![\w$€£])(?:{body})(?![\w])", re.IGNORECASE)


class PhraseTable:
    """Case-insensitive whole-word phrases; a space in a phrase matches any run of spaces/hyphens.

    >>> [m for m in PhraseTable(["net revenue", "net"]).spans("Net-revenue and net.")]
    [(0, 11), (16, 19)]
    """

    def __init__(self, phrases: list[str]) -> None:
        unique = list(dict.fromkeys(p for p in phrases if p))
        self._regex: re.Pattern[str] | None = None
        self._trie: _Trie = {}
        self._alphabet = sorted(set("".join(unique)) - {_GAP})
        self._folds: dict[str, str] = {}
        self._seen: dict[str, tuple[tuple[int, int], ...]] = {}
        if not all(_plain(p) for p in unique):
            self._regex = _regex(unique)
            return
        for phrase in unique:
            node = self._trie
            for c in phrase:
                node = node.setdefault(c, {})
            node[_END] = {}

    def spans(self, text: str) -> tuple[tuple[int, int], ...]:
        """The (start, end) of each non-overlapping match, left to right, the longest at a start.

        Several readers look up the same (masked) text: the last few answers are kept.
        """
        found = self._seen.get(text)
        if found is None:
            found = tuple(self._walk(text))
            if len(self._seen) >= _SEEN_MAX:
                self._seen.clear()
            self._seen[text] = found
        return found

    def _walk(self, text: str) -> Iterator[tuple[int, int]]:
        if self._regex is not None:
            yield from (m.span() for m in self._regex.finditer(text))
            return
        after = 0  # matches do not overlap: the next starts at or after the last one's end
        for start in _STARTS.finditer(text):
            i = start.start()
            if i < after:
                continue
            end = self._longest_at(text, i)
            if end > i:
                yield i, end
                after = end

    def _longest_at(self, text: str, i: int) -> int:
        node, j, n, best = self._trie, i, len(text), -1
        while True:
            if _END in node and (j == n or not _is_word(text[j])):
                best = j
            if j == n:
                return best
            c = text[j]
            if _is_gap(c):
                if _GAP not in node:
                    return best
                node = node[_GAP]
                while j < n and _is_gap(text[j]):
                    j += 1
                continue
            nxt = node.get(c.lower() if c.isascii() else self._fold(c))
            if nxt is None:
                return best
            node, j = nxt, j + 1

    def _fold(self, c: str) -> str:
        """The phrase character a non-ASCII character matches case-insensitively ("" if none)."""
        if c not in self._folds:
            found = (p for p in self._alphabet if re.fullmatch(re.escape(p), c, re.IGNORECASE))
            self._folds[c] = next(found, _NO_FOLD)
        return self._folds[c]
