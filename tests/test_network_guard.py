"""The session-wide network switch: model requests leave 127.0.0.1 never, and fail fast."""

from __future__ import annotations

import socket
from pathlib import Path

import openai
import pytest
from langchain_openai import ChatOpenAI
from pytest_socket import SocketConnectBlockedError

from tests.openai_server import OpenAIServer, text

pytest_plugins = ("pytester",)


def test_openai_public_api_is_blocked_before_any_lookup(blocked_network_calls: list[str]) -> None:
    client = openai.OpenAI(
        base_url="https://api.openai.com/v1", api_key="sk-test", max_retries=0, timeout=5.0
    )
    # Refused on the spot: the blocked lookup itself is raised (a connect or read timeout would be
    # openai.APITimeoutError), and nothing but the one lookup was attempted.
    with client, pytest.raises(SocketConnectBlockedError, match=r"api\.openai\.com"):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert blocked_network_calls == ["resolve api.openai.com"]


def test_chatopenai_default_endpoint_is_blocked(blocked_network_calls: list[str]) -> None:
    model = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", max_retries=0, timeout=5.0)
    with pytest.raises(SocketConnectBlockedError, match=r"api\.openai\.com"):
        model.invoke("hi")
    assert blocked_network_calls == ["resolve api.openai.com"]


def test_loopback_outside_the_allow_list_is_refused_at_connect(
    blocked_network_calls: list[str],
) -> None:
    # 127.0.0.2 is loopback, so nothing leaves the machine even if the guard were missing.
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("127.0.0.2", 9), timeout=1)
    assert blocked_network_calls == ["connect ('127.0.0.2', 9)"]


def test_the_local_server_is_allowed(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(text("local works"))
    with openai.OpenAI(base_url=openai_server.base_url, api_key="test", max_retries=0) as client:
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert reply.choices[0].message.content == "local works"


def test_localhost_name_is_allowed(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(text("by name"))
    url = openai_server.base_url.replace("127.0.0.1", "localhost")
    with openai.OpenAI(base_url=url, api_key="test", max_retries=0) as client:
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert reply.choices[0].message.content == "by name"


SWALLOWING_TEST = """
import socket

def reach_out():
    socket.create_connection(("api.openai.com", 443), timeout=1)

def test_swallows_the_error():
    try:
        reach_out()
    except Exception:
        pass  # an app that falls back silently

def test_declares_it(blocked_network_calls):
    try:
        reach_out()
    except Exception:
        pass
    assert blocked_network_calls == ["resolve api.openai.com"]
"""


def test_a_swallowed_block_still_fails_the_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest("from tests.network_guard import blocked_network_calls, network_guard\n")
    pytester.makepyfile(test_swallow=SWALLOWING_TEST)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # a quick inner run
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_socket",
        "-p",
        "no:cacheprovider",
        "--disable-socket",
        "--allow-hosts=127.0.0.1,localhost,::1",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*tried to reach the network*resolve api.openai.com*"])
