"""Test settings: the project's settings on the same embedded servers, isolated where it matters.

- Plain HTTP (no SSL redirect) for Django's test client.
- Redis logical database 15 for the broker and results, so a developer's running worker
  (database 0) never steals a test's task; database 14 for the cache.
- Artifacts in a temporary folder per test session, removed when the session's process exits.
  A folder given in ``DOPPEL_ARTIFACTS`` is used as it is and kept (to look at after a failure).
- ``DOPPEL_USE_TEST_DATABASE=1`` points a worker process started by a test at the test database.
"""
import atexit
import os
import shutil
import tempfile


def _session_artifacts() -> None:
    """Give the test session a fresh artifacts folder, unless ``DOPPEL_ARTIFACTS`` names one.

    The worker processes the tests start inherit the variable, so they share the session's folder
    and create none of their own. The process that made the folder removes it when it exits (a
    session leaves about 40 MB of checkpoints and dataset caches behind otherwise).
    """
    if os.environ.get("DOPPEL_ARTIFACTS"):
        return
    folder = tempfile.mkdtemp(prefix="doppel-test-artifacts-")
    os.environ["DOPPEL_ARTIFACTS"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


os.environ.setdefault("DOPPEL_HTTPS", "0")
_session_artifacts()
os.environ.setdefault("DOPPEL_REDIS_DB", "15")
os.environ.setdefault("DOPPEL_CACHE_DB", "14")  # the shared cache (throttles, counts), emptied before each test
# Throttling has its own test (which lowers the rates); the rest of the suite must never hit it.
os.environ.setdefault("DOPPEL_API_ANON_RATE", "100000/minute")
os.environ.setdefault("DOPPEL_API_USER_RATE", "100000/minute")
os.environ.setdefault("DOPPEL_LOGIN_RATE", "100000/minute")
os.environ.setdefault("DOPPEL_TAP_RATE", "100000/minute")

from portal.env import envbool  # noqa: E402
from portal.settings import *  # noqa: E402,F401,F403
from portal.settings import DATABASES  # noqa: E402

if envbool("DOPPEL_USE_TEST_DATABASE"):
    DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
