"""Session-wide network switch over pytest-socket: a blocked host fails the test, even if caught.

pytest-socket (configured in pyproject `addopts`: `--allow-hosts=127.0.0.1,localhost,::1`) refuses
`connect()` to any other address. Two gaps remain, and this plugin closes them:

* a name lookup still goes to DNS before the refused connect (slow where DNS hangs, and the error
  is then a resolver error, not the block): lookups of names outside the allow-list are refused;
* a client that catches the error (the agent turns any client failure into "LLM unavailable" and
  falls back to the engine) would let the test pass: every blocked attempt is recorded, and the
  test errors at teardown unless it asked for `blocked_network_calls` (tests of the block itself).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_socket import SocketConnectBlockedError

# Taken when conftest imports this module, before pytest-socket patches anything for a test.
_TRUE_CONNECT = socket.socket.connect
_TRUE_GETADDRINFO = socket.getaddrinfo


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _allowed_names(config: pytest.Config) -> set[str]:
    hosts = config.getoption("--allow-hosts") or ""
    names = {h.strip().lower() for h in hosts.split(",") if h.strip()}
    # Resolving the local machine's own names reaches no one; connect() is still checked by IP.
    return names | {"localhost", socket.gethostname().lower()}


@pytest.fixture(autouse=True)
def network_guard(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Record blocked network attempts during a test and fail the test if there were any."""
    blocked: list[str] = []
    guarded_connect = socket.socket.connect
    if guarded_connect is _TRUE_CONNECT:  # sockets enabled for this test (or no --allow-hosts)
        yield blocked
        return
    allowed = _allowed_names(request.config)

    def recording_connect(sock: socket.socket, address: Any) -> None:
        try:
            guarded_connect(sock, address)
        except SocketConnectBlockedError:
            blocked.append(f"connect {address!r}")
            raise

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or _is_ip(name) or name.lower().rstrip(".") in allowed:
            return _TRUE_GETADDRINFO(host, *args, **kwargs)
        blocked.append(f"resolve {name}")
        raise SocketConnectBlockedError(sorted(allowed), name)

    socket.socket.connect = recording_connect  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = guarded_getaddrinfo
    try:
        yield blocked
    finally:
        if socket.getaddrinfo is guarded_getaddrinfo:
            socket.getaddrinfo = _TRUE_GETADDRINFO
        if socket.socket.connect is recording_connect:
            socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    if blocked and "blocked_network_calls" not in request.fixturenames:
        pytest.fail(
            "the test tried to reach the network outside 127.0.0.1/localhost/::1 "
            f"(blocked: {', '.join(blocked)}); point the client at the `openai_server` fixture",
            pytrace=False,
        )


@pytest.fixture
def blocked_network_calls(network_guard: list[str]) -> list[str]:
    """The blocked attempts of this test, for tests that prove the block (no teardown failure)."""
    return network_guard
