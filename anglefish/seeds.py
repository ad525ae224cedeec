"""Seeds: one way to derive every random stream of anglefish from a master seed.

A run is fully determined by its master seed.  Independent parts of a run (a check, a width of a
width pair, a depth of a series, a repeat of a calibration battery, a figure row) get their own
streams by *spawn keys*: ``SeedSequence(seed, spawn_key=(...))`` with the labels of the part turned
into integers.  Two parts with different labels never share a stream, whatever the master seed
(``seed * 7919 + depth`` style arithmetic made the claims and the contract suite simulate the very
same networks at seed 0), and a part's numbers do not depend on which other parts run, in which
order, or in how many processes.

Within a part, network (or seed index) s draws from the s-th child of the part's sequence, so a
network's numbers do not depend on how many networks run with it either.
"""
from __future__ import annotations

import zlib

import numpy as np

from .errors import AnglefishError


def _label(x) -> int:
    """A label as a non-negative integer: ints as themselves, anything else by CRC32 of its text."""
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, (int, np.integer)) and x >= 0:
        return int(x)
    return zlib.crc32(repr(x).encode())


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise AnglefishError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def sequence(seed: int, *labels) -> np.random.SeedSequence:
    """The SeedSequence of the part ``labels`` of the run with master seed ``seed``."""
    return np.random.SeedSequence(check_seed(seed), spawn_key=tuple(_label(x) for x in labels))


def part_seed(seed: int, *labels) -> int:
    """A 32-bit integer master seed for a part (for functions that take an integer seed)."""
    return int(sequence(seed, *labels).generate_state(1, np.uint32)[0])


def generators(seed: int, count: int, *labels) -> list:
    """``count`` independent generators of a part: generator s is child s of its SeedSequence.

    With no labels this is ``SeedSequence(seed).spawn(count)``: the streams anglefish has always
    used for ``--seed`` (results of earlier versions are reproduced)."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise AnglefishError(f"the number of generators must be a non-negative integer, got {count!r}")
    return [np.random.Generator(np.random.PCG64(s)) for s in sequence(seed, *labels).spawn(int(count))]


__all__ = ["check_seed", "generators", "part_seed", "sequence"]
