from pathlib import Path

import pytest
import yaml

from app.core.errors import SemanticModelError
from app.semantic.load import load_semantic_model, semantic_model

REQUIRED_METRICS = {
    "gross_volume",
    "net_volume",
    "charges_count",
    "payment_success_rate",
    "failed_payment_rate",
    "refunds_amount",
    "refunds_count",
    "refund_rate",
    "disputes_amount",
    "disputes_count",
    "dispute_rate",
    "stripe_fees",
    "payouts",
    "invoiced_amount",
    "amount_paid",
    "amount_due",
    "overdue_invoices",
    "credit_notes_amount",
    "discounts_given",
    "mrr",
    "arr",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "net_new_mrr",
    "active_subscriptions",
    "new_subscriptions",
    "canceled_subscriptions",
    "subscriber_churn_rate",
    "revenue_churn_rate",
    "net_revenue_retention",
    "arpu",
    "new_customers",
    "active_customers",
    "trial_conversions",
    "tax_collected",
    "taxable_sales",
    "exempt_sales",
    "reverse_charge_sales",
    "effective_tax_rate",
    "recognized_revenue",
    "deferred_revenue",
    "net_revenue",
}
REQUIRED_DIMENSIONS = {
    "account",
    "customer",
    "customer_country",
    "customer_state",
    "tax_jurisdiction",
    "tax_type",
    "taxability",
    "product",
    "plan",
    "billing_interval",
    "currency",
    "payment_method_type",
    "card_brand",
    "charge_status",
    "invoice_status",
    "subscription_status",
    "dispute_reason",
    "reporting_category",
}


def test_model_covers_required_metrics_and_dimensions() -> None:
    m = semantic_model()
    assert set(m.metrics) >= REQUIRED_METRICS
    assert set(m.dimensions) >= REQUIRED_DIMENSIONS


def test_every_metric_is_documented_with_unit_and_synonyms() -> None:
    for metric in semantic_model().metrics.values():
        assert metric.definition and metric.label
        assert metric.synonyms, metric.name
        if metric.aggregation not in ("ratio", "custom"):
            assert metric.table and metric.measure and metric.time


def test_stocks_are_declared_as_stocks() -> None:
    m = semantic_model()
    for name in ("mrr", "arr", "active_subscriptions", "deferred_revenue", "active_customers"):
        assert m.metrics[name].aggregation == "stock"


def test_ambiguous_words_name_a_default_or_clarify() -> None:
    amb = {w: a for a in semantic_model().ambiguous for w in a.words}
    assert amb["revenue"].default == "net_revenue" and amb["revenue"].alternatives
    assert amb["sales"].default
    assert amb["volume"].clarify


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent.parent / "data" / "semantic"
    for f in src.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text())
    metrics = yaml.safe_load((tmp_path / "metrics.yaml").read_text())
    metrics["metrics"][0]["colour"] = "blue"
    (tmp_path / "metrics.yaml").write_text(yaml.safe_dump(metrics))
    with pytest.raises(SemanticModelError):
        load_semantic_model(tmp_path)


def test_unreachable_table_in_a_metric_is_rejected(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent.parent / "data" / "semantic"
    for f in src.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text())
    metrics = yaml.safe_load((tmp_path / "metrics.yaml").read_text())
    metrics["metrics"][0]["where"] = ["disputes.status = 'won'"]  # charges cannot reach disputes
    (tmp_path / "metrics.yaml").write_text(yaml.safe_dump(metrics))
    with pytest.raises(SemanticModelError, match="unreachable"):
        load_semantic_model(tmp_path)


def test_join_graph_is_many_to_one_only() -> None:
    m = semantic_model()
    assert m.join_path("refunds", "customers") is not None
    # customers never reach their charges: that edge would multiply customer rows
    assert m.join_path("customers", "charges") is None


def test_a_breakdown_column_naming_no_dimension_is_rejected(tmp_path: Path) -> None:
    """`determines` is checked on every dimension (it was checked only on the last one)."""
    src = Path(__file__).resolve().parent.parent / "data" / "semantic"
    for f in src.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text())
    dims = yaml.safe_load((tmp_path / "dimensions.yaml").read_text())
    dims["dimensions"][0]["determines"] = ["no_such_dimension"]
    (tmp_path / "dimensions.yaml").write_text(yaml.safe_dump(dims))
    with pytest.raises(SemanticModelError, match="unknown dimension no_such_dimension"):
        load_semantic_model(tmp_path)
