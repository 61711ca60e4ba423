"""Regenerate data/stripe_columns.csv from ../shared/schema-reference.md (maintainer script).

The CSV is the machine-readable list of the Stripe reporting columns the warehouse mirrors;
tests compare the DDL in data/ddl/ against it, so schema drift is caught.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

TABLES = (
    "customers",
    "customer_tax_ids",
    "products",
    "prices",
    "coupons",
    "discounts",
    "subscriptions",
    "subscription_items",
    "subscription_item_change_events",
    "invoices",
    "invoice_line_items",
    "invoice_line_item_discount_amounts",
    "invoice_line_item_tax_amounts",
    "credit_notes",
    "credit_note_line_items",
    "charges",
    "refunds",
    "disputes",
    "balance_transactions",
    "balance_transaction_fee_details",
    "transfers",
    "tax_rates",
    "tax_transactions",
    "tax_transaction_line_items",
    "tax_transaction_jurisdiction_details",
    "revenue_recognition_debits_and_credits",
    "exchange_rates_from_usd",
)
TYPE_MAP = {
    "varchar": "VARCHAR",
    "bigint": "BIGINT",
    "timestamp": "TIMESTAMP",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
}


def parse(reference: str) -> dict[str, list[tuple[str, str]]]:
    """Return {table: [(column, duckdb_type)]} for TABLES, in reference order."""
    out: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in reference.splitlines():
        m = re.match(r"^#### `([a-z_0-9]+)`", line)
        if m:
            current = m.group(1) if m.group(1) in TABLES else None
            if current:
                out[current] = []
            continue
        if current is None or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        name, typ = cells[0].strip("`"), cells[1]
        group = re.match(r"^([a-z_0-9]+)\{([a-z_0-9,]+)\}$", name)
        names = [group.group(1) + part for part in group.group(2).split(",")] if group else [name]
        for n in names:
            out[current].append((n, TYPE_MAP[typ]))
    return out


def main() -> None:
    """Write data/stripe_columns.csv."""
    ref = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/schema-reference.md").read_text()
    tables = parse(ref)
    missing = set(TABLES) - set(tables)
    if missing:
        raise SystemExit(f"not in reference: {sorted(missing)}")
    with open("data/stripe_columns.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["table", "column", "type"])
        for t in TABLES:
            for c, ty in tables[t]:
                w.writerow([t, c, ty])


if __name__ == "__main__":
    main()
