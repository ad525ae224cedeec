"""The ``anglefish`` command line.

Every command prints readable text by default and JSON with ``--json``; tables can be
written as CSV with ``--csv``.  Bad input prints one line on stderr and exits with
status 2, writing nothing.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time

from . import __version__
from .errors import AnglefishError
from .progress import Progress

EPILOG_DERIVE = """\
The derivation runs SymPy on the block list of ARCH: it derives the ReLU Gaussian
kernel from the bivariate Gaussian integral, pushes (q_a, q_b, q_ab) through the
block, expands the angle map at theta -> 0 and solves the resulting difference
equation.  The law is then checked against the exact map iterated to --max-depth.

examples:
  anglefish derive resnet-bn
  anglefish derive mlp --json --latex
"""

EPILOG_ANGLES = """\
Depth is 0-based: row l is the state after l blocks (l = 0 is the input).  theta is in
radians; log_q is the log of the per-unit second moment ||h||^2/N of an input with
per-coordinate variance 1.

examples:
  anglefish angles mlp --depth 10 --theta0 0.5 --theory-only
  anglefish angles resnet --depth 1000000 --theta0 1.5 --theory-only --every 100000 --json
"""


EPILOG_VERIFY = """\
Exit status: 0 when every consistency check passes, 1 when one fails, 2 on bad input.
Verdicts on the papers' claims never change the exit status.

examples:
  anglefish verify --quick
  anglefish verify --full --report results/ --seed 3
"""


EPILOG_FIGURES = """\
Same seed => byte-identical CSVs.  Quick mode renders every figure in about a minute on two
cores; the full run takes several minutes (see the README).

examples:
  anglefish figures --quick
  anglefish figures --only fig4,fig8 --out figs/ --format png
  anglefish figures --only fig4,A1 --arch resnet2
"""


FISHER_CONVENTION = """\
Convention: T inputs with i.i.d. N(0, 1) coordinates in dimension N (= width); scalar
readout f(x) = v^T h^L, v ~ N(0, 1/N); standard parameterisation; the empirical FIM
F = (1/T) sum_t grad f(x_t) grad f(x_t)^T over all weights including v (P of them), the
Hessian of (1/2T) sum (f - y)^2 at zero residual; mean eigenvalue m_lambda = tr F / P;
eta_max = 2 / lambda_max.  --params layer:K restricts F to the weights of block K.

examples:
  anglefish fisher resnet --depth 5 --width 512 --samples 64 --seeds 8
  anglefish lr resnet-bn --depth 5 --width 512 --samples 64 --json
"""

CONVENTION_TEXT = ("T inputs with i.i.d. N(0,1) coordinates in dimension N = width; f(x) = v^T h^L, "
                   "v ~ N(0, 1/N); standard parameterisation; F = (1/T) sum_t grad f grad f^T over all "
                   "weights including v (or those of --params); m_lambda = tr F / P; eta_max = 2/lambda_max; "
                   "population BN is a fixed division, batch BN is differentiated through its statistics")


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input in one line and exits with status 2."""

    def error(self, message):
        raise AnglefishError(f"{self.prog}: {message}")


def _common() -> argparse.ArgumentParser:
    """Options every command takes: plugins and user files that register architectures."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--arch-file", action="append", default=[], metavar="PATH",
                        help="run this Python file first (it may register blocks, activations or "
                             "architectures); repeatable. The file's code is executed.")
    return common


def _add_network_flags(p) -> None:
    """ARCH, --activation, --depth, --width and --samples: the network of `fisher` and `lr`."""
    p.add_argument("architecture", metavar="ARCH")
    _add_activation_flag(p)
    p.add_argument("--depth", type=int, required=True, metavar="L", help="number of blocks (>= 1)")
    p.add_argument("--width", type=int, default=256, metavar="N", help="width = input dimension (default 256)")
    p.add_argument("--samples", type=int, default=64, metavar="T", help="number of inputs T (default 64)")


def _add_activation_flag(p):
    p.add_argument("--activation", metavar="NAME", default=None,
                   help="swap every activation of ARCH for NAME (e.g. tanh, erf, gelu), keeping the "
                        "weight variances; the same as writing ARCH[NAME]")


def resolve_architecture(args):
    """ARCH, with --activation applied."""
    from .theory import get_architecture

    name = args.architecture
    if getattr(args, "activation", None):
        from .theory import get_activation

        get_activation(args.activation)  # a clear error for an unknown name
        name = f"{name}[{args.activation}]"
    return get_architecture(name)


def load_plugins(paths=()) -> None:
    """Run --arch-file files and load the 'anglefish.plugins' entry points."""
    import runpy
    from importlib.metadata import entry_points

    for ep in entry_points(group="anglefish.plugins"):
        try:
            obj = ep.load()
        except Exception as err:  # a broken plugin must not crash with a traceback
            raise AnglefishError(f"plugin '{ep.name}' failed to load: {type(err).__name__}: {err}") from None
        if callable(obj):
            obj()
    for path in paths:
        import os

        if not os.path.isfile(path):
            raise AnglefishError(f"--arch-file {path}: no such file")
        try:
            runpy.run_path(path, run_name="anglefish_arch_file")
        except AnglefishError:
            raise
        except Exception as err:
            raise AnglefishError(f"--arch-file {path} failed: {type(err).__name__}: {err}") from None


def _add_output_flags(p, csv_ok=False):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="print JSON (stable keys)")
    if csv_ok:
        g.add_argument("--csv", action="store_true", help="print the table as CSV")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anglefish",
        description="Derive, simulate and verify how deep random ReLU networks (MLP, ResNet, "
                    "ResNet+BN, your own) shrink the angle between two inputs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'anglefish COMMAND --help' for each command.")
    parser.add_argument("--version", action="version", version=f"anglefish {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = _common()
    _add_parser = sub.add_parser

    def add_parser(*a, **kw):  # every command takes the common options
        kw.setdefault("parents", [common])
        return _add_parser(*a, **kw)
    sub.add_parser = add_parser

    p = sub.add_parser("list", help="registered architectures, blocks and activations",
                       description="List the registered architectures, block types and activations.")
    _add_output_flags(p)

    p = sub.add_parser("derive", help="derive the norm/angle maps and the large-depth law",
                       description="Derive, with SymPy, the one-block norm and angle maps of ARCH, "
                                   "the large-depth law of the angle and the verdict on the "
                                   "paper's Table 1 row.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG_DERIVE)
    p.add_argument("architecture", metavar="ARCH", help="a registered architecture (see 'anglefish list')")
    _add_activation_flag(p)
    _add_output_flags(p)
    p.add_argument("--latex", action="store_true", help="also give the maps in LaTeX")
    p.add_argument("--max-depth", type=int, default=None, metavar="N",
                   help="check the law against the iterated map up to depth N (default 10^6 for maps "
                        "with a closed series, about 2 s; 10^4 for nested or quadrature maps, which "
                        "are iterated block by block)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("angles", help="angle and log-norm through depth",
                       description="The angle theta_l and log q_l of two inputs at angle THETA0 "
                                   "after l = 0..L blocks of ARCH.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG_ANGLES)
    p.add_argument("architecture", metavar="ARCH")
    _add_activation_flag(p)
    p.add_argument("--depth", type=int, required=True, metavar="L", help="number of blocks (>= 0)")
    p.add_argument("--theta0", type=float, required=True, metavar="X",
                   help="angle between the two inputs, radians in [0, pi]")
    p.add_argument("--theory-only", action="store_true",
                   help="iterate the exact infinite-width map only (no simulation)")
    p.add_argument("--width", type=int, default=512, metavar="N", help="units per layer (default 512)")
    p.add_argument("--seeds", type=int, default=64, metavar="S",
                   help="independent random networks (default 64; >= 2)")
    p.add_argument("--batch", type=int, default=None, metavar="B",
                   help="inputs per batch: the pair plus B-2 random whitened inputs "
                        "(default 2, or 32 with batch-statistics BN)")
    p.add_argument("--sampler", choices=["gram", "dense"], default="gram",
                   help="gram: exact conditional-Gaussian sampler, O(B^2 N) per layer (default); "
                        "dense: draw every weight matrix, O(B N^2)")
    p.add_argument("--bn", choices=["population", "batch"], default=None,
                   help="override the kind of every BatchNorm: population moments (the paper's "
                        "proof) or mini-batch statistics (a real network)")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="master seed (default 0)")
    p.add_argument("--every", type=int, default=1, metavar="K",
                   help="print every K-th depth (the last depth is always printed)")
    _add_output_flags(p, csv_ok=True)
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("fisher", help="Fisher information spectrum: theory and dense-network Monte Carlo",
                       description="lambda_max and the mean eigenvalue of the empirical Fisher information "
                                   "matrix, predicted by the infinite-width NTK theory and measured on dense "
                                   "random networks (exact spectrum via the T x T NTK Gram, never the P x P FIM).",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=FISHER_CONVENTION)
    _add_network_flags(p)
    p.add_argument("--seeds", type=int, default=8, metavar="S", help="random networks (default 8)")
    p.add_argument("--params", default="all", metavar="SEL",
                   help="all | layer:K (weights of block K, 0-based) | layer:first | layer:last | layer:readout")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="master seed (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON (stable keys)")

    p = sub.add_parser("lr", help="largest learning rate: 2/lambda_max against gradient descent",
                       description="Train one random network by full-batch gradient descent on (1/2T) sum "
                                   "(f - y)^2 and find, by bisection, the largest learning rate for which the "
                                   "loss does not rise in the first K steps; compare with 2/lambda_max of the "
                                   "same initialisation and with the infinite-width theory; also find where "
                                   "training diverges.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=FISHER_CONVENTION)
    _add_network_flags(p)
    p.add_argument("--steps", type=int, default=50, metavar="K",
                   help="steps in which the loss must not rise (default 50)")
    p.add_argument("--targets", choices=["teacher", "sign"], default="teacher",
                   help="teacher: outputs of an independent random network (default); sign: +-1 labels")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="seed of the initialisation (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON (stable keys)")

    p = sub.add_parser("verify", help="check theory against simulation and judge the published claims",
                       description="Run the contract suite on every registered architecture (symbolic vs "
                                   "numeric maps, theory vs Gram-sampler Monte Carlo, Gram sampler vs dense "
                                   "simulator), judge every published claim, calibrate the suite's power and "
                                   "false-alarm rate, and write report.md and report.json.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG_VERIFY)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="the default: about 30 s on 2 cores")
    g.add_argument("--full", action="store_true", help="wider, more seeds, 100 calibration repeats (see README)")
    p.add_argument("--report", default="anglefish-report", metavar="DIR",
                   help="directory for report.md and report.json (default ./anglefish-report)")
    p.add_argument("--force", action="store_true", help="overwrite files anglefish did not write")
    p.add_argument("--json", action="store_true", help="print report.json to stdout as well")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="master seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    p = sub.add_parser("figures", help="regenerate the papers' figures (PNG, PDF, CSV, manifest)",
                       description="Redraw every figure of the ACML 2019 paper and the extra figures "
                                   "(F*: Fisher and learning rate, A1: depth laws, B1: BN kinds) from theory "
                                   "and simulation, with the plotted data as CSV and a manifest.json per figure.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG_FIGURES)
    p.add_argument("--out", default="anglefish-figures", metavar="DIR",
                   help="output directory (default ./anglefish-figures); one subdirectory per figure")
    p.add_argument("--only", default=None, metavar="LIST",
                   help="comma-separated figures, e.g. fig4,fig8,A1 (default: all)")
    p.add_argument("--quick", action="store_true", help="fewer seeds and smaller sizes: all figures in about a minute")
    p.add_argument("--data-dir", default=None, metavar="PATH",
                   help="directory with MNIST (IDX) and/or CIFAR-10 (binary) files; default: the bundled digits")
    p.add_argument("--format", default="png,pdf", metavar="LIST", help="image formats (default png,pdf)")
    p.add_argument("--arch", default=None, metavar="NAME",
                   help="draw the generic figures (4, 7, A1, F1, ...) for this architecture")
    p.add_argument("--force", action="store_true", help="overwrite files anglefish did not write")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="master seed (default 0)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    p = sub.add_parser("claims", help="the published claims and their verdicts",
                       description="Judge every registered claim (quick Monte Carlo evidence) and print "
                                   "the verdicts.")
    _add_output_flags(p)
    p.add_argument("--seed", type=int, default=0, metavar="K", help="master seed (default 0)")
    return parser


# ----------------------------------------------------------------------------- commands
def cmd_list(args) -> str:
    from .theory import activations, architectures, block_types

    archs = [{"name": a.name, "block": repr(a.block), "description": a.description, "source": a.source}
             for a in architectures().values()]
    blocks = [{"name": name, "summary": cls.summary} for name, cls in block_types().items()]
    acts = [{"name": name} for name in activations()]
    if args.json:
        return json.dumps({"architectures": archs, "blocks": blocks, "activations": acts}, indent=2)
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


def derive_report(architecture: str, max_depth: int | None = None, latex: bool = False, progress=None) -> dict:
    """Everything ``anglefish derive`` prints, as a JSON-ready dict."""
    import sympy as sp

    from .theory import derive_maps, get_architecture
    from .theory.asymptotics import CHECK_DEPTHS, CHECK_THETA0, depth_law, law_errors
    from .verify.table1 import table1_verdict

    arch = get_architecture(architecture)
    if max_depth is None:
        from .theory.evaluate import NumericMaps, maps_for_depth

        try:
            fast = isinstance(maps_for_depth(arch, 100), NumericMaps)
        except AnglefishError:
            fast = False
        max_depth = 10**6 if fast else 10**4
    if max_depth < 1:
        raise AnglefishError(f"--max-depth must be at least 1, got {max_depth}")
    maps = derive_maps(arch)
    law = depth_law(arch)
    depths = [d for d in CHECK_DEPTHS if d <= max_depth] or [max_depth]
    errors = law_errors(arch, depths=depths, progress=progress)
    asym = law.as_dict()
    main_form = next((f for f in ("theta_l", "leading") if f in errors), None)
    asym["error_at"] = ({} if main_form is None else
                        {str(d): max(abs(e) for e in errs) for d, errs in errors[main_form].items()})
    asym["error_form"] = main_form
    asym["errors_by_form"] = {form: {str(d): errs for d, errs in table.items()} for form, table in errors.items()}
    asym["theta0_checked"] = list(CHECK_THETA0)
    text = maps.text()
    out = {
        "architecture": arch.name,
        "block": repr(arch.block),
        "description": arch.description,
        "norm_map": text["norm_map"],
        "angle_map": text["angle_map"],
        "population_moment": None if maps.population is None else sp.sstr(maps.population),
        "slope_at_zero": _finite_or_none(law.slope_at_zero),
        "asymptotic": asym,
        "table1": table1_verdict(arch),
        "conventions": "per-unit second moments q = ||h||^2/N; inputs with per-coordinate variance 1; "
                       "0-based block index l; angles in radians",
    }
    if latex:
        out["latex"] = maps.latex()
    return out


def _finite_or_none(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _format_derive(r: dict) -> str:
    a = r["asymptotic"]
    lines = [f"{r['architecture']}: {r['description']}",
             f"  block       {r['block']}",
             f"  norm map    {r['norm_map']}",
             f"  angle map   {r['angle_map']}"]
    if a.get("series"):
        lines.append(f"  series      theta_(l+1) = {a['series']}")
    if r["slope_at_zero"] is not None:
        lines.append(f"  slope at 0  {r['slope_at_zero']:g}")
    lines.append(f"  depth law   {a['class']}" + (f": theta_l ~ {a['leading']}" if a.get("leading") else ""))
    if a.get("theta_l") and a["theta_l"] != a.get("leading"):
        lines.append(f"              with theta0: theta_l = {a['theta_l']}")
    if a.get("corrected"):
        lines.append(f"              next correction: theta_l = {a['corrected']}")
    if a.get("difference_equation"):
        lines.append(f"              from {a['difference_equation']}")
    if a.get("note"):
        lines.append(f"              {a['note']}")
    if a["errors_by_form"]:
        forms = list(a["errors_by_form"])
        depths = list(a["errors_by_form"][forms[0]])
        lines.append("  law vs the iterated exact map: max |law/iterate - 1| over theta0 in "
                     + ", ".join(f"{t:g}" for t in a["theta0_checked"]))
        lines.append("    " + f"{'depth':>9}" + "".join(f"{f:>13}" for f in forms))
        for d in depths:
            row = "".join(f"{max(abs(e) for e in a['errors_by_form'][f][d]):>13.3e}" for f in forms)
            lines.append(f"    {int(d):>9}{row}")
    t = r["table1"]
    lines.append(f"  Table 1     {t['verdict']}" + (f": {t['claim']}" if "claim" in t else ""))
    if "note" in t:
        lines.append(f"              {t['note']}")
    lines.append(f"  assumption  holds = {t['assumption_holds']}: {t['assumption']}")
    if "latex" in r:
        lines.append(f"  LaTeX       {r['latex']['norm_map']}")
        lines.append(f"              {r['latex']['angle_map']}")
    return "\n".join(lines)


def cmd_derive(args) -> str:
    with Progress("iterating the exact map", enabled=not args.quiet) as bar:
        report = derive_report(resolve_architecture(args), args.max_depth, args.latex, progress=bar)
    return json.dumps(report, indent=2) if args.json else _format_derive(report)


def _check_theta0(theta0: float) -> float:
    if not math.isfinite(theta0) or not 0.0 <= theta0 <= math.pi:
        raise AnglefishError(f"--theta0 must be an angle in [0, pi] radians, got {theta0}")
    return theta0


def cmd_angles(args) -> str:
    from .theory.evaluate import maps_for_depth

    arch = resolve_architecture(args)
    theta0 = _check_theta0(args.theta0)
    if args.depth < 0:
        raise AnglefishError(f"--depth must be a non-negative integer, got {args.depth}")
    if args.every < 1:
        raise AnglefishError(f"--every must be a positive integer, got {args.every}")
    if args.theory_only:
        nm = maps_for_depth(arch, args.depth)
        with Progress(f"{arch.name}: exact map", enabled=not args.quiet) as bar:
            ls, theta, log_q = nm.iterate(theta0, args.depth, every=args.every, progress=bar)
        rows = [{"l": int(l), "theta_theory": float(t), "log_q_theory": float(q)}
                for l, t, q in zip(ls, theta[:, 0], log_q)]
        result = {"architecture": arch.name, "theta0": theta0, "depth": args.depth, "rows": rows}
    else:
        from .numeric import angle_table

        with Progress(f"{arch.name}: {args.sampler} sampler", enabled=not args.quiet) as bar:
            result = angle_table(arch, args.depth, theta0, args.width, args.seeds, batch=args.batch,
                                 sampler=args.sampler, bn=args.bn, seed=args.seed, every=args.every,
                                 progress=bar)
        rows = result["rows"]
    if args.json:
        return json.dumps(result, indent=2)
    if args.csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({k: repr(v) if isinstance(v, float) else ("" if v is None else v) for k, v in r.items()}
                    for r in rows)
        return buf.getvalue().rstrip("\n")
    if args.theory_only:
        lines = [f"{'l':>9}  {'theta_theory':>22}  {'log_q_theory':>22}"]
        lines += [f"{r['l']:>9}  {r['theta_theory']:>22.16g}  {r['log_q_theory']:>22.16g}" for r in rows]
        return "\n".join(lines)
    fmt = lambda v, spec: "-".rjust(int(spec.split(".")[0])) if v is None else format(v, spec)
    head = (f"# {result['architecture']}: width {result['width']}, {result['seeds']} seeds, batch "
            f"{result['batch']}, {result['sampler']} sampler" + (f", {result['bn']} BN" if result["bn"] else ""))
    lines = [head, f"{'l':>6} {'theta_theory':>12} {'theta_mc':>10} {'+-se':>8} {'single_mean':>11} "
             f"{'single_sd':>9} {'log_q_theory':>12} {'log_q_mc':>10}"]
    for r in rows:
        lines.append(f"{r['l']:>6} {fmt(r['theta_theory'], '12.6f')} {r['theta_mc']:>10.6f} {r['theta_mc_se']:>8.5f} "
                     f"{r['theta_single_mean']:>11.6f} {r['theta_single_sd']:>9.5f} "
                     f"{fmt(r['log_q_theory'], '12.5f')} {r['log_q_mc']:>10.5f}")
    return "\n".join(lines)


def cmd_verify(args):
    import os

    from .verify.report import FULL, QUICK, run_verification, write_report

    if args.seed < 0:
        raise AnglefishError(f"--seed must be a non-negative integer, got {args.seed}")
    from .outputs import SafeWriter

    SafeWriter(args.report, args.force).check(["report.md", "report.json"])  # before any work
    verbose = not args.quiet
    tty = sys.stderr.isatty()
    seen = set()

    def progress(stage, fraction):
        if not verbose:
            return
        if tty:  # one updating line on a terminal
            print(f"\ranglefish verify: {stage:<15} {100 * fraction:5.1f}%", end="", file=sys.stderr, flush=True)
        elif stage not in seen:  # one line per stage in logs
            seen.add(stage)
            print(f"anglefish verify: {stage} ...", file=sys.stderr, flush=True)

    report = run_verification(FULL if args.full else QUICK, seed=args.seed, progress=progress)
    paths = write_report(report, args.report, force=args.force)
    if verbose and tty:
        print(file=sys.stderr)
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
    text = json.dumps(report, indent=2, default=str) if args.json else "\n".join(lines)
    return text, (0 if report["passed"] else 1)


def cmd_figures(args):
    from .paper_figures import render
    from .paper_figures.registry import figures

    if args.list:
        rows = []
        for module in figures():
            rows.append(f"{module.NAME:<7} {getattr(module, 'TITLE', '')}")
        return "\n".join(rows)
    if args.seed < 0:
        raise AnglefishError(f"--seed must be a non-negative integer, got {args.seed}")
    formats = tuple(f.strip().lower() for f in args.format.split(",") if f.strip())
    for f in formats:
        if f not in ("png", "pdf", "svg"):
            raise AnglefishError(f"--format: unknown image format '{f}' (png, pdf, svg)")
    names = args.only or None
    if args.arch:
        from .theory import get_architecture

        get_architecture(args.arch)
    verbose = not args.quiet
    start = time.perf_counter()

    def progress(done, total):
        if verbose:
            print(f"anglefish figures: {done}/{total} done ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr, flush=True)

    paths = render(names, args.out, quick=args.quick, seed=args.seed, formats=formats, force=args.force,
                   data_dir=args.data_dir, progress=progress, arch=args.arch)
    return "\n".join(str(p) for p in paths)


def _normalise_params(sel: str, depth: int) -> str:
    if sel == "layer:first":
        return "layer:0"
    if sel == "layer:last":
        return f"layer:{depth - 1}"
    return sel


def _fisher_checks(args):
    for name in ("depth", "width", "samples"):
        if getattr(args, name) < 1:
            raise AnglefishError(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.seed < 0:
        raise AnglefishError(f"--seed must be a non-negative integer, got {args.seed}")


def _theory_or_none(arch, depth, width, samples, params):
    from .theory.fisher_theory import fisher_theory

    try:
        t = fisher_theory(arch, depth, width, samples, params)
    except AnglefishError as err:
        return None, str(err)
    return {k: t.get(k) for k in ("lambda_max", "mean_eigenvalue", "eta_max", "kappa1", "kappa2")}, None


def cmd_fisher(args):
    from .numeric.fisher import fisher_spectrum

    _fisher_checks(args)
    if args.seeds < 1:
        raise AnglefishError(f"--seeds must be a positive integer, got {args.seeds}")
    arch = resolve_architecture(args)
    params = _normalise_params(args.params, args.depth)
    theory, why = _theory_or_none(arch, args.depth, args.width, args.samples, params)
    mc = fisher_spectrum(arch, args.depth, args.width, args.samples, args.seeds, subset=params, seed=args.seed)
    out = {"architecture": arch.name, "depth": args.depth, "width": args.width, "samples": args.samples,
           "seeds": args.seeds, "seed": args.seed, "params": params, "n_params": mc["n_params"],
           "theory": theory,
           "mc": {k: mc[k] for k in ("lambda_max", "lambda_max_se", "mean_eigenvalue", "mean_eigenvalue_se")},
           "convention": CONVENTION_TEXT}
    if why:
        out["theory_note"] = why
    if args.json:
        return json.dumps(out, indent=2)
    fmt = lambda v: "-" if v is None else f"{v:.6g}"
    lines = [f"{arch.name}: depth {args.depth}, width {args.width}, T = {args.samples}, params {params} "
             f"(P = {mc['n_params']})",
             f"{'':<18}{'theory':>14}{'Monte Carlo':>16}{'+- se':>12}",
             f"{'lambda_max':<18}{fmt(theory and theory['lambda_max']):>14}{mc['lambda_max']:>16.6g}"
             f"{mc['lambda_max_se']:>12.3g}",
             f"{'mean eigenvalue':<18}{fmt(theory and theory['mean_eigenvalue']):>14}{mc['mean_eigenvalue']:>16.6g}"
             f"{mc['mean_eigenvalue_se']:>12.3g}",
             f"{'eta_max=2/lmax':<18}{fmt(theory and theory['eta_max']):>14}{2 / mc['lambda_max']:>16.6g}",
             f"({args.seeds} networks, seed {args.seed}; {why or 'theory: infinite-width NTK'})"]
    return "\n".join(lines)


def cmd_lr(args):
    from .numeric.training import monotone_threshold

    _fisher_checks(args)
    if args.steps < 1:
        raise AnglefishError(f"--steps must be a positive integer, got {args.steps}")
    arch = resolve_architecture(args)
    theory, why = _theory_or_none(arch, args.depth, args.width, args.samples, "all")
    r = monotone_threshold(arch, args.depth, args.width, args.samples, args.seed, steps=args.steps,
                           targets=args.targets)
    out = {"architecture": arch.name, "depth": args.depth, "width": args.width, "samples": args.samples,
           "seed": args.seed, "predicted_eta": r["predicted_eta"],
           "theory_eta": None if theory is None else theory["eta_max"],
           "measured_eta": r["measured_eta"], "ratio": r["ratio"],
           "diverges_at": None if not math.isfinite(r["diverges_at"]) else r["diverges_at"],
           "diverges_ratio": None if not math.isfinite(r["diverges_ratio"]) else r["diverges_ratio"],
           "steps": r["steps"], "targets": r["targets"], "tolerance": r["tolerance"],
           "rise_step": r["rise_step"], "lambda_max": r["lambda_max"], "convention": CONVENTION_TEXT}
    if args.json:
        return json.dumps(out, indent=2)
    div = "not within 64 x 2/lambda_max" if out["diverges_at"] is None else f"{out['diverges_at']:.4g} " \
          f"({out['diverges_ratio']:.2f} x 2/lambda_max)"
    return "\n".join([
        f"{arch.name}: depth {args.depth}, width {args.width}, T = {args.samples}, seed {args.seed}, "
        f"targets {args.targets}",
        f"  2/lambda_max of this initialisation   {out['predicted_eta']:.6g}",
        f"  infinite-width theory 2/lambda_max    " + ("-" if out["theory_eta"] is None else f"{out['theory_eta']:.6g}"),
        f"  largest eta with no rise in {out['steps']} steps  {out['measured_eta']:.6g}  "
        f"(ratio {out['ratio']:.3f}, bisection to {100 * out['tolerance']:.0f}%)",
        f"  training diverges at                  {div}"])


def cmd_claims(args):
    from .verify.claims import Settings, evaluate_claims

    if args.seed < 0:
        raise AnglefishError(f"--seed must be a non-negative integer, got {args.seed}")
    rows = evaluate_claims(Settings(seed=args.seed))
    if args.json:
        return json.dumps(rows, indent=2, default=str)
    width = max(len(r["id"]) for r in rows)
    lines = []
    for r in rows:
        lines.append(f"{r['id']:<{width}}  {r['verdict']:<24} {r['source']}")
        lines.append(f"{'':<{width}}  {r['statement']}")
    return "\n".join(lines)


COMMANDS = {"list": cmd_list, "derive": cmd_derive, "angles": cmd_angles, "verify": cmd_verify,
            "claims": cmd_claims, "figures": cmd_figures, "fisher": cmd_fisher, "lr": cmd_lr}


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        load_plugins(args.arch_file)
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
    sys.stdout.write(output + "\n")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
