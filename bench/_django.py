"""Set up Django for a benchmark on its own throw-away database on the same server."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


@contextlib.contextmanager
def bench_database(name: str):
    """Create (and afterwards drop) database ``name``, migrated, and make it Django's default."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DOPPEL_HTTPS", "0")
    os.environ["DOPPEL_TEST_DATABASE"] = name
    import django

    django.setup()
    from django.db import connection

    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


def server_memory() -> str:
    """The database server's shared buffers and whether they are in huge pages, for a result's title
    (an index walk is about 10 % faster in huge pages: bench/huge_pages.py)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('huge_pages_status', true)")
        buffers, huge_pages = cursor.fetchone()
    return f"shared buffers {buffers}, huge pages {huge_pages or 'unknown'}"


def devices_to_measure(choice: str) -> list[str]:
    """The devices a benchmark measures for ``--device``: "cpu", "cuda", or "auto" (the CPU, and
    the GPU where torch sees one). Asking for "cuda" without one is an error, not a CPU run."""
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device here")
    if choice == "auto":
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return [choice]


def print_table(title: str, header: list[str], rows: list[list]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = [title, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    text = "\n".join(lines)
    print(text)
    return text
