"""gunicorn's settings for the web process: ``gunicorn -c python:portal.gunicorn portal.wsgi``.

The container, ``make web`` and the benches start the same server: ``DOPPEL_WEB_WORKERS``
processes (default two per core this process may run on), each serving one request at a time.
A request spends most of its time in Python, where threads of one process would wait on each
other's interpreter lock, so throughput comes from processes (docs/scale.md, "Serving the API").
``DOPPEL_WEB_THREADS`` above 1 gives each process that many threads (gunicorn's ``gthread``
worker): fewer requests a second, but a long request (a streamed export of a million rows, a
synchronous TAP query) then holds a thread rather than a whole process.

gunicorn replaces a worker that has been busy with one request for ``timeout`` seconds. The
default 30 would cut a million-row export (about 20 s on 2 idle cores, longer under load) or a
synchronous TAP query near its own limit, so it is ``DOPPEL_WEB_TIMEOUT_S`` (300). A worker
serves one client at a time for as long as the client takes: keep a buffering proxy (nginx, a
cloud load balancer) in front (README, Production).
"""
from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from portal.env import envint

workers = envint("DOPPEL_WEB_WORKERS", 2 * len(os.sched_getaffinity(0)))
threads = envint("DOPPEL_WEB_THREADS", 1)
timeout = envint("DOPPEL_WEB_TIMEOUT_S", 300)
worker_class = "gthread" if threads > 1 else "sync"
for _name, _value in (("DOPPEL_WEB_WORKERS", workers), ("DOPPEL_WEB_THREADS", threads), ("DOPPEL_WEB_TIMEOUT_S", timeout)):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1")
