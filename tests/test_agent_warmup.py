"""The agent's warm-up: the stable system prefix is sent once, so a question pays only its part."""

from __future__ import annotations

import json
from datetime import date

from app.agent.loop import Agent
from app.core.request import Request
from app.pipeline.assistant import Assistant
from tests.openai_server import OpenAIServer, text

ACCT = "acct_demo_01"


def test_warm_up_sends_the_exact_system_prefix_of_every_question_with_a_one_token_reply(
    openai_server: OpenAIServer, server_settings, assistant: Assistant
) -> None:
    agent = Agent(server_settings(llm_tool_call_budget=1), assistant)
    openai_server.enqueue(text("{", finish_reason="length"))
    assert agent.warm_up(ACCT) > 0
    openai_server.enqueue(text(json.dumps({"action": "cannot_answer", "reason": "no"})))
    agent.run(Request("How many invoices were paid late?", as_of=date(2025, 12, 31), account=ACCT))
    warm, first = openai_server.bodies
    assert (warm.get("max_tokens") or warm.get("max_completion_tokens")) == 1
    assert warm["messages"][0]["role"] == "system"
    assert warm["messages"][0] == first["messages"][0]  # the prefix a prompt cache reuses
    assert "How many invoices" not in json.dumps(warm["messages"])


def test_warm_up_of_an_unknown_account_sends_nothing(
    openai_server: OpenAIServer, server_settings, assistant: Assistant
) -> None:
    assert Agent(server_settings(), assistant).warm_up("acct_nobody") == 0
    assert openai_server.bodies == []
