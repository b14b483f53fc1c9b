"""Files written through ml.files are whole or absent: a failed write leaves the old file, and
processes writing the same file at once each leave a whole one (workers fetching one artifact)."""
import multiprocessing
import time

import pytest

from ml.files import write_atomically


def test_a_write_replaces_the_file_and_creates_its_folder(tmp_path):
    path = write_atomically(tmp_path / "runs" / "result.json", lambda temporary: temporary.write_text("new"))
    assert path.read_text() == "new"
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    path = tmp_path / "result.json"
    path.write_text("old")

    def half_then_crash(temporary):
        temporary.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, half_then_crash)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def _write_slowly(path: str, content: bytes, start) -> str:
    start.wait()

    def slowly(temporary):
        with open(temporary, "wb") as out:
            for k in range(0, len(content), 4096):
                out.write(content[k:k + 4096])
                out.flush()
                time.sleep(0.001)  # about 0.3 s a write: the four overlap

    try:
        write_atomically(path, slowly)
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    return open(path, "rb").read() == content and "whole" or "torn"


def test_processes_writing_one_file_at_once_each_leave_it_whole(tmp_path):
    """Two bench workers once fetched the same artifact at the same moment through one shared
    temporary name: one rename failed (FileNotFoundError) and the other worker loaded a torn file."""
    path = tmp_path / "blobs" / "artifact.pt"
    content = bytes(range(256)) * 4096  # 1 MB, written in 256 steps
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(4) as pool:
        waiting = [pool.apply_async(_write_slowly, (str(path), content, start)) for _ in range(4)]
        start.set()
        outcomes = [result.get(timeout=60) for result in waiting]
    assert outcomes == ["whole"] * 4
    assert path.read_bytes() == content and [p.name for p in path.parent.iterdir()] == ["artifact.pt"]
