"""Two metrics set against each other: "invoiced vs collected" asks for both, side by side.

"vs", "versus", "against" and "compared to/with" between two different metrics' words name no
earlier period: they put the two metrics side by side. This reader runs before the comparison
reader and blanks such a word, so it is not read as "against the previous period"; the metrics
reader then reads both metrics. A "vs" beside a period ("this month vs last month") is left to
the comparison reader.
"""

from __future__ import annotations

import re

from app.understand.reading import EngineContext, Reading, amend, blank

_VERSUS = re.compile(r"\b(?:vs\.?|versus|against|compared\s+(?:to|with))(?=\s)", re.I)


def read_versus(r: Reading, ctx: EngineContext) -> Reading:
    """Blank a "vs" that stands between two different metrics' words."""
    hits = [h for h in ctx.lexicon.metrics(r.masked) if h.kind == "metric"]
    masked = r.masked
    for m in _VERSUS.finditer(r.masked):
        before = [h for h in hits if h.end <= m.start() and not r.masked[h.end : m.start()].strip()]
        after = [h for h in hits if h.start >= m.end() and not r.masked[m.end() : h.start].strip()]
        if before and after and before[-1].name != after[0].name:
            masked = blank(masked, m.start(), m.end())
    return r if masked == r.masked else amend(r, masked=masked)
