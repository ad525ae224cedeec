"""The refusals of issue 12, each in one line naming the flag, before any SymPy derivation.

All refusals run in one fresh Python process in which the symbolic interpreter is disabled
(constructing a KernelState raises), so a refusal that came after a derivation would fail
here; each call's time inside the process is recorded (imports are paid once, up front).
Deterministic: no false-alarm rate.
"""
import json
import subprocess
import sys
import textwrap

import pytest

NOWHERE = "/nonexistent-anglefish-dir"

REFUSALS = [  # (argv, a word the one line must contain)
    (["angles", "mlp", "--depth", "5", "--theta0", "0.5", "--width", "100000000000", "--seeds", "2"], "--width"),
    (["angles", "mlp", "--depth", "5", "--theta0", "0.5", "--sampler", "dense", "--width", "200000"], "--width"),
    (["angles", "mlp", "--depth", "5", "--theta0", "0.5", "--seeds", "1000000000"], "--seeds"),
    (["angles", "mlp", "--depth", "10000000000000", "--theta0", "0.5", "--theory-only"], "--depth"),
    (["angles", "resnet-bn", "--depth", "3", "--theta0", "1", "--bn", "batch", "--theory-only"], "--theory-only"),
    (["angles", "resnet-bn", "--depth", "2", "--theta0", "1", "--bn", "batch", "--batch", "1"], "--batch must be"),
    (["angles", "mlp", "--depth", "2", "--theta0", "1", "--bn", "batch"], "--bn"),
    (["angles", "mlp", "--depth", "2", "--theta0", "1", "--theory-only", "--width", "64"], "--width"),
    (["angles", "mlp", "--depth", "2", "--theta0", "1", "--seeds", "1"], "--seeds"),
    (["fisher", "resnet", "--depth", "2", "--width", "10000000"], "--width"),
    (["fisher", "mlp", "--depth", "2", "--width", "64", "--seeds", "1000000000"], "--seeds"),
    (["fisher", "mlp", "--depth", "2", "--width", "32", "--samples", "8", "--seeds", "1"], "--seeds"),
    (["fisher", "mlp", "--depth", "2", "--width", "1", "--samples", "4", "--seeds", "2"], "--width"),
    (["fisher", "mlp", "--depth", "2", "--params", "layer:2"], "--params"),
    (["lr", "mlp", "--depth", "2", "--width", "64", "--samples", "100000000"], "--samples"),
    (["lr", "mlp", "--depth", "2", "--width", "64", "--steps", "1000000000"], "--steps"),
    (["lr", "mlp", "--depth", "2", "--params", "layer:0"], "--params"),
    (["lr", "mlp", "--depth", "2", "--width", "1"], "--width"),
    (["derive", "mlp", "--max-depth", "10000000"], "--max-depth"),
    (["derive", "mlp", "--depth", "5"], "--depth"),
    (["derive", "nope"], "ARCH"),
    (["derive", "mlp", "--activation", "nope"], "--activation"),
    (["figures", "--out", "AFILE", "--only", "fig02"], "--out"),
    (["figures", "--data-dir", NOWHERE, "--only", "fig08"], "--data-dir"),
    (["figures", "--data-dir", "EMPTY", "--only", "fig08"], "--data-dir"),
    (["figures", "--data-dir", "EMPTY", "--only", "fig04"], "--data-dir"),
    (["figures", "--only", ""], "--only"),
    (["figures", "--only", "fig99"], "--only"),
    (["figures", "--format", ""], "--format"),
    (["figures", "--format", "bmpx"], "--format"),
    (["figures", "--format", "svg"], "--format"),
    (["figures", "--arch", "resnet", "--only", "fig02"], "--arch"),
    (["verify", "--report", "AFILE/sub"], "--report"),
    (["verify", "--report", "AFILE"], "--report"),
    (["claims", "--seed", "-1"], "--seed"),
    (["list", "--arch-file", "EMPTY"], "--arch-file"),
    (["list", "--arch-file", "EXIT0"], "--arch-file"),
]

SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys, time
    import anglefish.theory.blocks as blocks
    from anglefish.cli import main
    import anglefish.numeric.training  # imports are paid here, once, not inside a refusal
    from anglefish.paper_figures.registry import figures
    figures()

    def no_derivation(*a, **k):
        raise AssertionError("a SymPy derivation started before the refusal")
    blocks.KernelState.__init__ = no_derivation
    results = []
    for argv in json.loads(sys.argv[1]):
        out, err = io.StringIO(), io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except BaseException as exc:  # a traceback would land here
                code = repr(exc)
        results.append({"argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                        "seconds": time.perf_counter() - start})
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("refusals")
    (root / "AFILE").write_text("a file\n")
    (root / "EMPTY").mkdir()
    (root / "EXIT0").write_text("import sys\nsys.exit(0)\n")
    names = {"AFILE": root / "AFILE", "EMPTY": root / "EMPTY", "EXIT0": root / "EXIT0"}

    def place(a):
        head, _, tail = a.partition("/")
        return str(names[head] / tail) if head in names and tail else str(names.get(a, a))

    argvs = [[place(a) for a in argv] for argv, _ in REFUSALS]
    before = sorted(p.name for p in root.rglob("*"))
    run = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(argvs)], capture_output=True, text=True,
                         cwd=root, timeout=600)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in root.rglob("*")) == before  # nothing written
    return json.loads(run.stdout)


@pytest.mark.parametrize("index", range(len(REFUSALS)), ids=[" ".join(a[:3]) + f"-{i}" for i, (a, _) in
                                                             enumerate(REFUSALS)])
def test_refused_in_one_line_naming_the_flag_before_any_derivation(outcomes, index):
    r = outcomes[index]
    word = REFUSALS[index][1]
    lines = r["stderr"].strip().splitlines()
    assert r["code"] == 2, r
    assert r["stdout"] == "" and len(lines) == 1 and lines[0].startswith("anglefish: error: "), r
    assert word in lines[0], r
    assert "anglefish: error: anglefish" not in lines[0]  # no doubled prefix
    assert r["seconds"] < 1.0, r  # after the imports: a refusal does no work
