"""The assistant embedded in every reporting page: a chat that starts from the page's query."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from app.core.plan import QueryPlan
from app.semantic.describe import filter_text
from app.semantic.format import as_noun
from app.semantic.load import semantic_model
from app.ui.chat import Turn, chat_state
from app.ui.chatview import run_chat
from app.ui.sidebar import Selection
from app.ui.text import escape_md


@dataclass(frozen=True)
class PagePanel:
    """A reporting page's assistant panel: the page's main plan and selection, its examples."""

    page: str
    title: str
    plan: QueryPlan
    selection: Selection
    examples: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Changes whenever the page's plan or selection changes (the panel then reseeds)."""
        raw = f"{self.plan.model_dump_json()}|{self.selection}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def describe(self) -> str:
        """The page context in words: metric, breakdowns, filters, period, currency."""
        model = semantic_model()
        words = [", ".join(model.metrics[m].label for m in self.plan.metrics)]
        if self.plan.grain:
            words.append(f"by {self.plan.grain}")
        for d in self.plan.dimensions:
            words.append(f"by {as_noun(model.dimensions[d].label)}")
        words += [filter_text(f, model) for f in self.plan.filters]
        if self.plan.time is not None:
            words.append(self.plan.time.label or f"{self.plan.time.start}–{self.plan.time.end}")
        words.append((self.plan.currency or self.selection.currency).upper())
        return " · ".join(words)


def render_assistant(context: PagePanel) -> Turn | None:
    """Draw the page's assistant panel; follow-ups edit the page's plan ("by plan")."""
    state = chat_state(
        f"panel:{context.page}", context.selection, seed=context.plan, context_key=context.key
    )
    with st.container(border=True, key=f"panel-{context.page}"):
        st.subheader("Ask about this page", anchor=False)
        st.caption(escape_md(f"Questions start from what this page shows: {context.describe()}."))
        history = st.container()
        if not state.turns and context.examples:
            with st.container(horizontal=True, gap="small"):
                for i, q in enumerate(context.examples):
                    st.button(
                        escape_md(q),
                        key=f"panel-{context.page}-example-{i}",
                        on_click=state.queue,
                        args=(q,),
                        type="tertiary",
                    )
        prompt = st.chat_input(
            f"Ask about {context.title.lower()}…", key=f"panel-input-{context.page}"
        )
        return run_chat(
            state,
            key=f"panel-{context.page}",
            sel=context.selection,
            prompt=prompt,
            history=history,
        )
