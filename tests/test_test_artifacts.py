"""A test session's artifacts folder: made once, shared with its workers, removed at exit."""
import os
import subprocess
import sys

from tests.conftest import ROOT

# Imports the test settings as a test session (or a worker it starts) does, leaves a checkpoint-sized
# file in the artifacts folder and says which folder that was.
SESSION = (
    "import os, tests.settings as settings; "
    "(settings.ARTIFACT_ROOT / 'model.pt').write_bytes(bytes(1024)); "
    "print(os.environ['DOPPEL_ARTIFACTS'])"
)


def _session(tmp_path, **environment) -> str:
    env = {key: value for key, value in os.environ.items() if key != "DOPPEL_ARTIFACTS"}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", TMPDIR=str(tmp_path / "tmp"), **environment)
    done = subprocess.run([sys.executable, "-c", SESSION], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_session_removes_the_folder_it_made(tmp_path):
    (tmp_path / "tmp").mkdir()
    folder = _session(tmp_path)
    assert folder.startswith(str(tmp_path / "tmp" / "doppel-test-artifacts-"))
    assert not os.path.exists(folder)
    assert os.listdir(tmp_path / "tmp") == []


def test_a_given_folder_is_used_and_kept_and_no_other_is_made(tmp_path):
    (tmp_path / "tmp").mkdir()
    given = tmp_path / "given"
    given.mkdir()
    assert _session(tmp_path, DOPPEL_ARTIFACTS=str(given)) == str(given)
    assert (given / "model.pt").stat().st_size == 1024
    assert os.listdir(tmp_path / "tmp") == []
