"""Write data/ddl/*.sql from data/stripe_columns.csv plus our own column comments (maintainer script)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

FILES = {
    "10_customers_catalog.sql": [
        "customers",
        "customer_tax_ids",
        "products",
        "prices",
        "coupons",
        "discounts",
    ],
    "20_subscriptions.sql": [
        "subscriptions",
        "subscription_items",
        "subscription_item_change_events",
    ],
    "30_invoices.sql": [
        "invoices",
        "invoice_line_items",
        "invoice_line_item_discount_amounts",
        "invoice_line_item_tax_amounts",
        "credit_notes",
        "credit_note_line_items",
    ],
    "40_payments.sql": [
        "charges",
        "refunds",
        "disputes",
        "balance_transactions",
        "balance_transaction_fee_details",
        "transfers",
    ],
    "50_tax.sql": [
        "tax_rates",
        "tax_transactions",
        "tax_transaction_line_items",
        "tax_transaction_jurisdiction_details",
    ],
    "60_revenue_recognition.sql": ["revenue_recognition_debits_and_credits"],
    "70_fx.sql": ["exchange_rates_from_usd"],
}
TABLE_COMMENTS = {
    "customers": "One row per customer of the merchant account; billing and tax address included.",
    "customer_tax_ids": "Tax registration numbers (VAT, GST, EIN...) customers gave; a valid one "
    "makes EU B2B sales reverse-charge.",
    "products": "What the merchant sells (one row per product).",
    "prices": "Unit prices of products: one-time or recurring (interval + count), per currency.",
    "coupons": "Coupon definitions: percent or amount off, and for how long.",
    "discounts": "A coupon applied to a customer or subscription.",
    "subscriptions": "Recurring billing agreements; status tells whether they count toward MRR.",
    "subscription_items": "One row per price on a subscription, with its quantity.",
    "subscription_item_change_events": "MRR ledger: each row changes a subscription item's "
    "monthly recurring revenue by mrr_change; the running sum is MRR.",
    "invoices": "Bills sent to customers. total = subtotal - discounts + tax.",
    "invoice_line_items": "Lines of an invoice; period_start/period_end are the service period.",
    "invoice_line_item_discount_amounts": "Discount taken off each invoice line, per discount.",
    "invoice_line_item_tax_amounts": "Tax charged on each invoice line, per tax rate.",
    "credit_notes": "Documents reducing what was billed on an invoice (amount includes tax).",
    "credit_note_line_items": "Lines of a credit note (amount excludes tax).",
    "charges": "Payment attempts, successful or failed, with card details.",
    "refunds": "Money returned to customers against a charge.",
    "disputes": "Chargebacks and inquiries raised by card holders' banks.",
    "balance_transactions": "Ledger of every movement in the Stripe balance: net = amount - fee.",
    "balance_transaction_fee_details": "Fee components of a balance transaction.",
    "transfers": "Payouts to the merchant's bank (type bank_account/card) and Connect transfers.",
    "tax_rates": "Tax rates (jurisdiction, percentage, tax type) used on invoice lines.",
    "tax_transactions": "Stripe Tax records of tax collected (transaction) or given back (reversal).",
    "tax_transaction_line_items": "Tax per line of a tax transaction, in presentment currency.",
    "tax_transaction_jurisdiction_details": "Tax per line and jurisdiction with taxability; only "
    "amount_tax adds up across jurisdictions.",
    "revenue_recognition_debits_and_credits": "Revenue recognition journal: each row debits one "
    "ledger account and credits another by amount (minor units, DOUBLE).",
    "exchange_rates_from_usd": "Daily mid-market rates from USD as a JSON string {currency: rate}.",
}
OVERRIDES = {
    "*.merchant_id": "Merchant account that owns this row (tenant column).",
    "*.currency": "Lowercase ISO 4217 code of this row's amounts.",
    "*.created": "When the object was created (UTC).",
    "charges.amount": "Amount the payment tried to collect, minor units of currency.",
    "charges.amount_refunded": "Running total refunded on this charge, minor units.",
    "charges.status": "succeeded, pending or failed.",
    "charges.paid": "True when the charge succeeded.",
    "charges.card_brand": "Display-cased card brand: Visa, MasterCard, American Express...",
    "charges.payment_method_type": "Payment method family: card, sepa_debit, us_bank_account...",
    "charges.failure_code": "Why the charge failed, when it did.",
    "charges.invoice_id": "Invoice this charge pays, if any.",
    "refunds.amount": "Refunded amount, minor units of currency.",
    "refunds.reason": "duplicate, fraudulent, requested_by_customer or partial_capture.",
    "refunds.status": "Refund status; only succeeded refunds moved money.",
    "disputes.amount": "Disputed amount, minor units of currency.",
    "disputes.status": "needs_response, under_review, won, lost, or warning_* for inquiries.",
    "disputes.reason": "Reason the card holder gave: fraudulent, product_not_received...",
    "balance_transactions.amount": "Gross effect on the balance, minor units; negative = money out.",
    "balance_transactions.fee": "Stripe fees on this movement, minor units, positive when charged.",
    "balance_transactions.net": "amount - fee: the net effect on the balance, minor units.",
    "balance_transactions.reporting_category": "Accounting group: charge, refund, dispute, "
    "dispute_reversal, fee, payout...",
    "balance_transactions.type": "Low-level transaction type; prefer reporting_category.",
    "balance_transactions.source_id": "Object that caused the movement (charge, refund, dispute, "
    "payout); filter on type first.",
    "balance_transactions.automatic_transfer_id": "Payout (transfers.id) that paid this out.",
    "balance_transactions.available_on": "When the net funds become available for payout (UTC).",
    "transfers.amount": "Amount paid out, minor units.",
    "transfers.type": "bank_account or card for payouts; stripe_account for Connect transfers.",
    "transfers.status": "paid, pending, in_transit, canceled or failed.",
    "transfers.date": "When the payout is expected in the bank (UTC).",
    "invoices.date": "When the invoice was created (UTC); invoices have no created column.",
    "invoices.subtotal": "Sum of line amounts before invoice discounts and exclusive tax, minor units.",
    "invoices.tax": "Total tax on the invoice, minor units.",
    "invoices.total": "subtotal - discounts + tax, minor units.",
    "invoices.amount_due": "What the customer must pay, minor units.",
    "invoices.amount_paid": "What has been paid, minor units.",
    "invoices.amount_remaining": "amount_due - amount_paid, minor units.",
    "invoices.status": "draft, open, paid, uncollectible or void.",
    "invoices.due_date": "Payment due date for send_invoice invoices (UTC).",
    "invoices.status_transitions_paid_at": "When the invoice was paid (UTC).",
    "invoices.status_transitions_finalized_at": "When the invoice was finalized (UTC).",
    "invoice_line_items.amount": "Line amount before discounts and exclusive tax, minor units.",
    "invoice_line_items.period_start": "Start of the service period this line pays for.",
    "invoice_line_items.period_end": "End of the service period this line pays for.",
    "invoice_line_items.subscription": "Subscription that generated the line, if any.",
    "invoice_line_item_tax_amounts.amount": "Tax on the line for one rate, minor units.",
    "invoice_line_item_tax_amounts.taxable_amount": "Base the tax was computed on, minor units.",
    "invoice_line_item_discount_amounts.amount": "Discount taken off the line, minor units.",
    "subscription_item_change_events.mrr_change": "Change of monthly recurring revenue, minor units.",
    "subscription_item_change_events.local_event_timestamp": "Event time in the merchant's "
    "reporting time zone (not UTC).",
    "subscription_item_change_events.event_timestamp": "Event time (UTC).",
    "subscription_item_change_events.event_type": "ACTIVE_START, ACTIVE_END, ACTIVE_UPGRADE, "
    "ACTIVE_DOWNGRADE, ACTIVE_QUANTITY_INCREASE or ACTIVE_QUANTITY_DECREASE.",
    "subscription_items.created": "When the item was created, Unix seconds (bigint, not timestamp).",
    "subscriptions.status": "trialing, active, past_due, canceled, unpaid, incomplete...",
    "subscriptions.canceled_at": "When cancellation was requested (UTC).",
    "subscriptions.ended_at": "When the subscription ended (UTC).",
    "prices.unit_amount": "Price per unit, minor units of currency.",
    "prices.recurring_interval": "Billing interval: day, week, month or year (NULL if one-time).",
    "prices.nickname": "Internal plan name, e.g. 'Pro monthly'.",
    "customers.address_country": "Customer billing country, ISO 3166-1 alpha-2.",
    "customers.address_state": "Customer billing state or province code (ISO 3166-2 suffix).",
    "customers.tax_exempt": "none, exempt or reverse.",
    "tax_transaction_jurisdiction_details.amount_tax": "Tax for this jurisdiction, minor units of "
    "currency; sums to the line's tax.",
    "tax_transaction_jurisdiction_details.amount_taxable": "Taxable base in this jurisdiction; "
    "repeated per jurisdiction, do not sum across jurisdictions.",
    "tax_transaction_jurisdiction_details.taxability_reason": "Why taxable or not: standard_rated, "
    "reverse_charge, customer_exempt, not_collecting...",
    "tax_transaction_jurisdiction_details.tax_type": "vat, sales_tax, gst, hst, pst, qst...",
    "tax_transaction_line_items.amount": "Line amount, minor units; includes tax when "
    "tax_behavior is inclusive.",
    "tax_transaction_line_items.amount_tax": "Tax on the line, minor units.",
    "tax_transactions.type": "transaction (tax collected) or reversal (tax given back).",
    "tax_transactions.posted_at": "When the tax liability was assumed or reduced (UTC).",
    "revenue_recognition_debits_and_credits.amount": "Amount moved, DOUBLE in minor units of "
    "currency.",
    "revenue_recognition_debits_and_credits.debit": "Ledger account debited, e.g. DeferredRevenue.",
    "revenue_recognition_debits_and_credits.credit": "Ledger account credited, e.g. Revenue.",
    "revenue_recognition_debits_and_credits.accounting_period_date": "Start of the accounting "
    "month this entry belongs to.",
    "exchange_rates_from_usd.date": "Day of the rates, as a midnight timestamp (UTC).",
    "exchange_rates_from_usd.buy_currency_exchange_rates": "JSON string: units of each currency "
    'per 1 USD, e.g. {"eur": 0.91}.',
    "exchange_rates_from_usd.sell_currency": "Always usd.",
}


def _words(name: str) -> str:
    return name.replace("_", " ")


def comment_for(table: str, column: str, typ: str) -> str:
    """Return our own short description of one column."""
    for key in (f"{table}.{column}", f"*.{column}"):
        if key in OVERRIDES:
            return OVERRIDES[key]
    if column == "id":
        return f"Stripe identifier of this {table.rstrip('s').replace('_', ' ')}."
    if column.endswith("_id"):
        return f"Identifier of the related {_words(column[:-3])}."
    for part in ("address_", "shipping_address_", "customer_address_"):
        if part in column:
            return f"{_words(column).capitalize()} (address part)."
    if typ == "TIMESTAMP":
        return f"Time of: {_words(column)} (UTC)."
    if typ == "BOOLEAN":
        return f"Flag: {_words(column)}."
    if typ == "BIGINT" and ("amount" in column or column in {"balance", "tax", "total"}):
        return f"{_words(column).capitalize()}, minor units of currency."
    return f"{_words(column).capitalize()}."


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def main() -> None:
    """Write the DDL files."""
    cols: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with open("data/stripe_columns.csv") as fh:
        for row in csv.DictReader(fh):
            cols[row["table"]].append((row["column"], row["type"]))
    for fname, tables in FILES.items():
        parts = [
            f"-- Stripe reporting (Sigma) tables mirrored by Ledgerlens: {', '.join(tables)}.",
            "-- Generated by scripts/write_ddl.py from data/stripe_columns.csv; edit there.",
            "",
        ]
        for t in tables:
            body = ["    merchant_id VARCHAR NOT NULL"]
            for c, ty in cols[t]:
                body.append(f'    "{c}" {ty}')
            parts.append(f"CREATE TABLE {t} (\n" + ",\n".join(body) + "\n);")
            parts.append(f"COMMENT ON TABLE {t} IS {_q(TABLE_COMMENTS[t])};")
            parts.append(f"COMMENT ON COLUMN {t}.merchant_id IS {_q(OVERRIDES['*.merchant_id'])};")
            for c, ty in cols[t]:
                parts.append(f'COMMENT ON COLUMN {t}."{c}" IS {_q(comment_for(t, c, ty))};')
            parts.append("")
        Path("data/ddl", fname).write_text("\n".join(parts))


if __name__ == "__main__":
    main()
