"""docs/extending.md runs as written: its Python blocks execute in order in one namespace."""
import pathlib
import re

from anglefish.theory import unregister_architecture

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def test_extending_tutorial_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    namespace = {}
    try:
        for i, code in enumerate(blocks):
            exec(compile(code, f"{DOC.name}[block {i}]", "exec"), namespace)
    finally:
        for name in ("resnet-leaky", "mlp-flip"):
            unregister_architecture(name)
    out = capsys.readouterr().out
    assert "PiecewiseLinear 1 1/5" in out
    assert "QuadratureActivation" in out
    assert "power" in out  # the derived law of the new architecture
    assert "FAILED" not in out and out.count("passed") == 7  # seven checks of check_architecture
    # the new block type passes every contract, and an incomplete one is refused naming its gaps
    assert "mlp-flip: 7 of 7 contracts pass" in out
    assert "block type Half lacks the rules ntk_backward, weight_count" in out
    assert out.count("\n0\n") >= 2  # both CLI calls exited with status 0
