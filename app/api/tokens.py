"""Signed embed tokens: short-lived JWTs naming the one account, the user and maybe the page.

A host page's server signs a token (HS256 with the shared `embed_secret`, or RS256 with its
private key, checked here with `embed_public_key_path`) and hands it to the browser; the browser
cannot change what it names. Claims::

    {"iss": "ledgerlens", "aud": "ledgerlens-api", "sub": "dana", "account": "acct_demo_01",
     "page": "revenue", "iat": 1767605400, "exp": 1767606000}

Times are checked against the API's clock (passed in), with no leeway for `exp`: a token replayed
one second after it expired is refused like any other expired token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt

from app.core.settings import Settings

MIN_SECRET_CHARS = 32
SKEW_S = 60  # how far in the future `iat` may be (the host's clock may run ahead a little)
_REQUIRED = ["iss", "aud", "sub", "account", "iat", "exp"]


class TokenError(Exception):
    """A token that is refused; the message says why, without echoing the token."""


@dataclass(frozen=True)
class EmbedClaims:
    """What a verified token grants: one account, for one user, maybe on one page."""

    account: str
    user: str
    page: str | None
    expires: int


class EmbedVerifier:
    """Checks embed tokens with the configured key, audience, issuer and longest life."""

    def __init__(self, settings: Settings) -> None:
        """Read the key from the settings; refuse a short secret or two keys at once."""
        secret, public = settings.embed_secret, settings.embed_public_key_path
        if secret is not None and public is not None:
            raise ValueError("Set embed_secret (HS256) or embed_public_key_path (RS256), not both.")
        self.key: str | bytes
        if public is not None:
            self.key, self.algorithm = public.read_bytes(), "RS256"
        elif secret is not None:
            self.key, self.algorithm = _checked_secret(secret.get_secret_value()), "HS256"
        else:
            raise ValueError("No embed token key: set embed_secret or embed_public_key_path.")
        self.audience, self.issuer = settings.embed_audience, settings.embed_issuer
        self.max_ttl = settings.embed_max_ttl_s

    @classmethod
    def configured(cls, settings: Settings) -> EmbedVerifier | None:
        """The verifier of the settings, or None when no embed key is set."""
        if settings.embed_secret is None and settings.embed_public_key_path is None:
            return None
        return cls(settings)

    def verify(self, token: str, now: datetime) -> EmbedClaims:
        """The claims of a valid token; TokenError for expired, tampered or foreign ones."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": _REQUIRED,
                    "verify_exp": False,  # checked below against the API's clock
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise TokenError("The embed token is for another audience.") from None
        except jwt.InvalidIssuerError:
            raise TokenError("The embed token is from another issuer.") from None
        except jwt.MissingRequiredClaimError as err:
            raise TokenError(f"The embed token has no {err.claim!r} claim.") from None
        except jwt.InvalidTokenError:  # bad signature, wrong algorithm, not a JWT at all
            raise TokenError("The embed token is not valid (bad signature or format).") from None
        return self._timely(claims, int(now.timestamp()))

    def _timely(self, claims: dict[str, Any], now: int) -> EmbedClaims:
        iat, exp, nbf = claims["iat"], claims["exp"], claims.get("nbf", claims["iat"])
        if not all(isinstance(t, int) for t in (iat, exp, nbf)):
            raise TokenError("The embed token's times (iat, exp, nbf) must be whole seconds.")
        if now >= exp:
            raise TokenError("The embed token has expired; ask the host page for a new one.")
        if iat > now + SKEW_S or nbf > now + SKEW_S:
            raise TokenError("The embed token is not valid yet.")
        if exp - iat > self.max_ttl:
            raise TokenError(
                f"The embed token lives longer than {self.max_ttl} s (the embed_max_ttl_s setting)."
            )
        account, user, page = claims["account"], claims["sub"], claims.get("page")
        if not isinstance(account, str) or not account or not isinstance(user, str) or not user:
            raise TokenError("The embed token must name an account and a user.")
        if page is not None and not isinstance(page, str):
            raise TokenError("The embed token's page must be a name.")
        return EmbedClaims(account=account, user=user, page=page or None, expires=exp)


def _checked_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"embed_secret must have at least {MIN_SECRET_CHARS} characters.")
    return secret


def mint_token(
    settings: Settings,
    *,
    account: str,
    user: str,
    now: datetime,
    ttl_s: int = 600,
    page: str | None = None,
    private_key: Path | None = None,
) -> str:
    """A signed embed token (RS256 with `private_key`, else HS256 with `embed_secret`)."""
    if ttl_s <= 0 or ttl_s > settings.embed_max_ttl_s:
        raise ValueError(f"--ttl must be 1..{settings.embed_max_ttl_s} s (embed_max_ttl_s).")
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": settings.embed_issuer,
        "aud": settings.embed_audience,
        "sub": user,
        "account": account,
        "iat": iat,
        "exp": iat + ttl_s,
    }
    if page:
        claims["page"] = page
    if private_key is not None:
        return jwt.encode(claims, private_key.read_bytes(), algorithm="RS256")
    if settings.embed_secret is None:
        raise ValueError("No embed_secret is set (LEDGERLENS_EMBED_SECRET) and no --private-key.")
    return jwt.encode(
        claims, _checked_secret(settings.embed_secret.get_secret_value()), algorithm="HS256"
    )
