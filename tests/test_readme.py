"""The README's commands and example must work exactly as written."""
import pathlib
import re

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


def test_tour_output_is_current(capsys):
    """The console transcripts in the README are what the commands print now."""
    from anglefish.cli import main

    for transcript in blocks("console"):
        command, *expected = transcript.rstrip("\n").split("\n")
        argv = command.removeprefix("$ anglefish ").split()
        if "--quiet" not in argv and argv[0] in ("derive", "angles"):
            argv.append("--quiet")
        assert main(argv) == 0
        assert capsys.readouterr().out.rstrip("\n").split("\n") == expected
