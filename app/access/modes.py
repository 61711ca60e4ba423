"""The three identity modes: who the local user is, who an OIDC sign-in is, and start-up checks.

`local` (the default): one local user (the `local_user` setting) who may see every account of
the warehouse and mark answers verified. `oidc`: Streamlit's `st.login`; the user is the signed-in
identity's verified e-mail (else its `sub`), and the policy says what they may see.
`trusted-header`: a reverse proxy authenticates and names the user in a header (the
`identity_header` setting), believed only from loopback or the `identity_proxies`; the policy says
what they may see.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from app.access.caller import Caller
from app.access.policy import AccessPolicy, PolicyError, load_policy
from app.core.settings import Settings


def is_loopback(host: str | None) -> bool:
    """Whether a bind address only accepts connections from this machine (empty: every address)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def local_caller(settings: Settings) -> Caller:
    """The one local user of `local` mode: every account, and may mark answers verified."""
    return Caller(user=settings.local_user, accounts=None, may_verify=True, mode="local")


def identity_from_claims(claims: Mapping[str, object]) -> str | None:
    """The user an OIDC identity stands for: its verified e-mail, else `sub` (None: none)."""
    if claims.get("is_logged_in") is not True:
        return None
    email = claims.get("email")
    if isinstance(email, str) and email.strip() and claims.get("email_verified") is not False:
        return email.strip()
    sub = claims.get("sub")
    return sub.strip() if isinstance(sub, str) and sub.strip() else None


def identity_from_header(headers: Mapping[str, str], name: str) -> str | None:
    """The user the proxy's header names (None: absent or empty)."""
    value = headers.get(name)
    return value.strip() if value and value.strip() else None


def proxy_networks(proxies: str | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The `identity_proxies` setting as networks (a ValueError names a bad entry)."""
    nets = []
    for item in (proxies or "").split(","):
        if item.strip():
            try:
                nets.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"LEDGERLENS_IDENTITY_PROXIES: {item.strip()!r} is not an address or network"
                ) from None
    return nets


def peer_is_proxy(peer: str | None, proxies: str | None) -> bool:
    """Whether a connection's peer may set the identity header: loopback, or a listed proxy.

    `peer` is the TCP peer as Streamlit reports it (`st.context.ip_address`: None for loopback).
    """
    if peer is None:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return address.is_loopback or any(address in net for net in proxy_networks(proxies))


def policy_for(settings: Settings) -> AccessPolicy:
    """The access policy the signed-in modes read (a PolicyError when there is none to read)."""
    if settings.access_policy_path is None:
        raise PolicyError(
            f"Identity mode {settings.identity_mode!r} needs an access policy: set "
            "LEDGERLENS_ACCESS_POLICY_PATH to a policy file (README, 'Sign-in and accounts')."
        )
    return load_policy(settings.access_policy_path)


def startup_problem(settings: Settings, address: str | None) -> str | None:
    """Why the app must not serve with these settings on this bind address (None: it may)."""
    mode = settings.identity_mode
    if mode == "local":
        return None
    if mode == "trusted-header" and not settings.identity_header:
        where = "loopback" if is_loopback(address) else f"{address or 'every address'}"
        return (
            f"Identity mode 'trusted-header' is bound to {where} without "
            "LEDGERLENS_IDENTITY_HEADER: "
            "no user can be identified, and any client could claim to be anyone. Set the header "
            "your reverse proxy sets (e.g. X-Forwarded-Email)."
        )
    try:
        proxy_networks(settings.identity_proxies)
        policy_for(settings)
    except (PolicyError, ValueError) as err:
        return str(err)
    return None
