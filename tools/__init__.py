"""The agent's tools: plain typed functions taking a ToolContext, usable without an LLM."""

from tools.context import ToolContext
from tools.describe_table import describe_table
from tools.lookup_metric import lookup_metric
from tools.run_sql import SqlToolResult, run_sql
from tools.sample_values import sample_values

TOOLS = (lookup_metric, describe_table, sample_values, run_sql)

__all__ = [
    "TOOLS",
    "SqlToolResult",
    "ToolContext",
    "describe_table",
    "lookup_metric",
    "run_sql",
    "sample_values",
]
