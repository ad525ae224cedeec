"""The README's commands and example must work exactly as written."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [b.strip() for b in blocks("bash")]
    assert len(commands) == 2
    setup, tests = commands
    for part in setup.split("&&"):
        assert part.strip() in ci
    assert tests in ci


def test_define_your_own_architecture_example_runs(capsys):
    from anglefish.theory import unregister_architecture

    (code,) = blocks("python")
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        unregister_architecture("resnet-half")
    printed = capsys.readouterr().out.splitlines()
    # the comments in the example state what it prints
    expected = [m.group(1).strip() for m in re.finditer(r"# (.*)$", code, flags=re.M)
                if not m.group(1).startswith("a ResNet")]
    assert printed == expected


NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def same_up_to_last_digits(got: str, want: str) -> bool:
    """Equal text, with printed decimals allowed to differ in the last printed digits
    (Monte Carlo runs are seeded, but BLAS builds may round matrix products differently)."""
    if NUMBER.sub("#", got) != NUMBER.sub("#", want):
        return False
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(want)):
        digits = len(b.split(".")[1].split("e")[0])
        if abs(float(a) - float(b)) > 3 * 10.0 ** (-digits) + 1e-6 * abs(float(b)):
            return False
    return True


@pytest.mark.slow
def test_tour_output_is_current(capsys):
    """The console transcripts in the README are what the commands print now."""
    from anglefish.cli import main

    for transcript in blocks("console"):
        command, *expected = transcript.rstrip("\n").split("\n")
        argv = command.removeprefix("$ anglefish ").split()
        if "--quiet" not in argv and argv[0] in ("derive", "angles"):
            argv.append("--quiet")
        assert main(argv) == 0
        got = capsys.readouterr().out.rstrip("\n").split("\n")
        assert len(got) == len(expected), command
        for g, w in zip(got, expected):
            assert same_up_to_last_digits(g, w), (command, g, w)
