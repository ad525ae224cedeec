"""The command line's text output: the tables and summaries ``anglefish`` prints without ``--json``
(the JSON carries the same numbers).  No science here: every number comes from the library."""
from __future__ import annotations

import math

from .jsonout import Missing

EPILOG_DERIVE = """\
The derivation runs SymPy on the block list of ARCH: it derives the ReLU Gaussian
kernel from the bivariate Gaussian integral, pushes (q_a, q_b, q_ab) through the
block, expands the angle map at theta -> 0 and solves the resulting difference
equation.  The law is then checked against the exact map iterated to --max-depth.

examples:
  anglefish derive resnet-bn
  anglefish derive mlp --json --latex
  anglefish derive 'resnet-scaled[erf]' --depth 50
"""

EPILOG_ANGLES = """\
Depth is 0-based: row l is the state after l blocks (l = 0 is the input).  theta is in
radians; log_q is the log of the per-unit second moment ||h||^2/N of an input with
per-coordinate variance 1.  Runs are estimated first and refused beyond the memory
budget or the time limit (see the README).

examples:
  anglefish angles mlp --depth 10 --theta0 0.5 --theory-only
  anglefish angles resnet --depth 1000000 --theta0 1.5 --theory-only --every 100000 --json
"""

EPILOG_VERIFY = """\
Exit status: 0 when every consistency check passes, 1 when one fails, 2 on bad input.
Verdicts on the papers' claims never change the exit status.  Measured run times: see
the README.

examples:
  anglefish verify --quick
  anglefish verify --full --report results/ --seed 3
  anglefish verify --calibrate 210 --report calibration/   # >= 5000 checks of the false-alarm rate
"""

EPILOG_FIGURES = """\
Same seed => byte-identical CSVs.  Measured run times of --quick and of the full run:
see the README.

examples:
  anglefish figures --quick
  anglefish figures --only fig4,fig8 --out figs/ --format png
  anglefish figures --only fig4,A1 --arch resnet2
"""

EPILOG_SWEEP = """\
A spec (TOML or JSON) names the grid; every combination is one unit of work:

  quantities    = ["angles", "fisher", "lr"]   # at least one
  architectures = ["mlp", "resnet"]            # registered names
  depths        = [5, 20]                      # L, blocks (>= 1)
  widths        = [64, 128]                    # N (>= 2)
  theta0s       = [0.5, 1.5]                   # input angles in radians (angles only)
  seeds         = [0, 1]                       # master seeds (default [0])
  networks      = 8                            # networks per cell (>= 2; default 16)
  samples       = 8                            # T inputs of fisher and lr (default 16)
  steps         = 50                           # gradient-descent steps of lr (default 50)

Output: DIR/sweep.csv, one row per (cell, statistic) with columns quantity, statistic,
architecture, depth, width, theta0, samples, networks, seed, theory, theory_limit,
theory_finite_width, theory_finite_width_limit, mc, se, note (sweep.parquet as well when
pyarrow is installed), and DIR/manifest.json (spec, version, seeds, executor, time).
Statistics: angles theta_L, log_q_L; fisher lambda_max, mean_eigenvalue; lr eta_monotone,
eta_divergence.  The numbers do not depend on --workers or --scheduler.

examples:
  anglefish sweep examples/sweep.toml --out sweep-out
  anglefish sweep examples/sweep.toml --out sweep-out --scheduler tcp://127.0.0.1:8786
"""

CONVENTION = """\
Convention: T inputs with i.i.d. N(0, 1) coordinates in dimension N (= width); scalar
readout f(x) = v^T h^L, v ~ N(0, 1/N); standard parameterisation; the empirical FIM
F = (1/T) sum_t grad f(x_t) grad f(x_t)^T over all weights including v (P of them), the
Hessian of (1/2T) sum (f - y)^2 at zero residual; mean eigenvalue m_lambda = tr F / P;
eta_max = 2 / lambda_max.
"""

EPILOG_FISHER = CONVENTION + """\
--params layer:K restricts F to the weights of block K.

examples:
  anglefish fisher resnet --depth 5 --width 512 --samples 64 --seeds 8
"""

EPILOG_LR = CONVENTION + """\
lr trains on all weights (F over all of them).

examples:
  anglefish lr resnet-bn --depth 5 --width 512 --samples 64 --json
"""

CONVENTION_TEXT = ("T inputs with i.i.d. N(0,1) coordinates in dimension N = width; f(x) = v^T h^L, "
                   "v ~ N(0, 1/N); standard parameterisation; F = (1/T) sum_t grad f grad f^T over all "
                   "weights including v (or those of --params); m_lambda = tr F / P; eta_max = 2/lambda_max; "
                   "population BN is a fixed division, batch BN is differentiated through its statistics")



def derive_text(r: dict) -> str:
    a = r["asymptotic"]
    lines = [f"{r['architecture']}: {r['description']}",
             f"  block       {r['block']}",
             f"  norm map    {r['norm_map']}",
             f"  angle map   {r['angle_map']}"]
    if a.get("series"):
        lines.append(f"  series      theta_(l+1) = {a['series']}")
    if isinstance(r["slope_at_zero"], float):
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
    if a.get("check_note"):
        lines.append(f"  check       {a['check_note']}")
    if "at_depth" in r:
        at = r["at_depth"]
        lines.append(f"  at L = {at['L']}  ({at['from']}) theta_L = "
                     + ", ".join(f"{v:.6g} from {t}" for t, v in at["theta_L"].items()))
    t = r["table1"]
    lines.append(f"  Table 1     {t['verdict']}" + (f": {t['claim']}" if "claim" in t else ""))
    if "note" in t:
        lines.append(f"              {t['note']}")
    holds = t["assumption_holds"]
    lines.append(f"  assumption  holds = {holds if isinstance(holds, bool) else '-'}: {t['assumption']}")
    if "latex" in r:
        lines.append(f"  LaTeX       {r['latex']['norm_map']}")
        lines.append(f"              {r['latex']['angle_map']}")
    if "finite_width" in r:
        lines += finite_width_text(r["finite_width"])
    if "fisher" in r:
        lines += fisher_symbolic_lines(r["fisher"])
    return "\n".join(lines)


#: recursion equations longer than this are given by --json only
MAX_EQUATION_CHARS = 200


def finite_width_text(fw: dict) -> list:
    """The ``derive --finite-width`` section: rules, recursion (long equations by --json), example."""
    lines = ["  finite width  O(1/N) moment closure; " + fw["state"]]
    lines.append("    rules (each block's own, depth first):")
    lines += [f"      {line}" for line in fw["rules"]]
    if not fw["derived"]:
        lines.append(f"    not derived: {fw['reason']}")
        return lines
    lines.append("    one-block recursion (K: N = oo; dK, V: coefficients of 1/N; primes: after the block):")
    for name, expr in fw["recursion"].items():
        shown = expr if len(expr) <= MAX_EQUATION_CHARS else f"<{len(expr)} characters: --json gives it>"
        lines.append(f"      {name} = {shown}")
    lines.append(f"    predictions: {fw['predictions']}")
    lines.append(f"    validity: {fw['validity']}")
    ex = fw["example"]
    lines.append(f"    example, L = {ex['L']}, theta0 = {ex['theta0']:g} (theta_theory: N -> oo; theta_finite, "
                 "single_sd: O(1/N) at N):")
    lines.append(f"      {'N':>6} {'theta_theory':>12} {'theta_finite':>12} {'single_sd':>10}")
    for row in ex["rows"]:
        def cell(v, w):
            return f"{v:>{w}.6f}" if isinstance(v, float) else "-".rjust(w)
        lines.append(f"      {row['N']:>6} {cell(row['theta_theory'], 12)} {cell(row['theta_theory_finite'], 12)} "
                     f"{cell(row['single_sd_theory'], 10)}" + ("" if row["valid"] else f"  ({row['reason']})"))
    return lines


def fisher_symbolic_lines(f: dict) -> list:
    """``derive --fisher``: the spectrum's moments and bounds in the order parameters and in L."""
    lines = [f"  Fisher spectrum, parameters {f['params']} (F = K/T; N -> oo at fixed L, T; {f['symbols']})",
             f"    P           {f['P']}",
             f"    m_lambda    {f['m_lambda']}" + (f"  =  {f['in_L']['m_lambda']}" if f.get("kappa1_closed") else ""),
             f"    s_lambda    {f['s_lambda']}",
             f"                in L: {f['in_L']['s_lambda']}",
             f"    finite N    s_lambda = {f['s_lambda_finite_width']}",
             f"    lambda_max  {f['lambda_max']}",
             f"    kappa1      {f['kappa1_closed'] or 'no closed form in L'};  kappa2  "
             f"{f['kappa2_closed'] or 'no closed form in L (its large-L law below)'}",
             "    bounds on lambda_max (for every PSD F; sample-space bounds on K/T):"]
    for name, b in f["bounds"].items():
        lines.append(f"      {b['kind']:<6}{name:<17}{b['expression']:<48} {b['inequality']}")
    if "law" in f:
        law = f["law"]
        lines.append(f"    large L     {law['quantity']} ~ {law['leading']}  ({law['class']})")
        if law.get("concentration"):
            lines.append(f"                concentration s/(P m^2) ~ {law['concentration']['leading']}  "
                         f"({law['concentration']['class']})")
    if "bounds_law" in f:
        b = f["bounds_law"]
        lines.append(f"    from the bounds alone: {b['lower']} <= {b['quantity']} <= {b['upper']}, so lambda_max / N is "
                     f"{b['class']} in L without kappa2 (the full law: {b['lambda_max_class']}; "
                     f"{'consistent' if b['follows_from_bounds'] else 'NOT consistent'})")
    return lines



def angles_text(result, theory_only: bool) -> str:
    rows = result["rows"]
    if theory_only:
        lines = [f"{'l':>9}  {'theta_theory':>22}  {'log_q_theory':>22}"]
        lines += [f"{r['l']:>9}  {r['theta_theory']:>22.16g}  {r['log_q_theory']:>22.16g}" for r in rows]
        return "\n".join(lines)

    def fmt(v, spec):
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "-".rjust(int(spec.split(".")[0]))
        return format(v, spec)

    head = (f"# {result['architecture']}: width {result['width']}, {result['seeds']} seeds, batch "
            f"{result['batch']}, {result['sampler']} sampler" + (f", {result['bn']} BN" if result["bn"] else ""))
    from .numeric.angles import FINITE_KEYS

    finite = "theory_limits" in result and not result.get("theory_note")  # no theory at all: no finite columns
    lines = [head]
    if finite:
        lines.append(f"# theory: theta_theory, log_q_theory: N -> oo (exact kernel map); theta_finite, single_mean/sd "
                     f"(theory): O(1/N) finite-width theory at N = {result['width']}")
        lines.append(f"{'l':>6} {'theta_theory':>12} {'theta_finite':>12} {'theta_mc':>10} {'+-se':>8} "
                     f"{'single_mean':>11} {'(theory)':>9} {'single_sd':>9} {'(theory)':>9} "
                     f"{'log_q_theory':>12} {'log_q_mc':>10}")
    else:
        lines.append(f"{'l':>6} {'theta_theory':>12} {'theta_mc':>10} {'+-se':>8} {'single_mean':>11} "
                     f"{'single_sd':>9} {'log_q_theory':>12} {'log_q_mc':>10}")
    notes, finite_notes = [], {}
    for r in rows:
        if finite:
            lines.append(f"{r['l']:>6} {fmt(r['theta_theory'], '12.6f')} {fmt(r['theta_theory_finite'], '12.6f')} "
                         f"{fmt(r['theta_mc'], '10.6f')} {fmt(r['theta_mc_se'], '8.5f')} "
                         f"{fmt(r['theta_single_mean'], '11.6f')} {fmt(r['single_mean_theory'], '9.5f')} "
                         f"{fmt(r['theta_single_sd'], '9.5f')} {fmt(r['single_sd_theory'], '9.5f')} "
                         f"{fmt(r['log_q_theory'], '12.5f')} {fmt(r['log_q_mc'], '10.5f')}")
        else:
            lines.append(f"{r['l']:>6} {fmt(r['theta_theory'], '12.6f')} {fmt(r['theta_mc'], '10.6f')} "
                         f"{fmt(r['theta_mc_se'], '8.5f')} {fmt(r['theta_single_mean'], '11.6f')} "
                         f"{fmt(r['theta_single_sd'], '9.5f')} {fmt(r['log_q_theory'], '12.5f')} "
                         f"{fmt(r['log_q_mc'], '10.5f')}")
        for k, v in r.items():
            if not k.endswith("_note"):
                continue
            if k[:-5] in FINITE_KEYS:  # one line per reason, not one per row and column
                finite_notes.setdefault(_reason_kind(v), []).append(r["l"])
            else:
                notes.append(f"# l = {r['l']}: {k[:-5]}: {v}")
    for why, ls in finite_notes.items():
        ls = sorted(set(ls))
        where = f"l = {ls[0]}" if len(ls) == 1 else f"l = {ls[0]} .. {ls[-1]} ({len(ls)} rows)"
        notes.append(f"# finite-width columns '-' at {where}: {why}")
    if result.get("theory_note"):
        notes.append(f"# {result['theory_note']}")
    if result.get("finite_width_warning"):
        notes.append(f"# warning: {result['finite_width_warning']}")
    return "\n".join(lines + notes)


def _reason_kind(note: str) -> str:
    """A note without its numbers, so that rows failing for the same reason share one line."""
    import re

    return re.sub(r"= -?[0-9.]+(e[-+]?[0-9]+)?", "= ...", note)


def number(v, spec=".6g", log10=None):
    """A number for the text tables: the value, 10^x from its log10 where it overflows, or '-'."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return format(v, spec)
    if log10 is not None and math.isfinite(log10):
        return f"10^{log10:.4f}"
    if (isinstance(v, float) and math.isinf(v)) or (isinstance(v, Missing) and "float64" in v.reason):
        return "overflow"
    return "-"


def fisher_text(out: dict, why) -> str:
    """``anglefish fisher`` without --json: moments, lambda_max, bounds and checks (the JSON's numbers)."""
    th = out["theory"] or {}
    mc = out["mc"]
    eta_mc = 2 / mc["lambda_max"] if mc["lambda_max"] else None
    limit = out.get("theory_limit") or "infinite-width NTK (N -> oo at this L and T)"
    lines = [f"{out['architecture']}: depth {out['depth']}, width {out['width']}, T = {out['samples']}, params "
             f"{out['params']} (P = {out['n_params']}), {out['sampler']} sampler",
             f"{'':<18}{'theory':>14}{'Monte Carlo':>16}{'+- se':>12}",
             f"{'lambda_max':<18}{number(th.get('lambda_max'), log10=th.get('lambda_max_log10')):>14}"
             f"{number(mc['lambda_max']):>16}{number(mc['lambda_max_se'], '.3g'):>12}",
             f"{'m_lambda':<18}{number(th.get('mean_eigenvalue')):>14}{number(mc['mean_eigenvalue']):>16}"
             f"{number(mc['mean_eigenvalue_se'], '.3g'):>12}",
             f"{'s_lambda':<18}{number(th.get('s_lambda')):>14}{number(mc['s_lambda']):>16}"
             f"{number(mc['s_lambda_se'], '.3g'):>12}",
             f"{'eta_max=2/lmax':<18}{number(th.get('eta_max'), log10=th.get('eta_max_log10')):>14}{number(eta_mc):>16}",
             f"({out['seeds']} networks, seed {out['seed']}; {why or 'theory: ' + limit}; m_lambda = tr F / P, "
             "s_lambda = tr F^2 / P)"]
    if th.get("s_lambda_finite") is not None:
        lines.append(f"  s_lambda to O(1/N) at this width (derived): {number(th['s_lambda_finite'])}")
    lines += _bounds_table(out["bounds"], out["seeds"])
    lines.append("checks (false-alarm rate per check):")
    for c in out["checks"]:
        if c["status"] == "not run":
            lines.append(f"  not run  {c['id']}: {c['details'].get('reason', '')}")
        else:
            lines.append(f"  {c['status']:<7}  {c['id']}: {number(c['statistic'], '.4g')} <= "
                         f"{number(c['tolerance'], '.4g')}  (false-alarm rate {number(c['false_alarm_rate'], '.2g')})")
    e = out.get("edge")
    if e:
        lines.append(f"bulk edge (kappa2 = 0): measured lambda_max {number(e['mc_lambda_max'])} +- "
                     f"{number(e['mc_lambda_max_se'], '.3g')}; modelled {number(e['model'])} +- "
                     f"{number(e['model_se'], '.3g')} (reduced model at this N, T; model/MC = "
                     f"{number(e['model_over_mc'], '.4f')})")
        lines.append(f"  limits: edge {number(e['edge'])} (N, T -> oo at T/N = {number(e['ratio'], '.3g')}); naive "
                     f"kappa1 (1 + sqrt(T/N))^2 N/T {number(e['naive_mp'])}; N kappa1 / T {number(e['infinite_width'])}"
                     " (N -> oo at fixed T)")
    return "\n".join(line.rstrip() for line in lines)


def _bounds_table(bounds: dict, seeds: int) -> list:
    """Theory and sample value of every named bound side by side (``fisher`` text output)."""
    rows = {}
    for key, b in bounds.items():
        name, source = key.rsplit("_", 1)
        rows.setdefault(name, {"kind": b["kind"], "inequality": b["inequality"]})[source] = b
    lines = ["bounds on lambda_max (eigenvalues of F = K/T):",
             f"  {'':<6}{'':<17}{'theory':>12} {'MC mean ok':<12}{'sample':>12} {'holds':>6}   inequality",
             f"  {'':<6}{'':<17}{'(N -> oo)':>12} {'(z SE)':<12}{'(mean)':>12} {'':>6}"]
    for name, r in sorted(rows.items(), key=lambda kv: kv[1]["kind"]):
        th, sa = r.get("theory"), r.get("sample")
        ok = "-" if th is None else {True: "yes", False: "NO"}.get(th.get("mc_consistent"), "N->oo only")
        holds = "-"
        if sa is not None and "note" in sa:
            n = sa["note"].split("holds for ")[-1].split(" of ")[0]
            holds = f"{n}/{seeds}"
        lines.append(f"  {r['kind']:<6}{name:<17}{number(None if th is None else th['value']):>12} {ok:<12}"
                     f"{number(None if sa is None else sa['value']):>12} {holds:>6}   {r['inequality']}")
    lines.append("  (theory 'N->oo only': bounds lambda_max of the infinite-width Gram, not the finite-width mean; "
                 "sample: the mean of each network's own bound; holds: networks within their own bound)")
    return lines


def fisher_law_text(law: dict) -> str:
    """The large-L laws with their accuracy (``anglefish fisher ARCH --law``)."""
    acc = law["accuracy"]
    lines = [f"{law['architecture']}: large-depth laws of the Fisher spectrum (parameters {law['params']}: "
             f"{law['reading']}; N -> oo, T inputs)",
             f"  lambda_max / N ~ {law['leading']}  ({law['class']})"]
    if not acc.get("available", True):
        return "\n".join(lines + [f"  accuracy: not available ({acc.get('reason')})"])
    depths = [str(d) for d in acc["depths"]]
    lines.append(f"  accuracy: exact / law at L = {', '.join(depths)} (exact: the infinite-width recursion; "
                 f"T = {acc['samples_T']} where the law has T)")
    head = f"    {'quantity':<17}{'law':<44}" + "".join(f"{'L=' + d:>10}" for d in depths)
    lines.append(head)
    for name, entry in acc["laws"].items():
        shown = (entry.get("leading") or "not derived")
        shown = shown if len(shown) <= 42 else shown[:39] + "..."
        ratios = "".join(f"{number(entry['exact_over_leading'].get(d), '.4g'):>10}" for d in depths)
        lines.append(f"    {name:<17}{shown:<44}{ratios}")
        if entry.get("exact_over_corrected"):
            corr = "".join(f"{number(entry['exact_over_corrected'].get(d), '.4g'):>10}" for d in depths)
            lines.append(f"    {'  corrected':<17}{'(see below)':<44}{corr}")
        lines.append(f"    {'':<17}{entry['convergence']}")
    k1 = acc["laws"]["kappa1"]
    if k1.get("closed_form"):
        lines.append(f"  kappa1 exactly (every L): {k1['closed_form']}")
    for name, entry in acc["laws"].items():
        if entry.get("corrected"):
            lines.append(f"  corrected {name}: {entry['corrected']}")
    lines.append(f"  {acc['note']}")
    return "\n".join(lines)


def _ci(summary: dict, spec: str = ".4g") -> str:
    if summary.get("mean") is None:
        return "-"
    if summary.get("lo") is None:
        return f"{summary['mean']:{spec}}"
    return f"{summary['mean']:{spec}}  [{summary['lo']:{spec}}, {summary['hi']:{spec}}]"


def lr_text(out: dict) -> str:
    s = out["summary"]
    lines = [f"{out['architecture']}: depth {out['depth']}, width {out['width']}, T = {out['samples']}, "
             f"{out['inits']} initialisations (seed {out['seed']}), targets {out['targets']}, {out['steps']} steps",
             "  mean over initialisations [95% t-interval]:",
             f"    lambda_max (F = K/T at initialisation)      {_ci(s['lambda_max'])}",
             f"    infinite-width theory 2/lambda_max          "
             + number(out["theory_eta"], log10=out.get("theory_eta_log10")),
             f"    monotone decrease up to eta                 {_ci(s['eta_monotone'])}",
             f"      in units of 2/lambda_max                  {_ci(s['ratio_monotone'], '.3f')}",
             f"    training still converges up to eta          {_ci(s['eta_divergence'])}",
             f"      in units of 2/lambda_max                  {_ci(s['ratio_divergence'], '.3f')}",
             f"  (thresholds to {100 * out['resolution']:.1f}%; 'converges': the loss after {out['steps']} steps "
             f"stays below {out['divergence_factor']:g} x L0; between the two thresholds lies the catapult phase)"]
    missing = [name for name in ("monotone", "divergence") if s[f"eta_{name}"]["n"] < out["inits"]]
    if missing:
        lines.append(f"  not found up to 64 x 2/lambda_max for some initialisations: {', '.join(missing)}")
    return "\n".join(lines)


def claims_text(rows: list, meaning: dict, detail: bool = False) -> str:
    """Every claim's verdict and reason; with ``detail`` its readings table too."""
    width = max(len(r["id"]) for r in rows)
    lines = ["verdicts (each the verdict of the claim's primary reading, the paper's words taken literally):"]
    lines += [f"  {v:<24} {m}" for v, m in meaning.items()]
    lines.append("")
    for r in rows:
        lines.append(f"{r['id']:<{width}}  {r['verdict']:<24} {r['source']}")
        lines.append(f"{'':<{width}}  {r['statement']}")
        lines.append(f"{'':<{width}}  why: {r['reason']}")
        if r.get("condition"):
            lines.append(f"{'':<{width}}  holds if: {r['condition']}; counterexample: "
                         + ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                                     for k, v in (r.get("counterexample") or {}).items()))
        if r.get("true_law"):
            lines.append(f"{'':<{width}}  true law: {r['true_law']}")
        if r.get("from_bounds"):
            lines.append(f"{'':<{width}}  from the bounds alone: {r['from_bounds']['line']}")
        readings = r.get("readings", [])
        if detail or len(readings) > 1:
            lines.append(f"{'':<{width}}  readings (the first is the primary one):")
            for x in readings:
                lines.append(f"{'':<{width}}    {x['verdict']:<24} {x['reading']} -- {x['quantity']}")
    return "\n".join(lines)
