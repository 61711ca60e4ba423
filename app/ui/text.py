"""Make text from data or users inert before Streamlit renders it as Markdown."""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all also
# disarms Streamlit's extensions (`:red[...]`, `:material/x:`, `$latex$`) and raw HTML tags.
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def escape_md(text: object) -> str:
    """Return `text` as Markdown that renders literally (no links, images, HTML or styling)."""
    s = _PUNCT.sub(r"\\\1", str(text))
    return s.replace("\n", "  \n")


def one_line(text: str, limit: int = 240) -> str:
    """Collapse whitespace and cut to `limit` characters, for one-line messages."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def escape_delta(delta: str | None) -> str | None:
    """Escape a signed change for st.metric, keeping the leading sign that picks the arrow."""
    if not delta:
        return None
    if delta[0] in "+-":
        return delta[0] + escape_md(delta[1:])
    return escape_md(delta)
