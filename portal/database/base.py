"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

Django checks a kept connection (``CONN_HEALTH_CHECKS``) by sending ``SELECT 1`` before the first
query of each request: one more round trip on every request (a twin request needs two of its
own). A session that the server ends while the connection sits idle (a restart,
``pg_terminate_backend``, ``idle_session_timeout``, a pooler closing it) says so: the server sends
its error message and closes the socket, which turns readable. So the check polls the socket
without waiting: nothing to read means the session is as the last statement left it; anything to
read (that message, the end of the stream, or a harmless asynchronous message such as a changed
server parameter) falls back to Django's ``SELECT 1``, which decides.

A server that vanishes without closing its sockets (a host lost from the network) is missed by
both checks alike: the query then fails, and Django closes the connection at the end of that
request.
"""
from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed:
            return False
        try:
            poller = select.poll()
            poller.register(raw.fileno(), select.POLLIN)
            waiting = poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            return False
        return not waiting or super().is_usable()
