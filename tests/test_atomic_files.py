"""Files written through ml.files are whole or absent: a failed write leaves the old file."""
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
