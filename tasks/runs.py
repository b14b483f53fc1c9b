"""Progress of a training run, written where people look: the TrainingRun row (admin, API) and
the Celery task state (``AsyncResult(id).info``)."""
from __future__ import annotations

import logging
import time
import traceback

from django.conf import settings

from catalog import services

logger = logging.getLogger("doppel.training")


def readable_error(error: BaseException) -> str:
    """'Type: message' first (what the admin reads), then the traceback for the developer."""
    first = f"{type(error).__name__}: {error}".strip()
    return first + "\n\n" + "".join(traceback.format_exception(type(error), error, error.__traceback__))[-6000:]


class Reporter:
    """Called by the ml training loops: records epochs, phases, ETA; answers "should I stop?"."""

    def __init__(self, task, claim):
        self.task, self.version, self.run = task, claim.version, claim.run
        self.artifact = ""
        self.total_epochs = 1
        self.epochs_done = 0
        self._claimed_at = time.time()
        self._phase_started = time.time()
        self._marks: dict = {"claimed_at": self._claimed_at, "resumed": claim.resumed}
        self._last_cancel_check = 0.0
        self._cancelled = False
        started = claim.run.started_at.timestamp() if claim.run.started_at else self._claimed_at
        self._deadline = started + settings.TRAINING_TIMEOUT_S  # first start: resumes do not reset it
        self.timed_out = ""  # the reason, once the run passed the training time limit

    def phase(self, name: str, message: str = "") -> None:
        now = time.time()
        self._marks[f"{name}_started_at"] = now
        services.run_phase(run=self.run, phase=name, log=message or name)
        self._update_state({"phase": name, "message": message})

    def log(self, message: str) -> None:
        logger.info("v%s: %s", self.version.pk, message)

    def epoch(self, record: dict) -> None:
        now = time.time()
        self._marks.setdefault("first_epoch_started_at", now - float(record.get("seconds", 0.0)))
        self._marks["last_epoch_ended_at"] = now
        self.epochs_done += 1
        record = {**record, "epoch": record.get("epoch", self.epochs_done), "at": now}
        if "stage" in record:  # BHB: epochs of several stages, counted together
            record["step"] = done = self.epochs_done
        else:  # disentangler: its epoch counter continues across a resume
            done = record["epoch"]
        progress = min(done / max(self.total_epochs, 1), 1.0)
        seconds_per_epoch = (now - self._marks["first_epoch_started_at"]) / self.epochs_done
        eta = seconds_per_epoch * max(self.total_epochs - done, 0)
        services.run_record_epoch(run=self.run, record=record, progress=progress, eta_s=eta)
        self._update_state({"phase": "training", "epoch": record["epoch"], "progress": progress, "eta_s": eta})

    def should_stop(self) -> bool:
        """True once an admin cancelled the version (checked at most every 2 s) or the run passed
        ``DOPPEL_TRAINING_TIMEOUT_S`` (then :attr:`timed_out` says so)."""
        now = time.monotonic()
        if not self._cancelled and now - self._last_cancel_check > 2.0:
            self._last_cancel_check = now
            self._cancelled = services.is_cancelled(version_id=self.version.pk)
        if not self.timed_out and time.time() > self._deadline:
            self.timed_out = (f"TrainingTimeout: the run passed DOPPEL_TRAINING_TIMEOUT_S "
                              f"({settings.TRAINING_TIMEOUT_S} s) after epoch {self.epochs_done}; stopped")
        return self._cancelled or bool(self.timed_out)

    def timings(self) -> dict:
        marks = dict(self._marks)
        marks["finished_at"] = time.time()
        if "first_epoch_started_at" in marks and "last_epoch_ended_at" in marks:
            marks["training_s"] = marks["last_epoch_ended_at"] - marks["first_epoch_started_at"]
        return marks

    def _update_state(self, meta: dict) -> None:
        if self.task.request.id:
            self.task.update_state(state="PROGRESS", meta={"version": self.version.pk, **meta})
