"""Health tasks."""
import os
import socket

from celery import shared_task


@shared_task(name="tasks.ping")
def ping() -> dict:
    """Answer from a worker: proves the broker delivers and a worker executes tasks."""
    return {"pong": True, "hostname": socket.gethostname(), "pid": os.getpid()}
