"""Progress on stderr for long runs (tqdm).

On a terminal a bar appears after one second; when stderr is not a terminal (a log file, a
pipe) nothing is drawn except, with ``log_stages=True``, one line per stage, so logs stay
readable.  ``--quiet`` turns everything off.  Every command that can run longer than a few
seconds passes one of these to the library as a ``progress(done, total)`` callback.
"""
from __future__ import annotations

import sys
import threading
import time


class Progress:
    """A callback ``progress(done, total)``; :meth:`stage` names the current part of the work."""

    def __init__(self, description: str, enabled: bool = True, unit: str = "step", log_stages: bool = False):
        self.tty = sys.stderr.isatty()
        self.enabled = enabled
        self.description = description
        self.unit = unit
        self.log_stages = log_stages and enabled and not self.tty
        self._bar = None
        self._stages = set()

    @property
    def drawing(self) -> bool:
        return self.enabled and self.tty

    def _ensure(self, total, bar_format=None):
        if self._bar is None:
            from tqdm import tqdm  # imported on the first bar drawn: most calls never draw one

            self._bar = tqdm(total=None if total is None else int(total), desc=self.description, file=sys.stderr,
                             delay=1.0, leave=False, unit=self.unit, unit_scale=True, dynamic_ncols=True,
                             bar_format=bar_format)
        return self._bar

    def __call__(self, done, total):
        if not self.drawing:
            return
        bar = self._ensure(total)
        if total is not None and bar.total != int(total):
            bar.total = int(total)
        bar.n = int(done)
        bar.refresh()

    def stage(self, name: str, fraction: float | None = None) -> None:
        """Enter or update a named stage (fraction of it done, 0..1)."""
        if self.log_stages and name not in self._stages:
            self._stages.add(name)
            print(f"{self.description}: {name} ...", file=sys.stderr, flush=True)
        if not self.drawing:
            return
        bar = self._ensure(100, "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}]")
        bar.set_description_str(f"{self.description}: {name}", refresh=False)
        bar.n = int(round(100 * (fraction or 0.0)))
        bar.refresh()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Heartbeat(Progress):
    """For work whose progress cannot be counted from outside (a library call without a
    progress callback): a bar without a total that shows the elapsed time, refreshed from a
    background thread once a second while the ``with`` block runs."""

    def __init__(self, description: str, enabled: bool = True, interval: float = 1.0):
        super().__init__(description, enabled, unit="s")
        self.interval = interval
        self._stop = threading.Event()
        self._thread = None

    def _run(self):
        start = time.monotonic()
        self._ensure(None, "{desc}: {elapsed} elapsed")
        while not self._stop.wait(self.interval):
            self(time.monotonic() - start, None)

    def __enter__(self):
        if self.drawing:
            self._thread = threading.Thread(target=self._run, name="anglefish-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.close()
