"""Sign-in modes in the app (AppTest): the sidebar lists only the accounts the policy allows.

`oidc` is driven through AppTest's `user` (what `st.user` reads); `trusted-header` through
`app.ui.identity.request_headers`, because AppTest cannot seed `st.context.headers` (the real
header path is driven in a browser behind a proxy in tests/test_browser_access.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.ui import identity
from tests.ui_support import (
    MAIN,
    ask,
    assert_no_failure,
    open_app,
    plain,
    release_app_caches,  # noqa: F401 (autouse fixture)
    texts,
)

POLICY = """\
users:
  ann@example.com: {accounts: [acct_demo_02], verify: true}
  nobody@example.com: {accounts: []}
groups:
  finance:
    members: [Bob@Example.com]
    accounts: [acct_demo_01, acct_demo_03]
"""
HEADER = "X-Forwarded-Email"


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "access.yaml"
    path.write_text(POLICY)
    return path


def _env(monkeypatch: pytest.MonkeyPatch, demo: Path, tmp: Path, **settings: object) -> None:
    monkeypatch.setenv("LEDGERLENS_WAREHOUSE_PATH", str(demo))
    monkeypatch.setenv("LEDGERLENS_STATE_PATH", str(tmp / "state.sqlite3"))
    for key, value in settings.items():
        monkeypatch.setenv(f"LEDGERLENS_{key.upper()}", str(value))


def oidc_app(
    monkeypatch: pytest.MonkeyPatch, demo: Path, policy: Path, user: dict[str, object], **q: str
) -> AppTest:
    _env(monkeypatch, demo, policy.parent, identity_mode="oidc", access_policy_path=policy)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.user = user
    at.query_params.update(q)
    return at.run()


def header_app(
    monkeypatch: pytest.MonkeyPatch,
    demo: Path,
    policy: Path,
    who: str | None,
    peer: str | None = None,
    **q: str,
) -> AppTest:
    _env(
        monkeypatch,
        demo,
        policy.parent,
        identity_mode="trusted-header",
        access_policy_path=policy,
        identity_header=HEADER,
    )
    headers = {} if who is None else {HEADER: who}
    monkeypatch.setattr(identity, "request_headers", lambda: headers)
    monkeypatch.setattr(identity, "peer_address", lambda: peer)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params.update(q)
    return at.run()


def accounts(at: AppTest) -> list[str]:
    return list(at.sidebar.selectbox(key="account").options)


def signed_in(email: str, **claims: object) -> dict[str, object]:
    return {"is_logged_in": True, "email": email, "sub": f"sub-{email}", **claims}


def test_oidc_lists_only_the_users_accounts_and_ignores_a_wider_url(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    at = oidc_app(monkeypatch, demo_path, policy, signed_in("ann@example.com"))
    assert_no_failure(at)
    assert accounts(at) == ["Brightcell GmbH (acct_demo_02)"]
    assert any("Signed in as **ann@example.com**" in plain(c.value) for c in at.sidebar.caption)
    with caplog.at_level(logging.WARNING, logger="app.access"):
        wide = oidc_app(
            monkeypatch, demo_path, policy, signed_in("ann@example.com"), account="acct_demo_01"
        )
    assert_no_failure(wide)
    assert wide.sidebar.selectbox(key="account").value == "acct_demo_02"
    assert wide.query_params["account"] == "acct_demo_02"
    refusals = [r.getMessage() for r in caplog.records if "access refused" in r.getMessage()]
    assert refusals == ["access refused: user='ann@example.com' mode=oidc action=open ?account= "
                        "target='acct_demo_01'"]  # fmt: skip
    answered = ask(wide, "gross volume last month")
    assert_no_failure(answered)
    turn = answered.session_state["chat:ask"].turns[-1]
    assert turn.answer is not None and turn.answer.account == "acct_demo_02"


def test_oidc_groups_give_their_accounts_and_an_unverified_email_counts_for_nothing(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    at = oidc_app(monkeypatch, demo_path, policy, signed_in("bob@example.com"))
    assert_no_failure(at)
    assert [o.split(" (")[1] for o in accounts(at)] == ["acct_demo_01)", "acct_demo_03)"]
    forged = oidc_app(
        monkeypatch, demo_path, policy, signed_in("ann@example.com", email_verified=False)
    )  # the identity is then its `sub`, which the policy does not name
    assert not forged.exception and not forged.sidebar.selectbox
    assert any("no merchant account" in plain(w.value) for w in forged.warning)


def test_oidc_without_sign_in_offers_the_sign_in_and_shows_no_account(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    at = oidc_app(monkeypatch, demo_path, policy, {"is_logged_in": False}, account="acct_demo_01")
    assert not at.exception and not at.error
    assert not at.sidebar.selectbox and [b.label for b in at.button] == ["Sign in"]
    assert any("Sign in to see your accounts" in plain(i.value) for i in at.info)


def test_a_user_with_no_accounts_gets_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    for email in ("nobody@example.com", "stranger@example.com"):
        at = oidc_app(monkeypatch, demo_path, policy, signed_in(email))
        assert not at.exception and not at.error, email
        assert not at.sidebar.selectbox and not at.chat_input
        [warning] = at.warning
        assert plain(warning.value).startswith(f"You are signed in as {email}, but the access")


def test_trusted_header_lists_only_allowed_accounts_and_ignores_a_wider_url(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    at = header_app(monkeypatch, demo_path, policy, "BOB@example.com", account="acct_demo_02")
    assert_no_failure(at)
    assert [o.split(" (")[1] for o in accounts(at)] == ["acct_demo_01)", "acct_demo_03)"]
    assert at.sidebar.selectbox(key="account").value == "acct_demo_01"
    assert at.query_params["account"] == "acct_demo_01"
    assert any("cannot open here" in plain(w.value) for w in at.warning)
    allowed = header_app(monkeypatch, demo_path, policy, "bob@example.com", account="acct_demo_03")
    assert_no_failure(allowed)
    assert allowed.sidebar.selectbox(key="account").value == "acct_demo_03"
    assert not allowed.warning


def test_trusted_header_without_the_header_shows_nothing(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    at = header_app(monkeypatch, demo_path, policy, None, account="acct_demo_01")
    assert not at.exception and not at.error and not at.sidebar.selectbox
    assert any("sign-in proxy" in plain(i.value) for i in at.info)


def test_trusted_header_is_believed_only_from_loopback_or_a_listed_proxy(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.ui.identity"):
        direct = header_app(monkeypatch, demo_path, policy, "bob@example.com", peer="10.0.0.9")
    assert not direct.exception and not direct.error and not direct.sidebar.selectbox
    assert any("sign-in proxy" in plain(i.value) for i in direct.info)
    assert any("peer=10.0.0.9 not a proxy" in r.getMessage() for r in caplog.records)
    monkeypatch.setenv("LEDGERLENS_IDENTITY_PROXIES", "192.0.2.1, 10.0.0.0/24")
    at = header_app(monkeypatch, demo_path, policy, "bob@example.com", peer="10.0.0.9")
    assert_no_failure(at)
    assert [o.split(" (")[1] for o in accounts(at)] == ["acct_demo_01)", "acct_demo_03)"]


def test_sign_in_that_is_not_set_up_says_so(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    at = oidc_app(monkeypatch, demo_path, policy, {"is_logged_in": False})
    at = at.button(key="sign-in").click().run()  # no [auth] secrets here (nor, maybe, Authlib)
    assert not at.exception and not at.sidebar.selectbox
    [error] = at.error
    assert plain(error.value).startswith("Sign-in is not set up on this server: ")


def test_trusted_header_without_a_header_setting_refuses_to_serve(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    _env(monkeypatch, demo_path, policy.parent, identity_mode="trusted-header",
         access_policy_path=policy)  # fmt: skip
    monkeypatch.delenv("LEDGERLENS_IDENTITY_HEADER", raising=False)
    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    assert not at.exception and not at.sidebar.selectbox
    [error] = at.error
    assert "refuses to serve" in plain(error.value)
    assert "without LEDGERLENS_IDENTITY_HEADER" in plain(error.value)


def test_an_invalid_policy_is_a_clear_error_not_a_stack_trace(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    policy.write_text("users:\n  ann@example.com: {acounts: [acct_demo_02]}\n")
    at = oidc_app(monkeypatch, demo_path, policy, signed_in("ann@example.com"))
    assert not at.exception and not at.sidebar.selectbox
    [error] = at.error
    assert "users.ann@example.com.acounts: Extra inputs are not permitted" in plain(error.value)


def test_only_users_the_policy_lets_verify_see_mark_verified(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    ann = ask(oidc_app(monkeypatch, demo_path, policy, signed_in("ann@example.com")), "MRR")
    assert_no_failure(ann)
    assert "Mark verified" in texts(ann)
    bob = ask(oidc_app(monkeypatch, demo_path, policy, signed_in("bob@example.com")), "MRR")
    assert_no_failure(bob)
    assert "Mark verified" not in texts(bob) and "Share" in texts(bob)


def test_a_share_link_to_an_account_outside_the_policy_is_refused(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    ann = ask(oidc_app(monkeypatch, demo_path, policy, signed_in("ann@example.com")), "MRR")
    ann = ann.button(key=f"act-{ann.session_state['chat:ask'].turns[-1].record_id}-share").click()
    token = ann.run().session_state["chat:ask"].turns[-1].share_url.rsplit("share=", 1)[1]
    bob = oidc_app(monkeypatch, demo_path, policy, signed_in("bob@example.com"), share=token)
    assert not bob.exception and not bob.error
    assert bob.sidebar.selectbox(key="account").value == "acct_demo_01"
    assert any("acct_demo_02, which you cannot open here" in plain(w.value) for w in bob.warning)
    assert bob.session_state["chat:ask"].turns == []


def test_local_mode_is_unchanged_one_local_user_every_account(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path, local_user="dana")
    assert_no_failure(at)
    assert [o.split(" (")[1] for o in accounts(at)] == [
        "acct_demo_01)", "acct_demo_02)", "acct_demo_03)"
    ]  # fmt: skip
    assert any("Local user: **dana**" in plain(c.value) for c in at.sidebar.caption)
    wide = AppTest.from_file(str(MAIN), default_timeout=60)
    wide.query_params["account"] = "acct_demo_03"
    assert wide.run().sidebar.selectbox(key="account").value == "acct_demo_03"


def test_after_the_policy_drops_an_account_its_conversations_do_not_open(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    ann = ask(oidc_app(monkeypatch, demo_path, policy, signed_in("ann@example.com")), "MRR")
    cid = ann.session_state["chat:ask"].conversation_id
    assert cid is not None and ann.sidebar.button(key=f"history-{cid}")
    policy.write_text(POLICY.replace("accounts: [acct_demo_02]", "accounts: [acct_demo_01]"))
    again = oidc_app(
        monkeypatch, demo_path, policy, signed_in("ann@example.com"), c=cid, account="acct_demo_02"
    )
    assert_no_failure(again)
    assert accounts(again) == ["Northwind Analytics Inc. (acct_demo_01)"]
    assert again.session_state["chat:ask"].turns == []
    assert not [b for b in again.sidebar.button if (b.key or "").startswith("history-")]


def test_signing_out_hides_every_account(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, policy: Path
) -> None:
    at = oidc_app(monkeypatch, demo_path, policy, signed_in("ann@example.com"))
    at = at.sidebar.button(key="sign-out").click().run()
    assert not at.exception and not at.error
    assert not at.sidebar.selectbox and [b.label for b in at.button] == ["Sign in"]
