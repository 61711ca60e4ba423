"""The single gate every SQL passes: read-only SELECTs over warehouse tables, one account, capped.

Each check takes and returns a sqlglot expression and raises `GuardError(rule, detail)`; `CHECKS`
is the order they run in. After rendering, the DuckDB SQL is parsed again and re-checked, so what
runs is what was checked (a tenant reference that escaped scoping fails closed).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from app.core.errors import GuardError
from app.semantic.catalog import TENANT_COLUMN
from app.sql.dialects.sigma import read_dialect
from app.sql.guard.bounds import check_bounds

MAX_SQL_CHARS = 100_000

_WRITES = (
    *(exp.DML, exp.DDL, exp.Drop, exp.Alter, exp.Attach, exp.Detach, exp.Command, exp.Pragma),
    *(exp.Set, exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.Describe, exp.Show),
    *(exp.Summarize, exp.Into, exp.Install, exp.Export, exp.Analyze, exp.Cache, exp.Uncache),
    *(exp.Refresh, exp.Kill, exp.LoadData, exp.TruncateTable, exp.Grant, exp.Revoke, exp.Comment),
    *(exp.Declare, exp.Execute, exp.ExecuteSql, exp.Put, exp.Get, exp.Returning, exp.Lock),
    exp.Block,
)
_TABLE_MODIFIERS_MOVED = ("joins", "laterals", "pivots", "sample")
_SYSTEM_PREFIXES = ("duckdb_", "pragma_", "sqlite_", "pg_")
_DENIED_NAMES = """
getenv current_setting current_database current_catalog current_schema current_schemas
current_user current_role session_user user current_query current_query_id
current_connection_id current_transaction_id txid_current getvariable nextval currval setval
version platform user_agent query query_table glob sniff_csv which_secret checkpoint
force_checkpoint json_serialize_sql json_deserialize_sql json_execute_serialized_sql
col_description obj_description shobj_description in_search_path import_database copy_database
database_list database_size storage_info table_info metadata_info show show_tables
show_tables_expanded show_databases functions collations summary test_all_types
test_vector_types repeat_row icu_calendar_names add_parquet_key truncate_duckdb_logs
python_map_function sleep_ms load_extension
stats write_log setseed get_block_size
levenshtein editdist3 damerau_levenshtein jaro_similarity jaro_winkler_similarity
"""
# stats() reports whole-table column statistics (min/max of every account's rows); write_log and
# setseed change session state; the edit distances cost length² per row, past any interrupt.
_DENIED_FUNCTIONS = frozenset(_DENIED_NAMES.split())
_RENDERED_NAME = re.compile(r'\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*\(')
_DENIED_PREFIXES = (
    *("read_", "pragma_", "duckdb_", "parquet_", "pg_", "sqlite_", "postgres_", "mysql_", "has_"),
    *("iceberg_", "delta_", "http", "enable_", "disable_", "register_", "create_", "destroy_"),
    *("deregister_", "json_execute", "json_serialize", "json_deserialize"),
)


@dataclass(frozen=True)
class Policy:
    """What a statement may read: the account to scope to, lowercase relation names, the row cap."""

    account: str | None
    tables: frozenset[str]
    max_rows: int
    read_dialect: str = "duckdb"

    def __post_init__(self) -> None:
        """Fail early on an unknown dialect or a non-positive row cap."""
        Dialect.get_or_raise(self.read_dialect)
        if self.max_rows < 1:
            raise ValueError("max_rows must be at least 1")


@dataclass(frozen=True)
class Guarded:
    """A statement that passed the guard, with the DuckDB SQL to run."""

    expression: exp.Expression
    sql: str
    tables: tuple[str, ...]
    max_rows: int | None = None  # the policy's cap: the SQL returns at most max_rows + 1 rows


Check = Callable[[exp.Expression, Policy], exp.Expression]


def _fold(name: str) -> str:
    # DuckDB folds identifier case for ASCII only; a non-ASCII name then matches nothing.
    return name.lower() if name.isascii() else name


def _fragment(node: exp.Expr) -> str:
    text = node.sql(dialect="duckdb")
    return text if len(text) <= 160 else text[:157] + "..."


_PARSER_CLASS = re.compile(r"\s*for <class '[\w.]+'>")  # sqlglot's node class, not for people


def _plain(description: str, token: str) -> str:
    """A parser message in the user's words: what is wrong, without the parser's internals."""
    text = _PARSER_CLASS.sub("", description).strip()
    if text.startswith("Required keyword"):
        what = "an operator or keyword without what follows it"
        return f"something is missing before '{token}' ({what})"
    if text.startswith("Invalid expression / Unexpected token"):
        return f"unexpected '{token}'"
    if text.startswith("Expecting "):
        return f"expected '{text.removeprefix('Expecting ')}' before '{token}'"
    return text


def _syntax_error(err: ParseError) -> str:
    """A parse error in plain words with its position: "Syntax error near line 1, column 20: …"."""
    first = err.errors[0] if err.errors else {}
    token = str(first.get("highlight", ""))
    what = _plain(str(first.get("description", err)), token)
    near = f"{first.get('start_context', '')}{token}{first.get('end_context', '')}"
    where = f" near line {first.get('line')}, column {first.get('col')}" if first else ""
    return f"Syntax error{where}: {what}, in: {' '.join(near.split())}"


def parse(sql: str, policy: Policy) -> exp.Expression:
    """Parse SQL in the policy's dialect; several statements come back as one `exp.Block`."""
    if len(sql) > MAX_SQL_CHARS:
        raise GuardError("too_long", f"{len(sql)} characters; at most {MAX_SQL_CHARS} are accepted")
    try:
        parsed = sqlglot.parse(sql, read=read_dialect(policy.read_dialect))  # trino: Sigma
    except ParseError as err:
        raise GuardError("parse_error", _syntax_error(err)) from err
    except TokenError as err:  # sqlglot's message quotes the text around the spot, no position
        near = str(err).removeprefix("Error tokenizing ").strip("'")
        detail = (
            f"Syntax error: unreadable (a quote or comment left open?) in: {' '.join(near.split())}"
        )
        raise GuardError("parse_error", detail) from err
    statements = [s for s in parsed if isinstance(s, exp.Expression)]
    if not statements:
        raise GuardError("empty", "no SQL statement was given")
    return statements[0] if len(statements) == 1 else exp.Block(expressions=statements)


def single_statement(expression: exp.Expression, policy: Policy) -> exp.Expression:
    """Reject input holding more than one statement."""
    if isinstance(expression, exp.Block):
        count = len(expression.expressions)
        detail = f"{count} statements; send one. Second: {_fragment(expression.expressions[1])}"
        raise GuardError("single_statement", detail)
    return expression


def select_only(expression: exp.Expression, policy: Policy) -> exp.Expression:
    """Allow only SELECT, WITH … SELECT and set operations of them, with no writes inside."""
    if not isinstance(expression, exp.Query):
        raise GuardError("select_only", f"only SELECT queries are allowed: {_fragment(expression)}")
    for node in expression.walk():
        bodies: list[exp.Expression | None] = []
        if isinstance(node, _WRITES):
            name = node.name.upper() if isinstance(node, exp.Command) else node.key.upper()
            raise GuardError("select_only", f"{name} is not allowed: {_fragment(node)}")
        if isinstance(node, exp.CTE):
            bodies = [node.this]
        elif isinstance(node, exp.SetOperation):
            bodies = [node.this, node.expression]
        elif isinstance(node, exp.Subquery) and not isinstance(node.this, exp.Table):
            bodies = [node.this]
        for body in bodies:
            if not isinstance(body, exp.Query | exp.Values):
                shown = _fragment(body) if body is not None else "nothing"
                raise GuardError("select_only", f"only SELECT queries are allowed: {shown}")
    return expression


def _relations(
    node: exp.Expression, ctes: frozenset[str] = frozenset()
) -> Iterator[tuple[exp.Table, bool]]:
    """Yield every table reference and whether it names a CTE in scope (DuckDB's rules)."""
    found: list[tuple[exp.Table, bool]] = []
    _collect_relations(node, ctes, found)  # one walk into a list: no chain of nested generators
    return iter(found)


def _collect_relations(
    node: exp.Expression, ctes: frozenset[str], found: list[tuple[exp.Table, bool]]
) -> None:
    with_ = node.args.get("with_")
    if isinstance(with_, exp.With):
        visible = set(ctes)
        for cte in with_.expressions:
            name = _fold(cte.alias_or_name)
            recursive = bool(with_.args.get("recursive")) and isinstance(cte.this, exp.Union)
            scope = frozenset(visible | {name} if recursive else visible)
            _collect_relations(cte.this, scope, found)
            visible.add(name)
        ctes = frozenset(visible)
    if isinstance(node, exp.Table):
        qualified = node.args.get("db") or node.args.get("catalog")
        found.append((node, not qualified and _fold(node.name) in ctes))
    for key, value in node.args.items():
        if key == "with_":
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, exp.Expression):
                _collect_relations(child, ctes, found)


def allowed_relations(expression: exp.Expression, policy: Policy) -> exp.Expression:
    """Allow only allow-listed warehouse relations and CTEs in scope, unqualified."""
    for cte in expression.find_all(exp.CTE):
        name = _fold(cte.alias_or_name)
        if name.startswith(_SYSTEM_PREFIXES):
            raise GuardError("allowed_relations", f"CTE name '{name}' is reserved for the catalog")
        with_ = cte.parent
        if isinstance(with_, exp.With) and with_.args.get("recursive") and name in policy.tables:
            detail = f"recursive CTE '{name}' may not reuse a warehouse table name"
            raise GuardError("allowed_relations", detail)
    for table, is_cte in _relations(expression):
        if table.args.get("db") or table.args.get("catalog"):
            detail = f"qualified name '{_fragment(table)}' is not allowed; use the bare table name"
            raise GuardError("allowed_relations", detail)
        odd = [k for k, v in table.args.items() if v and k not in ("this", "alias", "rows_from")]
        odd = [k for k in odd if k not in _TABLE_MODIFIERS_MOVED]
        if odd:
            detail = f"table modifier '{odd[0]}' is not supported: {_fragment(table)}"
            raise GuardError("allowed_relations", detail)
        if is_cte or not isinstance(table.this, exp.Identifier):
            continue  # table functions are the next check's business
        if _fold(table.name) not in policy.tables:
            detail = (
                f"'{table.name}' is not a warehouse table (files, URLs and catalog views neither)"
            )
            raise GuardError("allowed_relations", detail)
    return expression


def no_table_functions(expression: exp.Expression, policy: Policy) -> exp.Expression:
    """Reject every function used as a relation (read_csv, range, unnest, query, …)."""
    for node in expression.find_all(exp.From, exp.Join, exp.Lateral, exp.Table):
        relation = node.this
        if isinstance(node, exp.Table):
            ok = isinstance(relation, exp.Identifier) and not node.args.get("rows_from")
        elif isinstance(node, exp.Lateral):
            ok = isinstance(relation, exp.Subquery)
        else:
            ok = isinstance(relation, exp.Table | exp.Subquery | exp.Values | exp.Lateral)
        if not ok:
            shown = _fragment(relation if isinstance(relation, exp.Expression) else node)
            raise GuardError("no_table_functions", f"table functions are not allowed: {shown}")
    return expression


def _function_names(node: exp.Func) -> set[str]:
    names = {node.sql_name().lower(), node.key.lower()}
    if isinstance(node, exp.Anonymous):
        names.add(node.name.lower())
    # The name DuckDB will see: sqlglot maps some calls to classes named otherwise
    # (version() is CurrentVersion), so the rendered call is checked too.
    rendered = _RENDERED_NAME.match(node.sql(dialect="duckdb"))
    if rendered:
        names.add(rendered.group(1).lower())
    return names


def no_dangerous_functions(expression: exp.Expression, policy: Policy) -> exp.Expression:
    """Reject file, network, catalog and settings functions; bound generators and amplifiers."""
    for node in expression.find_all(exp.Func):
        names = _function_names(node)
        denied = names & _DENIED_FUNCTIONS or {
            n for n in names if n.startswith(_DENIED_PREFIXES) or n.endswith("_scan")
        }
        if denied:
            detail = f"function {sorted(denied)[0]}() is not allowed: {_fragment(node)}"
            raise GuardError("no_dangerous_functions", detail)
    check_bounds(expression)
    return expression


def _scoped(table: exp.Table, account: str) -> exp.Subquery:
    tenant = exp.EQ(this=exp.column(TENANT_COLUMN), expression=exp.Literal.string(account))
    inner = exp.select(exp.Star()).from_(exp.Table(this=table.this.copy())).where(tenant)
    alias = table.args.get("alias") or exp.TableAlias(this=table.this.copy())
    subquery = exp.Subquery(this=inner, alias=alias.copy())
    for key in _TABLE_MODIFIERS_MOVED:
        if table.args.get(key):
            subquery.set(key, table.args[key])
    return subquery


def scope_to_account(expression: exp.Expression, policy: Policy) -> exp.Expression:
    """Replace each warehouse table `t [AS a]` by `(SELECT * FROM t WHERE merchant_id = …) AS a`."""
    account = policy.account
    if account is None:
        return expression
    tree = expression.copy()
    targets = {id(table) for table, is_cte in _relations(tree) if not is_cte}

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Table) and id(node) in targets):
            return node
        for key in _TABLE_MODIFIERS_MOVED:  # moved along, so transform will not visit them
            value = node.args.get(key)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, exp.Expression):
                    child.transform(rewrite, copy=False)
        return _scoped(node, account)

    return tree.transform(rewrite, copy=False)


def cap_rows(expression: exp.Expression, policy: Policy) -> exp.Expression:
    """Limit the outer query to max_rows + 1 rows, keeping a smaller literal LIMIT."""
    cap = policy.max_rows + 1
    limit = expression.args.get("limit")
    value = limit.expression if isinstance(limit, exp.Limit) else None
    if isinstance(limit, exp.Limit) and limit.args.get("limit_options"):
        value = None  # LIMIT 10 PERCENT, WITH TIES
    if limit is not None and not (isinstance(value, exp.Literal) and value.is_int):
        alias = exp.TableAlias(this=exp.to_identifier("capped"))  # LIMIT 10 PERCENT, LIMIT (…)
        capped = exp.Subquery(this=expression.copy(), alias=alias)
        return exp.select(exp.Star()).from_(capped).limit(cap)
    if value is not None and int(value.this) <= cap:
        return expression
    tree = expression.copy()
    tree.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
    return tree


CHECKS: tuple[Check, ...] = (
    single_statement,
    select_only,
    allowed_relations,
    no_table_functions,
    no_dangerous_functions,
    scope_to_account,
    cap_rows,
)


def _assert_scoped(expression: exp.Expression, account: str) -> None:
    """Fail closed unless every warehouse reference sits alone in the tenant subquery."""
    tenant = exp.EQ(this=exp.column(TENANT_COLUMN), expression=exp.Literal.string(account))
    for table, is_cte in _relations(expression):
        if is_cte:
            continue
        select = table.parent.parent if isinstance(table.parent, exp.From) else None
        ok = (
            isinstance(select, exp.Select)
            and isinstance(select.parent, exp.Subquery)
            and {k for k, v in select.args.items() if v} == {"expressions", "from_", "where"}
            and len(select.expressions) == 1
            and isinstance(select.expressions[0], exp.Star)
            and select.args["where"].this == tenant
            and set(k for k, v in table.args.items() if v) == {"this"}
        )
        if not ok:
            raise GuardError("scope_to_account", f"'{table.name}' escaped tenant scoping")


def _verify(sql: str, policy: Policy) -> None:
    _verified(sql, policy)


@functools.lru_cache(maxsize=256)
def _verified(sql: str, policy: Policy) -> bool:
    # Pure in (exact SQL text, policy), so a statement that passed once passes again; failures
    # raise and are never cached.
    duckdb_policy = dataclasses.replace(policy, read_dialect="duckdb")
    expression = parse(sql, duckdb_policy)
    for check in CHECKS:
        if check not in (scope_to_account, cap_rows):  # the rewrites ran already
            check(expression, duckdb_policy)
    if policy.account is not None:
        _assert_scoped(expression, policy.account)
    return True


def check_sql(sql: str | exp.Expression, policy: Policy) -> Guarded:
    """Check SQL against the policy; return it scoped, capped and rendered for DuckDB."""
    try:
        expression = sql.copy() if isinstance(sql, exp.Expression) else parse(sql, policy)
        for check in CHECKS:
            expression = check(expression, policy)
        rendered = expression.sql(dialect="duckdb", comments=False)
        _verify(rendered, policy)
        read = sorted({_fold(t.name) for t, is_cte in _relations(expression) if not is_cte})
    except RecursionError as err:
        raise GuardError("too_complex", "the statement is nested too deeply") from err
    return Guarded(expression, rendered, tuple(read), policy.max_rows)
