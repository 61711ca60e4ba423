"""The access policy: validated on load, users and groups to accounts, keys by group, start-up."""

from pathlib import Path

import pytest
import yaml

from app.access import PolicyError, identity_from_claims, is_loopback, startup_problem
from app.access.modes import peer_is_proxy
from app.access.policy import parse_policy
from app.api.keys import KeyPolicy, add_key
from app.core.settings import Settings

POLICY = """\
users:
  Ann@Example.com: {accounts: [acct_demo_02], verify: true}
  "oidc|42": {accounts: [acct_demo_03]}
  root@example.com: {accounts: ["*"]}
groups:
  finance:
    members: [ann@example.com, bob@example.com]
    accounts: [acct_demo_01]
  auditors:
    members: [bob@example.com]
    accounts: [acct_demo_03]
    verify: true
"""


def test_a_user_gets_their_own_and_their_groups_accounts() -> None:
    policy = parse_policy(POLICY)
    ann = policy.caller("ANN@example.com ", "oidc")
    assert (ann.user, ann.accounts, ann.may_verify) == (
        "ann@example.com", frozenset({"acct_demo_01", "acct_demo_02"}), True
    )  # fmt: skip
    bob = policy.caller("bob@example.com", "trusted-header")
    assert bob.accounts == frozenset({"acct_demo_01", "acct_demo_03"}) and bob.may_verify
    assert bob.allowed(["acct_demo_01", "acct_demo_02", "acct_demo_03"]) == [
        "acct_demo_01", "acct_demo_03"
    ]  # fmt: skip
    assert policy.caller("oidc|42", "oidc").accounts == frozenset({"acct_demo_03"})
    assert policy.caller("OIDC|42", "oidc").accounts == frozenset()  # a sub is matched exactly
    root = policy.caller("root@example.com", "oidc")
    assert root.accounts is None and root.may_read("acct_any") and not root.may_verify
    stranger = policy.caller("eve@example.com", "oidc")
    assert stranger.accounts == frozenset() and not stranger.may_read("acct_demo_01")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("users:\n  a@b.c: {acounts: [x]}\n", "users.a@b.c.acounts: Extra inputs are not"),
        ("users:\n  a@b.c: {accounts: ['']}\n", "users.a@b.c.accounts.0: String should have at"),
        ("roles: {}\n", "roles: Extra inputs are not permitted"),
        ("users:\n  a@b.c: {}\n  A@B.C: {}\n", "a user is listed twice"),
        ("keys:\n  - {id: k, hash: h, groups: [nope]}\n", "API key 'k' names unknown groups"),
        ("users: [a, b]\n", "users: Input should be a valid dictionary"),
        ("users: {a: [\n", "is not valid YAML"),
    ],
)
def test_an_invalid_policy_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=r"access policy p\.yaml") as err:
        parse_policy(text, "p.yaml")
    assert message in str(err.value)


def test_api_keys_read_accounts_from_the_same_policy_and_keep_its_users(tmp_path: Path) -> None:
    path = tmp_path / "access.yaml"
    path.write_text(POLICY)
    key = add_key(path, "portal", ["acct_demo_02"])
    data = yaml.safe_load(path.read_text())
    assert set(data) == {"users", "groups", "keys"}  # the users and groups are kept
    data["keys"][0]["groups"] = ["auditors"]
    path.write_text(yaml.safe_dump(data))
    caller = KeyPolicy.load(path).caller(key)
    assert caller is not None and caller.user == "key:portal" and caller.mode == "key"
    assert caller.accounts == frozenset({"acct_demo_02", "acct_demo_03"})


def test_oidc_identity_is_the_verified_email_else_the_sub() -> None:
    assert identity_from_claims({"is_logged_in": True, "email": "a@b.c", "sub": "s"}) == "a@b.c"
    unverified = {"is_logged_in": True, "email": "a@b.c", "email_verified": False, "sub": "s"}
    assert identity_from_claims(unverified) == "s"
    assert identity_from_claims({"is_logged_in": False, "email": "a@b.c"}) is None
    assert identity_from_claims({"email": "test@example.com"}) is None  # st.user without [auth]


def test_start_up_refuses_a_signed_in_mode_it_cannot_enforce(tmp_path: Path) -> None:
    policy = tmp_path / "access.yaml"
    policy.write_text(POLICY)
    local = Settings(identity_mode="local")
    assert startup_problem(local, "0.0.0.0") is None
    header = Settings(identity_mode="trusted-header", access_policy_path=policy)
    for address in ("0.0.0.0", "", "10.1.2.3", "127.0.0.1"):
        problem = startup_problem(header, address)
        assert problem is not None and "without LEDGERLENS_IDENTITY_HEADER" in problem
    assert "bound to every address" in (startup_problem(header, "") or "")
    ok = header.model_copy(update={"identity_header": "X-Forwarded-Email"})
    assert startup_problem(ok, "0.0.0.0") is None
    no_policy = Settings(identity_mode="oidc")
    assert "LEDGERLENS_ACCESS_POLICY_PATH" in (startup_problem(no_policy, "127.0.0.1") or "")
    missing = Settings(identity_mode="oidc", access_policy_path=tmp_path / "none.yaml")
    assert "cannot be read" in (startup_problem(missing, "127.0.0.1") or "")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("", False), (None, False), ("10.0.0.5", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_addresses(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_make_run_is_refused_before_streamlit_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.access.__main__ import main

    monkeypatch.setenv("LEDGERLENS_IDENTITY_MODE", "trusted-header")
    monkeypatch.delenv("LEDGERLENS_IDENTITY_HEADER", raising=False)
    assert main(["--address", "0.0.0.0"]) == 2
    assert "refuses to serve" in capsys.readouterr().err
    monkeypatch.setenv("LEDGERLENS_IDENTITY_MODE", "local")
    assert main(["--address", "0.0.0.0"]) == 0


def test_the_identity_header_is_believed_from_loopback_and_listed_proxies_only() -> None:
    proxies = "192.0.2.1, 10.0.0.0/24,::ffff:0:0/96"
    for peer in (None, "127.0.0.1", "::1", "192.0.2.1", "10.0.0.77"):
        assert peer_is_proxy(peer, proxies), peer
    for peer in ("192.0.2.2", "10.0.1.1", "203.0.113.5", "not-an-ip", ""):
        assert not peer_is_proxy(peer, proxies), peer
    assert not peer_is_proxy("10.0.0.77", None)
    bad = Settings(
        identity_mode="trusted-header", identity_header="X-User", identity_proxies="10.0.0.0/33"
    )
    assert "'10.0.0.0/33' is not an address or network" in (startup_problem(bad, "0.0.0.0") or "")
