"""Static bounds on the work one statement may ask of DuckDB; the guard's resource rules.

DuckDB's `memory_limit` covers hash tables, sorts and aggregates but not the strings and lists a
scalar function builds, and an interrupt is only seen between vectors of 2048 rows. So a single
`repeat`, `lpad`, `range`, nested `replace` or heavy regex can outgrow the memory limit or run far
past `query_timeout_ms`. These checks keep such calls small before the statement runs:

* generators and pads (`range`, `generate_series`, `lpad`, `rpad`, `repeat`, `list_resize`, ...)
  need constant sizes, at most `MAX_GENERATED` elements or characters each;
* functions that multiply their input (`replace`, `regexp_replace`, `format`, `printf`) take a
  literal replacement or format and multiply by at most `MAX_MULTIPLIER`;
* nested amplifiers multiply (a lambda body counts as `MAX_GENERATED` repetitions), and the
  product must stay within `MAX_GENERATED`; the sum over the statement within `MAX_AMPLIFIED`;
* regular expressions are literals of at most `MAX_PATTERN_CHARS` characters with counted
  repetitions `{n}` of at most `MAX_PATTERN_REPEAT`.

Every refusal raises `GuardError("no_dangerous_functions", ...)` naming the call.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from sqlglot import exp
from sqlglot.optimizer.simplify import simplify

from app.core.errors import GuardError

MAX_GENERATED = 10_000
MAX_MULTIPLIER = 100
MAX_AMPLIFIED = 100_000
MAX_PATTERN_CHARS = 500
MAX_PATTERN_REPEAT = 100
RULE = "no_dangerous_functions"

_UNIT_SECONDS = {
    "microsecond": 1e-6,
    "millisecond": 1e-3,
    "second": 1,
    "minute": 60,
    "hour": 3_600,
    "day": 86_400,
    "week": 7 * 86_400,
    "month": 28 * 86_400,  # the shortest month: the count is an upper bound
    "quarter": 89 * 86_400,
    "year": 365 * 86_400,
    "decade": 3_652 * 86_400,
    "century": 36_524 * 86_400,
    "millennium": 365_242 * 86_400,
}
_RESIZERS = frozenset({"list_resize", "array_resize"})
_AMPLIFIERS = (exp.GenerateSeries, exp.Repeat, exp.Pad, exp.Replace, exp.RegexpReplace, exp.Format)
_REGEX_ANONYMOUS = frozenset({"regexp_split_to_array", "regexp_split_to_table"})
_REGEX_NODES = (
    exp.RegexpLike,
    exp.RegexpExtract,
    exp.RegexpExtractAll,
    exp.RegexpReplace,
    exp.RegexpSplit,
    exp.RegexpFullMatch,
    exp.SimilarTo,
)
_COUNTED = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")


def _refuse(reason: str, node: exp.Expr) -> GuardError:
    text = node.sql(dialect="duckdb")
    shown = text if len(text) <= 160 else text[:157] + "..."
    return GuardError(RULE, f"{reason}: {shown}")


def _constant(node: exp.Expr | None) -> exp.Expr | None:
    """The node folded to a constant (literal, negated literal, typed literal, interval)."""
    if node is None:
        return None
    folded = simplify(node.copy())
    if isinstance(folded, exp.Cast) and isinstance(folded.this, exp.Literal):
        return folded
    if isinstance(folded, exp.Neg) and isinstance(folded.this, exp.Literal):
        return folded
    if isinstance(folded, exp.Literal | exp.Interval):
        return folded
    return None


def _number(node: exp.Expr | None) -> float | None:
    value = _constant(node)
    if isinstance(value, exp.Cast):
        value = value.this
    sign = 1.0
    if isinstance(value, exp.Neg):
        sign, value = -1.0, value.this
    if not isinstance(value, exp.Literal):
        return None
    try:
        number = float(str(value.this).replace("_", ""))
    except ValueError:
        return None
    return sign * number if math.isfinite(number) else None


def _instant(node: exp.Expr | None) -> datetime | None:
    value = _constant(node)
    if not (isinstance(value, exp.Cast) and value.this.is_string):
        return None
    try:
        return datetime.fromisoformat(str(value.this.this).strip())
    except ValueError:
        return None


def _interval_seconds(node: exp.Expr | None) -> float | None:
    value = _constant(node)
    if not isinstance(value, exp.Interval):
        return None
    text = str(value.this.this) if isinstance(value.this, exp.Literal) else ""
    unit = value.args.get("unit")
    if unit is not None:
        text = f"{text} {unit.name}"
    total = 0.0
    for amount, name in re.findall(r"(-?\d+(?:\.\d+)?)\s*([a-z]+)", text.lower()):
        seconds = _UNIT_SECONDS.get(name.removesuffix("s")) or _UNIT_SECONDS.get(name)
        if seconds is None:
            return None
        total += float(amount) * seconds
    return abs(total) or None


def _series_size(node: exp.GenerateSeries) -> int:
    """Upper bound on the elements of range()/generate_series(); constant arguments only."""
    start, end, step = node.args.get("start"), node.args.get("end"), node.args.get("step")
    low, high = _number(start), _number(end)
    if low is not None and high is not None:
        stride = 1.0 if step is None else _number(step)
        if not stride:
            raise _refuse("generator step must be a non-zero constant", node)
        return int(abs(high - low) / abs(stride)) + 1
    first, last = _instant(start), _instant(end)
    seconds = _interval_seconds(step)
    if first is not None and last is not None and seconds is not None:
        return int(abs((last - first).total_seconds()) / seconds) + 1
    raise _refuse("generator bounds and step must be constants", node)


def _size(node: exp.Expr | None, call: exp.Expr) -> int:
    value = _number(node)
    if value is None:
        raise _refuse("size argument must be a constant", call)
    return int(abs(value))


def _format_factor(fmt: exp.Expr | None, call: exp.Expr) -> int:
    """Placeholders plus explicit widths of a literal printf/format string."""
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise _refuse("format string must be a literal", call)
    text = str(fmt.this)
    if "*" in text or re.search(r"\{[^{}]*\{", text):
        raise _refuse("computed widths in format strings are not allowed", call)
    numbers = re.findall(r"\d+", text)
    if any(len(n) > 9 for n in numbers):
        return MAX_MULTIPLIER + 1
    return max(1, text.count("%") + text.count("{")) + sum(int(n) for n in numbers)


def _factor(node: exp.Expr) -> int | None:
    """How many times larger than its input a call can make a value (None: not an amplifier)."""
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    if isinstance(node, exp.GenerateSeries):
        return _series_size(node)
    if isinstance(node, exp.Repeat):
        text = node.this
        if not (isinstance(text, exp.Literal) and text.is_string):
            raise _refuse("repeat() needs a literal string", node)
        return max(1, len(str(text.this))) * _size(node.args.get("times"), node)
    if isinstance(node, exp.Pad):
        return _size(node.expression, node)
    if name in _RESIZERS:
        args = node.expressions
        return _size(args[1] if len(args) > 1 else None, node)
    if isinstance(node, exp.Replace | exp.RegexpReplace):
        replacement = node.args.get("replacement")
        if not (isinstance(replacement, exp.Literal) and replacement.is_string):
            raise _refuse("the replacement must be a literal string", node)
        return _multiplier(len(str(replacement.this)) + 1, node)
    if isinstance(node, exp.Format) or name == "printf":
        fmt = node.this if isinstance(node, exp.Format) else (node.expressions or [None])[0]
        return _multiplier(_format_factor(fmt, node), node)
    return None


def _multiplier(factor: int, node: exp.Expr) -> int:
    if factor > MAX_MULTIPLIER:
        raise _refuse(f"multiplies its input by more than {MAX_MULTIPLIER}", node)
    return factor


def _check_pattern(pattern: exp.Expr | None, call: exp.Expr) -> None:
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise _refuse("regular expressions must be literal strings", call)
    text = str(pattern.this)
    if len(text) > MAX_PATTERN_CHARS:
        raise _refuse(f"regular expression longer than {MAX_PATTERN_CHARS} characters", call)
    for low, high in _COUNTED.findall(text):
        counts = [int(n) for n in (low, high) if n and len(n) <= 9]
        if any(len(n) > 9 for n in (low, high)) or any(n > MAX_PATTERN_REPEAT for n in counts):
            detail = f"counted repetition above {{{MAX_PATTERN_REPEAT}}} in a regular expression"
            raise _refuse(detail, call)


def _check_searched(text: exp.Expr | None, call: exp.Expr) -> None:
    """A regex searches column values or literals, not padded, aggregated or subquery text."""
    if text is None:
        return
    for part in text.walk():
        built = isinstance(part, exp.AggFunc | exp.Subquery | exp.Window) or (
            isinstance(part, exp.Func) and _is_amplifier(part)
        )
        if built:
            raise _refuse("regular expressions may only search column values or literals", call)


def _is_amplifier(node: exp.Expr) -> bool:
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    return isinstance(node, _AMPLIFIERS) or name in (*_RESIZERS, "printf")


def check_bounds(expression: exp.Expr) -> None:
    """Raise GuardError when a call could build an oversized value or run unbounded."""
    factors: dict[int, int] = {}
    total = 0
    for node in expression.walk():
        if isinstance(node, _REGEX_NODES):
            _check_pattern(node.expression, node)
            _check_searched(node.this, node)
        elif isinstance(node, exp.Anonymous) and node.name.lower() in _REGEX_ANONYMOUS:
            args = node.expressions
            _check_pattern(args[1] if len(args) > 1 else None, node)
            _check_searched(args[0] if args else None, node)
        if not isinstance(node, exp.Func):
            continue
        factor = _factor(node)
        if factor is None:
            continue
        if factor > MAX_GENERATED:
            raise _refuse(f"would produce more than {MAX_GENERATED:,} elements or characters", node)
        factors[id(node)] = factor
        product = factor
        parent = node.parent
        while parent is not None:
            if isinstance(parent, exp.Lambda):
                product *= MAX_GENERATED
            else:
                product *= factors.get(id(parent), 1)
            parent = parent.parent
        if product > MAX_GENERATED and product != factor:
            raise _refuse("nested size-multiplying calls are not allowed", node)
        total += product
        if total > MAX_AMPLIFIED:
            detail = f"more than {MAX_AMPLIFIED:,} generated elements or characters in total"
            raise _refuse(detail, node)
