"""The gateway's authorizer results, kept per token as API Gateway keeps them.

A REST API's Cognito authorizer caches its result per token for `authorizerResultTtlInSeconds`, 300 s
unless set (the stack leaves it). The local gate keeps what a token's check gave for as long, or until
the token expires if that comes first: checking a local RS256 token costs 100 to 200 µs (PyJWT checks
every base64 character in Python before the RSA verify), more than the rest of a local request.

A kept result is the one a new check would give: the key does not change under a running worker and
the only check that depends on the time, `exp`, ends the entry. Refusals are not kept, so a token is
never refused for longer than it is invalid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

# API Gateway's default for a Cognito user pool authorizer's result cache.
RESULT_TTL_SECONDS = 300
# Distinct tokens kept per worker; past it the oldest go (local use has a handful).
MAX_TOKENS = 1024


class AuthorizerCache:
    """Values by token (or by anything hashable that names a check), each until `min(now + ttl, expires_at)`."""

    def __init__(
        self, ttl: float = RESULT_TTL_SECONDS, size: int = MAX_TOKENS, clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, token: Hashable) -> Any | None:
        """The value kept for `token`, or None when there is none or it has run out."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if self.clock() < entry[0]:
            return entry[1]
        del self._entries[token]
        return None

    def put(self, token: Hashable, value: Any, expires_at: float) -> None:
        """Keep `value` for `token` until the cache's TTL or `expires_at` (the token's `exp`), whichever is first."""
        if len(self._entries) >= self.size:
            # Insertion order: the first keys are the oldest entries.
            for old in list(self._entries)[: max(1, self.size // 4)]:
                del self._entries[old]
        self._entries[token] = (min(self.clock() + self.ttl, expires_at), value)
