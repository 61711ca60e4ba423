"""Multi-series charts: one distinct colour per series; the largest series and Other beyond that."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from app.core.answer import Answer
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.ui.charts import OTHER, SERIES_COLORS, answer_chart, series_cut
from app.ui.tables import answer_frame

AS_OF = date(2025, 12, 31)


def ask(assistant: Assistant, question: str) -> Answer:
    ans = assistant.ask(Request(question=question, as_of=AS_OF, account="acct_demo_01"))
    assert ans.status == "answered", ans.headline
    return ans


def chart_spec(ans: Answer) -> dict:
    chart = answer_chart(ans)
    assert chart is not None
    return chart.to_dict()


def series_of(spec: dict) -> set[str]:
    (rows,) = spec["datasets"].values()
    return {r["series"] for r in rows}


def test_an_additive_metric_keeps_the_largest_series_and_sums_the_rest_into_other(
    assistant: Assistant,
) -> None:
    ans = ask(assistant, "gross volume by month and by country this year")
    assert len(set(answer_frame(ans)["customer_country"])) > len(SERIES_COLORS), (
        "the demo has more countries than colours"
    )
    spec = chart_spec(ans)
    scale = spec["encoding"]["color"]["scale"]
    assert len(scale["domain"]) == len(SERIES_COLORS) and scale["domain"][-1] == OTHER
    assert len(set(scale["range"])) == len(scale["range"]), "every series has its own colour"
    assert series_of(spec) == set(scale["domain"])
    # Other is, month by month, the exact sum of the series left out
    cut = series_cut(ans)
    names = [c.name for c in ans.columns]
    period, value = names.index("period"), names.index("gross_volume")
    labels = answer_frame(ans)["customer_country"]  # as the legend names them
    expected: dict[date, Decimal] = defaultdict(Decimal)
    for row, label in zip(ans.rows, labels, strict=True):
        if label in cut.dropped:
            expected[row[period]] += Decimal(str(row[value]))
    (rows,) = spec["datasets"].values()
    drawn = {r["x"][:10]: r["value"] for r in rows if r["series"] == OTHER}
    assert drawn == {d.isoformat(): pytest.approx(float(v)) for d, v in expected.items()}
    assert cut.caption == f"Other sums the {len(cut.dropped)} smaller series; the table shows each."


def test_a_ratio_keeps_the_largest_series_and_says_the_rest_are_in_the_table(
    assistant: Assistant,
) -> None:
    ans = ask(assistant, "refund rate by month and by country this year")
    spec = chart_spec(ans)
    scale = spec["encoding"]["color"]["scale"]
    n = len(SERIES_COLORS) - 1
    assert len(scale["domain"]) == n and OTHER not in scale["domain"]  # rates do not add up
    assert len(set(scale["range"])) == n
    cut = series_cut(ans)
    assert cut.caption == (
        f"The chart shows the {n} largest series; the other {len(cut.dropped)} are in the table."
    )


def test_a_chart_with_few_series_draws_them_all(assistant: Assistant) -> None:
    ans = ask(assistant, "gross volume by month and by card brand this year")
    cut = series_cut(ans)
    assert not cut.dropped and not cut.caption
    assert series_of(chart_spec(ans)) == set(cut.kept)
