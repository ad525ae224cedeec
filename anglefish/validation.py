"""One definition of every command-line flag, and the validators behind them.

Each ``add_*`` function adds one flag to an argparse parser.  Its value is parsed by a
function of this module that raises :class:`AnglefishError` with a one-line message naming
the flag ("--batch must be an integer >= 2, got 1"), so the message of a flag is the same in
every command that takes it.  Library functions validate their own arguments and raise
AnglefishError without flag names; the command line checks its flags here first, so that
every refusal names what to change and comes before any computation.

The library validators (``check_int``, ``check_positive``, ``check_angles``, ``check_choice``,
``check_dtype``, ``recorded_depths``; at the end of this module) are the one place where theory,
numeric and verify code check their own arguments.

Checks that need the registries (architecture and figure names, which an ``--arch-file`` may
extend) or several flags at once (``--params layer:K`` against ``--depth``, ``--batch``
against ``--width``) are the ``check_*`` functions, called by the commands after the plugins
are loaded.  Output places are checked by :func:`check_output_dir` before any work.
"""
from __future__ import annotations

import argparse
import math
import os
import pathlib
import re
import tempfile

import numpy as np

from .errors import AnglefishError

#: the largest integer any counting flag takes (numpy's int64)
INT_MAX = 2**63 - 1
#: --max-depth: the laws are checked against the iterated map at most this deep
MAX_CHECK_DEPTH = 10**6
#: the choices of --sampler (angles), --bn and --targets: defined here, where building the parser (every
#: --help, `anglefish list`) needs them without importing numeric or theory (SymPy); the modules that
#: interpret them import them from here (numeric.simulate.SAMPLERS, theory.blocks.BN_KINDS,
#: numeric.training.TARGETS)
SAMPLERS = ("gram", "dense")
BN_KINDS = ("population", "batch")
TARGETS = ("teacher", "sign")

_INT = re.compile(r"[+-]?\d{1,30}")


class FlagError(AnglefishError, argparse.ArgumentTypeError):
    """A bad flag value; the message already names the flag.  argparse reports it as a parse
    error; called from library code it is an ordinary AnglefishError."""


def _show(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


# ----------------------------------------------------------------------------- value parsers
def parse_int(flag: str, text, minimum: int = 0, maximum: int = INT_MAX, why: str = "") -> int:
    """``text`` as an integer in [minimum, maximum]; the message names ``flag``."""
    bound = f">= {minimum}" if maximum == INT_MAX else f"in [{minimum}, {maximum}]"
    hint = f" ({why})" if why else ""
    if isinstance(text, bool):
        raise FlagError(f"{flag} must be an integer {bound}{hint}, got {text!r}")
    if isinstance(text, int):
        value = text
    else:
        s = str(text).strip()
        if not _INT.fullmatch(s):
            raise FlagError(f"{flag} must be an integer {bound}{hint}, got {_show(str(text))}")
        value = int(s)
    if not minimum <= value <= maximum:
        raise FlagError(f"{flag} must be an integer {bound}{hint}, got {value}")
    return value


def parse_angle(flag: str, text) -> float:
    """``text`` as a finite angle in [0, pi] radians."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise FlagError(f"{flag} must be an angle in [0, pi] radians, got {_show(str(text))}") from None
    if not (math.isfinite(value) and 0.0 <= value <= math.pi):
        raise FlagError(f"{flag} must be an angle in [0, pi] radians, got {text}")
    return value


def parse_choice(flag: str, text, options) -> str:
    if text not in options:
        raise FlagError(f"{flag} must be one of {', '.join(options)}, got {_show(str(text))}")
    return text


def parse_list(flag: str, text, what: str) -> tuple:
    """A comma- or space-separated list with at least one item."""
    items = tuple(t for t in re.split(r"[,\s]+", str(text)) if t)
    if not items:
        raise FlagError(f"{flag} must list at least one {what}, got {_show(str(text))}")
    return items


def parse_formats(flag: str, text) -> tuple:
    """Image formats: a non-empty list from :data:`anglefish.paper_figures.registry.FORMATS`."""
    from .paper_figures.registry import FORMATS

    items = tuple(t.lower() for t in parse_list(flag, text, f"image format ({', '.join(FORMATS)})"))
    for item in items:
        if item not in FORMATS:
            raise FlagError(f"{flag} must list image formats among {', '.join(FORMATS)}, got {_show(item)}")
    return tuple(dict.fromkeys(items))


def parse_path(flag: str, text) -> str:
    s = str(text)
    if not s.strip():
        raise FlagError(f"{flag} must be a path, got {_show(s)}")
    return s


PARAMS_FORMS = ("all | layer:K (0-based block) | layer:first | layer:last | layer:readout (or first, last, readout, "
                "block:K)")


def parse_params(flag: str, text) -> str:
    """Syntax of a parameter subset; the block index is checked against --depth by
    :func:`check_params`."""
    s = str(text)
    if s in ("first", "last", "readout") or re.fullmatch(r"block:\d{1,19}", s):  # short forms
        s = "layer:" + s.split(":")[-1]
    if s in ("all", "layer:first", "layer:last", "layer:readout") or re.fullmatch(r"layer:\d{1,19}", s):
        return s
    raise FlagError(f"{flag} must be {PARAMS_FORMS}, got {_show(s)}")


def _type(parse, flag, *args, **kw):
    """An argparse ``type=`` callable running ``parse(flag, text, ...)``."""
    def convert(text):
        try:
            return parse(flag, text, *args, **kw)
        except FlagError:
            raise
        except AnglefishError as err:  # parsers may call library code
            raise FlagError(str(err)) from None
    convert.__name__ = flag.lstrip("-")  # argparse names the type in some messages
    return convert


# ----------------------------------------------------------------------------- flags (one definition each)
def add_architecture(p) -> None:
    p.add_argument("architecture", metavar="ARCH",
                   help="a registered architecture (see 'anglefish list'), or BASE[ACTIVATION], e.g. mlp[tanh]")


def add_activation(p) -> None:
    p.add_argument("--activation", metavar="NAME", default=None,
                   help="swap every activation of ARCH for NAME (e.g. tanh, erf, gelu), keeping the "
                        "weight variances; the same as writing ARCH[NAME]")


def add_depth(p, minimum: int = 0, required: bool = True, help: str | None = None) -> None:
    p.add_argument("--depth", type=_type(parse_int, "--depth", minimum), required=required, default=None,
                   metavar="L", help=help or f"number of blocks (>= {minimum})")


def add_width(p, default: int, unset: bool = False) -> None:
    """``unset=True``: the parsed default is None (so a command can tell whether the flag was
    given); the command then applies ``default`` itself."""
    p.add_argument("--width", type=_type(parse_int, "--width", 2), default=None if unset else default, metavar="N",
                   help=f"units per layer = input dimension (>= 2; default {default})")


def add_seeds(p, default: int, help: str = "independent random networks", unset: bool = False) -> None:
    p.add_argument("--seeds", type=_type(parse_int, "--seeds", 2, why="a standard error needs two"),
                   default=None if unset else default, metavar="S",
                   help=f"{help} (>= 2: standard errors need two; default {default})")


def add_samples(p, default: int) -> None:
    p.add_argument("--samples", type=_type(parse_int, "--samples", 1), default=default, metavar="T",
                   help=f"number of inputs T (>= 1, >= 2 with batch-statistics BN; default {default})")


def add_seed(p, help: str = "master seed", unset: bool = False) -> None:
    p.add_argument("--seed", type=_type(parse_int, "--seed", 0), default=None if unset else 0, metavar="K",
                   help=f"{help} (integer >= 0; default 0)")


def add_theta0(p) -> None:
    p.add_argument("--theta0", type=_type(parse_angle, "--theta0"), required=True, metavar="X",
                   help="angle between the two inputs, radians in [0, pi]")


def add_every(p) -> None:
    p.add_argument("--every", type=_type(parse_int, "--every", 1), default=1, metavar="K",
                   help="print every K-th depth (>= 1; the last depth is always printed)")


def add_batch(p) -> None:
    p.add_argument("--batch", type=_type(parse_int, "--batch", 2, why="the pair plus others"), default=None,
                   metavar="B", help="inputs per batch: the pair plus B-2 random whitened inputs "
                                     "(>= 2; default 2, or 32 with batch-statistics BN)")


def add_steps(p, default: int) -> None:
    p.add_argument("--steps", type=_type(parse_int, "--steps", 1), default=default, metavar="K",
                   help=f"gradient-descent steps in which the loss must not rise (>= 1; default {default})")


def add_params(p) -> None:
    p.add_argument("--params", type=_type(parse_params, "--params"), default="all", metavar="SEL",
                   help=PARAMS_FORMS + " (default all)")


def add_sampler(p, unset: bool = False) -> None:
    p.add_argument("--sampler", type=_type(parse_choice, "--sampler", SAMPLERS), default=None if unset else "gram",
                   metavar="|".join(SAMPLERS),
                   help="gram: exact conditional-Gaussian sampler, O(B^2 N) per layer (default); "
                        "dense: draw every weight matrix, O(B N^2)")


def add_bn(p) -> None:
    p.add_argument("--bn", type=_type(parse_choice, "--bn", BN_KINDS), default=None, metavar="|".join(BN_KINDS),
                   help="override the kind of every BatchNorm: population moments (the paper's proof; "
                        "has a theory) or mini-batch statistics (a real network; simulation only)")


def add_targets(p) -> None:
    p.add_argument("--targets", type=_type(parse_choice, "--targets", TARGETS), default="teacher",
                   metavar="|".join(TARGETS),
                   help="teacher: outputs of an independent random network (default); sign: +-1 labels")


def add_max_depth(p) -> None:
    p.add_argument("--max-depth", type=_type(parse_int, "--max-depth", 1, MAX_CHECK_DEPTH), default=None,
                   metavar="N", help=f"check the law against the iterated map up to depth N (at most "
                                     f"{MAX_CHECK_DEPTH}; default {MAX_CHECK_DEPTH} for maps with a closed "
                                     "series, 10^4 for nested or quadrature maps)")


def add_format(p) -> None:
    from .paper_figures.registry import FORMATS

    p.add_argument("--format", type=_type(parse_formats, "--format"), default=FORMATS, metavar="LIST",
                   help=f"image formats, comma-separated, among {', '.join(FORMATS)} (default {','.join(FORMATS)})")


def add_only(p) -> None:
    p.add_argument("--only", type=_type(parse_list, "--only", "figure name"), default=None, metavar="LIST",
                   help="comma-separated figures, e.g. fig4,fig8,A1 (default: all)")


def add_out(p, default: str, what: str) -> None:
    p.add_argument("--out", type=_type(parse_path, "--out"), default=default, metavar="DIR",
                   help=f"output directory for {what} (default ./{default}); checked before any work")


def add_report(p, default: str) -> None:
    p.add_argument("--report", type=_type(parse_path, "--report"), default=default, metavar="DIR",
                   help=f"directory for report.md and report.json (default ./{default}); checked before any work")


def add_data_dir(p) -> None:
    p.add_argument("--data-dir", type=_type(parse_path, "--data-dir"), default=None, metavar="PATH",
                   help="directory with MNIST (IDX) and/or CIFAR-10 (binary) files for the figures on real "
                        "data (fig08); it must hold one of them. Without it the bundled 8x8 digits stand in "
                        "for MNIST")


def add_arch_file(p) -> None:
    p.add_argument("--arch-file", type=_type(parse_path, "--arch-file"), action="append", default=[],
                   metavar="PATH", help="run this Python file first (it may register blocks, activations or "
                                        "architectures); repeatable. The file's code is executed.")


def add_workers(p) -> None:
    p.add_argument("--workers", type=_type(parse_int, "--workers", 1), default=None, metavar="K",
                   help="processes that run the independent units of work (>= 1; 1 = all in this process; "
                        "default: the cores available). The numbers do not depend on it")
    add_scheduler(p)


def add_scheduler(p) -> None:
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the units on the Dask cluster of this scheduler instead (needs "
                        "'anglefish[dask]'; not with --workers). The numbers do not depend on it")


def add_json(p) -> None:
    p.add_argument("--json", action="store_true",
                   help="print JSON (stable keys; strict: numbers that are not finite are null, with a "
                        "'<key>_note' saying why)")


def add_quiet(p) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


# ----------------------------------------------------------------------------- checks after parsing
def check_architecture(name: str, activation: str | None = None, flag: str = "ARCH"):
    """The Architecture for ``name`` (with ``--activation`` applied); an unknown name names the flag."""
    from .theory import get_activation, get_architecture

    if activation is not None:
        try:
            get_activation(activation)
        except AnglefishError as err:
            raise AnglefishError(f"--activation: {err}") from None
        name = f"{name}[{activation}]"
    try:
        return get_architecture(name)
    except AnglefishError as err:
        raise AnglefishError(f"{flag}: {err}") from None


def check_params(params: str, depth: int, flag: str = "--params") -> str:
    """Resolve layer:first / layer:last and check layer:K against --depth; returns the canonical form."""
    if params == "layer:first":
        return "layer:0"
    if params == "layer:last":
        return f"layer:{depth - 1}"
    if params.startswith("layer:") and params != "layer:readout":
        k = int(params[len("layer:"):])
        if k >= depth:
            raise AnglefishError(f"{flag} layer:K needs 0 <= K < --depth = {depth} (0-based block index), "
                                 f"got {params}")
    return params


def check_samples_for_batch_bn(arch, samples: int, bn: str | None = None, flag: str = "--samples") -> None:
    from .numeric.fisher import uses_batch_bn

    if uses_batch_bn(arch, bn) and samples < 2:
        raise AnglefishError(f"{flag} must be >= 2 with batch-statistics BatchNorm (it normalises over the "
                             f"inputs), got {samples}")


def check_output_dir(path, flag: str) -> pathlib.Path:
    """Refuse an output place that is not a directory or cannot be written, before any work.

    A missing directory is fine if its nearest existing ancestor is a writable directory (it is
    created when the results are written).  Writability is probed by creating and removing a
    temporary file there, which also catches read-only file systems; nothing is left behind.
    """
    p = pathlib.Path(os.path.expanduser(str(path)))
    if p.exists() and not p.is_dir():
        raise AnglefishError(f"{flag} {p}: exists and is not a directory")
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise AnglefishError(f"{flag} {p}: {probe} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as err:
        raise AnglefishError(f"{flag} {p}: cannot write in {probe} ({err.strerror or err})") from None
    return p


def check_arch_file(path, flag: str = "--arch-file") -> pathlib.Path:
    p = pathlib.Path(os.path.expanduser(str(path)))
    if p.is_dir():
        raise AnglefishError(f"{flag} {p}: is a directory, not a Python file")
    if not p.is_file():
        raise AnglefishError(f"{flag} {p}: no such file")
    return p


def check_data_dir(data_dir, modules=None, flag: str = "--data-dir") -> str | None:
    """--data-dir must be a directory holding MNIST or CIFAR-10 files, and one of the figures to
    draw (``modules``; not checked when None) must read it: no silent fallback to the bundled
    digits."""
    if data_dir is None:
        return None
    from .numeric.data import datasets_in

    p = pathlib.Path(os.path.expanduser(str(data_dir)))
    if not p.is_dir():
        raise AnglefishError(f"{flag} {p}: {'not a directory' if p.exists() else 'no such directory'}")
    if not datasets_in(p):
        raise AnglefishError(f"{flag} {p}: holds neither MNIST (IDX) nor CIFAR-10 (binary) files")
    if modules is not None and not any(getattr(m, "DATA_DIR", False) for m in modules):
        raise AnglefishError(f"{flag} is read only by figures on real data (fig08); the figures selected "
                             "read no data set")
    return str(p)


def check_figures(only, arch, modules_all):
    """Modules for --only (all when None) and the --arch check: names must exist (after plugins)."""
    from .paper_figures.registry import get_figure

    if only is None:
        modules = list(modules_all)
    else:
        modules = []
        for name in only:
            try:
                module = get_figure(name)
            except AnglefishError as err:
                raise AnglefishError(f"--only: {err}") from None
            if module not in modules:
                modules.append(module)
    if arch is not None:
        for name in (a.strip() for a in arch.split(",")):
            if not name:
                raise AnglefishError(f"--arch must name architectures, got {_show(arch)}")
            check_architecture(name, flag="--arch")
        generic = [m.NAME for m in modules_all if getattr(m, "GENERIC", False)]
        if not any(m.NAME in generic for m in modules):
            raise AnglefishError(f"--arch applies only to the generic figures ({', '.join(generic)})")
    return modules


# ----------------------------------------------------------------- library validators
def check_int(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum] (bools and non-integers refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise AnglefishError(f"{name} must be an integer {bound}, got {value!r}")
    return value


def check_positive(value, name: str) -> float:
    """``value`` as a positive finite float."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise AnglefishError(f"{name} must be a positive number, got {value!r}") from None
    if isinstance(value, bool) or not (x > 0 and math.isfinite(x)):
        raise AnglefishError(f"{name} must be a positive finite number, got {value!r}")
    return x


def check_angles(theta, name: str = "input angles") -> np.ndarray:
    """Angles in [0, pi] (radians) as a float array."""
    theta = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(theta)) or np.any(theta < 0) or np.any(theta > np.pi):
        raise AnglefishError(f"{name} must lie in [0, pi] radians")
    return theta


def check_choice(value, name: str, options, allow_none: bool = False):
    """``value`` if it is one of ``options`` (or None when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if value not in options:
        raise AnglefishError(f"{name} must be one of {', '.join(map(str, options))}"
                             f"{' or None' if allow_none else ''}, got {value!r}")
    return value


def check_dtype(dtype):
    """float32 or float64, as a numpy scalar type."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise AnglefishError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise AnglefishError(f"dtype must be float32 or float64, got {dt}")
    return dt.type


def recorded_depths(depth, every=1, at=None) -> tuple:
    """(depth, sorted depths to record) of a run through ``depth`` blocks: every ``every``-th depth,
    or exactly the depths ``at``; the last depth is always recorded."""
    depth = check_int(depth, "depth", 0)
    every = check_int(every, "--every", 1)
    if at is not None:
        ls = np.unique(np.append(np.asarray(at, dtype=np.int64), depth))
        if ls[0] < 0 or ls[-1] > depth:
            raise AnglefishError(f"recorded depths must lie in [0, {depth}]")
    else:
        ls = np.unique(np.append(np.arange(0, depth + 1, every), depth)).astype(np.int64)
    return depth, ls
