"""What ``anglefish derive`` reports: the derived maps, the large-depth law checked against the
iterated exact map, and the Table 1 verdict, as one JSON-ready dict (the command line prints it)."""
from __future__ import annotations

import math

from .. import validation as V
from ..errors import AnglefishError
from ..jsonout import Missing

#: derive evaluates maps that depend on the total depth L at this L unless --depth is given
DEFAULT_DERIVE_DEPTH = 100


def depends_on_depth(arch) -> bool:
    """Does a block parameter of ``arch`` use the total depth L (read from the block list, no
    derivation)?"""
    from ..theory.blocks import DEPTH

    for block in arch.block.walk():
        for name in ("variance", "alpha"):
            value = getattr(block, name, None)
            if value is not None and DEPTH in getattr(value, "free_symbols", ()):
                return True
    return False


def derive_report(architecture, max_depth: int | None = None, latex: bool = False, progress=None,
                  depth: int | None = None) -> dict:
    """Everything ``anglefish derive`` prints, as a JSON-ready dict.

    ``max_depth``: the law is checked against the iterated exact map at the depths 10^2 ..
    10^6 up to it and at ``max_depth`` itself (at most 10^6; default 10^6, or 10^4 for maps
    iterated block by block).  ``depth``: for maps that depend on the total depth L, the L at
    which the angle after L blocks is reported (default 100)."""
    import sympy as sp

    from ..theory import derive_maps, get_architecture
    from ..theory.asymptotics import CHECK_DEPTHS, CHECK_THETA0, depth_law, law_errors
    from ..theory.evaluate import NumericMaps, maps_for_depth
    from .table1 import table1_verdict

    arch = get_architecture(architecture)
    if max_depth is not None:
        V.parse_int("--max-depth", max_depth, 1, V.MAX_CHECK_DEPTH)
    by_depth = depends_on_depth(arch)
    if depth is not None:
        V.parse_int("--depth", depth, 1)
        if not by_depth:
            raise AnglefishError(f"--depth applies only to architectures whose blocks depend on the total "
                                 f"depth L (e.g. resnet-scaled); {arch.name} does not")
    fixed_depth = depth or DEFAULT_DERIVE_DEPTH
    maps = derive_maps(arch)
    if max_depth is None:
        try:
            fast = isinstance(maps_for_depth(arch, fixed_depth), NumericMaps)
        except AnglefishError:
            fast = False
        max_depth = V.MAX_CHECK_DEPTH if fast else 10**4
    try:
        law = depth_law(arch)
    except AnglefishError as err:
        if not by_depth:
            raise
        law = None
        law_why = ("the maps depend on the total depth L and the population second moment has no closed "
                   "form, which the L -> infinity analysis needs" if maps.population is None else str(err))
    depths = sorted({d for d in CHECK_DEPTHS if d <= max_depth} | {max_depth})
    if law is not None:
        errors = law_errors(arch, depths=depths, progress=progress)
        asym = law.as_dict()
    else:
        errors = {}
        asym = {"class": "not derived", "theta_l": None, "leading": None,
                "note": f"no large-depth law: {law_why}; the angle after L blocks is given instead"}
    main_form = next((f for f in ("theta_l", "leading") if f in errors), None)
    asym["error_at"] = ({} if main_form is None else
                        {str(d): max(abs(e) for e in errs) for d, errs in errors[main_form].items()})
    asym["error_form"] = main_form
    asym["errors_by_form"] = {form: {str(d): errs for d, errs in table.items()} for form, table in errors.items()}
    asym["theta0_checked"] = list(CHECK_THETA0)
    checked = sorted({int(d) for table in errors.values() for d in table})
    asym["checked_depths"] = checked
    asym["max_depth"] = max_depth
    if not checked:
        asym["check_note"] = ("no law to check" if law is None else
                              "not checked against the iterated map: the law has no closed form to evaluate")
    elif checked[-1] < max_depth:
        asym["check_note"] = (f"checked at depths {', '.join(map(str, checked))} only, not to --max-depth "
                              f"{max_depth}: this law class is checked where it converges")
    text = maps.text()
    out = {
        "architecture": arch.name,
        "block": repr(arch.block),
        "description": arch.description,
        "norm_map": text["norm_map"],
        "angle_map": text["angle_map"],
        "population_moment": None if maps.population is None else sp.sstr(maps.population),
        "slope_at_zero": _slope(law),
        "asymptotic": asym,
        "conventions": "per-unit second moments q = ||h||^2/N; inputs with per-coordinate variance 1; "
                       "0-based block index l; angles in radians",
    }
    if law is not None:
        out["table1"] = table1_verdict(arch)
    else:
        out["table1"] = {"verdict": "not in Table 1", "assumption_holds": Missing("no depth law to judge"),
                         "assumption": "not judged: no large-depth law was derived"}
    if by_depth:
        _, theta, _ = maps_for_depth(arch, fixed_depth).iterate(list(CHECK_THETA0), fixed_depth, at=[fixed_depth])
        out["at_depth"] = {"L": fixed_depth, "from": "--depth" if depth else "default; --depth sets L",
                           "theta_L": {str(t0): float(theta[-1, j]) for j, t0 in enumerate(CHECK_THETA0)}}
    if latex:
        out["latex"] = maps.latex()
    return out


#: widths of the example table of :func:`finite_width_report`
FINITE_WIDTH_EXAMPLE_WIDTHS = (128, 256, 512, 1024)


def finite_width_report(architecture, depth: int = 10, theta0: float = 1.0) -> dict:
    """What ``anglefish derive ARCH --finite-width`` adds: the O(1/N) correction recursion of
    :mod:`anglefish.theory.finite_width` derived from the block list -- each block's rule (depth
    first), the one-block recursion of (K, dK, V, m) as SymPy text, and an example: the
    infinite-width and finite-width angle after ``depth`` blocks from ``theta0`` at a few widths.
    ``derived`` is False (with ``reason``) where the closure does not apply."""
    import sympy as sp

    from ..theory import get_architecture
    from ..theory.finite_width import MAX_ANGLE_SPREAD, describe, finite_width_maps, finite_width_theory

    arch = get_architecture(architecture)
    out = {"state": ("K-hat = (K_aa, K_bb, K_ab): per-unit empirical second moments of the pair at width N; "
                     "E K-hat = K + dK/N + O(1/N^2), N Cov K-hat = V + O(1/N); m: the population second "
                     "moment (population BN); l: 0-based block index, L: total depth"),
             "rules": describe(arch)}
    try:
        maps = finite_width_maps(arch)
    except AnglefishError as err:
        return {**out, "derived": False, "reason": str(err)}
    out["derived"] = True
    out["recursion"] = {name: sp.sstr(expr) for name, expr in maps.equations.items()}
    out["predictions"] = ("theta_theory_finite = arccos of (K + dK/N)_ab / sqrt((K + dK/N)_aa (K + dK/N)_bb) "
                          "(the paper's seed-averaged angle); single-network angle: mean theta(K) + (grad theta . dK + "
                          "H_theta : V / 2) / N, sd sqrt(grad theta V grad theta^T / N)")
    out["validity"] = (f"given while the single-network angle's sd/theta <= {MAX_ANGLE_SPREAD} (the expansion "
                       "parameter), else null with the reason")
    rows = []
    for width in FINITE_WIDTH_EXAMPLE_WIDTHS:
        th = finite_width_theory(arch, depth, width, theta0)
        rows.append({"N": width, "theta_theory": th["theta_theory"], "theta_theory_finite": th["theta_theory_finite"],
                     "single_sd_theory": th["single_sd_theory"], "valid": th["valid"], "reason": th["reason"]})
    out["example"] = {"L": depth, "theta0": theta0, "rows": rows}
    return out


def _slope(law):
    if law is None:
        return Missing("no depth law was derived")
    try:
        x = float(law.slope_at_zero)
    except (TypeError, ValueError):
        return Missing("no closed numeric value (the slope involves a quadrature kernel or the depth)")
    return x if math.isfinite(x) else Missing("not defined for this architecture")
