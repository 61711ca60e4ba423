"""Draw a chat turn: headline metric, chart, table, SQL, definitions, CSV, follow-up buttons.

Everything that comes from data, the user or the model is escaped (text.escape_md) or drawn in a
dataframe, so a customer called `![x](http://…)` or `<script>` shows as those characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st

from app.core.answer import Answer
from app.explain.chips import answer_chips
from app.semantic.format import (
    format_bucket,
    format_change,
    format_ratio,
    format_value,
    llm_usage_text,
    plural,
)
from app.semantic.load import semantic_model
from app.ui import backend
from app.ui.actions import render_actions, too_long_editor
from app.ui.charts import answer_chart, series_cut
from app.ui.chat import Turn
from app.ui.followups import follow_ups
from app.ui.tables import csv_bytes, render_table
from app.ui.text import escape_delta, escape_md, one_line

# Metrics where a rise is bad news: their deltas are coloured the other way round.
LOWER_IS_BETTER = frozenset(
    {
        "refunds_amount", "refunds_count", "refund_rate", "disputes_amount", "disputes_count",
        "dispute_rate", "stripe_fees", "failed_charges_count", "failed_payment_rate",
        "overdue_amount", "overdue_invoices", "contraction_mrr", "churned_mrr", "churned_revenue",
        "revenue_churn_rate", "subscriber_churn_rate", "canceled_subscriptions",
        "credit_notes_amount", "discounts_given",
    }
)  # fmt: skip
_COMPARISON = {
    "previous_period": "vs previous period",
    "same_period_last_year": "vs a year earlier",
}

# Colour and icon of each kind of chip (Streamlit's bundled Material Symbols, no web font).
CHIP_STYLE = {
    "metric": ("blue", ":material/functions:"),
    "breakdown": ("gray", ":material/stacked_bar_chart:"),
    "filter": ("orange", ":material/filter_alt:"),
    "period": ("violet", ":material/calendar_month:"),
    "currency": ("green", ":material/payments:"),
}
Ask = Callable[[str], None]
USER = ":material/person:"
ASSISTANT = ":material/query_stats:"
QUESTION_SHOWN = 600  # characters of a question drawn in its bubble


def render_turn(turn: Turn, *, key: str, on_ask: Ask | None) -> None:
    """Draw the question and the reply; buttons (when `on_ask` is given) queue a new question."""
    with st.chat_message("user", avatar=USER):
        st.markdown(escape_md(shown_question(turn.question)))
    with st.chat_message("assistant", avatar=ASSISTANT):
        render_reply(turn, key=key, on_ask=on_ask)


def shown_question(question: str, limit: int = QUESTION_SHOWN) -> str:
    """The question as its bubble shows it: a very long paste is cut, saying how much was."""
    if len(question) <= limit:
        return question
    rest = len(question) - limit
    return f"{question[:limit]}… ({rest:,} more characters)"


def render_reply(turn: Turn, *, key: str, on_ask: Ask | None) -> None:
    """Draw what came back for one turn."""
    if turn.steps:
        with st.expander(f"Agent steps ({len(turn.steps)})"):
            for s in turn.steps:
                st.markdown(escape_md(step_text(s)))
    if turn.message:
        st.error(escape_md(turn.message))
        return
    ans = turn.answer
    if ans is None:
        return
    verified_badge(ans)
    badge = ans.verified.note if ans.verified is not None else None
    for notice in ans.notices:
        if notice != badge:  # the badge is the first notice too: drawn once, above
            st.info(escape_md(notice))
    if ans.status == "answered":
        render_answer(ans, key=key)
        buttons(follow_ups(ans.plan, semantic_model()), key=key, on_ask=on_ask)
    elif ans.status == "clarify":
        st.markdown(escape_md(ans.headline))
        choices = ans.clarification.choices if ans.clarification else ()
        labelled = [(c.label, c.question) for c in choices]
        buttons([q for _, q in labelled], key=key, on_ask=on_ask, labels=[lb for lb, _ in labelled])
    elif ans.status == "refused":
        st.warning(escape_md(ans.headline))
        too_long = ans.refusal is not None and ans.refusal.reason_class == "too_long"
        if too_long and on_ask is not None:
            too_long_editor(turn, key=key, on_ask=on_ask)
        if ans.suggestions:
            st.caption("You could ask:")
        buttons(ans.suggestions[:3], key=key, on_ask=on_ask)
    elif ans.status == "rejected":
        st.error(escape_md(f"That query was not run: {one_line(ans.error or ans.headline)}"))
    else:
        st.error(escape_md(f"{ans.headline} {one_line(ans.error or '')}".strip()))
    render_actions(turn, key=key)


def verified_badge(ans: Answer) -> None:
    """'Verified by … on …' when the answer matches a verification that holds; else why not."""
    if ans.verified is None:
        return
    if ans.verified.stale is None:
        st.success(escape_md(ans.verified.note), icon=":material/verified:")
    else:
        st.warning(escape_md(ans.verified.note), icon=":material/gpp_maybe:")


def step_text(step: Any) -> str:
    """A streamed agent step as one line of text."""
    text = getattr(step, "text", None)
    return str(text if text is not None else step)


def render_answer(ans: Answer, *, key: str) -> None:
    """Headline (with the comparison delta), chart, table and the details of an answer."""
    headline(ans)
    render_chips(ans)
    if ans.read_back:
        st.caption(escape_md(f"Read as: {ans.read_back}"))
    if ans.ignored:
        st.caption(escape_md("Ignored: " + ", ".join(f"'{w}'" for w in ans.ignored)))
    if ans.explanation:
        st.markdown(escape_md(ans.explanation))
    chart = answer_chart(ans)
    has_table = bool(ans.rows) and (len(ans.rows) > 1 or len(ans.columns) > 1)
    height = min(38 + 35 * (len(ans.rows) + (ans.total is not None)), 400)
    cut = series_cut(ans).caption
    if chart is not None and has_table:
        tab_chart, tab_table = st.tabs(["Chart", f"Table ({plural(len(ans.rows), 'row')})"])
        with tab_chart:
            st.altair_chart(chart, width="stretch")
            if cut:
                st.caption(escape_md(cut))
        with tab_table:
            render_table(ans, key=f"{key}-table", height=height)
    elif chart is not None:
        st.altair_chart(chart, width="stretch")
    elif has_table:
        render_table(ans, key=f"{key}-table", height=height)
    if ans.truncated:
        cap = backend.settings().max_rows
        st.warning(
            escape_md(
                f"Showing {len(ans.rows):,} rows; the result has more (the max_rows setting "
                f"is {cap:,})."
            )
        )
    details(ans)
    st.download_button(
        "Download CSV",
        data=csv_bytes(ans),
        file_name=f"ledgerlens-{_slug(ans.question or 'answer')}.csv",
        mime="text/csv",
        key=f"{key}-csv",
        on_click="ignore",
        icon=":material/download:",
    )


def headline(ans: Answer) -> None:
    """The headline as a metric, with the change against the comparison period when planned."""
    label = ans.definitions[0].label if ans.definitions else "Result"
    when = ans.period.label if ans.period and ans.period.label else ""
    if not when and ans.plan is not None and ans.plan.time is not None:
        when = ans.plan.time.label
    value = ans.headline
    figure = _figure(ans)  # the tile shows the figure; its label says what it is
    if figure is not None and _is_total(ans):
        value, when = figure, f"{when} · total" if when else "total"
    elif figure is not None and (latest := _latest_period(ans)):
        value, when = figure, f"{latest} (latest)"
    elif figure is not None and _is_why(ans):  # the premise sentence is the explanation's first
        value = figure
    delta = comparison_delta(ans)
    st.metric(
        escape_md(f"{label} · {when}" if when else label),
        escape_md(value),
        delta=escape_delta(delta.text),
        delta_color=delta.color,
        delta_arrow=delta.arrow,
        delta_description=delta.note,
        help=escape_md(ans.definitions[0].definition) if ans.definitions else None,
    )


def chips_markdown(ans: Answer) -> str:
    """The answer's chips (metric, breakdown, filters, period, currency) as Markdown badges."""
    return " ".join(
        f":{CHIP_STYLE[c.kind][0]}-badge[{CHIP_STYLE[c.kind][1]} {escape_md(c.text)}]"
        for c in answer_chips(ans, semantic_model())
    )


def render_chips(ans: Answer) -> None:
    """Draw what the answer is about as a row of chips, when it has a plan."""
    if text := chips_markdown(ans):
        st.markdown(text)


def _figure(ans: Answer) -> str | None:
    """The headline's figure alone (the answer's value, formatted like its first metric)."""
    col = next((c for c in ans.columns if c.kind in ("money", "count", "ratio")), None)
    if ans.value is None or col is None:
        return None
    names = [c.name for c in ans.columns]
    currency = str(ans.rows[0][names.index("currency")]) if "currency" in names else None
    return format_value(ans.value, col, currency)


def _is_why(ans: Answer) -> bool:
    """Whether the answer explains a change ("why did it drop?"): its tile shows the figure."""
    plan = ans.plan
    return bool(ans.bridge) or (
        plan is not None
        and plan.comparison is not None
        and any(a.key == "why_change" for a in plan.assumptions)
    )


def _is_total(ans: Answer) -> bool:
    """Whether the headline is the Total of the rows (a breakdown or series that adds up)."""
    if ans.total is None or ans.value is None:
        return False
    first = next((i for i, c in enumerate(ans.columns) if c.kind in ("money", "count", "ratio")), 0)
    return ans.total[first] is not None and ans.total[first] == ans.value


def _latest_period(ans: Answer) -> str | None:
    """The last bucket with a figure of a single series: what a headline without total reports."""
    plan = ans.plan
    if plan is None or not plan.grain or plan.dimensions or not ans.rows:
        return None
    names = [c.name for c in ans.columns]
    first = next((i for i, c in enumerate(ans.columns) if c.kind in ("money", "count", "ratio")), 0)
    last = next((r for r in reversed(ans.rows) if r[first] is not None), ans.rows[-1])
    value = last[names.index("period")] if "period" in names else None
    return format_bucket(value, plan.grain) if isinstance(value, date) else None


@dataclass(frozen=True)
class Delta:
    """A metric's change for st.metric: its text, what it is against, colour and arrow.

    The colour and arrow are set here because the text's minus is the typographic one (−),
    which Streamlit would read as a rise.
    """

    text: str | None = None
    note: str | None = None
    color: Any = "off"
    arrow: Any = "off"


def comparison_delta(ans: Answer, metric: str | None = None, *, whole: bool = False) -> Delta:
    """The change against the comparison period from the `<m>_change` columns, if any."""
    plan = ans.plan
    if plan is None or plan.comparison is None or not ans.rows or not plan.metrics:
        return Delta()
    m = metric or plan.metrics[0]
    names = [c.name for c in ans.columns]
    if f"{m}_change" not in names:
        return Delta()
    row = ans.rows[-1] if plan.grain else ans.rows[0]
    col = ans.columns[names.index(f"{m}_change")]
    change = row[names.index(f"{m}_change")]
    if change is None:
        return Delta()
    text = format_change(change, col, whole=whole)
    pct = row[names.index(f"{m}_change_pct")] if f"{m}_change_pct" in names else None
    if pct is not None and col.kind != "ratio":
        text += f" ({format_ratio(pct, 1, signed=True)})"
    size = Decimal(str(change))
    if size == 0:
        return Delta(text, _COMPARISON.get(plan.comparison.kind))
    good = (size > 0) != (m in LOWER_IS_BETTER)
    return Delta(
        text,
        _COMPARISON.get(plan.comparison.kind),
        color="green" if good else "red",
        arrow="up" if size > 0 else "down",
    )


def details(ans: Answer) -> None:
    """Backend and timing line, the SQL, and the definitions and assumptions."""
    who = "Semantic engine" if ans.backend == "engine" else ans.backend
    if ans.llm is not None:
        who += f" · {llm_usage_text(ans.llm)}"
    parts = [who, f"{ans.timings.total_ms:.0f} ms"]
    if ans.currency:
        parts.append(ans.currency.upper())
    if ans.period is not None:
        parts.append(ans.period.text)
    st.caption(escape_md(" · ".join(parts)))
    with st.expander("Definitions and assumptions"):
        for d in ans.definitions:
            st.markdown(f"**{escape_md(d.label)}**: {escape_md(d.definition)}")
        for a in ans.assumptions:
            if not a.key.endswith("_definition"):
                st.markdown("- " + escape_md(a.text))
    if ans.sql:
        with st.expander("SQL"):
            st.code(ans.sql, language="sql", wrap_lines=True)


def buttons(
    questions: list[str], *, key: str, on_ask: Ask | None, labels: list[str] | None = None
) -> None:
    """A row of buttons that each queue a question (drawn only for the live turn)."""
    if on_ask is None or not questions:
        return
    with st.container(horizontal=True, gap="small"):
        for i, q in enumerate(questions):
            st.button(
                escape_md(labels[i] if labels else q),
                key=f"{key}-ask-{i}",
                on_click=on_ask,
                args=(q,),
                help=escape_md(q) if labels else None,
            )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "answer"
