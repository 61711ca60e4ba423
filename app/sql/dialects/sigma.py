"""Stripe Sigma's SQL: sqlglot's Trino dialect plus the functions it does not carry to DuckDB.

The guard reads `read_dialect="trino"` with `Sigma`, so a query pasted from Sigma keeps its
meaning after the transpile:

* `format_datetime(ts, 'yyyy-MM')` (Joda pattern) becomes `strftime(ts, '%Y-%m')`; sqlglot would
  pass it through to DuckDB, which has no such function;
* `cardinality(x)` stays `cardinality(x)`, which DuckDB (and Spark) accept for maps and arrays
  alike; sqlglot would write `array_length(x)`, which DuckDB refuses for a map.

>>> import sqlglot
>>> sqlglot.transpile("select format_datetime(created, 'yyyy-MM') from charges",
...                   read=Sigma, write="duckdb")
["SELECT STRFTIME(created, '%Y-%m') FROM charges"]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ParseError
from sqlglot.parsers.trino import TrinoParser

# Joda-Time pattern letters (as Trino's format_datetime reads them) → strftime directives.
JODA: dict[str, str] = {
    "yyyy": "%Y",
    "YYYY": "%Y",
    "yy": "%y",
    "xxxx": "%G",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "DDD": "%j",
    "D": "%-j",
    "EEEE": "%A",
    "EEE": "%a",
    "E": "%a",
    "ww": "%V",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSSSSS": "%f",
    "a": "%p",
    "Z": "%z",
    "z": "%Z",
}


def joda_to_strftime(pattern: str) -> str:
    """Translate a Joda-Time pattern ('yyyy-MM-dd HH:mm', quoted text kept) into strftime."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            i += 1
            if pattern.startswith("'", i):  # '' outside quotes: one quote
                out.append("'")
                i += 1
                continue
            while True:
                if i >= len(pattern):
                    raise ParseError(f"format_datetime pattern has an unclosed quote: {pattern!r}")
                if pattern.startswith("''", i):  # '' inside quotes: one quote
                    out.append("'")
                    i += 2
                elif pattern[i] == "'":
                    i += 1
                    break
                else:
                    out.append("%%" if pattern[i] == "%" else pattern[i])
                    i += 1
        elif char.isalpha():
            run = len(pattern) - i - len(pattern[i:].lstrip(char))
            letters = pattern[i : i + run]
            if letters not in JODA:
                raise ParseError(
                    f"format_datetime pattern letters {letters!r} are not supported; "
                    f"use one of {', '.join(sorted(JODA))}"
                )
            out.append(JODA[letters])
            i += run
        else:
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


def _format_datetime(args: list[exp.Expr]) -> exp.Expr:
    if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
        raise ParseError("format_datetime takes a timestamp and a literal Joda pattern")
    fmt = exp.Literal.string(joda_to_strftime(args[1].name))
    return exp.TimeToStr(this=args[0], format=fmt)


def _cardinality(args: list[exp.Expr]) -> exp.Expr:
    return exp.Anonymous(this="CARDINALITY", expressions=args)


class Sigma(Trino):
    """Trino as Stripe Sigma runs it, with format_datetime and cardinality(map) carried over."""

    class Parser(TrinoParser):
        """Trino's parser with the Sigma functions above."""

        FUNCTIONS: ClassVar[dict[str, Callable[..., exp.Expr]]] = {
            **TrinoParser.FUNCTIONS,
            "FORMAT_DATETIME": _format_datetime,
            "CARDINALITY": _cardinality,
        }


def read_dialect(name: str) -> str | type[Dialect]:
    """The dialect the guard parses with: `Sigma` for 'trino', otherwise the name itself."""
    return Sigma if name.lower() == "trino" else name
