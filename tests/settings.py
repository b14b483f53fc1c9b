"""Test settings: the project's settings on the same embedded servers, isolated where it matters.

- Plain HTTP (no SSL redirect) for Django's test client.
- Redis logical database 15 for the broker and results, so a developer's running worker
  (database 0) never steals a test's task.
- Artifacts in a temporary folder per test session.
- ``DOPPEL_USE_TEST_DATABASE=1`` points a worker process started by a test at the test database.
"""
import os
import tempfile

os.environ.setdefault("DOPPEL_HTTPS", "0")
# Artifacts and dataset caches of a test session live in a fresh folder, shared with the worker
# processes the tests start (they inherit the environment).
os.environ.setdefault("DOPPEL_ARTIFACTS", tempfile.mkdtemp(prefix="doppel-test-artifacts-"))
os.environ.setdefault("DOPPEL_REDIS_DB", "15")
# Throttling has its own test (which lowers the rates); the rest of the suite must never hit it.
os.environ.setdefault("DOPPEL_API_ANON_RATE", "100000/minute")
os.environ.setdefault("DOPPEL_API_USER_RATE", "100000/minute")

from portal.env import envbool  # noqa: E402
from portal.settings import *  # noqa: E402,F401,F403
from portal.settings import DATABASES  # noqa: E402

if envbool("DOPPEL_USE_TEST_DATABASE"):
    DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
