"""Loaded by the test workers (``celery worker --include tests.worker_hooks``): with
``DOPPEL_TEST_SLOW_TASKS="task.name=seconds,…"`` a task sleeps that long before it runs, so a
test can kill its worker while the task is certainly in flight. Does nothing otherwise."""
import os
import time

from celery.signals import task_prerun

SLOW = dict(item.split("=") for item in os.environ.get("DOPPEL_TEST_SLOW_TASKS", "").split(",") if "=" in item)


@task_prerun.connect
def _slow_down(sender=None, **kwargs):
    if sender is not None and sender.name in SLOW:
        time.sleep(float(SLOW[sender.name]))
