"""API keys: hashed at rest, scoped to accounts; 401 without or with a bad key, 403 off scope."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from app.api import create_app
from app.api.keys import KeyPolicy, add_key, hash_key
from app.api.serve import is_loopback
from app.cli import main
from app.core.settings import Settings

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    path = tmp_path_factory.mktemp("keys") / "api-keys.yaml"
    one = add_key(path, "portal-one", ["acct_demo_01"])
    two = add_key(path, "portal-two", ["acct_demo_02", "acct_demo_03"])
    return path, one, two


@pytest.fixture(scope="module")
def client(demo_path: Path, keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        warehouse_path=demo_path,
        state_path=tmp_path_factory.mktemp("state") / "state.sqlite3",
        api_keys_path=keys[0],
    )
    with TestClient(create_app(settings, clock=lambda: AT)) as c:
        yield c


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def problem(r, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return str(r.json()["detail"])


def test_the_policy_file_keeps_only_salted_hashes(keys) -> None:
    path, one, two = keys
    text = path.read_text()
    assert one not in text and two not in text
    entries = yaml.safe_load(text)["keys"]
    assert [e["id"] for e in entries] == ["portal-one", "portal-two"]
    assert all(e["hash"].startswith("sha256$") for e in entries)
    assert hash_key(one) != hash_key(one)  # a fresh salt each time
    policy = KeyPolicy.load(path)
    caller = policy.caller(one)
    assert caller is not None and caller.accounts == frozenset({"acct_demo_01"})
    assert policy.caller(one + "x") is None and policy.caller("") is None


def test_no_key_or_a_wrong_key_is_401(client: TestClient, keys) -> None:
    body = {"account": "acct_demo_01"}
    assert "API key is needed" in problem(client.post("/v1/conversations", json=body), 401)
    bad = client.post("/v1/conversations", json=body, headers=bearer("llk_not-a-key"))
    assert problem(bad, 401) == "The API key is not valid."
    assert bad.headers["www-authenticate"] == "Bearer"
    basic = client.post("/v1/conversations", json=body, headers={"Authorization": "Basic eDp5"})
    problem(basic, 401)


def test_a_key_reads_only_its_accounts(client: TestClient, keys) -> None:
    _, one, two = keys
    denied = client.post("/v1/conversations", json={"account": "acct_demo_02"}, headers=bearer(one))
    assert problem(denied, 403) == "This API key may not read account acct_demo_02."
    # 403 before 404: a key learns nothing about accounts outside its scope
    problem(client.post("/v1/conversations", json={"account": "acct_x"}, headers=bearer(one)), 403)
    r = client.post(
        "/v1/conversations",
        json={"account": "acct_demo_01", "as_of": "2025-07-15"},
        headers=bearer(one),
    )
    assert r.status_code == 201
    cid = r.json()["id"]
    r = client.post(
        f"/v1/conversations/{cid}/messages",
        json={"question": "gross volume last quarter"},
        headers=bearer(one),
    )
    assert r.status_code == 200 and r.json()["account"] == "acct_demo_01"
    # another key does not see the conversation at all, by any route
    for url in (
        f"/v1/conversations/{cid}",
        f"/v1/conversations/{cid}/messages/1",
        f"/v1/conversations/{cid}/messages/1/rows?format=csv",
    ):
        problem(client.get(url, headers=bearer(two)), 404)
        problem(client.get(url), 401)
    follow = client.post(
        f"/v1/conversations/{cid}/messages",
        json={"question": "same for acct_demo_02"},
        headers=bearer(two),
    )
    problem(follow, 404)


def test_the_api_key_command_prints_the_key_once(tmp_path: Path, capsys) -> None:
    path = tmp_path / "keys.yaml"
    assert main(["api-key", "reports", "--account", "acct_demo_03", "--file", str(path)]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("llk_") and key not in path.read_text() and str(path) in err
    caller = KeyPolicy.load(path).caller(key)
    assert caller is not None and caller.user == "key:reports"
    assert main(["api-key", "reports", "--account", "acct_demo_01", "--file", str(path)]) == 2


def test_serve_without_keys_refuses_a_non_loopback_address(capsys, monkeypatch) -> None:
    for name in ("API_KEYS_PATH", "EMBED_SECRET", "EMBED_PUBLIC_KEY_PATH"):
        monkeypatch.delenv(f"LEDGERLENS_{name}", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "9"]) == 2
    assert "serves only loopback" in capsys.readouterr().err
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
