"""QueryPlan → one DuckDB SELECT built as a sqlglot expression."""

from app.sql.compile.compiler import compile_plan
from app.sql.compile.state import AccountInfo, CompileContext, Compiled, CompileState

__all__ = ["AccountInfo", "CompileContext", "CompileState", "Compiled", "compile_plan"]
