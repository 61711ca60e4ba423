"""Rate limits per API key and per embed token user (429 with Retry-After), CORS for configured
origins only, and the web component served as a static file. The clock is moved, never slept on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.api import create_app
from app.api.keys import add_key
from app.api.limits import RateLimiter
from app.api.tokens import mint_token
from app.core.settings import Settings
from tests.test_api import assert_problem
from tests.test_api_embed import SECRET, T0, Clock, auth

BURST = 3
HOST = "http://127.0.0.1:8010"


@pytest.fixture(scope="module")
def settings(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("limits")
    return Settings(
        warehouse_path=demo_path,
        state_path=folder / "state.sqlite3",
        api_keys_path=folder / "keys.yaml",
        embed_secret=SECRET,
        api_rate_burst=BURST,
        api_rate_per_minute=6,  # one request every 10 s of the (test's) clock
        api_cors_origins=f"{HOST}, https://reports.example.com/",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as c:
        yield c


def token(settings: Settings, user: str, account: str = "acct_demo_01") -> str:
    return mint_token(settings, account=account, user=user, now=T0)


def test_the_request_after_a_burst_gets_429_with_retry_after(client, settings, clock) -> None:
    tok = token(settings, "dana")
    for _ in range(BURST):
        assert client.post("/v1/conversations", json={}, headers=auth(tok)).status_code == 201
    refused = client.post("/v1/conversations", json={}, headers=auth(tok))
    body = assert_problem(refused, 429)
    assert refused.headers["retry-after"] == "10"
    assert body["type"] == "/problems/rate-limited" and "api_rate_burst" in body["detail"]
    # another user of the same account, and a re-minted token of the same user
    other = token(settings, "lee")
    assert client.post("/v1/conversations", json={}, headers=auth(other)).status_code == 201
    again = mint_token(settings, account="acct_demo_01", user="dana", now=T0, ttl_s=900)
    assert client.post("/v1/conversations", json={}, headers=auth(again)).status_code == 429
    clock.now = T0 + timedelta(seconds=10)  # one request refilled, not two
    assert client.post("/v1/conversations", json={}, headers=auth(tok)).status_code == 201
    assert client.post("/v1/conversations", json={}, headers=auth(tok)).status_code == 429


def test_an_api_key_has_its_own_bucket(client, settings) -> None:
    assert settings.api_keys_path is not None
    key = add_key(settings.api_keys_path, f"k{id(client)}", ["acct_demo_01"])
    with TestClient(create_app(settings, clock=lambda: T0)) as c:  # re-reads the key file
        codes = [c.get("/v1/conversations/nope", headers=auth(key)).status_code for _ in range(4)]
    assert codes == [404] * BURST + [429]


def test_refused_credentials_spend_nothing(client, settings) -> None:
    for _ in range(BURST + 2):
        assert_problem(client.post("/v1/conversations", headers=auth("not-a-token")), 401)
    tok = token(settings, "fresh")
    assert client.post("/v1/conversations", json={}, headers=auth(tok)).status_code == 201


def test_the_limiter_refills_to_its_burst_only() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a"), limiter.take("a")] == [None, None, 1]
    now[0] += timedelta(hours=1)  # a long pause refills two, not 3600
    assert [limiter.take("a"), limiter.take("a"), limiter.take("a")] == [None, None, 1]
    assert limiter.take("b") is None


def test_cors_allows_only_the_configured_origins(client) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    ok = client.options("/v1/conversations", headers={"Origin": HOST, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == HOST
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    other = client.options(
        "/v1/conversations", headers={"Origin": "https://evil.example", **preflight}
    )
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    trailing = client.options(
        "/v1/conversations", headers={"Origin": "https://reports.example.com", **preflight}
    )
    assert trailing.headers["access-control-allow-origin"] == "https://reports.example.com"


def test_no_cors_origins_and_no_embed_key_mean_no_browser_calls(
    demo_path: Path, tmp_path: Path
) -> None:
    settings = Settings(warehouse_path=demo_path, state_path=tmp_path / "s.sqlite3")
    with TestClient(create_app(settings)) as c:
        r = c.get("/v1/conversations/x", headers={"Origin": HOST})
        assert "access-control-allow-origin" not in r.headers
        # a token sent to an API without an embed key is refused, never taken as the local user
        tok = token(settings.model_copy(update={"embed_secret": SecretStr(SECRET)}), "dana")
        refused = c.post("/v1/conversations", json={}, headers=auth(tok))
        assert "takes no embed tokens" in assert_problem(refused, 401)["detail"]
    with pytest.raises(ValueError, match="must name origins"):
        create_app(settings.model_copy(update={"api_cors_origins": "*"}))


def test_the_web_component_is_served(client) -> None:
    r = client.get("/embed/ledgerlens-assistant.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "customElements.define('ledgerlens-assistant'" in r.text
    assert "text/event-stream" in r.text and "getReader()" in r.text
