"""Embed tokens: the token's account is the only one a request may read, by any route; expired,
tampered, foreign and replayed-after-expiry tokens are 401; an API key scoped to A gets 403 for B.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.api.keys import add_key
from app.api.tokens import mint_token
from app.cli import main
from app.core.settings import Settings
from tests.test_api import assert_problem, sse

A, B = "acct_demo_01", "acct_demo_02"
SECRET = "s3cret-for-tests-only-0123456789abcdef"
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


class Clock:
    """The API's clock, moved by the tests (no sleeping)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def settings(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("embed")
    keys = folder / "keys.yaml"
    return Settings(
        warehouse_path=demo_path,
        state_path=folder / "state.sqlite3",
        api_keys_path=keys,
        embed_secret=SECRET,
        api_rate_burst=1000,
    )


@pytest.fixture(scope="module")
def key_a(settings: Settings) -> str:
    assert settings.api_keys_path is not None
    return add_key(settings.api_keys_path, "portal-a", [A])


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def client(settings: Settings, key_a: str, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as c:
        yield c


def token(settings: Settings, account: str = A, user: str = "dana", **kw: object) -> str:
    return mint_token(settings, account=account, user=user, now=T0, **kw)  # type: ignore[arg-type]


def auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def start(client: TestClient, tok: str, **body: object) -> str:
    r = client.post("/v1/conversations", json={"as_of": "2025-07-15", **body}, headers=auth(tok))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def ask(client: TestClient, tok: str, cid: str, question: str, **extra: object) -> dict:
    r = client.post(
        f"/v1/conversations/{cid}/messages",
        json={"question": question, **extra},
        headers=auth(tok),
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def with_claims(tok: str, **changes: object) -> str:
    """The token with its payload edited and its signature kept (a tampered token)."""
    head, payload, sig = tok.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=")
    return f"{head}.{body.decode()}.{sig}"


def test_a_token_reads_its_account_and_starts_there_by_default(client, settings) -> None:
    tok = token(settings)
    cid = start(client, tok)  # no account in the body: the token's
    answer = ask(client, tok, cid, "gross volume last quarter")
    assert answer["status"] == "answered" and answer["account"] == A
    assert client.get(f"/v1/conversations/{cid}", headers=auth(tok)).json()["account"] == A


def test_a_token_for_a_cannot_read_b_by_any_route(client, settings) -> None:
    tok_a, tok_b = token(settings, A), token(settings, B)
    # 1. parameter: a conversation on B
    r = client.post("/v1/conversations", json={"account": B}, headers=auth(tok_a))
    assert assert_problem(r, 403)["detail"] == f"This embed token may not read account {B}."
    cid = start(client, tok_a)
    # 2. body: an `account` field, or the page's filters naming B
    extra = client.post(
        f"/v1/conversations/{cid}/messages",
        json={"question": "mrr", "account": B},
        headers=auth(tok_a),
    )
    assert "account" in assert_problem(extra, 422)["detail"]
    period = {"start": "2025-01-01", "end": "2025-04-01"}
    page = {"metric": "gross_volume", "period": period}
    plain = ask(client, tok_a, cid, "by month", page=page)
    on_b = {**page, "filters": [{"dimension": "account", "values": [B]}]}
    filtered = ask(client, tok_a, cid, "by month", page=on_b)
    assert filtered["account"] == A and f"merchant_id = '{A}'" in filtered["sql"]
    assert [r[1] for r in plain["rows"]] == ["45811.06", "45627.89", "46354.83"]  # A's months
    assert [r[1] for r in filtered["rows"]] == ["0.00"] * 3  # A's rows that are B's: none
    # 3. follow-up: naming B in A's conversation, or posting into B's conversation with A's token
    ask(client, tok_a, cid, "gross volume last quarter")
    follow = ask(client, tok_a, cid, f"same for {B}")
    assert follow["status"] == "refused" and follow["account"] == A
    cid_b = start(client, tok_b)  # the same user, under a token for B
    ask(client, tok_b, cid_b, "gross volume last quarter")
    into_b = client.post(
        f"/v1/conversations/{cid_b}/messages",
        json={"question": "and by month?"},
        headers=auth(tok_a),
    )
    assert assert_problem(into_b, 403)["detail"] == f"This embed token may not read account {B}."
    for url in (
        f"/v1/conversations/{cid_b}",
        f"/v1/conversations/{cid_b}/messages/1",
        f"/v1/conversations/{cid_b}/messages/1/rows?format=csv",
    ):
        assert_problem(client.get(url, headers=auth(tok_a)), 403)
    # 4. pasted SQL: every table, or naming B outright, reads only A
    every = ask(client, tok_a, cid, "SELECT merchant_id, count(*) AS n FROM charges GROUP BY 1")
    assert every["status"] == "answered" and [r[0] for r in every["rows"]] == [A]
    named = ask(
        client, tok_a, cid, f"SELECT merchant_id, amount FROM charges WHERE merchant_id = '{B}'"
    )
    assert named["rows"] == [] and f"merchant_id = '{A}'" in named["sql"]
    union = ask(
        client,
        tok_a,
        cid,
        f"SELECT merchant_id FROM charges WHERE merchant_id = '{B}' "
        f"UNION ALL SELECT merchant_id FROM customers WHERE merchant_id = '{B}'",
    )
    assert B not in json.dumps(union["rows"])
    # 5. a token edited to name B is not a token for B
    assert_problem(
        client.post("/v1/conversations", headers=auth(with_claims(tok_a, account=B))), 401
    )


def test_expired_and_replayed_after_expiry_tokens_are_401(client, settings, clock) -> None:
    tok = token(settings, ttl_s=600)
    cid = start(client, tok)
    try:
        clock.now = T0 + timedelta(seconds=599)
        assert ask(client, tok, cid, "mrr")["account"] == A  # one second left: still good
        clock.now = T0 + timedelta(seconds=600)
        for r in (
            client.post(
                f"/v1/conversations/{cid}/messages", json={"question": "mrr"}, headers=auth(tok)
            ),
            client.get(f"/v1/conversations/{cid}/messages/1", headers=auth(tok)),
        ):
            body = assert_problem(r, 401)
            assert "expired" in body["detail"] and body["type"] == "/problems/invalid-token"
            assert r.headers["www-authenticate"] == "Bearer"
    finally:
        clock.now = T0


@pytest.mark.parametrize(
    "forge",
    [
        "payload edited (account B)",
        "payload edited (longer life)",
        "signature changed",
        "signed with another secret",
        "alg none",
        "wrong audience",
        "wrong issuer",
        "life beyond embed_max_ttl_s",
        "no account claim",
        "not a JWT",
    ],
)
def test_tampered_and_foreign_tokens_are_401(client, settings, forge: str) -> None:
    good = token(settings)
    now = int(T0.timestamp())
    claims = {"iss": "ledgerlens", "aud": "ledgerlens-api", "sub": "dana", "account": A}
    claims |= {"iat": now, "exp": now + 600}
    tok = {
        "payload edited (account B)": lambda: with_claims(good, account=B),
        "payload edited (longer life)": lambda: with_claims(good, exp=now + 86_400),
        "signature changed": lambda: good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "signed with another secret": lambda: jwt.encode(claims, "x" * 40, algorithm="HS256"),
        "alg none": lambda: jwt.encode(claims, None, algorithm="none"),
        "wrong audience": lambda: jwt.encode({**claims, "aud": "x"}, SECRET, algorithm="HS256"),
        "wrong issuer": lambda: jwt.encode({**claims, "iss": "x"}, SECRET, algorithm="HS256"),
        "life beyond embed_max_ttl_s": lambda: jwt.encode(
            {**claims, "exp": now + 7200}, SECRET, algorithm="HS256"
        ),
        "no account claim": lambda: jwt.encode(
            {k: v for k, v in claims.items() if k != "account"}, SECRET, algorithm="HS256"
        ),
        "not a JWT": lambda: "hello",
    }[forge]()
    r = client.post("/v1/conversations", json={}, headers=auth(tok))
    detail = assert_problem(r, 401)["detail"]
    assert tok not in detail


def test_an_api_key_scoped_to_a_gets_403_for_b(client, key_a) -> None:
    r = client.post("/v1/conversations", json={"account": B}, headers=auth(key_a))
    assert assert_problem(r, 403)["detail"] == f"This API key may not read account {B}."
    r = client.post("/v1/conversations", json={}, headers=auth(key_a))  # its only account
    assert r.status_code == 201 and r.json()["account"] == A


def test_a_token_for_a_page_refuses_another_page(client, settings) -> None:
    tok = token(settings, page="payments")
    cid = start(client, tok)
    other = {"name": "tax", "metric": "tax_collected"}
    r = client.post(
        f"/v1/conversations/{cid}/messages",
        json={"question": "by month", "page": other},
        headers=auth(tok),
    )
    assert (
        assert_problem(r, 403)["detail"]
        == "This embed token is for the page 'payments', not 'tax'."
    )
    page = {"metric": "gross_volume", "period": {"start": "2025-01-01", "end": "2025-04-01"}}
    answer = ask(client, tok, cid, "by month", page=page)
    assert answer["status"] == "answered" and len(answer["rows"]) == 3


def test_streaming_with_a_token_sends_steps_before_the_answer(client, settings) -> None:
    tok = token(settings)
    cid = start(client, tok)
    with client.stream(
        "POST",
        f"/v1/conversations/{cid}/messages",
        json={"question": "gross volume by month last quarter"},
        headers={**auth(tok), "Accept": "text/event-stream"},
    ) as r:
        assert r.status_code == 200
        events = sse(r.read().decode())
    names = [e[0] for e in events]
    assert names[-1] == "answer" and names.count("answer") == 1
    assert {"planning", "sql", "guard", "executing", "rows", "explanation"} <= set(names[:-1])
    guard = json.loads(events[names.index("guard")][2])
    assert f"scoped to {A}" in guard["text"]
    assert json.loads(events[-1][2])["account"] == A


def test_rs256_tokens_are_checked_with_the_public_key(
    demo_path: Path, tmp_path: Path, capsys
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv_path, pub_path = tmp_path / "host.pem", tmp_path / "host.pub.pem"
    priv_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pub_path.write_bytes(public_pem)
    settings = Settings(
        warehouse_path=demo_path, state_path=tmp_path / "s.sqlite3", embed_public_key_path=pub_path
    )
    assert main(["token", "--account", B, "--user", "lee", "--private-key", str(priv_path)]) == 0
    tok = capsys.readouterr().out.strip()
    assert jwt.get_unverified_header(tok)["alg"] == "RS256"
    now = datetime.fromtimestamp(jwt.decode(tok, options={"verify_signature": False})["iat"], UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as c:
        r = c.post("/v1/conversations", json={}, headers=auth(tok))
        assert r.status_code == 201 and r.json()["account"] == B
        # algorithm confusion: an HS256 token "signed" with the public key is refused
        claims = jwt.decode(tok, options={"verify_signature": False})
        confused = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
        forged = confused + "." + tok.split(".")[1] + "." + tok.split(".")[2]
        assert_problem(c.post("/v1/conversations", json={}, headers=auth(forged)), 401)
        assert claims["sub"] == "lee"


def test_the_token_command_prints_a_token_the_api_accepts(settings, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LEDGERLENS_EMBED_SECRET", SECRET)
    assert (
        main(["token", "--account", A, "--user", "dana", "--page", "revenue", "--ttl", "60"]) == 0
    )
    tok = capsys.readouterr().out.strip()
    claims = jwt.decode(tok, SECRET, algorithms=["HS256"], audience="ledgerlens-api")
    assert claims["account"] == A and claims["sub"] == "dana" and claims["page"] == "revenue"
    assert claims["exp"] - claims["iat"] == 60
    assert main(["token", "--account", A, "--user", "dana", "--ttl", "86400"]) == 2
    assert "embed_max_ttl_s" in capsys.readouterr().err
    monkeypatch.setenv("LEDGERLENS_EMBED_SECRET", "short")
    assert main(["token", "--account", A, "--user", "dana"]) == 2
    assert "at least 32" in capsys.readouterr().err
