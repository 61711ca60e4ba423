"""A list of measures that runs up to where a later list starts (reports.py reads it).

"what were our EUR captured payments, refunds, disputes and bank payouts, with counts of ..."
names its first measures before "with": the items cut at commas and "and", back to the words
before the first item that are function words ("what were our").
"""

from __future__ import annotations

import re

from app.understand.words import FUNCTION_WORDS

_TOKEN = re.compile(r"[A-Za-z][\w'’]*")
_CLAUSE_CUT = re.compile(r",|;|&|\b(?:and|or|plus|as\s+well\s+as)\b", re.I)


def list_before(plain: str, stop: int) -> tuple[int, int] | None:
    """The list of three or more items that ends where the first list starts, if any.

    Its first item is the last words before it that are not function words ("what were our
    EUR captured payments" → "EUR captured payments").
    """
    cuts = [m.span() for m in _CLAUSE_CUT.finditer(plain, 0, stop)]
    bounds = [0, *(e for _, e in cuts)]
    ends = [*(s for s, _ in cuts), stop]
    pieces = [(b, e) for b, e in zip(bounds, ends, strict=True) if plain[b:e].strip()]
    run: list[tuple[int, int]] = []
    for b, e in reversed(pieces):
        words = list(_TOKEN.finditer(plain, b, e))
        content = [m for m in words if m.group(0).lower() not in FUNCTION_WORDS]
        if words and len(content) == len(words):
            run.append((b, e))
            continue
        tail = words[len(words) - _trailing(words) :]
        if tail:
            run.append((tail[0].start(), e))
        break
    if len(run) < 3:
        return None
    return run[-1][0], run[0][1]


def _trailing(words: list[re.Match[str]]) -> int:
    """How many of the last words are not function words."""
    n = 0
    for m in reversed(words):
        if m.group(0).lower() in FUNCTION_WORDS:
            break
        n += 1
    return n
