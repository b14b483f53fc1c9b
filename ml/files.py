"""Writing files so that a reader (or a crashed run) sees the old file or the new one, never half."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)`` beside ``path``, then rename it over ``path`` (atomic on POSIX).

    The parent directory is created; if ``write`` raises, the temporary file is removed and
    ``path`` is left as it was. ``write_atomically(p, lambda t: t.write_text(text))`` for text,
    ``write_atomically(p, lambda t: torch.save(state, t))`` for checkpoints.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
