"""Who is using the app, by the `identity_mode` setting, and the gate every page passes first.

`local`: the one local user, every account. `oidc`: Streamlit's `st.login`/`st.user`, accounts
from the access policy. `trusted-header`: the user a reverse proxy names in a request header
(`st.context.headers`, sent with the page's first request), accounts from the policy. Whatever
the mode, a page draws nothing of an account until `gate` has returned a caller allowed it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitAuthError

from app.access import AccessDenied, AccessPolicy, Caller, PolicyError, load_policy, local_caller
from app.access.modes import (
    identity_from_claims,
    identity_from_header,
    peer_is_proxy,
    policy_for,
)
from app.access.modes import startup_problem as _startup_problem
from app.access.policy import parse_policy
from app.core.settings import Settings
from app.ui import backend
from app.ui.text import escape_md, one_line

log = logging.getLogger(__name__)
_POLICIES: dict[tuple[str, str], AccessPolicy] = {}


class SignInNeeded(AccessDenied):
    """Nobody is signed in (oidc), or the proxy's header is missing (trusted-header)."""


def _policy(settings: Settings) -> AccessPolicy:
    """The policy file, validated again only when its text changes."""
    path = settings.access_policy_path
    if path is None:
        return policy_for(settings)  # raises the PolicyError that names the setting
    try:
        text = path.read_text()
    except OSError:
        return load_policy(path)  # raises a PolicyError naming the file
    key = (str(path), hashlib.sha256(text.encode()).hexdigest())
    if key not in _POLICIES:
        _POLICIES.clear()
        _POLICIES[key] = parse_policy(text, str(path))
    return _POLICIES[key]


def request_headers() -> Mapping[str, str]:
    """The headers of this session's first request (the reverse proxy's, in trusted-header)."""
    return st.context.headers


def peer_address() -> str | None:
    """The TCP peer of this session's connection (None: loopback)."""
    return st.context.ip_address


def signed_in_claims() -> Mapping[str, object]:
    """The signed-in OIDC identity's claims (`st.user`; no `is_logged_in: True` when none)."""
    return st.user.to_dict()


def caller() -> Caller:
    """The caller of this session under the settings' identity mode; AccessDenied when none."""
    settings = backend.settings()
    mode = settings.identity_mode
    if mode == "local":
        return local_caller(settings)
    policy = _policy(settings)
    if mode == "oidc":
        user = identity_from_claims(signed_in_claims())
        if user is None:
            raise SignInNeeded("Sign in to see your accounts.")
    else:
        name = settings.identity_header or ""
        peer = peer_address()
        user = identity_from_header(request_headers(), name) if name else None
        if not peer_is_proxy(peer, settings.identity_proxies):
            log.warning("access refused: mode=trusted-header action=open peer=%s not a proxy", peer)
            user = None
        elif user is None:
            log.warning("access refused: mode=trusted-header action=open reason=no %s header", name)
        if user is None:
            raise SignInNeeded(
                "This app is served behind a sign-in proxy, and this request did not come "
                "through it signed in. Open the app at the proxy's address and sign in there."
            )
    return policy.caller(user, mode)


def startup_problem() -> str | None:
    """Why the app refuses to serve under these settings on its bind address (None: it may)."""
    return _startup_problem(backend.settings(), st.get_option("server.address"))


def gate() -> Caller:
    """The caller of this run, or a message saying why nothing is shown (and the run stops)."""
    problem = startup_problem()
    if problem is not None:
        log.error("refusing to serve: %s", problem)
        st.error(escape_md(f"Ledgerlens refuses to serve: {one_line(problem)}"))
        st.stop()
    try:
        found = caller()
    except SignInNeeded as err:
        st.info(escape_md(str(err)), icon=":material/login:")
        if backend.settings().identity_mode == "oidc" and st.button(
            "Sign in", type="primary", key="sign-in"
        ):
            _login()
        st.stop()
    except PolicyError as err:
        log.error("access policy unusable: %s", err)
        st.error(escape_md(one_line(str(err))))
        st.stop()
    return found


def no_accounts(who: Caller) -> None:
    """Tell a signed-in user the policy gives them no account here, and stop the run."""
    who.refuse("open app", "no allowed account")
    st.warning(
        escape_md(
            f"You are signed in as {who.user}, but the access policy gives you no merchant "
            "account of this warehouse. Ask whoever runs Ledgerlens to add you to the policy."
        ),
        icon=":material/lock:",
    )
    if who.mode == "oidc":
        st.button("Sign out", on_click=st.logout, key="sign-out-none")
    st.stop()


def describe(who: Caller) -> str:
    """One line for the sidebar: who is using the app and how they were identified (Markdown)."""
    name = escape_md(who.user)
    if who.mode == "local":
        return f"Local user: **{name}** · " + escape_md(
            "local mode, no sign-in (the LEDGERLENS_LOCAL_USER setting)"
        )
    via = "single sign-on" if who.mode == "oidc" else "your organisation's sign-in proxy"
    return f"Signed in as **{name}** · " + escape_md(f"via {via}")


def _login() -> None:
    provider = backend.settings().oidc_provider
    try:
        if provider:
            st.login(provider)
        else:
            st.login()
    except StreamlitAuthError as err:  # no [auth] secrets, or Authlib missing: the admin's to fix
        log.error("sign-in is not set up: %s", err)
        st.error(escape_md(f"Sign-in is not set up on this server: {one_line(str(err))}"))
