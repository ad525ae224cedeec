"""Seeds: one way to derive every random stream of anglefish from a master seed.

A run is fully determined by its master seed.  Independent parts of a run (a check, a width of a
width pair, a depth of a series, a repeat of a calibration battery, a figure row) get their own
streams from a SeedSequence of the master seed and the part's labels (:func:`part_seed`), and
network s of a part draws from child s of that sequence (:func:`generators`).  Two parts with different labels never share a stream, whatever the master seed
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


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise AnglefishError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def part_seed(seed: int, *labels) -> int:
    """The 32-bit master seed of the part ``labels`` of the run with master seed ``seed``: the first
    word of SeedSequence([seed, crc32(repr(label)) for each label])."""
    words = [check_seed(seed)] + [zlib.crc32(repr(x).encode()) for x in labels]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint32)[0])


def generators(seed: int, count: int, *labels, start: int = 0) -> list:
    """``count`` independent generators of a part: generator s is child s of the part's
    SeedSequence (spawn key (s,)).  With no labels this is ``SeedSequence(seed).spawn(count)`` -- the
    streams anglefish has always used for ``--seed``.  ``start``: generators start .. start + count - 1
    (the same streams as in a run of start + count, so work split into blocks of networks gives the
    same numbers as one run)."""
    for value, what in ((count, "the number of generators"), (start, "the first generator index")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise AnglefishError(f"{what} must be a non-negative integer, got {value!r}")
    root = part_seed(seed, *labels) if labels else check_seed(seed)
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=(int(s),))))
            for s in range(int(start), int(start) + int(count))]


__all__ = ["check_seed", "generators", "part_seed"]
