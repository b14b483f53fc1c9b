"""TAP: run an asynchronous ADQL job (UWS) on a worker."""
from celery import shared_task

from catalog.services import tap


@shared_task(name="tasks.tap.run_tap_job", acks_late=True)
def run_tap_job(job_id: str) -> str | None:
    """Run a queued TAP job; its phase at the end (a job aborted or deleted meanwhile is left alone)."""
    return tap.job_run(job_id)
