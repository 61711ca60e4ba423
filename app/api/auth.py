"""Who a request is: an API key, a signed embed token, or (with neither configured) the local user.

`Authorization: Bearer llk_…` is an API key (app/api/keys.py); any other bearer is an embed token
(app/api/tokens.py). A key or a token that is missing, wrong, tampered, expired or foreign is 401;
each key and each token's account and user then spend from their own rate-limit bucket (429).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from app.api.keys import KEY_PREFIX, Caller, KeyPolicy
from app.api.limits import RateLimiter
from app.api.problems import ApiProblem
from app.api.tokens import EmbedVerifier, TokenError
from app.core.settings import Settings

log = logging.getLogger(__name__)


class Authenticator:
    """Turns a request's bearer credential into a Caller, or refuses it."""

    def __init__(
        self,
        settings: Settings,
        keys: KeyPolicy | None,
        embed: EmbedVerifier | None,
        clock: Callable[[], datetime],
    ) -> None:
        """Keep the key policy, the token verifier and one rate limiter over the clock."""
        self.settings, self.keys, self.embed, self.clock = settings, keys, embed, clock
        self.limiter = RateLimiter(settings.api_rate_per_minute, settings.api_rate_burst, clock)

    @property
    def open(self) -> bool:
        """Whether neither keys nor embed tokens are configured (the one local user)."""
        return self.keys is None and self.embed is None

    def caller(self, bearer: str | None) -> Caller:
        """The caller a bearer credential stands for, after its rate limit."""
        if bearer is None:
            if self.open:
                return Caller(user=self.settings.local_user, accounts=None)
            what = "An API key" if self.embed is None else "An API key or embed token"
            raise ApiProblem(
                401, f"{what} is needed: send `Authorization: Bearer <key>`.", "missing-key"
            )
        found = self._key(bearer) if bearer.startswith(KEY_PREFIX) else self._token(bearer)
        self._limit(found)
        return found

    def _key(self, key: str) -> Caller:
        found = self.keys.caller(key) if self.keys is not None else None
        if found is None:
            log.info("refused: an invalid API key")
            raise ApiProblem(401, "The API key is not valid.", "invalid-key")
        return found

    def _token(self, token: str) -> Caller:
        if self.embed is None:
            raise ApiProblem(
                401,
                "This API takes no embed tokens (neither embed_secret nor embed_public_key_path "
                "is set).",
                "invalid-token",
            )
        try:
            claims = self.embed.verify(token, self.clock())
        except TokenError as err:
            log.info("refused an embed token: %s", err)  # the reason, never the token
            raise ApiProblem(401, str(err), "invalid-token") from None
        return Caller(
            user=f"embed:{claims.user}",
            accounts=frozenset({claims.account}),
            mode="embed",
            page=claims.page,
            limit_key=f"embed:{claims.account}:{claims.user}",
        )

    def _limit(self, caller: Caller) -> None:
        wait = self.limiter.take(caller.limit_key)
        if wait is not None:
            log.info("rate limited: %s", caller.limit_key)
            raise ApiProblem(
                429,
                f"Too many requests: {caller.noun.lower()} may make "
                f"{self.settings.api_rate_burst} at once and "
                f"{self.settings.api_rate_per_minute:g} a minute (the api_rate_burst and "
                f"api_rate_per_minute settings); retry in {wait} s.",
                "rate-limited",
                headers={"Retry-After": str(wait)},
            )
