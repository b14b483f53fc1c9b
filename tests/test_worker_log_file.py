"""A worker started with ``--logfile`` (as ``make worker-bg`` does) writes its log there, in the
format of Django's LOGGING; before, Django's handlers replaced Celery's and the file stayed empty."""
import time

from tests.conftest import WorkerProcess


def test_a_worker_writes_its_log_to_its_log_file(tmp_path, db):
    log_file = tmp_path / "worker.log"
    worker = WorkerProcess(tmp_path / "stdout.txt", queues="log-file-test", extra_args=("--logfile", str(log_file)))
    try:
        worker.wait_ready()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and " ready." not in (log_file.read_text() if log_file.exists() else ""):
            time.sleep(0.2)
    finally:
        worker.stop()
    lines = log_file.read_text().splitlines()
    assert any(line.endswith(" ready.") and " INFO celery.apps.worker: " in line for line in lines), lines[-5:]
    assert " ready." not in (tmp_path / "stdout.txt").read_text()  # the banner only: the log went to the file
