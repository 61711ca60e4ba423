"""Result equivalence for evals (EVALS.md 5.4): bags of rows, value-matched columns, exact money.

Each reference column is matched to a distinct predicted column by value, rows kept aligned. Values
are normalised per rule into keys: money to exact `Decimal` (a float is snapped to the minor unit
only when within relative 1e-12, i.e. floating-point noise, never rounded); counts to `int`; dates
to `date`; timestamps to UTC `datetime`; labels to `str`; ratios to `float` with an absolute
tolerance. A predicted value that cannot be normalised gets a key equal to nothing; a reference
that cannot be (or money not exact at its minor unit) raises `CaseError`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation, localcontext
from functools import partial
from typing import Any, Literal

from evals.cases import ColumnRule, Compare

Reason = Literal[
    "row_count",
    "wrong_values",
    "missing_column",
    "extra_column_forbidden",
    "order_mismatch",
    "unit_mismatch",
    "empty_result",
]
SEARCH_CAP = 10_000
_ZERO_DECIMAL_CODES = "bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf"
ZERO_DECIMAL = frozenset(_ZERO_DECIMAL_CODES.split())
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})  # ISO 4217 exponent 3
FLOAT_NOISE = Decimal("1e-12")
Row = tuple[Any, ...]


class CaseError(ValueError):
    """The case or its reference result cannot be used; not a failure of the prediction."""


@dataclass(frozen=True)
class Table:
    """A result: column names, rows, and optionally the engine's type names per column.

    `app.run.duckdb.Result` fits as `Table(result.columns, result.rows, result.types)`.
    """

    columns: Sequence[str]
    rows: Sequence[Row]
    types: Sequence[str] | None = None


@dataclass(frozen=True)
class Diff:
    """The first differing cell; `row` indexes the reference rows (0-based) when known."""

    row: int | None
    column: str | None
    expected: Any
    actual: Any
    currency: str | None = None


@dataclass(frozen=True)
class Match:
    """Outcome of `result_matches`; on failure `mapping` is the best-effort column mapping."""

    ok: bool
    reason: Reason | None = None
    first_diff: Diff | None = None
    mapping: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    detail: str = ""


class _Bad(Exception):
    """A value that cannot be normalised under a rule."""


class _Capped(Exception):
    """The column search exceeded SEARCH_CAP assignments."""


def minor_unit(currency: str | None) -> int:
    """Return the decimal places of a currency's minor unit (0, 2 or 3)."""
    code = (currency or "").lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def _quantize(value: Decimal, exponent: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = max(28, value.adjusted() + exponent + 3)
        return value.quantize(Decimal(1).scaleb(-exponent))


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _Bad
    return Decimal(value)


def _money(value: Any, exponent: int) -> Decimal:
    exact = _number(value)
    if not exact.is_finite():
        raise _Bad
    if isinstance(value, float):
        snapped = _quantize(exact, exponent)
        if abs(exact - snapped) <= FLOAT_NOISE * max(Decimal(1), abs(snapped)):
            return snapped
    return exact


def _integer(value: Any) -> int:
    number = _number(value)
    if not number.is_finite() or number != number.to_integral_value():
        raise _Bad
    return int(number)


def _real(value: Any) -> float | str:
    number = float(_number(value))
    return number if math.isfinite(number) else str(number)  # 'nan'/'inf' equal only themselves


def _moment(value: Any, kind: str) -> date | datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise _Bad from exc
    if not isinstance(value, date):
        raise _Bad
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    if kind == "timestamp":  # UTC; naive means UTC
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment.time() != time():  # a date: midnight on the value's own clock
        raise _Bad
    return moment.date()


def _label(value: Any, casefold: bool) -> str:
    if isinstance(value, str | bool):
        text = value if isinstance(value, str) else str(value).lower()
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        number = _number(value)
        if not number.is_finite():
            raise _Bad
        integral = number == number.to_integral_value()
        text = str(int(number)) if integral else format(Decimal(str(value)).normalize(), "f")
    return text.casefold() if casefold else text


def _key(rule: ColumnRule, value: Any, exponent: int) -> Any:
    if value is None:
        return None
    if rule.kind == "money":
        return _money(value, exponent)
    if rule.kind in ("count", "integer"):
        return _integer(value)
    if rule.kind in ("ratio", "percent"):
        return _real(value)
    if rule.kind in ("date", "timestamp"):
        return _moment(value, rule.kind)
    return _label(value, rule.casefold)


def _family(value: Any) -> str:
    if isinstance(value, bool | str):
        return type(value).__name__
    if isinstance(value, int | float | Decimal):
        return "num"
    return "time" if isinstance(value, date) else "other"


def _type_family(name: str) -> str:
    upper = name.upper()
    if upper.startswith(("DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL")) or "INT" in upper:
        return "num"
    if upper.startswith(("VARCHAR", "TEXT", "STRING", "CHAR", "ENUM")):
        return "str"
    return "time" if upper.startswith(("DATE", "TIME")) else "bool" if "BOOL" in upper else "other"


def _is_word(value: Any) -> bool:
    if not isinstance(value, str) or value.lower() in ("true", "false"):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return True
    return False


@dataclass
class _Column:
    name: str
    rule: ColumnRule
    raw: list[Any]
    keys: list[Any]
    currencies: list[str | None]
    pred_exponent: int  # finest minor unit in the column: where float predictions are snapped

    @property
    def tolerance(self) -> float | None:
        return self.rule.tolerance if self.rule.kind in ("ratio", "percent") else None

    def accepts(self, families: set[str]) -> bool:
        """Tell whether a predicted column of these value families may hold this column."""
        if self.rule.kind in ("date", "timestamp"):
            return families <= {"time", "str"}
        if self.rule.kind != "label":
            return families <= {"num"}
        return families <= (
            {"str"} if any(map(_is_word, self.raw)) else {"str", "num", "bool", "time"}
        )


def _prepare(reference: Table, compare: Compare) -> list[_Column]:
    names = list(reference.columns)
    if len(set(names)) != len(names) or set(names) != set(compare.columns):
        raise CaseError(
            f"compare.columns {sorted(compare.columns)} must name each reference column {names}"
        )
    values = {name: [row[i] for row in reference.rows] for i, name in enumerate(names)}
    columns = []
    for name in names:
        rule, raw = compare.columns[name], values[name]
        source = (
            values[rule.currency_column] if rule.currency_column else [rule.currency] * len(raw)
        )
        currencies = [c.upper() if isinstance(c, str) else None for c in source]
        exponents = [minor_unit(c) if rule.scale is None else rule.scale for c in currencies]
        keys = []
        for row, (value, exponent) in enumerate(zip(raw, exponents, strict=True)):
            try:
                key = _key(rule, value, exponent)
                if rule.kind == "money" and key is not None and _quantize(key, exponent) != key:
                    raise _Bad
            except _Bad:
                places = f" at {exponent} places (declare `scale`?)" * (rule.kind == "money")
                problem = f"{value!r} is not an exact {rule.kind}{places}"
                raise CaseError(f"reference {name!r} row {row}: {problem}") from None
            keys.append(key)
        finest = rule.scale if rule.scale is not None else max(exponents, default=2)
        columns.append(_Column(name, rule, raw, keys, currencies, finest))
    return columns


def _cells_equal(a: Any, b: Any, tolerance: float | None) -> bool:
    if tolerance is not None and isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tolerance
    return a is b if a is None or b is None else bool(a == b)


def _rows_equal(a: Row, b: Row, tolerances: list[float | None]) -> bool:
    return all(_cells_equal(x, y, t) for x, y, t in zip(a, b, tolerances, strict=True))


def _rank(cell: Any) -> tuple[int, Any]:
    if cell is None or isinstance(cell, str | float):
        return (0, 0) if cell is None else (1, cell) if isinstance(cell, str) else (2, cell)
    return (3, id(cell))


def _sort_key(row: Row) -> tuple[tuple[int, Any], ...]:
    return tuple(map(_rank, row))


def _matching(options: list[list[int]], size: int) -> list[int] | None:
    """Assign each left item a distinct right item from its options (BFS augmenting paths)."""
    owner, chosen = [-1] * size, [-1] * len(options)
    for start in range(len(options)):
        came_from: dict[int, int] = {}
        frontier, found = [start], -1
        while frontier and found < 0:
            following = []
            for left in frontier:
                for right in options[left]:
                    if right not in came_from:
                        came_from[right] = left
                        if owner[right] < 0:
                            found = right
                            break
                        following.append(owner[right])
                if found >= 0:
                    break
            frontier = following
        if found < 0:
            return None
        while found >= 0:  # flip the path back to start
            left = came_from[found]
            previous = chosen[left]
            owner[found], chosen[left] = left, found
            found = previous if left != start else -1
    return chosen


def _same_bag(left: list[Row], right: list[Row], tolerances: list[float | None]) -> bool:
    """Multiset equality of rows, with absolute tolerance on the ratio cells."""
    if len(left) != len(right):
        return False
    if all(t is None for t in tolerances):
        return Counter(left) == Counter(right)
    exact = [i for i, t in enumerate(tolerances) if t is None]
    loose = [i for i, t in enumerate(tolerances) if t is not None]
    groups: dict[Row, tuple[list[Row], list[Row]]] = defaultdict(lambda: ([], []))
    for side, rows in enumerate((left, right)):
        for row in rows:
            groups[tuple(row[i] for i in exact)][side].append(tuple(row[i] for i in loose))
    tols = [tolerances[i] for i in loose]
    for a, b in groups.values():
        a, b = sorted(a, key=_sort_key), sorted(b, key=_sort_key)
        if len(a) != len(b):
            return False
        if all(_rows_equal(x, y, tols) for x, y in zip(a, b, strict=True)):
            continue
        if len(tols) == 1:  # sorted pairing is optimal for one column
            return False
        options = [[j for j, y in enumerate(b) if _rows_equal(x, y, tols)] for x in a]
        if _matching(options, len(b)) is None:
            return False
    return True


class _Matcher:
    """One comparison: the column search and the first-difference report."""

    def __init__(self, columns: list[_Column], predicted: Table, by_name: bool) -> None:
        self.columns, self.names = columns, list(predicted.columns)
        self.values = [[row[j] for row in predicted.rows] for j in range(len(self.names))]
        self._keys: dict[tuple[int, int], list[Any]] = {}
        families = [{_family(v) for v in column if v is not None} for column in self.values]
        for family, type_name in zip(families, predicted.types or [], strict=False):
            family.add(_type_family(type_name))
        self.options = [
            [
                j
                for j, name in enumerate(self.names)
                if c.accepts(families[j]) and (not by_name or name == c.name)
            ]
            for c in columns
        ]
        self.candidates: list[list[int]] = [[] for _ in columns]
        self.units: list[list[int]] = [[] for _ in columns]
        self.nodes = 0

    def keys(self, i: int, j: int) -> list[Any]:
        """Return predicted column j normalised under reference column i's rule (cached)."""
        if (i, j) not in self._keys:
            self._keys[i, j] = [self._key(self.columns[i], v) for v in self.values[j]]
        return self._keys[i, j]

    @staticmethod
    def _key(column: _Column, value: Any) -> Any:
        try:
            return _key(column.rule, value, column.pred_exponent)
        except _Bad:
            return object()  # equal to nothing

    def rows(self, assignment: dict[int, int]) -> tuple[list[Row], list[Row], list[float | None]]:
        """Project reference and predicted rows on the assigned columns, with tolerances."""
        ref = list(zip(*(self.columns[i].keys for i in assignment), strict=True))
        pred = list(zip(*(self.keys(i, j) for i, j in assignment.items()), strict=True))
        return ref, pred, [self.columns[i].tolerance for i in assignment]

    def find_candidates(self) -> None:
        """Keep, per reference column, the predicted columns holding the same bag of values."""
        for i, column in enumerate(self.columns):
            ref, tol = [(k,) for k in column.keys], [column.tolerance]
            self.candidates[i] = [
                j for j in self.options[i] if _same_bag(ref, [(k,) for k in self.keys(i, j)], tol)
            ]
            if tol[0] is None or self.candidates[i]:
                continue
            for j in self.options[i]:  # a ratio that matches only ×100 or ÷100
                scaled = [
                    [(k * f if isinstance(k, float) else k,) for k in self.keys(i, j)]
                    for f in (100.0, 0.01)
                ]
                if any(_same_bag(ref, s, tol) for s in scaled):
                    self.units[i].append(j)

    def search(self, strict: bool) -> tuple[dict[int, int] | None, dict[int, int] | None]:
        """Return (a full match, else None; the first bag-equal mapping that failed the order)."""
        order = sorted(range(len(self.columns)), key=lambda i: len(self.candidates[i]))
        assignment: dict[int, int] = {}
        unordered: list[dict[int, int]] = []

        def extend(depth: int) -> dict[int, int] | None:
            if depth == len(order):
                ref, pred, tols = self.rows(assignment)
                if not strict or all(
                    _rows_equal(r, p, tols) for r, p in zip(ref, pred, strict=True)
                ):
                    return dict(assignment)
                unordered.append(dict(assignment))
                return None
            i = order[depth]
            for j in self.candidates[i]:
                if j in assignment.values():
                    continue
                self.nodes += 1
                if self.nodes > SEARCH_CAP:
                    raise _Capped
                assignment[i] = j
                if (depth == 0 or _same_bag(*self.rows(assignment))) and (
                    found := extend(depth + 1)
                ):
                    return found
                del assignment[i]
            return None

        return extend(0), (unordered[0] if unordered else None)

    def prefer(self) -> dict[int, int]:
        """Pick a plausible mapping to report: value matches, unit slips, same name, overlap."""

        def bucket(keys: list[Any]) -> Counter[Any]:
            return Counter(round(k, 6) if isinstance(k, float) else k for k in keys)

        def rank(i: int, j: int) -> tuple[bool, bool, bool, int, int]:
            shared = sum((bucket(self.columns[i].keys) & bucket(self.keys(i, j))).values())
            slips = (j not in self.candidates[i], j not in self.units[i])
            return (*slips, self.names[j] != self.columns[i].name, -shared, j)

        ranked = [sorted(o, key=partial(rank, i)) for i, o in enumerate(self.options)]
        return dict(enumerate(_matching(ranked, len(self.names)) or []))

    def first_diff(self, assignment: dict[int, int], ordered: bool) -> Diff | None:
        """Pair equal rows (in order, or as bags); report the first unpaired reference row."""
        ref, pred, tols = self.rows(assignment)
        if ordered:
            rows = zip(ref, pred, strict=True)
            r = next((r for r, (a, b) in enumerate(rows) if not _rows_equal(a, b, tols)), None)
            return None if r is None else self._cell(assignment, r, r)
        exact = [k for k, t in enumerate(tols) if t is None]
        pool: dict[Row, list[int]] = defaultdict(list)
        for p, row in enumerate(pred):
            pool[tuple(row[k] for k in exact)].append(p)
        ref_left = []
        for r, row in enumerate(ref):
            group = pool[tuple(row[k] for k in exact)]
            hit = next((p for p in group if _rows_equal(row, pred[p], tols)), None)
            ref_left.append(r) if hit is None else group.remove(hit)
        pred_left = sorted(p for group in pool.values() for p in group)
        if ref_left and pred_left:
            r = ref_left[0]
            closest = max(
                pred_left[:5000], key=lambda p: sum(map(_cells_equal, ref[r], pred[p], tols))
            )
            return self._cell(assignment, r, closest)
        if ref_left:  # more reference rows than predicted ones
            return Diff(
                ref_left[0], None, tuple(c.raw[ref_left[0]] for c in self._mapped(assignment)), None
            )
        if pred_left:  # more predicted rows, e.g. double counting
            return Diff(
                None, None, None, tuple(self.values[j][pred_left[0]] for j in assignment.values())
            )
        return None

    def _mapped(self, assignment: dict[int, int]) -> list[_Column]:
        return [self.columns[i] for i in assignment]

    def _cell(self, assignment: dict[int, int], r: int, p: int) -> Diff:
        ref, pred, tols = self.rows(assignment)
        k = next(k for k, t in enumerate(tols) if not _cells_equal(ref[r][k], pred[p][k], t))
        i, j = list(assignment.items())[k]
        column = self.columns[i]
        currency = column.currencies[r] if column.rule.kind == "money" else None
        return Diff(r, column.name, column.raw[r], self.values[j][p], currency)

    def result(
        self, assignment: dict[int, int], reason: Reason | None = None, detail: str = ""
    ) -> Match:
        """Build the Match; failures get the first differing cell appended to the detail."""
        assignment = dict(sorted(assignment.items()))
        mapping = {self.columns[i].name: j for i, j in assignment.items()}
        extra = [name for j, name in enumerate(self.names) if j not in assignment.values()]
        if reason is None or reason == "extra_column_forbidden":
            return Match(reason is None, reason, None, mapping, extra, detail)
        diff = self.first_diff(assignment, ordered=reason == "order_mismatch")
        return Match(
            False, reason, diff, mapping, extra, "; ".join(filter(None, [detail, _describe(diff)]))
        )


def _describe(diff: Diff | None) -> str:
    if diff is None:
        return ""
    if diff.column is None:
        if diff.expected is not None:
            return f"reference row {diff.row} {diff.expected} has no match"
        return f"unexpected predicted row {diff.actual}"
    expected, actual = (_show(v) for v in (diff.expected, diff.actual))
    money = f" {diff.currency}" if diff.currency else ""
    return f"row {diff.row}, column `{diff.column}`: expected {expected}{money}, got {actual}"


def _show(value: Any) -> str:
    return "NULL" if value is None else repr(value) if isinstance(value, str) else str(value)


def result_matches(
    reference: Table,
    predicted: Table,
    compare: Compare,
    *,
    allow_empty: bool = False,
    by_name: bool = False,
) -> Match:
    """Compare a predicted result with the reference under EVALS.md 5.4."""
    if any(len(row) != len(predicted.columns) for row in predicted.rows):
        raise ValueError("predicted rows must have one value per predicted column")
    matcher = _Matcher(_prepare(reference, compare), predicted, by_name)
    if _matching(matcher.options, len(predicted.columns)) is None:
        lacking = [c.name for c, o in zip(matcher.columns, matcher.options, strict=True) if not o]
        detail = f"no distinct predicted column can hold {lacking or list(reference.columns)}"
        return Match(False, "missing_column", detail=detail)
    n_ref, n_pred = len(reference.rows), len(predicted.rows)
    if n_ref != n_pred:
        return matcher.result(matcher.prefer(), "row_count", f"expected {n_ref} rows, got {n_pred}")
    if n_ref == 0 and not allow_empty:
        detail = "both results are empty; the case does not declare `empty: true`"
        return Match(False, "empty_result", detail=detail)
    matcher.find_candidates()
    try:
        found, unordered = (
            matcher.search(strict=compare.order == "strict") if n_ref else (matcher.prefer(), None)
        )
    except _Capped:
        return matcher.result(
            matcher.prefer(), "wrong_values", f"no column mapping within {SEARCH_CAP} assignments"
        )
    if found is not None:
        if len(predicted.columns) > len(found) and compare.extra_columns == "forbid":
            return matcher.result(found, "extra_column_forbidden", "extra columns are forbidden")
        return matcher.result(found)
    if unordered is not None:
        return matcher.result(unordered, "order_mismatch", "same rows in a different order")
    unmatched = [i for i, c in enumerate(matcher.candidates) if not c]
    if unmatched and all(matcher.units[i] for i in unmatched):
        names = [matcher.columns[i].name for i in unmatched]
        return matcher.result(
            matcher.prefer(), "unit_mismatch", f"{names} match only after ×100 or ÷100"
        )
    return matcher.result(matcher.prefer(), "wrong_values", "values differ")
