r"""A phrase table: finds known phrases in text as one big alternation would, without compiling it.

The lexicon's tables hold hundreds of phrases; compiled as one regex

    (?<![\w$€£])(?:longest|...|shortest)(?![\w])     (case-insensitive, a space = [\s-]+)

they cost ~10 ms on the first question. ``PhraseTable`` gives the same matches from a trie of the
phrases' tokens, walked from each token where a match may start. A token is a run of word
characters or one other character that is not a space or hyphen; a phrase and the text are cut
the same way, so a match starts and ends on token edges: it cannot start after a word character
or a currency sign, nor end before a word character, and a space in a phrase is a run of spaces
or hyphens between two tokens. A text token is looked up as it folds case-insensitively the way
``re`` folds it (the Kelvin sign is "k"). The walk is exact because each text token follows one
branch, so the phrases that match at a token lie on one path and the regex's choice, the longest,
is the deepest end that is not followed by a word character. One question's readers look up the
same text in a dozen tables: its tokens are cut once. A table with any other phrase (upper case,
a hyphen, doubled spaces, a non-ASCII letter) is the compiled regex instead.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Final, NamedTuple, TypeAlias

_Trie: TypeAlias = dict[object, "_Trie"]
_END: Final = "<end>"  # a key no token has (tokens are keyed (gap, text) past the first)
_TOKEN: Final = re.compile(r"(\w+)|[^\w\s-]")
_CURRENCY: Final = frozenset("$€£")
_SEEN_MAX: Final = 32  # texts whose matches a table keeps: the readers of one question
_ASCII: Final = string.ascii_lowercase + string.digits + string.punctuation


class _Tokens(NamedTuple):
    """A text cut into tokens: their spans, trie keys, and which are runs of word characters."""

    spans: list[tuple[int, int]]
    keys: list[str]
    words: list[bool]
    distinct: frozenset[str]  # the keys as a set: most tables share no first word with a text


_CUT: dict[str, _Tokens] = {}
_FOLDS: dict[str, str] = {}


def _fold(c: str) -> str:
    """The ASCII character a non-ASCII one matches case-insensitively in ``re``, else itself."""
    if c not in _FOLDS:
        found = (a for a in _ASCII if re.fullmatch(re.escape(a), c, re.IGNORECASE))
        _FOLDS[c] = next(found, c)
    return _FOLDS[c]


def _key(token: str) -> str:
    if token.isascii():
        return token.lower()
    return "".join(c.lower() if c.isascii() else _fold(c) for c in token)


def _cut(text: str) -> _Tokens:
    """The text's tokens (the last few texts are kept: every table of a question looks them up).

    Between two tokens there are only spaces and hyphens, so a token has a gap before it when it
    does not start where the one before it ends.
    """
    found = _CUT.get(text)
    if found is not None:
        return found
    spans, keys, words = [], [], []
    for m in _TOKEN.finditer(text):
        spans.append(m.span())
        token = m.group()
        keys.append(token.lower() if token.isascii() else _key(token))
        words.append(m.lastindex == 1)
    found = _Tokens(spans, keys, words, frozenset(keys))
    if len(_CUT) >= _SEEN_MAX:
        _CUT.clear()
    _CUT[text] = found
    return found


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
        # A hyphen matches like a space ("roll-forward" also says "roll forward"): as a space the
        # phrase stays plain, so the table is the trie, not the slow regex.
        unique = list(dict.fromkeys(p.replace("-", " ") for p in phrases if p))
        self._regex: re.Pattern[str] | None = None
        self._trie: _Trie = {}
        self._seen: dict[str, tuple[tuple[int, int], ...]] = {}
        self._first: frozenset[str] = frozenset()  # the first token of every phrase
        if not all(_plain(p) for p in unique):
            self._regex = _regex(unique)
            return
        for phrase in unique:
            spans, keys, _, _ = _cut(phrase)
            node = self._trie.setdefault(keys[0], {})
            for k in range(1, len(keys)):
                node = node.setdefault((spans[k][0] > spans[k - 1][1], keys[k]), {})
            node[_END] = {}
        self._first = frozenset(k for k in self._trie if isinstance(k, str))

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
        spans, keys, words, distinct = _cut(text)
        trie, n, k = self._trie, len(spans), 0
        if distinct.isdisjoint(self._first):
            return  # no phrase of the table starts with any of the text's tokens
        while k < n:
            node = trie.get(keys[k])
            if node is None or (
                k
                and spans[k][0] == spans[k - 1][1]
                and (words[k - 1] or text[spans[k][0] - 1] in _CURRENCY)
            ):  # no phrase starts here, or it follows a word character or a currency sign
                k += 1
                continue
            j, best = k, -1
            while True:
                if _END in node and (
                    j == n - 1 or spans[j + 1][0] > spans[j][1] or not words[j + 1]
                ):
                    best = j  # a phrase ends here, and no word character follows
                j += 1
                if j == n:
                    break
                nxt = node.get((spans[j][0] > spans[j - 1][1], keys[j]))
                if nxt is None:
                    break
                node = nxt
            if best < 0:
                k += 1
                continue
            yield spans[k][0], spans[best][1]
            k = best + 1
