"""The ``anglefish`` command line.

Every command prints readable text by default and strict JSON with ``--json``; tables can be
written as CSV with ``--csv``.  Every flag is defined once (:mod:`anglefish.validation`), every
run is estimated before it starts (:mod:`anglefish.resources`) and refused in one line if it
exceeds the memory budget or the time limit.  Bad input prints one line on stderr and exits
with status 2, writing nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import re
import sys
import time
import warnings

from . import __version__
from . import validation as V
from .cli_text import (
    CONVENTION_TEXT,
    EPILOG_ANGLES,
    EPILOG_DERIVE,
    EPILOG_FIGURES,
    EPILOG_FISHER,
    EPILOG_LR,
    EPILOG_SWEEP,
    EPILOG_VERIFY,
    angles_text,
    claims_text,
    derive_text,
    fisher_law_text,
    fisher_text,
    lr_text,
)
from .errors import AnglefishError
from .jsonout import Missing, dumps
from .progress import Heartbeat, Progress
from .verify.derivation import DEFAULT_DERIVE_DEPTH, depends_on_depth, derive_report  # noqa: F401 (re-exported)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input in one line (an AnglefishError) instead of exiting."""

    def error(self, message):
        # "argument --depth: --depth must be ..." -> "--depth must be ..."
        m = re.match(r"argument ([^:]+): (.*)", message, re.S)
        if m and m.group(2).startswith(m.group(1).split("/")[-1]):
            message = m.group(2)
        raise AnglefishError(message)


def _with_common(sub):
    """Every command takes --arch-file (plugins and user files that register architectures)."""
    common = argparse.ArgumentParser(add_help=False)
    V.add_arch_file(common)
    add = sub.add_parser

    def add_parser(*a, **kw):
        kw.setdefault("parents", [common])
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        return add(*a, **kw)
    sub.add_parser = add_parser
    return sub


def _add_network_flags(p, depth_required: bool = True, width_unset: bool = False) -> None:
    """ARCH, --activation, --depth, --width, --samples: the dense network of `fisher` and `lr`."""
    V.add_architecture(p)
    V.add_activation(p)
    V.add_depth(p, minimum=1, required=depth_required)
    V.add_width(p, default=256, unset=width_unset)
    V.add_samples(p, default=64)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anglefish",
        description="Derive, simulate and verify how deep random ReLU networks (MLP, ResNet, "
                    "ResNet+BN, your own) shrink the angle between two inputs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'anglefish COMMAND --help' for each command.")
    parser.add_argument("--version", action="version", version=f"anglefish {__version__}")
    sub = _with_common(parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser))

    p = sub.add_parser("list", help="registered architectures, blocks and activations",
                       description="List the registered architectures, block types and activations.")
    V.add_json(p)

    p = sub.add_parser("derive", help="derive the norm/angle maps and the large-depth law",
                       description="Derive, with SymPy, the one-block norm and angle maps of ARCH, "
                                   "the large-depth law of the angle and the verdict on the "
                                   "paper's Table 1 row.", epilog=EPILOG_DERIVE)
    V.add_architecture(p)
    V.add_activation(p)
    V.add_json(p)
    p.add_argument("--latex", action="store_true", help="also give the maps in LaTeX")
    V.add_max_depth(p)
    V.add_depth(p, minimum=1, required=False,
                help=f"for architectures whose blocks depend on the total depth L (e.g. resnet-scaled): "
                     f"the L at which the maps are iterated and the angle reported (default "
                     f"{DEFAULT_DERIVE_DEPTH}, stated in the output)")
    p.add_argument("--finite-width", action="store_true",
                   help="also derive the O(1/N) finite-width correction recursion (each block's rule, the "
                        "one-block recursion of the moments' mean shift and covariance, and the angle at "
                        "L = 10 from theta0 = 1 for N = 128 .. 1024)")
    p.add_argument("--fisher", action="store_true",
                   help="also derive the Fisher spectrum's moments m_lambda, s_lambda and the bounds on lambda_max "
                        "symbolically (in kappa1, kappa2, P, then in L), their large-L laws, and what the bounds "
                        "alone say about the depth law of lambda_max")
    p.add_argument("--params", type=V._type(V.parse_params, "--params"), default=None, metavar="SEL",
                   help="with --fisher: the parameter selection, " + V.PARAMS_FORMS + " (default all)")
    V.add_quiet(p)

    p = sub.add_parser("angles", help="angle and log-norm through depth",
                       description="The angle theta_l and log q_l of two inputs at angle THETA0 "
                                   "after l = 0..L blocks of ARCH.", epilog=EPILOG_ANGLES)
    V.add_architecture(p)
    V.add_activation(p)
    V.add_depth(p, minimum=0)
    V.add_theta0(p)
    p.add_argument("--theory-only", action="store_true",
                   help="iterate the exact infinite-width map only (no simulation; the simulation "
                        "flags --width, --seeds, --batch, --sampler, --bn, --seed, --workers are then refused)")
    g = p.add_argument_group("simulation")
    V.add_width(g, default=512, unset=True)
    V.add_seeds(g, default=64, unset=True)
    V.add_batch(g)
    V.add_sampler(g, unset=True)
    V.add_bn(g)
    V.add_seed(g, unset=True)
    V.add_workers(g)
    V.add_every(p)
    g = p.add_mutually_exclusive_group()
    V.add_json(g)
    g.add_argument("--csv", action="store_true", help="print the table as CSV")
    V.add_quiet(p)

    p = sub.add_parser("fisher", help="Fisher information spectrum: theory and dense-network Monte Carlo",
                       description="lambda_max and the mean eigenvalue of the empirical Fisher information "
                                   "matrix, predicted by the infinite-width NTK theory and measured on dense "
                                   "random networks (exact spectrum via the T x T NTK Gram, never the P x P FIM).",
                       epilog=EPILOG_FISHER)
    _add_network_flags(p, depth_required=False, width_unset=True)
    p.add_argument("--law", action="store_true",
                   help="print the large-depth laws (lambda_max/N, kappa1, kappa2, m_lambda, eta_max) with their "
                        "accuracy, exact/law at L = 10, 100, 1000, 10^4, instead of simulating (no --depth, "
                        "--width, --seeds, --seed)")
    V.add_seeds(p, default=64, help="random networks", unset=True)
    V.add_params(p)
    V.add_seed(p)
    p.add_argument("--sampler", type=V._type(V.parse_choice, "--sampler", ("projected", "dense")), default=None,
                   metavar="projected|dense",
                   help="projected: no weight matrices, per Dense only the projections of W the passes read, "
                        "O(L N T^2) time and O(L N T) memory, exact in law (default); dense: draw every weight "
                        "matrix, O(L N^2 T) and O(N^2), the reference (another sample for the same seed)")
    V.add_workers(p)
    V.add_json(p)
    V.add_quiet(p)

    p = sub.add_parser("lr", help="largest learning rates: monotone decrease and convergence of gradient descent",
                       description="Train random networks by full-batch gradient descent on (1/2T) sum (f - y)^2 "
                                   "and find, for each of --inits initialisations, the largest learning rate at "
                                   "which the loss decreases monotonically in the first K steps and the largest at "
                                   "which training still converges (loss after K steps below 1000 x L0); report "
                                   "both with 95% intervals over the initialisations, in units of 2/lambda_max of "
                                   "each initialisation, beside the infinite-width theory.", epilog=EPILOG_LR)
    _add_network_flags(p)
    p.add_argument("--inits", type=V._type(V.parse_int, "--inits", 1), default=4, metavar="K",
                   help="random initialisations (>= 1; 2 or more give an interval; default 4)")
    V.add_steps(p, default=50)
    V.add_targets(p)
    V.add_seed(p, help="seed of the initialisation")
    V.add_workers(p)
    V.add_json(p)
    V.add_quiet(p)

    p = sub.add_parser("verify", help="check theory against simulation and judge the published claims",
                       description="Run the contract suite on every registered architecture (symbolic vs "
                                   "numeric maps, theory vs Gram-sampler Monte Carlo, Gram sampler vs dense "
                                   "simulator), judge every published claim, calibrate the suite's power and "
                                   "false-alarm rate, and write report.md and report.json.", epilog=EPILOG_VERIFY)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="the default")
    g.add_argument("--full", action="store_true", help="wider, more seeds, 5 calibration repeats, the Fisher mutants (see README)")
    g.add_argument("--calibrate", type=V._type(V.parse_int, "--calibrate", 1), default=None, metavar="R",
                   help="only the calibration, with R repeats (24 checks each; 210 give >= 5000), written as "
                        "calibration.md and calibration.json")
    V.add_report(p, default="anglefish-report")
    p.add_argument("--force", action="store_true", help="overwrite files anglefish did not write")
    p.add_argument("--json", action="store_true", help="print report.json to stdout as well (strict JSON)")
    V.add_seed(p)
    V.add_workers(p)
    V.add_quiet(p)

    p = sub.add_parser("figures", help="regenerate the papers' figures (PNG, PDF, CSV, manifest)",
                       description="Redraw every figure of the ACML 2019 paper and the extra figures "
                                   "(F*: Fisher and learning rate, A1: depth laws, B1: BN kinds) from theory "
                                   "and simulation, with the plotted data as CSV and a manifest.json per figure.",
                       epilog=EPILOG_FIGURES)
    V.add_out(p, default="anglefish-figures", what="one subdirectory per figure")
    V.add_only(p)
    p.add_argument("--quick", action="store_true", help="fewer seeds and smaller sizes")
    V.add_data_dir(p)
    V.add_format(p)
    p.add_argument("--arch", default=None, metavar="NAME",
                   help="draw the generic figures (4, 7, A1, F1, ...) for this architecture")
    p.add_argument("--force", action="store_true", help="overwrite files anglefish did not write")
    V.add_seed(p)
    V.add_workers(p)
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    V.add_json(p)
    V.add_quiet(p)

    p = sub.add_parser("sweep", help="a grid of angles / fisher / lr runs as one tidy CSV and a manifest",
                       description="Run every combination of a grid (SPEC: a TOML or JSON file) as units of work "
                                   "and write theory, Monte Carlo and standard error per row.", epilog=EPILOG_SWEEP)
    p.add_argument("spec", type=V._type(V.parse_path, "SPEC"), metavar="SPEC", help="the grid (.toml or .json)")
    V.add_out(p, default="anglefish-sweep", what="sweep.csv and manifest.json")
    p.add_argument("--force", action="store_true", help="write into a directory that already holds files")
    V.add_workers(p)
    V.add_json(p)
    V.add_quiet(p)

    p = sub.add_parser("claims", help="the published claims and their verdicts",
                       description="Judge every registered claim (quick Monte Carlo evidence) and print "
                                   "the verdicts.")
    V.add_json(p)
    V.add_seed(p)
    V.add_quiet(p)
    return parser


def resolve_architecture(args):
    """ARCH, with --activation applied (unknown names name the flag)."""
    return V.check_architecture(args.architecture, getattr(args, "activation", None))


def load_plugins(paths=()) -> None:
    """Run --arch-file files and load the 'anglefish.plugins' entry points (:func:`anglefish.units.load_plugins`),
    and record them as the context worker processes rebuild the registries from."""
    from . import units

    units.load_plugins(paths)
    units.set_context(paths)


def _use_scheduler(args) -> None:
    """--scheduler: connect now (an unreachable scheduler stops the run before any work); the cluster's
    worker threads stand in for --workers where that splits work into blocks."""
    from .dask_executor import use_scheduler

    if getattr(args, "theory_only", False) or getattr(args, "law", False):
        return  # no units: the command refuses the flag
    if args.workers is not None:
        raise AnglefishError("--workers and --scheduler exclude each other (the cluster's workers run the units)")
    args.workers = use_scheduler(args.scheduler).workers


# ----------------------------------------------------------------------------- commands
def cmd_list(args) -> str:
    from .listing import registry_listing  # the built-ins without SymPy (anglefish/listing.py)

    listing = registry_listing()
    archs, blocks, acts = listing["architectures"], listing["blocks"], listing["activations"]
    if args.json:
        return dumps({"architectures": archs, "blocks": blocks, "activations": acts})
    width = max(len(a["name"]) for a in archs)
    lines = ["architectures (one block, repeated L times):"]
    for a in archs:
        lines.append(f"  {a['name']:<{width}}  {a['block']}")
        lines.append(f"  {'':<{width}}  {a['description']}")
    lines.append("blocks:")
    bw = max(len(b["name"]) for b in blocks)
    lines += [f"  {b['name']:<{bw}}  {b['summary']}" for b in blocks]
    lines.append("activations: " + ", ".join(a["name"] for a in acts))
    return "\n".join(lines)


def cmd_derive(args) -> str:
    arch = resolve_architecture(args)
    if args.depth is not None and not depends_on_depth(arch):  # before any derivation
        raise AnglefishError(f"--depth applies only to architectures whose blocks depend on the total depth L "
                             f"(e.g. resnet-scaled); {arch.name} does not")
    if args.params is not None and not args.fisher:
        raise AnglefishError("--params applies only with --fisher (the parameters of the Fisher spectrum)")
    with Progress("anglefish derive: iterating the exact map", enabled=not args.quiet) as bar:
        report = derive_report(arch, args.max_depth, args.latex, progress=bar, depth=args.depth)
    if args.finite_width:
        from .verify.derivation import finite_width_report

        report["finite_width"] = finite_width_report(arch, depth=args.depth or 10)
    if args.fisher:
        from .theory.spectrum import spectrum_symbolic_text

        with Heartbeat(f"anglefish derive --fisher: {arch.name}", enabled=not args.quiet):
            report["fisher"] = spectrum_symbolic_text(arch, args.params or "all", law=True)
    return dumps(report) if args.json else derive_text(report)


_SIMULATION_FLAGS = ("width", "seeds", "batch", "sampler", "bn", "seed", "workers", "scheduler")


def _check_angles_flags(args, arch):
    """Cross-flag rules of `angles` (before any derivation or drawing)."""
    from .theory.blocks import BatchNorm

    if args.theory_only:
        given = [f"--{name}" for name in _SIMULATION_FLAGS if getattr(args, name) is not None]
        if args.bn == "batch" or (args.bn is None and arch.uses(BatchNorm) and any(
                b.kind == "batch" for b in arch.block.walk() if isinstance(b, BatchNorm))):
            raise AnglefishError("--theory-only: batch-statistics BN (--bn batch) has no theory (no closed "
                                 "kernel map); drop --theory-only to simulate it")
        if given:
            raise AnglefishError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} only to the "
                                 "simulation; drop --theory-only or drop the flag")
        return
    if args.bn is not None and not arch.uses(BatchNorm):
        raise AnglefishError(f"--bn applies only to architectures with a BatchNorm; {arch.name} has none")
    args.width = 512 if args.width is None else args.width
    args.seeds = 64 if args.seeds is None else args.seeds
    args.sampler = args.sampler or "gram"
    args.seed = 0 if args.seed is None else args.seed
    from .numeric.fisher import uses_batch_bn

    batch_bn = uses_batch_bn(arch, args.bn)
    batch = args.batch if args.batch is not None else (32 if batch_bn else 2)
    if args.sampler == "gram" and batch > 2 and batch > args.width:
        raise AnglefishError(f"--batch {batch} must be at most --width {args.width} with the Gram sampler"
                             + ("" if args.batch is not None else " (the default batch with batch-statistics BN)"))


def _workers_in_budget(workers: int | None, estimate) -> int:
    """``--workers`` (None: the cores available), lowered so that that many processes, each needing at
    most the whole run's memory ``estimate``, fit the memory budget (the numbers do not depend on it)."""
    from .resources import memory_budget
    from .units import available_workers

    cap, _ = memory_budget()
    return max(1, min(workers or available_workers(), int(cap // max(estimate.bytes, 1.0))))


def cmd_angles(args) -> str:
    from . import resources
    from .theory.evaluate import maps_for_depth

    arch = resolve_architecture(args)
    _check_angles_flags(args, arch)
    estimate = resources.require(resources.estimate_angles(
        arch, args.depth, None if args.theory_only else args.width, None if args.theory_only else args.seeds,
        batch=args.batch, sampler=args.sampler or "gram", every=args.every, theory_only=args.theory_only,
        bn=args.bn))
    if not args.theory_only:
        args.workers = _workers_in_budget(args.workers, estimate)
    if args.theory_only:
        nm = maps_for_depth(arch, args.depth)
        with Progress(f"anglefish angles: {arch.name}: exact map", enabled=not args.quiet) as bar:
            ls, theta, log_q = nm.iterate(args.theta0, args.depth, every=args.every, progress=bar)
        rows = [{"l": int(l), "theta_theory": float(t), "log_q_theory": float(q)}
                for l, t, q in zip(ls, theta[:, 0], log_q)]
        result = {"architecture": arch.name, "theta0": args.theta0, "depth": args.depth, "rows": rows}
    else:
        from .numeric import angle_table

        with Progress(f"anglefish angles: {arch.name}: {args.sampler} sampler", enabled=not args.quiet) as bar:
            result = angle_table(arch, args.depth, args.theta0, args.width, args.seeds, batch=args.batch,
                                 sampler=args.sampler, bn=args.bn, seed=args.seed, every=args.every,
                                 progress=bar, finite_width=True, workers=args.workers)
        rows = result["rows"]
        if result.get("finite_width_warning") and (args.json or args.csv):  # the text table carries it
            print(f"anglefish: warning: {result['finite_width_warning']}", file=sys.stderr)
    if args.json:
        return dumps(result)
    if args.csv:
        buf = io.StringIO()
        fields = [k for k in rows[0] if not k.endswith("_note")]
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows({k: ("" if v is None or (isinstance(v, float) and not math.isfinite(v))
                         else repr(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows)
        return buf.getvalue().rstrip("\n")
    return angles_text(result, args.theory_only)


def cmd_verify(args):
    import os

    from .outputs import SafeWriter
    from .verify.report import FULL, QUICK, run_verification, write_report

    V.check_output_dir(args.report, "--report")
    if args.calibrate is not None:
        return _calibrate_only(args)
    SafeWriter(args.report, args.force).check(["report.md", "report.json"])  # before any work
    with Progress("anglefish verify", enabled=not args.quiet, log_stages=True) as bar:
        report = run_verification(FULL if args.full else QUICK, seed=args.seed, progress=bar.stage,
                                  workers=args.workers)
    paths = write_report(report, args.report, force=args.force)
    failed = [c for c in report["checks"] if c["applicable"] and not c["passed"]]
    lines = [f"{'PASS' if report['passed'] else 'FAIL'}: {len(report['checks']) - len(failed)} of "
             f"{len(report['checks'])} consistency checks passed in {report['elapsed_s']:.0f} s"]
    for c in failed:
        lines.append(f"  failed: {c['id']} on {c['architecture']} (statistic {c['statistic']:.3g} > "
                     f"tolerance {c['tolerance']:.3g})")
    cal = report["calibration"]
    lines.append(f"calibration: power {100 * cal['power']:.0f}% ({cal['caught']}/{len(cal['mutants'])} mutants), "
                 f"false alarms {cal['false_alarms']}/{cal['checks_run']}")
    lines.append("claims: " + ", ".join(f"{c['id']} {c['verdict']}" for c in report["claims"]))
    lines.append("report: " + ", ".join(os.fspath(p) for p in paths))
    text = dumps(report) if args.json else "\n".join(lines)
    return text, (0 if report["passed"] else 1)


def _calibrate_only(args):
    import os

    from .outputs import SafeWriter
    from .verify.report import run_calibration, write_report

    SafeWriter(args.report, args.force).check(["calibration.md", "calibration.json"])  # before any work
    with Progress("anglefish verify --calibrate: units of work", enabled=not args.quiet, unit="unit") as bar:
        report = run_calibration(args.calibrate, seed=args.seed, progress=bar, workers=args.workers)
    paths = write_report(report, args.report, force=args.force)
    cal = report["calibration"]
    text = (f"calibration: {cal['false_alarms']} false alarms in {cal['checks_run']} checks (95% upper bound "
            f"{100 * cal['false_alarm_upper_95']:.3f}%), power {cal['caught']}/{len(cal['mutants'])} mutants, "
            f"{report['elapsed_s']:.0f} s\nreport: " + ", ".join(os.fspath(p) for p in paths))
    return (dumps(report) if args.json else text), 0


def cmd_figures(args):
    from .paper_figures import render
    from .paper_figures.registry import figures

    if args.list:
        rows = [{"name": m.NAME, "title": getattr(m, "TITLE", ""), "generic": bool(getattr(m, "GENERIC", False)),
                 "reads_data_dir": bool(getattr(m, "DATA_DIR", False))} for m in figures()]
        if args.json:
            return dumps({"figures": rows})
        return "\n".join(f"{r['name']:<7} {r['title']}" for r in rows)
    V.check_output_dir(args.out, "--out")
    V.check_data_dir(args.data_dir)  # the place itself, before the figure modules are imported
    modules = V.check_figures(args.only, args.arch, figures())
    data_dir = V.check_data_dir(args.data_dir, modules)
    start = time.perf_counter()
    with Progress("anglefish figures: units of work", enabled=not args.quiet, unit="unit", log_stages=True) as bar:
        def progress(done, total):
            bar(done, total)
            if done:
                bar.stage(f"{done}/{total} done ({time.perf_counter() - start:.0f} s)")

        paths = render([m.NAME for m in modules], args.out, quick=args.quick, seed=args.seed, formats=args.format,
                       force=args.force, data_dir=data_dir, progress=progress, arch=args.arch, workers=args.workers)
    if args.json:
        by_figure = {}
        for p in paths:
            by_figure.setdefault(p.parent.name, []).append(str(p))
        return dumps({"out": str(args.out), "quick": bool(args.quick), "seed": args.seed,
                      "figures": [{"name": m.NAME, "files": by_figure.get(m.NAME, [])} for m in modules],
                      "elapsed_s": time.perf_counter() - start})
    return "\n".join(str(p) for p in paths)


# --------------------------------------------------------------------------- fisher and lr
def _network_checks(args):
    """ARCH and the cross-flag checks shared by `fisher` and `lr`."""
    arch = resolve_architecture(args)
    V.check_samples_for_batch_bn(arch, args.samples)
    return arch


def _theory_or_none(arch, depth, width, samples, params):
    from .theory.fisher_theory import fisher_theory

    try:
        t = fisher_theory(arch, depth, width, samples, params)
    except AnglefishError as err:
        return None, str(err)
    out = {}
    for key in ("lambda_max", "mean_eigenvalue", "eta_max", "kappa1", "kappa2"):
        value = t.get(key)
        out[key] = value if value is not None else Missing(
            "outside the float64 range" + (f"; see {key}_log10" if f"{key}_log10" in t else ""))
    for key in ("lambda_max_log10", "eta_max_log10"):
        out[key] = t.get(key)
    return out, None


def cmd_fisher(args):
    from . import resources
    from .numeric.fisher import fisher_spectrum
    from .numeric.spectrum import spectrum_summary
    from .verify.spectrum_checks import fisher_bounds_report

    if args.law:
        if args.sampler is not None:
            raise AnglefishError("--sampler does not apply to --law (the laws are in L; nothing is sampled)")
        return _fisher_law(args)
    if args.depth is None:
        raise AnglefishError("--depth is required (or --law for the large-depth laws)")
    args.width = 256 if args.width is None else args.width
    args.seeds = 64 if args.seeds is None else args.seeds
    args.sampler = args.sampler or "projected"
    arch = _network_checks(args)
    params = V.check_params(args.params, args.depth)
    width_check = args.width % 2 == 0 and args.width >= 4  # the s_lambda check samples width N/2 as well
    estimate = resources.require(resources.estimate_fisher(arch, args.depth, args.width, args.samples, args.seeds,
                                                           sampler=args.sampler,
                                                           networks_per_seed=2 if width_check else 1))
    args.workers = _workers_in_budget(args.workers, estimate)
    theory, why = _theory_or_none(arch, args.depth, args.width, args.samples, params)
    with Progress(f"anglefish fisher: {arch.name}: networks", enabled=not args.quiet, unit="network") as bar:
        mc = fisher_spectrum(arch, args.depth, args.width, args.samples, args.seeds, subset=params, seed=args.seed,
                             sampler=args.sampler, progress=bar, workers=args.workers)
    with Progress(f"anglefish fisher: {arch.name}: networks at width N/2 (s_lambda check)",
                  enabled=not args.quiet and width_check, unit="network") as bar:
        spectrum = fisher_bounds_report(arch, args.depth, args.width, args.samples, args.seeds, params,
                                        seed=args.seed, mc=spectrum_summary(mc, params), sampler=args.sampler,
                                        progress=bar)
    if theory is not None and spectrum["theory"] is not None:
        for key in ("m_lambda", "s_lambda", "s_lambda_finite", "concentration"):
            theory[key] = spectrum["theory"][key]
    out = {"architecture": arch.name, "depth": args.depth, "width": args.width, "samples": args.samples,
           "seeds": args.seeds, "seed": args.seed, "params": params, "sampler": args.sampler,
           "n_params": mc["n_params"], "theory": theory,
           "mc": {**{k: mc[k] for k in ("lambda_max", "lambda_max_se", "mean_eigenvalue", "mean_eigenvalue_se")},
                  **{k: spectrum["mc"][k] for k in ("m_lambda", "m_lambda_se", "s_lambda", "s_lambda_se",
                                                    "concentration", "concentration_se")}},
           "bounds": spectrum["bounds"], "checks": spectrum["checks"], "edge": spectrum["edge"],
           "theory_limit": (spectrum["theory"] or {}).get("limit"), "convention": CONVENTION_TEXT}
    if why:
        out["theory_note"] = why
    if spectrum.get("edge_note"):
        out["edge_note"] = spectrum["edge_note"]
    return dumps(out) if args.json else fisher_text(out, why)


def _fisher_law(args):
    """``fisher ARCH --law``: the derived large-L laws with their accuracy at finite depth."""
    from .theory.accuracy import law_accuracy
    from .theory.fisher_laws import fisher_law

    given = [f"--{k}" for k in ("depth", "width", "seeds", "workers", "scheduler") if getattr(args, k) is not None]
    if args.seed != 0:
        given.append("--seed")
    if given:
        raise AnglefishError(f"{', '.join(given)} do{'es' if len(given) == 1 else ''} not apply to --law "
                             "(the laws are in L; their accuracy uses the exact infinite-width recursion)")
    arch = resolve_architecture(args)
    with Heartbeat(f"anglefish fisher --law: {arch.name}", enabled=not args.quiet):
        law = fisher_law(arch, args.params)
        accuracy = law_accuracy(arch, args.params, samples=args.samples, law=law)
    out = {**{k: v for k, v in law.items() if k != "accuracy"}, "accuracy": accuracy, "samples_T": args.samples,
           "convention": CONVENTION_TEXT}
    return dumps(out) if args.json else fisher_law_text(out)


def cmd_lr(args):
    from . import resources
    from .numeric.training import learning_rate_thresholds

    arch = _network_checks(args)
    estimate = resources.require(resources.estimate_lr(arch, args.depth, args.width, args.samples, args.steps,
                                                       initialisations=args.inits, batched=True))
    args.workers = _workers_in_budget(args.workers, estimate)
    theory, why = _theory_or_none(arch, args.depth, args.width, args.samples, "all")
    with Progress(f"anglefish lr: {arch.name} ({estimate.text()} estimated)", enabled=not args.quiet,
                  unit="pass") as bar:
        r = learning_rate_thresholds(arch, args.depth, args.width, args.samples, inits=args.inits, seed=args.seed,
                                     steps=args.steps, targets=args.targets, progress=bar, workers=args.workers)
    out = {**{k: r[k] for k in ("architecture", "depth", "width", "samples", "inits", "seed", "steps", "targets",
                                "divergence_factor", "resolution", "summary", "per_init")},
           "theory_eta": Missing(why or "no theory") if theory is None else theory["eta_max"],
           "theory_eta_log10": None if theory is None else theory.get("eta_max_log10"),
           "convention": CONVENTION_TEXT + "; " + r["convention"]}
    return dumps(out) if args.json else lr_text(out)


def cmd_sweep(args):
    from .sweep import load_spec, run_sweep, write_sweep

    spec = load_spec(args.spec)
    out = V.check_output_dir(args.out, "--out")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise AnglefishError(f"--out {out}: exists and holds files; choose another directory or use --force")
    with Progress("anglefish sweep", enabled=not args.quiet, unit="unit") as bar:
        rows, manifest = run_sweep(spec, args.workers, progress=bar)
    paths = write_sweep(rows, manifest, out)
    if args.json:
        return dumps({**manifest, "files": [str(p) for p in paths]})
    return "\n".join([f"{manifest['rows']} rows from {manifest['units']} units in {manifest['elapsed_s']:.1f} s "
                      f"({manifest['executor']['kind']}, {manifest['executor']['workers']} workers)"]
                     + [str(p) for p in paths])


def cmd_claims(args):
    from .verify.claims import Settings, evaluate_claims
    from .verify.verdicts import MEANING

    with Progress("anglefish claims", enabled=not args.quiet, unit="claim") as bar:
        rows = evaluate_claims(Settings(seed=args.seed), progress=bar)
    if args.json:
        return dumps({"vocabulary": MEANING, "claims": rows})
    return claims_text(rows, MEANING)


COMMANDS = {"list": cmd_list, "derive": cmd_derive, "angles": cmd_angles, "verify": cmd_verify,
            "claims": cmd_claims, "figures": cmd_figures, "fisher": cmd_fisher, "lr": cmd_lr,
            "sweep": cmd_sweep}


@contextlib.contextmanager
def _numerics_quiet():
    """numpy's RuntimeWarnings stay off stderr: numbers that are not finite reach the output as
    null with a note (JSON) or '-' (text), never as warnings before it."""
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            yield


def main(argv=None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        load_plugins(args.arch_file)
        if getattr(args, "scheduler", None):
            _use_scheduler(args)
        with _numerics_quiet():
            output = COMMANDS[args.command](args)
        status = 0
        if isinstance(output, tuple):
            output, status = output
    except AnglefishError as err:
        print(f"anglefish: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("anglefish: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        from .resources import MEMORY_ENV

        print(f"anglefish: error: out of memory; lower the sizes, or set {MEMORY_ENV} lower so that "
              "anglefish refuses such runs before starting", file=sys.stderr)
        return 2
    except OSError as err:
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"anglefish: error: cannot write{where}: {err.strerror or err}", file=sys.stderr)
        return 2
    sys.stdout.write(output + "\n")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
