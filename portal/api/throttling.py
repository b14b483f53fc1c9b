"""Rate limits that hold across web processes, and tokens that can expire.

The counters live in the shared cache (``CACHES``: the broker's Redis, its own database), so every
gunicorn process counts the same client; the client is REMOTE_ADDR, or the address
``DOPPEL_NUM_PROXIES`` hops from the right of X-Forwarded-For behind proxies. A rate holds over any
window of its length (a sliding log, read and advanced by one Redis script per request). A
refused request is not counted, is answered with Retry-After, and is logged at INFO once per client
and minute (:class:`NotThrottled` keeps Django's per-response WARNING out of the
log), so a flood cannot flood the log too.
"""
from __future__ import annotations

import datetime
import itertools
import logging
import math
import os
import secrets

from django.conf import settings
from django.utils import timezone
from redis.commands.core import Script
from rest_framework import exceptions, throttling
from rest_framework.authentication import TokenAuthentication

logger = logging.getLogger("portal.throttling")


class _SlidingWindow:
    """DRF's sliding log (a request counts for ``duration`` seconds after it was made), kept in
    Redis as a sorted set of request times: trimmed, counted, and added to (or the refusal's wait
    read) by one script, in one round trip. A refused request is not added. Other caches: DRF's own
    history list."""

    def allow_request(self, request, view):
        self._request = request
        client = _redis(self.cache)
        if client is None or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        me = f"{self.now:.6f}:{_PROCESS}{os.getpid()}:{next(_SEQUENCE)}"  # unique across threads, processes, hosts
        allowed, oldest = _WINDOW(keys=[self.cache.make_key(self.key)],
                                  args=[f"{self.now:.6f}", me, f"{self.now - self.duration:.6f}", math.ceil(self.duration),
                                        self.num_requests], client=client)
        if allowed:
            return True
        self._free_at = float(oldest) + self.duration if oldest else self.now
        return self.throttle_failure()

    def throttle_failure(self):
        ident = self.get_ident(self._request)
        if self.cache.add(f"throttle-logged:{ident}", 1, timeout=60):
            logger.info("rate limit %s (%s) reached by %s; further refusals this minute are not logged",
                        self.scope, self.rate, ident)
        return False

    def wait(self):
        """Seconds until one more request fits (the Retry-After of a refusal)."""
        if _redis(self.cache) is None:
            return super().wait()
        return max(0.0, self._free_at - self.now)


# KEYS[1]: a client's log (request times as scores); ARGV: now (s), this request's member, when the
# window starts (s), the log's expiry (s), the limit. Returns {1, ''} (counted) or {0, the time of
# the request whose leaving makes room for one more} (refused, not counted).
_WINDOW = Script(None, b"""
local limit = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return {1, ''}
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return {0, oldest[2] or ''}
""")  # sent by its hash; redis-py loads it again where the server does not know it
_PROCESS = secrets.token_hex(3)
_SEQUENCE = itertools.count()


def _redis(cache):
    """The cache's redis-py client when the cache is Django's Redis backend, else None."""
    from django.core.cache import DEFAULT_CACHE_ALIAS, caches
    from django.core.cache import cache as default_cache
    from django.core.cache.backends.redis import RedisCache

    backend = caches[DEFAULT_CACHE_ALIAS] if cache is default_cache else cache  # not the alias's proxy
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None


class AnonThrottle(_SlidingWindow, throttling.AnonRateThrottle):
    """Anonymous clients, by address: ``DOPPEL_API_ANON_RATE``."""


class UserThrottle(_SlidingWindow, throttling.UserRateThrottle):
    """Signed-in clients, by user: ``DOPPEL_API_USER_RATE`` (anonymous ones count under
    :class:`AnonThrottle` only)."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class LoginThrottle(_SlidingWindow, throttling.SimpleRateThrottle):
    """Attempts to get a token or sign in to the admin, by client address: ``DOPPEL_LOGIN_RATE``."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TapThrottle(_SlidingWindow, throttling.SimpleRateThrottle):
    """ADQL queries by client address, whichever way they come (``/tap/sync``, a new ``/tap/async``
    job, the query form of the ``/tap/`` page): ``DOPPEL_TAP_RATE``. Each may hold a web process
    or a worker for up to its timeout; the API's rates would let one client queue many."""

    scope = "tap"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def refusal(self, request) -> str | None:
        """Why ``request`` may not run a query now (with when it may), or None where it may."""
        if self.allow_request(request, None):
            return None
        return (f"too many ADQL queries from this address (at most {self.rate}): "
                f"try again in {math.ceil(self.wait() or 1)} s")


class NotThrottled(logging.Filter):
    """Drops Django's per-response log line of a 429 (the throttle logs those itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 429


def token_expired(token) -> bool:
    """Whether an API token is older than ``DOPPEL_API_TOKEN_TTL_S`` (never when that is 0)."""
    ttl = settings.API_TOKEN_TTL_S
    return bool(ttl) and token.created < timezone.now() - datetime.timedelta(seconds=ttl)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF tokens that expire ``DOPPEL_API_TOKEN_TTL_S`` seconds after they were issued (0 = never);
    ``POST /api/token/`` with the same credentials issues a fresh one."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed("the token has expired; POST /api/token/ for a new one")
        return user, token
