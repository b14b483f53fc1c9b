"""A real worker process runs tasks.ping through the real Redis broker."""
import os

import pytest

from tasks.health import ping

pytestmark = pytest.mark.slow


def test_real_worker_answers_ping(celery_worker_process):
    result = ping.delay().get(timeout=60)
    assert result["pong"] is True
    assert result["pid"] == celery_worker_process.process.pid
    assert result["pid"] != os.getpid()


def test_ping_is_routed_to_the_default_queue(celery_worker_process):
    from portal.celery import app

    assert app.conf.task_default_queue == "default"
    assert app.amqp.router.route({}, "tasks.ping")["queue"].name == "default"
    assert app.amqp.router.route({}, "tasks.training.train_disentangler")["queue"].name == "gpu"


def test_long_job_settings():
    from portal.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    from django.conf import settings

    # A short visibility timeout brings a lost chunk back within minutes; a training that outlives it
    # is covered by its watchdog copy, which must come round well within the timeout.
    assert app.conf.broker_transport_options["visibility_timeout"] == settings.BROKER_VISIBILITY_S <= 600
    assert settings.TRAINING_WATCHDOG_S < settings.BROKER_VISIBILITY_S
