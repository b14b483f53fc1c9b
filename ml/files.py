"""Writing files so that a reader (or a crashed run) sees the old file or the new one, never half."""
from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import Callable


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)`` beside ``path``, then rename it over ``path`` (atomic on POSIX).

    The parent directory is created; if ``write`` raises, the temporary file is removed and
    ``path`` is left as it was. Each writer has a temporary file of its own (process, thread and a
    random part in its name), so processes that write the same file at once (workers fetching one
    artifact) each rename a whole file, the last one winning.
    ``write_atomically(p, lambda t: t.write_text(text))`` for text,
    ``write_atomically(p, lambda t: torch.save(state, t))`` for checkpoints.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
