"""The agent's tools: plain typed functions taking a ToolContext, usable without an LLM.

`TOOLS` is the one registry: the agent binds exactly these, with schemas derived from each
function's signature and docstring (`tools.schema`).
"""

from tools.context import ToolContext
from tools.describe_table import describe_table
from tools.lookup_metric import lookup_metric
from tools.run_sql import SqlToolResult, run_sql
from tools.sample_values import sample_values
from tools.schema import ToolSpec, tool_schemas, tool_spec

TOOLS = (lookup_metric, describe_table, sample_values, run_sql)

__all__ = [
    "TOOLS",
    "SqlToolResult",
    "ToolContext",
    "ToolSpec",
    "describe_table",
    "lookup_metric",
    "run_sql",
    "sample_values",
    "tool_schemas",
    "tool_spec",
]
