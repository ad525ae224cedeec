"""`anglefish list` and every --help without SymPy (issue 14: `anglefish list` <= 0.5 s): checked on
sys.modules of a fresh interpreter, not by timing (benchmarks/cli.py times it)."""
import json
import subprocess
import sys
import textwrap

from anglefish.cli import COMMANDS

HEAVY = ("sympy", "scipy", "matplotlib", "mpmath", "anglefish.theory")


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object last."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_list_and_help_import_no_sympy_and_list_equals_the_live_registries():
    argvs = [["list"], ["list", "--json"], ["--help"]] + [[cmd, "--help"] for cmd in COMMANDS]
    r = _fresh(f"""
        import contextlib, io, json, sys
        from anglefish.cli import main
        outs, codes = [], []
        for argv in {argvs!r}:
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                try:
                    codes.append(main(argv))
                except SystemExit as e:
                    codes.append(e.code)
            outs.append(buf.getvalue())
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        from anglefish.listing import live_listing, snapshot_listing   # now import the theory
        with contextlib.redirect_stdout(io.StringIO()) as live_text:
            main(["list"])
        print(json.dumps({{"heavy": heavy, "codes": codes, "outs": outs, "live_text": live_text.getvalue(),
                          "snapshot_current": snapshot_listing() == live_listing(),
                          "live_json": live_listing()}}))
    """)
    assert r["heavy"] == [], f"imported by list/--help: {r['heavy']}"
    assert r["codes"] == [0] * len(argvs)
    assert r["snapshot_current"], "anglefish/_listing_snapshot.py is stale: run `python -m anglefish.listing`"
    assert r["outs"][0] == r["live_text"]  # the text without SymPy is the text of the live registries
    assert json.loads(r["outs"][1]) == r["live_json"]
    assert all(f"usage: anglefish {cmd}" in out for cmd, out in zip(COMMANDS, r["outs"][3:]))


def test_list_shows_an_arch_file_architecture_and_a_stale_snapshot_is_not_used(tmp_path, capsys, monkeypatch):
    """Once the theory is imported (here by the test session; in the CLI by a plugin or an --arch-file)
    the listing is the live one, so an architecture an --arch-file registers is listed; a snapshot whose
    fingerprint differs from the theory's is never returned."""
    import anglefish._listing_snapshot as snap
    from anglefish.cli import main
    from anglefish.listing import live_listing, snapshot_listing

    arch = tmp_path / "mine.py"
    arch.write_text("from anglefish.theory import Architecture, Dense, ReLU, register_architecture\n"
                    "register_architecture(Architecture('mine-arch', [Dense(3), ReLU()], description='mine'), "
                    "replace=True)\n")
    assert main(["list", "--arch-file", str(arch)]) == 0
    out = capsys.readouterr().out
    assert "mine-arch" in out and "Dense(3), ReLU()" in out and "mine" in out
    assert snapshot_listing() is not None and snapshot_listing() != live_listing()  # the live one has mine-arch
    monkeypatch.setattr(snap, "FINGERPRINT", "stale")
    assert snapshot_listing() is None
