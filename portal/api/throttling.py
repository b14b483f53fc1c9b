"""Rate limits that hold across web processes, and tokens that can expire.

The counters live in the shared cache (``CACHES``: the broker's Redis, its own database), so every
gunicorn process counts the same client; the client is REMOTE_ADDR, or the address
``DOPPEL_NUM_PROXIES`` hops from the right of X-Forwarded-For behind proxies. A refused request is
logged at INFO once per client and minute (:class:`NotThrottled` keeps Django's per-response
WARNING out of the log), so a flood cannot flood the log too.
"""
from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import exceptions, throttling
from rest_framework.authentication import TokenAuthentication

logger = logging.getLogger("portal.throttling")


class _LogOnce:
    def throttle_failure(self):
        ident = self.get_ident(self._request)
        if cache.add(f"throttle-logged:{ident}", 1, timeout=60):
            logger.info("rate limit %s (%s) reached by %s; further refusals this minute are not logged",
                        self.scope, self.rate, ident)
        return False

    def allow_request(self, request, view):
        self._request = request
        return super().allow_request(request, view)


class AnonThrottle(_LogOnce, throttling.AnonRateThrottle):
    """Anonymous clients, by address: ``DOPPEL_API_ANON_RATE``."""


class UserThrottle(_LogOnce, throttling.UserRateThrottle):
    """Signed-in clients, by user: ``DOPPEL_API_USER_RATE``."""


class LoginThrottle(_LogOnce, throttling.SimpleRateThrottle):
    """Attempts to get a token or sign in to the admin, by client address: ``DOPPEL_LOGIN_RATE``."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


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
