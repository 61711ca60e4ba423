"""`-k` expressions over eval cases: words joined by and/or/not, with parentheses (like pytest).

A word matches a case when it is a case-insensitive substring of the case's name, of one of its
tags, of its difficulty or of its file's stem: `-k "tax and not fx"`, `-k "mrr or arr"`,
`-k "time:relative"`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

Matcher = Callable[[Iterable[str]], bool]
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class KeywordError(ValueError):
    """A `-k` expression that cannot be parsed; the message says where."""


def _word(text: str) -> Matcher:
    needle = text.casefold()
    return lambda haystack: any(needle in h.casefold() for h in haystack)


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _TOKEN.findall(expression)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise KeywordError(f"-k {self.expression!r}: the expression ends too early")
        self.at += 1
        return token

    def either(self) -> Matcher:
        parts = [self.both()]
        while self.peek() == "or":
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else lambda h: any(p(h) for p in parts)

    def both(self) -> Matcher:
        parts = [self.single()]
        while self.peek() == "and":
            self.take()
            parts.append(self.single())
        return parts[0] if len(parts) == 1 else lambda h: all(p(h) for p in parts)

    def single(self) -> Matcher:
        token = self.take()
        if token == "not":
            inner = self.single()
            return lambda h: not inner(h)
        if token == "(":
            inner = self.either()
            if self.peek() != ")":
                raise KeywordError(f"-k {self.expression!r}: missing ')'")
            self.take()
            return inner
        if token in ("and", "or", ")"):
            raise KeywordError(f"-k {self.expression!r}: unexpected {token!r}")
        return _word(token)


def parse_keyword(expression: str) -> Matcher:
    """Compile a `-k` expression into a predicate over a case's searchable strings."""
    parser = _Parser(expression)
    if not parser.tokens:
        raise KeywordError("-k needs an expression, e.g. -k 'tax and not fx'")
    matcher = parser.either()
    if parser.peek() is not None:
        raise KeywordError(f"-k {expression!r}: unexpected {parser.peek()!r}")
    return matcher
