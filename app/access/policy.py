"""The access policy file: users and groups → merchant accounts they may see, and who may verify.

YAML, validated on load (unknown keys, empty names and unknown groups are errors)::

    users:
      dana@example.com: {accounts: [acct_demo_01], verify: true}
      ops-admin@example.com: {accounts: ["*"]}     # "*": every account of the warehouse
    groups:
      finance:
        members: [dana@example.com, lee@example.com]
        accounts: [acct_demo_01, acct_demo_02]
    keys:                                          # API keys (`ledgerlens api-key` writes these)
      - {id: finance-portal, hash: "sha256$…$…", accounts: [acct_demo_01], groups: [finance]}

A user's accounts are the union of their own entry and every group listing them; they may verify
when any of those says `verify: true`. A user the policy does not name may see nothing. E-mail
addresses are matched without regard to case; other ids (an OIDC `sub`) exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from app.access.caller import Caller
from app.core.errors import AssistantError

ALL = "*"  # in an `accounts` list: every account of the warehouse
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class PolicyError(AssistantError):
    """The access policy file is missing, unreadable or invalid."""


def normalise(identity: str) -> str:
    """The form identities are compared in: trimmed, and lower case for an e-mail address."""
    text = identity.strip()
    return text.lower() if "@" in text else text


class Grant(BaseModel):
    """Accounts a user (or group) may see, and whether they may mark answers verified."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: list[Name] = Field(default_factory=list)
    verify: bool = False


class Group(Grant):
    """A named set of users sharing one grant."""

    members: list[Name] = Field(default_factory=list)


class KeyGrant(BaseModel):
    """One API key: its id, salted hash, and the accounts it may read (directly or by group)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Name
    hash: Name
    accounts: list[Name] = Field(default_factory=list)
    groups: list[Name] = Field(default_factory=list)


class PolicyFile(BaseModel):
    """The whole file: users, groups and API keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: dict[Name, Grant] = Field(default_factory=dict)
    groups: dict[Name, Group] = Field(default_factory=dict)
    keys: list[KeyGrant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyFile:
        users = [normalise(u) for u in self.users]
        if len(users) != len(set(users)):
            raise ValueError("a user is listed twice under `users` (e-mails ignore case)")
        ids = [k.id for k in self.keys]
        if len(ids) != len(set(ids)):
            raise ValueError("API key ids must be unique")
        for key in self.keys:
            unknown = sorted(set(key.groups) - set(self.groups))
            if unknown:
                raise ValueError(f"API key {key.id!r} names unknown groups {unknown}")
        return self


class AccessPolicy:
    """A loaded policy: the caller a signed-in user is, and the accounts an API key may read."""

    def __init__(self, data: PolicyFile, source: str = "<policy>") -> None:
        """Keep the validated file (`source` names it in messages)."""
        self.data = data
        self.source = source
        self._users = {normalise(u): g for u, g in data.users.items()}

    def _grants(self, user: str) -> list[Grant]:
        who = normalise(user)
        found: list[Grant] = [self._users[who]] if who in self._users else []
        found += [g for g in self.data.groups.values() if who in {normalise(m) for m in g.members}]
        return found

    def caller(self, user: str, mode: str) -> Caller:
        """The caller `user` is under this policy (no accounts when it does not name them)."""
        grants = self._grants(user)
        accounts = {a for g in grants for a in g.accounts}
        return Caller(
            user=normalise(user),
            accounts=None if ALL in accounts else frozenset(accounts),
            may_verify=any(g.verify for g in grants),
            mode=mode,
        )

    def key_accounts(self, key: KeyGrant) -> frozenset[str] | None:
        """The accounts an API key may read: its own list plus its groups' (None: every one)."""
        accounts = set(key.accounts)
        for name in key.groups:
            accounts |= set(self.data.groups[name].accounts)
        return None if ALL in accounts else frozenset(accounts)


def parse_policy(text: str, source: str = "<policy>") -> AccessPolicy:
    """Validate policy YAML; a PolicyError names the source and every problem on one line."""
    try:
        raw = yaml.safe_load(text) or {}
        return AccessPolicy(PolicyFile.model_validate(raw), source)
    except yaml.YAMLError as err:
        raise PolicyError(f"The access policy {source} is not valid YAML: {err}") from None
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in err.errors()
        )
        raise PolicyError(f"The access policy {source} is invalid: {problems}") from None


def load_policy(path: Path) -> AccessPolicy:
    """Read and validate the policy file at `path`."""
    try:
        text = path.read_text()
    except OSError as err:
        raise PolicyError(f"The access policy {path} cannot be read: {err.strerror}") from None
    return parse_policy(text, str(path))
