"""Units of work and the executors that run them.

A :class:`Unit` is a pure description of a piece of work: the dotted name of a module-level function
(``"anglefish.verify.work:monte_carlo"``) and JSON-able keyword arguments.  Whatever is random in it
is fixed by those arguments: a unit carries the master seed and the labels from which its streams are
derived (:func:`anglefish.seeds.part_seed`, :func:`anglefish.seeds.generators`: spawn keys, never seed
arithmetic), or the range of network indices it runs (network s always draws from generator s).  So a
unit's result depends only on its description -- not on how the work was split, on which process runs
it, on the number of workers or on the order in which units finish.

An executor runs units and hands back their results:

* :class:`InProcess` (``workers=1``): one after the other, in this process;
* :class:`LocalPool`: a ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` fresh Python
  processes (default: the cores available to this process, ``len(os.sched_getaffinity(0))``);
* a Dask cluster (issue 17) is a third implementation of :class:`Executor`.

The executor interface (all a new backend implements)::

    class MyExecutor(Executor):
        workers = <int>                      # how many units run at once (reported, not trusted)
        def stream(self, jobs, context):     # jobs: [(index, payload)], context: Context
            # start the jobs in the order given; as each finishes (any order) yield
            #     index, execute(payload, context.to_json())
            # evaluated ON THE WORKER -- execute() returns (result, seconds);
            # on any exception while streaming (KeyboardInterrupt, GeneratorExit when the
            # caller stops early) cancel what has not finished, then let it propagate.

``payload`` is the unit's canonical JSON text (:meth:`Unit.payload`) and ``context.to_json()`` is
JSON text too: a worker needs nothing else, and :func:`execute` refuses functions outside anglefish.
:func:`execute` loads the context once per process (``--arch-file`` paths, plugins), compares the
registries, runs the unit with BLAS on one thread and returns (result, seconds).  A worker process
should ignore SIGINT (Ctrl-C is the caller's) and may call :func:`worker_init` once at start (BLAS
on one thread, SIGINT ignored, numpy warnings off -- what :class:`LocalPool` does).  Results are
pickled plain data; identical payloads give identical results anywhere, so a backend may retry a
unit whose worker died.  :func:`iterate_units` / :func:`run_units` / :class:`Plan` take
``executor=`` and do the rest (deduplication, reuse, ordering, progress), the same for every backend;
``with using(executor):`` sends every run of a whole command (verify, figures, ...) to it.

What goes to a worker is text: the unit's JSON and the :class:`Context` -- the ``--arch-file`` paths
to run, whether to load the ``anglefish.plugins`` entry points, and a fingerprint of the caller's
registries -- never pickled user objects.  A worker rebuilds its registries from the context (once
per process) and compares them with the fingerprint name by name: a name both know must mean the same
(else the run stops with one line); an architecture only the caller knows (registered in the calling
process by other means) stops, with one line, exactly the units that ask for it (``arch=`` argument).

BLAS runs on one thread in every worker and, in-process, while a unit runs
(:func:`anglefish.numeric.network.one_blas_thread`): processes over independent units beat BLAS
threads, and one thread everywhere keeps every number independent of the executor.

:func:`run_units` returns the results in unit order and reports progress as units done / total.
Identical units (the same function and arguments) run once.  Ctrl-C cancels the units not started,
stops the workers and re-raises KeyboardInterrupt; callers write their outputs only after every unit
they need has returned, so nothing half-done is written.
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import hashlib
import importlib
import json
import os
import pathlib
import signal
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from .errors import AnglefishError

__all__ = ["Context", "Executor", "InProcess", "LocalPool", "Plan", "Unit", "reusing", "arch_name", "available_workers", "blocks",
           "current_context",
           "execute", "iterate_units", "load_plugins", "make_executor", "registry_fingerprint", "run_units",
           "set_context", "set_scheduler", "unit", "using", "worker_init"]


# ----------------------------------------------------------------------------- units
def _canonical(value) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise AnglefishError(f"a unit's arguments must be JSON-able (plain numbers, strings, lists, dicts): "
                             f"{err}") from None


#: the scale of cost hints: about this many per CPU second of the unit on the 2-core development VM
#: (measured per unit at commit 5374084 for the verification's units); hints on this scale let units of
#: different kinds (Monte Carlo pairs, training studies, Fisher networks) be ordered longest first
COST_PER_SECOND = 50.0


@dataclass(frozen=True)
class Unit:
    """One piece of work: ``function`` ("package.module:name", a module-level function) called with
    ``kwargs`` (JSON-able).  ``cost`` is a run-time hint (on the scale :data:`COST_PER_SECOND`) used only
    to start long units first; ``label`` names the unit in messages.  Neither enters the result."""

    function: str
    kwargs: dict = field(default_factory=dict)
    cost: float = 1.0
    label: str = ""

    def payload(self) -> str:
        """The unit as canonical JSON text (what a worker receives; also its identity)."""
        return _canonical({"function": self.function, "kwargs": self.kwargs})


def unit(function, *, cost: float = 1.0, label: str = "", **kwargs) -> Unit:
    """A :class:`Unit` calling ``function`` (a module-level function or its dotted name) with ``kwargs``.
    Tuples become lists (as JSON has them), so the function sees the same arguments in every executor."""
    if callable(function):
        name = f"{function.__module__}:{function.__qualname__}"
        if "<" in function.__qualname__ or "." in function.__qualname__:
            raise AnglefishError(f"a unit must call a module-level function, got {name}")
        function = name
    u = Unit(str(function), kwargs, float(cost), label or str(function).rsplit(":", 1)[-1])
    return Unit(u.function, json.loads(u.payload())["kwargs"], u.cost, u.label)


def _resolve(name: str) -> Callable:
    module, _, attr = name.partition(":")
    if not module or not attr:
        raise AnglefishError(f"a unit's function must be 'package.module:name', got {name!r}")
    if not module.startswith("anglefish"):  # workers run anglefish's own functions only
        raise AnglefishError(f"a unit's function must belong to anglefish, got {name!r}")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise AnglefishError(f"no function {name!r}") from None
    return fn


# ----------------------------------------------------------------------------- context
@dataclass(frozen=True)
class Context:
    """What a fresh worker process needs to rebuild the caller's registries: the ``--arch-file``
    paths (absolute, run in order), whether to load the ``anglefish.plugins`` entry points, and a
    fingerprint of the registries the caller holds (:func:`registry_fingerprint`; empty: not checked)."""

    arch_files: tuple = ()
    plugins: bool = True
    fingerprint: str = ""

    def to_json(self) -> str:
        return _canonical({"arch_files": list(self.arch_files), "plugins": self.plugins,
                           "fingerprint": self.fingerprint})

    @classmethod
    def from_json(cls, text: str) -> "Context":
        d = json.loads(text)
        return cls(tuple(d.get("arch_files", ())), bool(d.get("plugins", True)), str(d.get("fingerprint", "")))


_CONTEXT = Context()
#: the contexts this process has already loaded (a worker loads each once)
_LOADED: set = set()
#: True in a worker process: nested run_units calls run in-process
_IN_WORKER = False
#: units running in this process now (execute): nested run_units calls run in-process
_RUNNING = 0


def set_context(arch_files=(), plugins: bool = True) -> Context:
    """Record what this process loaded (the command line calls it after :func:`load_plugins`)."""
    global _CONTEXT
    files = tuple(str(pathlib.Path(os.path.expanduser(str(p))).resolve()) for p in arch_files)
    _CONTEXT = Context(files, bool(plugins))
    _LOADED.add((files, bool(plugins)))
    return _CONTEXT


def current_context() -> Context:
    """This process's context, with the fingerprint of its registries now."""
    return Context(_CONTEXT.arch_files, _CONTEXT.plugins, registry_fingerprint())


def load_plugins(paths=(), plugins: bool = True) -> None:
    """Run ``--arch-file`` files and load the 'anglefish.plugins' entry points.

    A file that raises, or that calls sys.exit(), is an error (one line), not a silent end."""
    import runpy
    from importlib.metadata import entry_points

    from .validation import check_arch_file

    if plugins:
        for ep in entry_points(group="anglefish.plugins"):
            try:
                obj = ep.load()
            except Exception as err:  # a broken plugin must not crash with a traceback
                raise AnglefishError(f"plugin '{ep.name}' failed to load: {type(err).__name__}: {err}") from None
            if callable(obj):
                obj()
    for path in paths:
        check_arch_file(path)
        try:
            runpy.run_path(str(path), run_name="anglefish_arch_file")
        except AnglefishError as err:
            raise AnglefishError(f"--arch-file {path}: {err}") from None
        except SystemExit as err:
            raise AnglefishError(f"--arch-file {path} called sys.exit({err.code!r}); an architecture file "
                                 "must not exit") from None
        except Exception as err:
            raise AnglefishError(f"--arch-file {path} failed: {type(err).__name__}: {err}") from None


def registry_fingerprint() -> str:
    """What the registries hold, as JSON text {"arch:NAME" | "block:NAME" | "activation:NAME": hash of
    its definition} (architecture names of the form 'base[activation]' left out: they are derived on
    first use, the same everywhere)."""
    from .theory import activations, architectures, block_types

    def h(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    out = {f"arch:{name}": h(repr((repr(a.block), a.gaussian_inputs))) for name, a in architectures().items()
           if not name.endswith("]")}
    out.update({f"block:{name}": h(f"{t.__module__}.{t.__qualname__}") for name, t in block_types().items()})
    out.update({f"activation:{name}": h(repr(a)) for name, a in activations().items()})
    return _canonical(out)


#: names the caller has registered that this worker process could not rebuild from the context
_MISSING: set = set()
#: the caller fingerprint this process was last compared with (the comparison is made once)
_CHECKED: set = set()


def _prepare(context: Context) -> None:
    """Load ``context`` in this process (once) and compare its registries with the caller's: a name
    both know must mean the same thing (else the run stops with one line); a name only the caller
    knows (registered in the calling process by other means than an --arch-file or a plugin) is
    remembered, and a unit that asks for that architecture stops with one line saying so."""
    key = (tuple(context.arch_files), bool(context.plugins))
    if key not in _LOADED:
        load_plugins(context.arch_files, context.plugins)
        _LOADED.add(key)
    if not context.fingerprint or context.fingerprint in _CHECKED:
        return
    theirs, mine = json.loads(context.fingerprint), json.loads(registry_fingerprint())
    differ = sorted(k for k in theirs.keys() & mine.keys() if theirs[k] != mine[k])
    if differ:
        raise AnglefishError(f"a worker process rebuilt {', '.join(differ)} differently from the calling process "
                             "(registered there by other means than an --arch-file or a plugin); register it in an "
                             "--arch-file, or run with --workers 1")
    _MISSING.clear()
    _MISSING.update(k.split(":", 1)[1] for k in theirs.keys() - mine.keys() if k.startswith("arch:"))
    _CHECKED.clear()
    _CHECKED.add(context.fingerprint)


def _check_rebuilt(kwargs: dict) -> None:
    arch = kwargs.get("arch")
    if isinstance(arch, str) and arch in _MISSING:
        raise AnglefishError(f"architecture '{arch}' was registered in the calling process, not by an --arch-file or "
                             "an 'anglefish.plugins' entry point, so worker processes cannot rebuild it; register "
                             "it in an --arch-file, or run with --workers 1")


# ----------------------------------------------------------------------------- the worker entry point
_BLAS_LIMIT = None


def worker_init() -> None:
    """Start of a worker process: Ctrl-C is the caller's to handle; BLAS on one thread for good.  (The
    context is loaded by the first unit, so that an error in it reaches the caller as that error.)"""
    global _IN_WORKER, _BLAS_LIMIT
    import numpy as np

    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from threadpoolctl import threadpool_limits

    _BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")
    # numbers that are not finite reach the caller's output as null with a note, never as warnings
    warnings.simplefilter("ignore", RuntimeWarning)
    np.seterr(all="ignore")


def execute(payload: str, context: str = "") -> tuple:
    """Run one unit given as its JSON payload (the entry point every executor's workers call):
    (its result, the seconds it took)."""
    import time

    from .numeric.network import one_blas_thread

    if context:
        _prepare(Context.from_json(context))
    global _RUNNING
    spec = json.loads(payload)
    fn = _resolve(spec["function"])
    if _MISSING:
        _check_rebuilt(spec["kwargs"])
    start = time.perf_counter()
    _RUNNING += 1  # units a unit runs run in its process (any backend)
    try:
        with one_blas_thread():
            result = fn(**spec["kwargs"])
    finally:
        _RUNNING -= 1
    return result, time.perf_counter() - start


# ----------------------------------------------------------------------------- executors
def available_workers() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Executor:
    """Runs unit payloads (the interface a backend implements; module docstring): ``stream(jobs,
    context)`` yields ``(index, (result, seconds))`` for every ``(index, payload)`` of ``jobs`` as units
    finish (any order), the pair being what ``execute(payload, context.to_json())`` returns on the
    worker; jobs are started in the order given.  On an exception (including KeyboardInterrupt and
    GeneratorExit) while streaming, the units not finished are cancelled and the exception propagates."""

    workers: int = 1

    def stream(self, jobs: Sequence[tuple[int, str]], context: Context) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError


class InProcess(Executor):
    """Every unit in this process, one after the other (the registries are this process's own)."""

    workers = 1

    def stream(self, jobs, context):
        for index, payload in jobs:
            yield index, execute(payload)


#: modules the fork server imports once, so that each worker starts without importing them again
PRELOAD = ("anglefish.units", "anglefish.numeric", "anglefish.theory", "scipy.stats")


class LocalPool(Executor):
    """A local process pool (``concurrent.futures.ProcessPoolExecutor``) of ``workers`` fresh Python
    processes: forked from a fork server that has imported anglefish (:data:`PRELOAD`) -- not from this
    process, so they hold none of its state -- or spawned where there is no fork server.  Each worker
    loads the context once and keeps BLAS on one thread.  The pool is kept for later runs with the same
    number of workers and the same context (its workers keep their derivations), and ended on an error
    or Ctrl-C."""

    def __init__(self, workers: int):
        self.workers = int(workers)

    def stream(self, jobs, context):
        from concurrent.futures import FIRST_COMPLETED, wait

        futures = {}
        finished = False
        pool = None
        text = context.to_json()
        try:
            with _main_module_hidden():  # the processes start on the first submits
                pool = _pool(self.workers, context)
                for index, payload in jobs:
                    futures[pool.submit(execute, payload, text)] = index
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in sorted(done, key=futures.get):
                    yield futures[f], f.result()
            finished = True
        finally:
            if not finished:
                for f in futures:
                    f.cancel()
                if pool is not None:
                    _discard(pool)


_POOL: dict = {}  # {"key": (workers, context json), "pool": ProcessPoolExecutor}


def _pool(workers: int, context: Context):
    """The kept pool for (workers, the context's files and plugins), or a new one (ending the kept one)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    key = (workers, tuple(context.arch_files), bool(context.plugins))  # the fingerprint is checked per unit
    if _POOL.get("key") == key:
        return _POOL["pool"]
    if "pool" in _POOL:
        _POOL.pop("pool").shutdown(wait=True, cancel_futures=True)
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        mp = multiprocessing.get_context("forkserver")
        mp.set_forkserver_preload(list(PRELOAD))
    else:
        mp = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp, initializer=worker_init)
    _POOL.update(key=key, pool=pool)
    return pool


def _end_kept_pool() -> None:
    """End the kept pool (at exit: its workers are idle; without this the interpreter's shutdown races
    the pool's management thread)."""
    if "pool" in _POOL:
        _POOL.pop("pool").shutdown(wait=True, cancel_futures=True)
    _POOL.clear()


atexit.register(_end_kept_pool)


def _discard(pool) -> None:
    """Cancel the units not started and end the worker processes now (Ctrl-C, an error)."""
    if _POOL.get("pool") is pool:
        _POOL.clear()
    _stop(pool)
    pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _main_module_hidden():
    """Spawned workers need nothing from the caller's ``__main__`` (units name anglefish functions), so
    they do not re-run it: a script that calls run_units needs no ``if __name__ == '__main__'`` guard."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _stop(pool) -> None:
    """Cancel the units not started and end the worker processes now (Ctrl-C, an error)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)


_ACTIVE: list = []  # executors installed by :func:`using`, innermost last


@contextlib.contextmanager
def using(executor: Executor):
    """Within the block, every :func:`run_units` of this process (that is not itself inside a unit)
    runs on ``executor`` whatever ``workers`` its caller passed, and :func:`blocks` splits for
    ``executor.workers``: how a command line switches a whole run to another backend (e.g.
    ``--scheduler``) without threading an executor through every function."""
    _ACTIVE.append(executor)
    try:
        yield executor
    finally:
        _ACTIVE.remove(executor)


#: the Dask scheduler address set by :func:`set_scheduler` (issue 17), or empty
_SCHEDULER: list = []


def set_scheduler(address: str | None) -> None:
    """Send units to the Dask cluster at ``address`` from now on (None: back to the local executors).
    Use :func:`anglefish.dask_executor.use_scheduler`, which also connects first."""
    _SCHEDULER[:] = [address] if address else []


def make_executor(workers: int | None = None, units: int | None = None) -> Executor:
    """In-process for ``workers == 1`` (or one unit, or inside a worker or a unit), else a
    :class:`LocalPool` of ``workers`` processes (None: :func:`available_workers`), never more than
    there are units; within :func:`using`, its executor; with a scheduler set
    (:func:`set_scheduler`) outside a worker, a Dask executor for it, whatever ``workers``."""
    if _IN_WORKER or _RUNNING:
        return InProcess()
    if _ACTIVE:
        return _ACTIVE[-1]
    if workers is None:
        workers = available_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise AnglefishError(f"workers must be an integer >= 1, got {workers!r}")
    if _SCHEDULER and not _IN_WORKER:
        from .dask_executor import DaskExecutor

        return DaskExecutor(_SCHEDULER[0])
    if units is not None:
        workers = min(workers, max(1, units))
    if workers == 1 or _IN_WORKER or _RUNNING:
        return InProcess()
    return LocalPool(workers)


# ----------------------------------------------------------------------------- helpers for planners
def arch_name(arch) -> str:
    """The registry name by which a worker finds ``arch`` (a name or an Architecture).  An Architecture
    that is not the registered one of its name cannot be sent to a worker."""
    from .theory.architectures import get_architecture

    a = get_architecture(arch)
    try:
        registered = get_architecture(a.name)
    except AnglefishError:
        registered = None
    if registered is not a and (registered is None or repr(registered.block) != repr(a.block)):
        raise AnglefishError(f"architecture '{a.name}' is not the registered one of that name, so worker processes "
                             "cannot rebuild it; register it, or run with workers=1")
    return a.name


def blocks(count: int, workers: int | None, per_worker: int = 2) -> list:
    """Ranges (start, stop) splitting ``count`` indices (networks, seeds) into about ``per_worker``
    blocks per worker (one block for one worker).  Any split gives the same numbers; this one only
    balances the load."""
    workers = available_workers() if workers is None else int(workers)
    if _ACTIVE:
        workers = _ACTIVE[-1].workers
    n = 1 if workers <= 1 or _IN_WORKER or _RUNNING else max(1, min(int(count), workers * per_worker))
    edges = [round(k * count / n) for k in range(n + 1)]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


# ----------------------------------------------------------------------------- running units
_REUSE: list = []  # stack of {payload: result} made available by :func:`reusing`


@contextlib.contextmanager
def reusing(results: dict, strict: bool = False):
    """Within the block, :func:`run_units` takes the result of any unit whose payload is a key of
    ``results`` ({payload: result}, as :meth:`Plan.run` returns) instead of running it again (a copy
    of it: callers may change what they get).  So a run can gather the units of all its parts into one
    :class:`Plan`, run them together, and then let each part's ordinary code find its results -- the
    same numbers, since a unit's result depends only on its description.  ``strict``: a unit not found
    is an error (tests use it to prove a plan is complete)."""
    _REUSE.append((results, strict))
    try:
        yield
    finally:
        _REUSE.pop()


def _reused(payload: str):
    for results, strict in reversed(_REUSE):
        if payload in results:
            return True, copy.deepcopy(results[payload])
    if _REUSE and _REUSE[-1][1]:
        raise AnglefishError(f"unit not in the plan: {payload[:200]}")
    return False, None


def iterate_units(units: Sequence[Unit], workers: int | None = None, progress=None,
                  executor: Executor | None = None, context: Context | None = None,
                  seconds: dict | None = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(i, result of units[i])`` as units finish.  Identical units run once (each position
    gets its own copy of the result); units start longest first (``cost``); units whose results are
    available (:func:`reusing`) are not run again.  ``progress(done, total)`` counts finished units
    (done = 0 before the first).  ``seconds``: filled with {i: seconds the unit ran} (0 for copies)."""
    units = list(units)
    for u in units:
        if not isinstance(u, Unit):
            raise AnglefishError(f"run_units needs Unit descriptions, got {type(u).__name__}")
    payloads = [u.payload() for u in units]
    total = len(units)
    done = 0
    if progress is not None:
        progress(0, total)
    first: dict = {}
    copies: dict = {}
    for i, p in enumerate(payloads):
        if p in first:
            copies.setdefault(first[p], []).append(i)
            continue
        found, result = _reused(p) if _REUSE else (False, None)
        if found:
            done += 1
            if seconds is not None:
                seconds[i] = 0.0
            yield i, result
            continue
        first[p] = i
    distinct = sorted(first.values(), key=lambda i: (-units[i].cost, i))
    if progress is not None and done:
        progress(done, total)
    if not distinct:
        return
    executor = executor or make_executor(workers, len(distinct))
    if context is None:
        context = current_context() if not isinstance(executor, InProcess) else Context()
    stream = executor.stream([(i, payloads[i]) for i in distinct], context)
    with contextlib.closing(stream):  # leaving early (Ctrl-C, an error, close()) cancels the rest now
        for i, (result, took) in stream:
            same = copies.get(i, ())
            if seconds is not None:
                seconds.update({i: took, **{j: 0.0 for j in same}})
            done += 1 + len(same)
            if progress is not None:
                progress(done, total)
            for j in same:
                yield j, copy.deepcopy(result)
            yield i, result


class Plan:
    """The units of several parts of a run, gathered so that one :func:`run_units` call runs them all
    (the workers stay busy across parts; work two parts share runs once).  :meth:`run` returns
    {payload: result}; run the parts' ordinary code within :func:`reusing` of it."""

    def __init__(self):
        self.units: dict = {}

    def add(self, *units) -> "Plan":
        """Add units (or lists of units)."""
        for u in units:
            if isinstance(u, Unit):
                self.units.setdefault(u.payload(), u)
            else:
                self.add(*u)
        return self

    def __len__(self) -> int:
        return len(self.units)

    def run(self, workers: int | None = None, progress=None, executor: "Executor | None" = None,
            seconds: dict | None = None) -> dict:
        """{payload: result} of every unit (:func:`run_units`); ``seconds`` gets {payload: seconds}."""
        keys = list(self.units)
        took: dict = {}
        out = dict(zip(keys, run_units([self.units[k] for k in keys], workers, progress, executor, seconds=took)))
        if seconds is not None:
            seconds.update({keys[i]: t for i, t in took.items()})
        return out


def run_units(units: Iterable[Unit], workers: int | None = None, progress=None,
              executor: Executor | None = None, context: Context | None = None, seconds: dict | None = None) -> list:
    """The results of ``units`` in unit order (see :func:`iterate_units`).  ``workers``: 1 runs them
    in this process; None uses every core available (:func:`available_workers`)."""
    units = list(units)
    out: list = [None] * len(units)
    for i, result in iterate_units(units, workers, progress, executor, context, seconds):
        out[i] = result
    return out
