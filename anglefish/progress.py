"""Progress bars on stderr for long runs (tqdm), silent when not a terminal or --quiet."""
from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """A callback ``progress(done, total)`` drawing a bar on stderr after one second."""

    def __init__(self, description: str, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self.description = description
        self._bar = None

    def __call__(self, done, total):
        if not self.enabled:
            return
        if self._bar is None:
            self._bar = tqdm(total=int(total), desc=self.description, file=sys.stderr, delay=1.0,
                             leave=False, unit="step", unit_scale=True)
        if self._bar.total != int(total):
            self._bar.total = int(total)
        self._bar.n = int(done)
        self._bar.refresh()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
