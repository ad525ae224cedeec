"""Figures of the papers, regenerated from the derived theory and from simulation.

One module per figure (``fig04.py`` defines ``NAME = "fig04"``); each has
``compute(params) -> Table`` (all the numbers) and ``plot(table) -> Figure`` (drawing only).
:func:`render` runs figures and writes, per figure, ``NAME.png``, ``NAME.pdf``, ``NAME.csv``
and ``manifest.json`` into ``<out_dir>/NAME/`` without overwriting files anglefish did not write.

    from anglefish.paper_figures import render
    render(["fig4", "A1"], "figures", quick=True, seed=0)
"""
from .base import PAPER_ARCHITECTURES, FigureParams, Table, derive_seed, settings
from .registry import (
                       FORMATS,
                       figure_bytes,
                       figure_key,
                       figure_names,
                       figures,
                       get_figure,
                       register_figure,
                       render,
                       resolve,
)

__all__ = ["FORMATS", "PAPER_ARCHITECTURES", "FigureParams", "Table", "derive_seed", "figure_bytes",
           "figure_key", "figure_names", "figures", "get_figure", "register_figure", "render", "resolve",
           "settings"]
