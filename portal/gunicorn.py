"""gunicorn's settings for the web process: ``gunicorn -c python:portal.gunicorn portal.wsgi``.

The container, ``make web`` and the benches start the same server: synchronous workers, one
request at a time each, ``DOPPEL_WEB_WORKERS`` of them (default two per core this process may run
on). A request spends most of its time in Python, so threads inside one process would wait on
each other's interpreter lock; separate processes do not (docs/scale.md has the comparison). A
synchronous worker is held for as long as its client takes to send and read, so exposed to the
internet it belongs behind a buffering proxy (nginx, a cloud load balancer): README, Production.
"""
from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from portal.env import envint

worker_class = "sync"
workers = envint("DOPPEL_WEB_WORKERS", 2 * len(os.sched_getaffinity(0)))
if workers < 1:
    raise ImproperlyConfigured(f"DOPPEL_WEB_WORKERS={workers} must be at least 1")
