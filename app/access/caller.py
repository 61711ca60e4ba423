"""The caller: who is asking, the accounts they may read and whether they may vouch for answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.core.errors import AssistantError

log = logging.getLogger("app.access")


class AccessDenied(AssistantError):
    """A user (or key) asked for something the access policy does not give them."""


@dataclass(frozen=True)
class Caller:
    """Who is asking: the user conversations are kept under, and the accounts they may read."""

    user: str
    accounts: frozenset[str] | None  # None: any account of the warehouse (local mode)
    may_verify: bool = False  # may mark answers verified (and withdraw their own)
    mode: str = "local"  # how the user was identified: local, oidc, trusted-header, key, embed
    page: str | None = None  # an embed token's page, when it names one
    limit_key: str = (
        ""  # the API's rate-limit bucket: the key's id, or the token's account and user
    )

    def may_read(self, account: str) -> bool:
        """Whether this caller may read an account's data."""
        return self.accounts is None or account in self.accounts

    @property
    def only_account(self) -> str | None:
        """The one account the caller may read, if there is exactly one."""
        return next(iter(self.accounts)) if self.accounts and len(self.accounts) == 1 else None

    @property
    def noun(self) -> str:
        """How a refusal names what the caller presented."""
        return {"key": "This API key", "embed": "This embed token"}.get(self.mode, "You")

    def allowed(self, accounts: list[str]) -> list[str]:
        """The accounts of `accounts` this caller may read, in the same order."""
        return [a for a in accounts if self.may_read(a)]

    def refuse(self, what: str, target: str = "") -> None:
        """Log a refusal: who, what they tried and on which account id; never any data."""
        log.warning(
            "access refused: user=%r mode=%s action=%s target=%r",
            self.user,
            self.mode,
            what,
            target,
        )
