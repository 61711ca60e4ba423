"""Tokens of the agent's first request vs LangChain's SQL-agent table info, for 10 questions.

Ours: `app.agent.briefing.first_messages` (system prompt with the token-budgeted semantic
context, plus the plan request) and the JSON schemas of the four tools and `submit_plan`
(parameters = `QueryPlan.model_json_schema()`), counted with
`app.agent.tokens.count_messages` (o200k_base).

LangChain's: `SQLDatabase.get_table_info()` (CREATE TABLE of every table plus 3 sample rows), the
schema text LangChain's SQL agent and query chain put in front of the model. duckdb-engine
cannot reflect DuckDB 2.0, so each warehouse table (views excluded, as SQLDatabase does by
default) is mirrored with its columns and 3 rows of one account into a temporary SQLite file.

Run: python -m benchmarks.bench_tokens [--warehouse PATH] [--budget N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa
from langchain_community.utilities import SQLDatabase

from app.agent.briefing import build_context, first_messages
from app.agent.tokens import count_messages, count_tokens
from app.core.plan import QueryPlan
from app.core.settings import Settings
from app.semantic.catalog import warehouse_catalog
from app.semantic.load import semantic_model
from benchmarks._common import ROOT, header_line, log, table
from tools import TOOLS
from tools import tool_schemas as _tool_schemas

MODEL = "gpt-4.1-mini"
ACCOUNT, TIMEZONE, CURRENCY = "acct_demo_01", "America/New_York", "usd"
AS_OF = date(2025, 12, 31)
GOAL_RATIO = 1 / 3
QUESTIONS = (
    "What was gross volume last month?",
    "Refund rate by card brand in Q3 2025",
    "Top 5 customers by net volume this year",
    "What was MRR by plan at the end of November?",
    "Net new MRR by month in 2025",
    "How much VAT did we collect in Germany last quarter?",
    "Sales tax collected by US state in 2025",
    "Recognized revenue and deferred revenue by month this year",
    "What will our MRR be next year?",  # a forecast: the engine refuses
    "Which marketing campaign brought us the most customers?",  # not in the data
)
SQLITE_TYPES: dict[str, Any] = {
    "VARCHAR": sa.String,
    "BIGINT": sa.BigInteger,
    "DOUBLE": sa.Float,
    "BOOLEAN": sa.Boolean,
    "TIMESTAMP": sa.DateTime,
}


def tool_schemas() -> list[dict[str, Any]]:
    """OpenAI tool schemas of the four tools and submit_plan, as the agent binds them."""
    schemas = _tool_schemas(TOOLS)
    schemas.append(
        {
            "type": "function",
            "function": {
                "name": "submit_plan",
                "description": "Submit the QueryPlan that answers the question.",
                "parameters": QueryPlan.model_json_schema(),
            },
        }
    )
    return schemas


def langchain_table_info(warehouse: Path, folder: Path) -> str:
    """SQLDatabase.get_table_info() over a SQLite mirror of the warehouse (3 rows per table)."""
    engine = sa.create_engine(f"sqlite:///{folder / 'mirror.sqlite'}")
    meta = sa.MetaData()
    catalog = {name: info for name, info in warehouse_catalog().items() if not info.view_of}
    tables = {
        name: sa.Table(
            name,
            meta,
            *(
                sa.Column(c.name, SQLITE_TYPES[c.type], nullable=c.name != "merchant_id")
                for c in info.columns
            ),
        )
        for name, info in catalog.items()
    }
    meta.create_all(engine)
    with duckdb.connect(str(warehouse), read_only=True) as source, engine.begin() as target:
        for name, info in catalog.items():
            cols = ", ".join(f'"{c.name}"' for c in info.columns)
            cursor = source.execute(
                f"SELECT {cols} FROM {name} WHERE merchant_id = ? LIMIT 3", [ACCOUNT]
            )
            rows = [
                dict(zip([c.name for c in info.columns], r, strict=True)) for r in cursor.fetchall()
            ]
            if rows:
                target.execute(tables[name].insert(), rows)
    db = SQLDatabase(engine, sample_rows_in_table_info=3)
    info_text = db.get_table_info()
    engine.dispose()
    return info_text


def main() -> None:
    """Print the token table and the average ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=ROOT / "warehouse" / "demo.duckdb")
    parser.add_argument("--budget", type=int, default=Settings().llm_context_token_budget)
    args = parser.parse_args()
    if not args.warehouse.is_file():
        raise SystemExit(f"No warehouse at {args.warehouse}; build it with `make warehouse`.")
    model = semantic_model()
    tools = tool_schemas()
    with tempfile.TemporaryDirectory() as tmp:
        log("mirroring the warehouse into SQLite ...")
        lc_tokens = count_tokens(langchain_table_info(args.warehouse, Path(tmp)), MODEL)
    rows, ratios = [], []
    for q in QUESTIONS:
        messages = first_messages(
            q,
            model=model,
            as_of=AS_OF,
            account=ACCOUNT,
            timezone=TIMEZONE,
            currency=CURRENCY,
            budget_tokens=args.budget,
        )
        ours = count_messages(messages, MODEL, tools=tools)
        context = build_context(q, model, args.budget)
        ratio = ours / lc_tokens
        ratios.append(ratio)
        rows.append([q, f"{context.tokens:,}", f"{ours:,}", f"{lc_tokens:,}", f"{ratio:.3f}"])
    print(header_line("Token benchmark"))
    print(
        f"\nModel {MODEL} (o200k_base); context budget {args.budget} tokens; "
        f"{len(tools)} tool schemas ({count_messages([], MODEL, tools=tools) - 3:,} tokens).\n"
    )
    print(
        table(
            [
                "question",
                "context tokens",
                "our first request",
                "LangChain table info",
                "ratio",
            ],
            rows,
        )
    )
    mean = statistics.mean(ratios)
    verdict = "meets" if mean <= GOAL_RATIO else "misses"
    print(f"\nAverage ratio {mean:.3f} ({verdict} the goal of at most {GOAL_RATIO:.3f}).")


if __name__ == "__main__":
    main()
