"""Loaded by the test workers (``celery worker --include tests.worker_hooks``) so that a test can
kill a worker while its task is certainly in flight. Does nothing unless told:

- ``DOPPEL_TEST_SLOW_TASKS="task.name=seconds,…"``: the task sleeps that long before it runs;
- ``DOPPEL_TEST_EPOCH_DELAY_S=seconds``: every training epoch takes at least that much longer.
"""
import os
import time

from celery.signals import task_prerun

SLOW = dict(item.split("=") for item in os.environ.get("DOPPEL_TEST_SLOW_TASKS", "").split(",") if "=" in item)
EPOCH_DELAY = float(os.environ.get("DOPPEL_TEST_EPOCH_DELAY_S", "0") or 0)


def _slow_epochs() -> None:
    from tasks import runs  # Django is set up by the time a task runs

    if getattr(runs.Reporter.epoch, "slowed", False):
        return
    original = runs.Reporter.epoch

    def epoch(self, record):
        original(self, record)
        time.sleep(EPOCH_DELAY)

    epoch.slowed = True
    runs.Reporter.epoch = epoch


@task_prerun.connect
def _slow_down(sender=None, **kwargs):
    if EPOCH_DELAY:
        _slow_epochs()
    if sender is not None and sender.name in SLOW:
        time.sleep(float(SLOW[sender.name]))
