"""Units on a Dask cluster (issue 17): the third :class:`anglefish.units.Executor`.

``--scheduler tcp://HOST:PORT`` sends the units of a run to an existing Dask cluster (``dask scheduler``
and ``dask worker`` processes, started by the user) instead of the local process pool.  A worker receives
exactly what a local pool worker receives -- the unit's canonical JSON and the :class:`~anglefish.units.Context`
as JSON text (the ``--arch-file`` paths, the plugins flag, the caller's registry fingerprint) -- and calls
the same entry point, :func:`anglefish.units.execute` (through :func:`run_payload`, which also marks the
process as a worker and keeps numpy's warnings quiet).  No user object is pickled towards the workers;
results come back pickled (plain data made by anglefish code).  The ``--arch-file`` paths must name the
same files on the workers' machines, and the workers must import the same anglefish.  Start workers
with ``--nthreads 1`` (and as many workers as cores): a unit runs BLAS on one thread, and processes,
not threads, run units side by side.

Results do not depend on the executor: a unit's result depends only on its description, BLAS runs on
one thread in every unit, and :func:`anglefish.units.iterate_units` puts results back in unit order.
Each unit is submitted under a key made from its payload and context (so the dashboard names units by
their function) with ``retries=2``; a worker that dies mid-unit has its units rerun elsewhere by the
scheduler.  Ctrl-C (or any error) cancels every future of the run; callers write their outputs only
after all units have returned, so nothing half-done is written.

Dask is optional (``pip install 'anglefish[dask]'``); without it ``--scheduler`` is refused in one line.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import re
import socket
import subprocess
import sys
import time

from . import units
from .errors import AnglefishError

__all__ = ["DaskExecutor", "connect", "local_cluster", "parse_address", "run_payload", "use_scheduler",
           "CONNECT_TIMEOUT"]

#: seconds to wait for the scheduler before giving up (one line, exit 2)
CONNECT_TIMEOUT = 3.0
#: how often a unit is resubmitted after an exception in it (a worker's death is handled by the scheduler)
RETRIES = 2

_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_CLIENTS: dict = {}


def parse_address(text: str) -> str:
    """``tcp://HOST:PORT`` or ``tls://HOST:PORT`` (a bare ``HOST:PORT`` means tcp)."""
    given = str(text).strip()
    text = given if "://" in given else "tcp://" + given
    m = _ADDRESS.match(text)
    if not m or not 0 < int(m.group(3)) < 65536:
        raise AnglefishError(f"--scheduler must be tcp://HOST:PORT (a Dask scheduler's address), got {given!r}")
    return text


def _distributed():
    try:
        import distributed
    except ImportError:
        raise AnglefishError("--scheduler needs Dask's distributed scheduler: pip install 'anglefish[dask]'") from None
    return distributed


def connect(address: str, timeout: float = CONNECT_TIMEOUT):
    """A ``distributed.Client`` of the scheduler at ``address`` (one per address and process), or one
    line (AnglefishError) if it cannot be reached within ``timeout`` seconds."""
    address = parse_address(address)
    if address in _CLIENTS:
        return _CLIENTS[address]
    distributed = _distributed()
    for name in ("distributed", "distributed.client", "distributed.comm", "distributed.core"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # failures reach the user as one line
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        why = "timed out" if isinstance(err, TimeoutError) or "Timed out" in str(err) else type(err).__name__
        raise AnglefishError(f"cannot reach the Dask scheduler at {address} ({why} after {timeout:g} s); "
                             "start it with 'dask scheduler' or drop --scheduler") from None
    _CLIENTS[address] = client
    return client


def _close_clients() -> None:
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        try:
            client.close(timeout=2)
        except Exception:  # the scheduler may be gone already
            pass


atexit.register(_close_clients)


def use_scheduler(address: str):
    """Connect to the scheduler now (so that an unreachable one stops the run before any work) and make
    :func:`anglefish.units.make_executor` hand out a :class:`DaskExecutor` for it.  Returns the executor."""
    executor = DaskExecutor(address)
    units.set_scheduler(executor.address)
    return executor


def run_payload(payload: str, context: str) -> tuple:
    """The task a Dask worker runs: :func:`anglefish.units.execute` of the unit, in a process marked as
    a worker (nested unit runs stay in it), with numpy's floating-point warnings off (numbers that are
    not finite reach the output as null with a note, as in the other executors)."""
    import warnings

    import numpy as np

    units._IN_WORKER = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            return units.execute(payload, context)


def _key(payload: str, context: str) -> str:
    name = units.json.loads(payload)["function"].rsplit(":", 1)[-1]
    return f"anglefish-{name}-{hashlib.sha256((context + payload).encode()).hexdigest()[:32]}"


class DaskExecutor(units.Executor):
    """Runs unit payloads on the Dask cluster whose scheduler is at ``address`` (see the module text)."""

    def __init__(self, address: str):
        self.address = parse_address(address)
        self.client = connect(self.address)

    @property
    def workers(self) -> int:
        """The worker threads of the cluster now (at least 1)."""
        try:
            info = self.client.scheduler_info()["workers"]
        except Exception:
            return 1
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.values()))

    def stream(self, jobs, context):
        distributed = _distributed()
        text = context.to_json()
        jobs = list(jobs)
        futures: dict = {}
        finished = False
        try:
            for position, (index, payload) in enumerate(jobs):
                f = self.client.submit(run_payload, payload, text, key=_key(payload, text), retries=RETRIES,
                                       priority=len(jobs) - position)  # started in the order given
                futures[f] = index
            for f in distributed.as_completed(list(futures), loop=self.client.loop):
                try:
                    result = f.result()
                except AnglefishError:
                    raise
                except (distributed.KilledWorker, distributed.client.FutureCancelledError, OSError) as err:
                    raise AnglefishError(f"a unit failed on the Dask cluster at {self.address}: "
                                         f"{type(err).__name__}: {err}") from None
                yield futures[f], result
            finished = True
        finally:
            if not finished and futures:
                try:
                    self.client.cancel(list(futures), force=True)
                except Exception:  # the scheduler may be gone; nothing is written either way
                    pass


@contextlib.contextmanager
def local_cluster(workers: int = 2, pythonpath: str | None = None, nanny: bool = False):
    """A Dask cluster on 127.0.0.1 for tests and benchmarks: ``dask scheduler`` (a free port, no
    dashboard) and ``workers`` ``dask worker`` processes of one thread each (without a nanny by default,
    so a killed worker stays dead), importing anglefish from ``pythonpath`` if given.  Yields
    (address, worker processes); every process is ended afterwards."""
    distributed = _distributed()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pythonpath), os.environ.get("PYTHONPATH", "")) if p)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dask = [sys.executable, "-m", "dask"]
    procs = [subprocess.Popen(dask + ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              **quiet)]
    try:
        time.sleep(1)
        procs += [subprocess.Popen(dask + ["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"]
                                   + ([] if nanny else ["--no-nanny"]), **quiet) for _ in range(workers)]
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address, procs[1:]
    finally:
        units.set_scheduler(None)
        _close_clients()
        for p in procs[::-1]:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
