"""Per-client request rate limits: a token bucket per bearer token, or per address without one.

Every request to /v1 takes one token from its bucket; a bucket holds at most `burst` tokens and
refills at `rate` tokens a second. An empty bucket answers 429 with `Retry-After`, the whole
seconds until a token is back. Buckets are keyed on a hash of the bearer token as sent (so the
limit applies before, and whatever, the token lookup costs), or on the client address for a
request without one. A request whose token turns out not to be valid also takes a token from
a bucket of its address's refused tokens; while that one is empty, requests from that address
with a token not yet found valid wait too, so guessing tokens is limited like anonymous
requests while the tokens in use go on working.
The public paths (health probes, the API's description) are never limited. Buckets live in
this process: with several API processes behind a balancer, each allows `rate`. Behind a
reverse proxy, the address is the client's only if the proxy is trusted (api/clients.py);
otherwise it is the proxy's, and requests without a token share one bucket.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from api.auth import PUBLIC_PATHS
from api.clients import client_address
from api.keys import ACTOR
from api.problems import Handler, Problem

# Past this many buckets, half are forgotten: those full again (idle clients) first, then
# those of tokens never found valid, then the oldest. Forgetting a bucket only refills it.
MAX_BUCKETS = 50_000


@dataclass
class _Bucket:
    tokens: float
    at: float
    # Its token was found valid: requests with it never wait for others' refused tokens.
    proven: bool = False


class RateLimiter:
    """Token buckets by key; `rate` 0 admits everything."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 if there was one, else the seconds until there is."""
        waiting = self.waiting(key)
        if waiting == 0 and self.rate > 0:
            now = self.clock()
            self._store(key, self._tokens(key, now) - 1, now)
        return waiting

    def waiting(self, key: str) -> float:
        """The seconds until `key` has a token, taking none: 0 if it has one now."""
        if self.rate <= 0:
            return 0.0
        tokens = self._tokens(key, self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def prove(self, key: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.proven = True

    def proven(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        return bucket is not None and bucket.proven

    def _tokens(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        return self.burst if bucket is None else self._refilled(bucket, now)

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)

    def _store(self, key: str, tokens: float, now: float) -> None:
        previous = self._buckets.get(key)
        self._buckets[key] = _Bucket(tokens, now, previous is not None and previous.proven)
        if len(self._buckets) > MAX_BUCKETS:
            self._forget_half(now)

    def _forget_half(self, now: float) -> None:
        keep = MAX_BUCKETS // 2
        for forgettable in (
            lambda b: self._refilled(b, now) >= self.burst,
            lambda b: not b.proven,
            lambda b: True,
        ):
            excess = len(self._buckets) - keep
            if excess <= 0:
                return
            chosen = [k for k, b in self._buckets.items() if forgettable(b)][:excess]
            for key in chosen:
                del self._buckets[key]


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)


def _client_key(request: web.Request) -> str:
    authorization = request.headers.get("Authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode("utf-8", "replace")).hexdigest()
    return f"address:{client_address(request) or 'unknown'}"


def _guessing_key(request: web.Request) -> str:
    return f"refused-tokens:{client_address(request) or 'unknown'}"


def _too_many(seconds: float) -> Problem:
    retry_after = max(1, math.ceil(seconds))
    return Problem(
        429,
        f"Too many requests; retry in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    limiter = request.app[RATE_LIMITER]
    key = _client_key(request)
    sends_token = "Authorization" in request.headers
    # Checked first, so that a flood of guesses makes no bucket of its own.
    if sends_token and not limiter.proven(key):
        guessing = limiter.waiting(_guessing_key(request))
        if guessing > 0:
            raise _too_many(guessing)
    waiting = limiter.take(key)
    if waiting > 0:
        raise _too_many(waiting)
    try:
        return await handler(request)
    except Problem as problem:
        if problem.status == 401 and sends_token:
            limiter.take(_guessing_key(request))
        raise
    finally:
        if ACTOR in request:
            limiter.prove(key)
