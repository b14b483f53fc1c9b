"""Progress for long commands: a tqdm bar on a terminal, a few quiet log lines otherwise."""
from __future__ import annotations

import logging
import sys
import time

logger = logging.getLogger("doppel.progress")


class Progress:
    def __init__(self, total: int | None, description: str, unit: str = "it", stream=None, enabled: bool = True,
                 echo=None):
        self.total, self.description, self.unit = total, description, unit
        self.count = 0
        self._echo = echo or (lambda message: print(message, file=sys.stderr))
        self.started = time.perf_counter()
        self._next_log = 0.1 if enabled else float("inf")
        stream = stream or sys.stderr
        self._bar = None
        if enabled and hasattr(stream, "isatty") and stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=description, unit=unit, file=stream, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.total and self.count / self.total >= self._next_log:
            logger.info("%s: %d/%d %s (%.0f%%)", self.description, self.count, self.total, self.unit,
                        100.0 * self.count / self.total)
            self._next_log += 0.1

    def write(self, message: str) -> None:
        """A message that does not break the bar."""
        if self._bar is not None:
            self._bar.write(message)
        else:
            self._echo(message)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
