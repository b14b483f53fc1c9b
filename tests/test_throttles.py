"""Throttles that hold: counters in the shared Redis cache (what every web process sees), clients
by REMOTE_ADDR unless DOPPEL_NUM_PROXIES says how many proxies to trust, /api/token and the admin
sign-in throttled, tokens that expire, and one INFO line per client a minute instead of a WARNING
per refused request."""
import datetime
import logging

import pytest
import redis
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from catalog.models import TapJob
from portal.api.throttling import NotThrottled

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "5/minute", "login": "2/minute",
                                                               "tap": "2/minute"})


def test_a_client_cannot_escape_by_sending_its_own_forwarded_for(client, low_rates):
    codes = [client.get("/api/models/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]
    assert codes == [200, 200, 429, 429]


def test_behind_one_proxy_the_proxy_given_address_is_the_client(client, low_rates, monkeypatch):
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    first = [client.get("/api/models/", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.1.1.1").status_code for _ in range(3)]
    other = client.get("/api/models/", HTTP_X_FORWARDED_FOR="6.6.6.6, 2.2.2.2").status_code
    assert first == [200, 200, 429] and other == 200


def test_counters_live_in_the_shared_redis_cache(client, low_rates, settings):
    client.get("/api/models/")
    other_process = redis.Redis.from_url(settings.CACHE_URL)  # a separate connection, as another gunicorn worker
    keys = [key.decode() for key in other_process.keys("doppel:*throttle_anon_*")]
    assert keys, "the anonymous throttle's counter is not in the shared cache"


def test_api_token_and_admin_sign_in_are_throttled(client, low_rates):
    User.objects.create_user("ann", password="right-horse-battery")
    codes = [client.post("/api/token/", {"username": "ann", "password": "wrong"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    admin = [client.post("/admin/login/", {"username": "ann", "password": "wrong"}).status_code for _ in range(3)]
    assert admin[-1] == 429


def test_adql_queries_are_throttled_together_wherever_they_come_from(client, low_rates):
    query = {"QUERY": "SELECT TOP 1 designation FROM doppel.stars", "LANG": "ADQL"}
    assert client.post("/tap/sync", query).status_code == 200
    assert client.get("/tap/", {"query": query["QUERY"]}).status_code == 200  # the page's form: the second query
    refused = client.post("/tap/sync", query)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert b'QUERY_STATUS" value="ERROR">too many ADQL queries from this address (at most 2/minute)' in refused.content
    assert client.post("/tap/async", query).status_code == 429 and not TapJob.objects.exists()  # no job is created
    page = client.get("/tap/", {"query": query["QUERY"]})
    assert page.status_code == 429 and "too many ADQL queries" in page.content.decode()
    assert client.get("/tap/").status_code == 200  # the page itself, without a query, is not counted
    assert client.post("/tap/sync", {**query, "MAXREC": "-1"}).status_code == 400  # a malformed request is refused first


def test_an_expired_token_is_refused_and_a_fresh_one_issued(client, settings):
    settings.API_TOKEN_TTL_S = 60
    user = User.objects.create_user("ann", password="right-horse-battery", is_staff=True)
    token = Token.objects.create(user=user)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - datetime.timedelta(minutes=2))
    refused = client.get("/api/training-runs/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert refused.status_code in (401, 403) and "expired" in refused.json()["error"]["detail"]
    fresh = client.post("/api/token/", {"username": "ann", "password": "right-horse-battery"}).json()["token"]
    assert fresh != token.key
    assert client.get("/api/training-runs/", HTTP_AUTHORIZATION=f"Token {fresh}").status_code == 200


def test_refusals_log_one_info_line_per_client_a_minute(client, low_rates, caplog):
    with caplog.at_level(logging.INFO):
        codes = [client.get("/api/models/").status_code for _ in range(6)]
    assert codes.count(429) == 4
    lines = [r for r in caplog.records if r.name == "portal.throttling"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    django_lines = [r for r in caplog.records if r.name == "django.request" and getattr(r, "status_code", 0) == 429]
    assert django_lines and not any(NotThrottled().filter(r) for r in django_lines)  # dropped by the handler's filter


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, in seconds, set by the test (30 s into a minute)."""
    from portal.api import throttling

    now = [60.0 * 29_000_000 + 30.0]
    monkeypatch.setattr(throttling._SlidingWindow, "timer", staticmethod(lambda: now[0]), raising=False)
    return now


def test_retry_after_is_when_the_next_request_fits(client, low_rates, clock):
    assert [client.get("/api/models/").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/models/")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert wait == 60  # the first of the two leaves the window a minute after it came
    start = clock[0]
    clock[0] = start + 30
    assert client.get("/api/models/").status_code == 429
    clock[0] = start + wait - 1
    assert client.get("/api/models/").status_code == 429  # not early
    clock[0] = start + wait
    assert client.get("/api/models/").status_code == 200


def test_the_limit_slides_across_window_edges(client, low_rates, clock):
    clock[0] += 29.0  # one second before the minute ends
    assert [client.get("/api/models/").status_code for _ in range(3)] == [200, 200, 429]
    clock[0] += 2.0  # a fixed window would start afresh here
    assert client.get("/api/models/").status_code == 429
    clock[0] += 58.0  # a minute after the two
    assert client.get("/api/models/").status_code == 200


def test_an_anonymous_request_is_counted_once_in_one_round_trip(client, low_rates, monkeypatch, settings):
    import redis.client

    redis.Redis.from_url(settings.CACHE_URL).script_flush()  # a server that does not know the script yet
    round_trips = []
    original_command = redis.client.Redis.execute_command
    monkeypatch.setattr(redis.client.Redis, "execute_command",
                        lambda self, *a, **k: (round_trips.append(a[0]), original_command(self, *a, **k))[1])
    assert client.get("/api/models/").status_code == 200
    assert round_trips == ["EVALSHA", "SCRIPT LOAD", "EVALSHA"]  # taught the script once
    round_trips.clear()
    assert client.get("/api/models/").status_code == 200
    assert round_trips == ["EVALSHA"]
    round_trips.clear()
    assert client.get("/api/models/").status_code == 429  # the anonymous rate, counted under one key only
    assert round_trips[0] == "EVALSHA" and "EVALSHA" not in round_trips[1:]  # refused in the same round trip


def test_without_redis_the_cache_backend_counts(client, low_rates, monkeypatch):
    from django.core.cache.backends.locmem import LocMemCache

    from portal.api import throttling

    local = LocMemCache("throttle-test", {})
    monkeypatch.setattr(throttling.AnonThrottle, "cache", local)
    assert [client.get("/api/models/").status_code for _ in range(3)] == [200, 200, 429]
    histories = [key.split(":", 2)[2] for key in local._cache if "throttle_anon" in key]
    assert [len(local.get(key)) for key in histories] == [2]  # DRF's own history list
