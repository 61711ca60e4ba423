"""The agent's warm-up: the stable system prefix is sent once, so a question pays only its part."""

from __future__ import annotations

import json
from datetime import date

from app.agent.loop import Agent
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from tests.openai_server import OpenAIServer, text

ACCT = "acct_demo_01"


def _agent(server: OpenAIServer, demo_path, assistant: Assistant) -> Agent:
    settings = Settings(
        warehouse_path=demo_path,
        llm_base_url=server.base_url,
        llm_model="qwen2.5-coder-1.5b-instruct",
        llm_timeout_s=5.0,
        llm_max_retries=0,
        llm_explain=False,
        llm_tool_call_budget=1,
    )
    return Agent(settings, assistant)


def test_warm_up_sends_the_exact_system_prefix_of_every_question_with_a_one_token_reply(
    openai_server: OpenAIServer, demo_path, assistant: Assistant
) -> None:
    agent = _agent(openai_server, demo_path, assistant)
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
    openai_server: OpenAIServer, demo_path, assistant: Assistant
) -> None:
    assert _agent(openai_server, demo_path, assistant).warm_up("acct_nobody") == 0
    assert openai_server.bodies == []
