"""anglefish: derive, simulate and verify how deep random ReLU networks shrink angles.

The names of the theory (``Dense``, ``Architecture``, ``derive_maps`` ...) are imported from
:mod:`anglefish.theory` on first use (PEP 562), so that ``import anglefish.cli`` -- and with it
``anglefish list`` and every ``--help`` -- does not pay for SymPy."""
__version__ = "0.1.0"

from .errors import AnglefishError

_THEORY = ("Act", "Architecture", "BatchNorm", "Dense", "ReLU", "Residual", "Serial", "derive_maps",
           "get_architecture", "register_architecture")

__all__ = ["AnglefishError", "__version__", *_THEORY]


def __getattr__(name):
    if name in _THEORY:
        from . import theory

        return getattr(theory, name)
    raise AttributeError(f"module 'anglefish' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_THEORY))
