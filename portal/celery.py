"""The Celery application: two queues, ``default`` (CPU) and ``gpu`` (training, encoding).

Broker and result settings come from Django settings (``CELERY_*``), which pick the embedded Redis
when ``CELERY_BROKER_URL`` is unset. GPU workers run ``-Q gpu --pool solo`` so CUDA is never
initialised in a forked parent; tasks choose their device inside the task body.
"""
import os

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("doppel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tasks"])  # imports tasks/tasks.py, which lists every task module


@worker_init.connect
@worker_process_init.connect
def _torch_threads(**_):
    """Each worker process uses DOPPEL_TORCH_THREADS intra-op threads (0 = torch's default)."""
    from django.conf import settings

    from ml.workflows import set_threads

    set_threads(settings.TORCH_THREADS)


@setup_logging.connect
def _logging(loglevel=None, logfile=None, **_):
    """The worker logs as Django's ``LOGGING`` says (format, level, filters), to ``--logfile`` when
    given: without this, Celery's own setup and Django's replaced each other's handlers, and a
    detached worker's log file stayed empty."""
    import copy
    import logging.config

    from django.conf import settings

    config = copy.deepcopy(settings.LOGGING)
    if logfile:
        config["handlers"]["console"] = {**config["handlers"]["console"], "class": "logging.FileHandler",
                                         "filename": logfile}
    logging.config.dictConfig(config)
