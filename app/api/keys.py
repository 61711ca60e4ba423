"""API keys: random secrets kept only as salted SHA-256 hashes, each scoped to some accounts.

The policy file (the `api_keys_path` setting) is YAML::

    keys:
      - id: finance-portal
        hash: sha256$<salt hex>$<digest hex>
        accounts: [acct_demo_01]
        groups: [finance]    # optional: the accounts of the access policy's groups too

It is read as an access policy file (app/access), so one file can hold users, groups and keys.
`ledgerlens api-key` writes an entry and prints the key once; the file never holds the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.access import Caller as Caller  # re-exported: app.api.app imports it from here
from app.access import load_policy

KEY_PREFIX = "llk_"


@dataclass(frozen=True)
class KeyEntry:
    """One API key's id, salted hash and the accounts it may read."""

    id: str
    hash: str
    accounts: frozenset[str] | None  # None: every account (`"*"` in the policy)


def new_key() -> str:
    """A fresh API key: 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str, salt: bytes | None = None) -> str:
    """The key's salted SHA-256 as `sha256$salt$digest` (a random salt unless given)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.sha256(salt + key.encode()).hexdigest()
    return f"sha256${salt.hex()}${digest}"


def _matches(key: str, stored: str) -> bool:
    scheme, salt, _ = [*stored.split("$"), "", ""][:3]
    if scheme != "sha256":
        return False
    try:
        expected = hash_key(key, bytes.fromhex(salt))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


class KeyPolicy:
    """The API keys of a policy file; `caller` finds the key a request presents."""

    def __init__(self, entries: list[KeyEntry]) -> None:
        """Keep the entries (ids must be unique)."""
        ids = [e.id for e in entries]
        if len(ids) != len(set(ids)):
            raise ValueError("API key ids must be unique in the policy file.")
        self.entries = tuple(entries)

    @classmethod
    def load(cls, path: Path) -> KeyPolicy:
        """Read a policy file (missing file: no keys, so every request is refused)."""
        if not path.exists():
            return cls([])
        policy = load_policy(path)  # the access policy's `keys`: accounts direct or by group
        return cls(
            [
                KeyEntry(id=k.id, hash=k.hash, accounts=policy.key_accounts(k))
                for k in policy.data.keys
            ]
        )

    def caller(self, key: str) -> Caller | None:
        """The caller a key stands for (None: no such key)."""
        found = None
        for entry in self.entries:  # every entry is compared: no early exit to time
            if _matches(key, entry.hash):
                found = entry
        if found is None:
            return None
        return Caller(
            user=f"key:{found.id}", accounts=found.accounts, mode="key", limit_key=f"key:{found.id}"
        )


def add_key(path: Path, key_id: str, accounts: list[str]) -> str:
    """Add a new key scoped to `accounts` to the policy file; return the key (shown once)."""
    data = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
    keys = list(data.get("keys") or [])
    if any(str(k.get("id")) == key_id for k in keys):
        raise ValueError(f"The policy file {path} already has a key {key_id!r}.")
    key = new_key()
    keys.append({"id": key_id, "hash": hash_key(key), "accounts": sorted(set(accounts))})
    path.parent.mkdir(parents=True, exist_ok=True)
    data["keys"] = keys  # the policy's users and groups, if any, stay as they are
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(0o600)
    return key
