"""'Why did it drop?' on the demo warehouse: the premise is checked, the change bridged exactly."""

import itertools
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from app.core.answer import Answer
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.semantic.format import format_money
from app.ui.charts import answer_chart, waterfall_frame
from app.understand.readers import why_claim

AS_OF = date(2025, 12, 31)
ACCOUNT = "acct_demo_01"


def ask(assistant: Assistant, question: str) -> Answer:
    ans = assistant.ask(Request(question=question, as_of=AS_OF, account=ACCOUNT))
    assert ans.status == "answered", ans.headline
    return ans


def cell(ans: Answer, name: str) -> Decimal:
    return Decimal(str(ans.rows[0][[c.name for c in ans.columns].index(name)]))


def pct(ans: Answer, metric: str) -> str:
    """The change in percent, exact from the money columns, rounded as the prose shows it."""
    change = cell(ans, f"{metric}_change") / abs(cell(ans, f"{metric}_previous")) * 100
    return f"{abs(change).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


@pytest.mark.parametrize(
    ("question", "claim"),
    [
        ("Why did MRR drop in March?", ("down", "drop")),
        ("why has revenue fallen", None),
        ("Why did churn go up last month?", ("up", "go up")),
        ("why did gross volume change in Q3", (None, "change")),
        ("why did refunds spike", ("up", "spike")),
        ("MRR in March", None),
    ],
)
def test_why_claim_reads_the_direction_the_question_takes_for_granted(
    question: str, claim: tuple[str | None, str] | None
) -> None:
    assert why_claim(question) == claim


def test_a_false_premise_is_said_first_then_the_drivers_bridge_the_change(
    assistant: Assistant,
) -> None:
    ans = ask(assistant, "Why did MRR drop in March?")
    assert cell(ans, "mrr_change") > 0, "MRR rose in March 2025 in the demo data"
    assert ans.headline.startswith(
        f"MRR did not drop in March 2025; it rose {pct(ans, 'mrr')} from February 2025 "
        f"({format_money(cell(ans, 'mrr_previous'), 'usd')} to "
        f"{format_money(cell(ans, 'mrr'), 'usd')})"
    )
    assert ans.explanation.startswith(ans.headline) and ans.numbers_verified
    # The bridge: February's MRR, each driver signed by the model, the rest, March's MRR.
    steps = ans.bridge
    assert [s.kind for s in (steps[0], steps[-1])] == ["start", "end"]
    assert steps[0].amount == cell(ans, "mrr_previous") and steps[-1].amount == cell(ans, "mrr")
    by_label = {s.label: s.amount for s in steps[1:-1]}
    assert by_label["New MRR"] == cell(ans, "new_mrr")
    assert by_label["Expansion MRR"] == cell(ans, "expansion_mrr")
    assert by_label["Contraction MRR"] == -cell(ans, "contraction_mrr")
    assert by_label["Churned MRR"] == -cell(ans, "churned_mrr")
    assert steps[0].amount + sum(by_label.values()) == steps[-1].amount  # exact, to the cent
    assert ans.chart is not None and ans.chart.type == "waterfall"


def test_a_true_premise_is_confirmed(assistant: Assistant) -> None:
    ans = ask(assistant, "Why did MRR grow in March?")
    assert ans.headline.startswith(f"MRR rose {pct(ans, 'mrr')} in March 2025 from February 2025")
    assert "did not" not in ans.headline and ans.numbers_verified


def test_a_true_drop_is_confirmed_without_drivers(assistant: Assistant) -> None:
    series = ask(assistant, "gross volume by month in 2025")
    values = [(r[0], Decimal(str(r[1]))) for r in series.rows]
    month = next(b for (_, a), (b, v) in itertools.pairwise(values) if v < a)
    ans = ask(assistant, f"Why did gross volume drop in {month:%B %Y}?")
    assert ans.headline.startswith(
        f"Gross volume fell {pct(ans, 'gross_volume')} in {month:%B %Y} from "
    )
    assert ans.bridge == [] and ans.numbers_verified  # no drivers in the model: no bridge


def test_the_waterfall_chart_walks_from_the_start_to_the_end(assistant: Assistant) -> None:
    ans = ask(assistant, "Why did MRR drop in March?")
    frame = waterfall_frame(ans)
    assert list(frame["step"]) == [s.label for s in ans.bridge]
    steps = list(frame.itertuples())
    assert steps[0].kind == steps[-1].kind == "Balance"
    for before, after in itertools.pairwise(steps[:-1]):
        assert before.end == after.start  # each driver starts where the last one ended
    assert steps[-2].end == pytest.approx(steps[-1].end)
    spec = answer_chart(ans)
    assert spec is not None and spec.to_dict()["mark"]["type"] == "bar"
