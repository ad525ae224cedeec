"""Output places are checked before any work: a file where a directory is wanted, or a
directory that cannot be written (simulated: the test runs as whatever user CI uses, and a
read-only mode does not stop root), is refused in one line and the computation never starts.
Deterministic: no false-alarm rate."""
import tempfile

import pytest

from anglefish.cli import main


def refuse(capsys, argv, word):
    code = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and word in lines[0], (code, out, err)


@pytest.fixture
def no_work(monkeypatch):
    """Fail if verify or figures start computing."""
    import anglefish.paper_figures as figures
    import anglefish.verify.report as report

    def boom(*a, **k):
        raise AssertionError("the computation started before the output place was checked")
    monkeypatch.setattr(report, "run_verification", boom)
    monkeypatch.setattr(figures, "render", boom)


def test_unwritable_report_directory_is_refused_before_verifying(capsys, tmp_path, monkeypatch, no_work):
    def read_only(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    refuse(capsys, ["verify", "--report", str(tmp_path / "rep"), "--quiet"], "--report")
    refuse(capsys, ["figures", "--out", str(tmp_path / "figs"), "--only", "fig02", "--quiet"], "--out")
    assert list(tmp_path.iterdir()) == []


def test_a_file_is_not_an_output_directory(capsys, tmp_path, no_work):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    refuse(capsys, ["verify", "--report", str(afile), "--quiet"], "is not a directory")
    refuse(capsys, ["verify", "--report", str(afile / "below"), "--quiet"], "is not a directory")
    refuse(capsys, ["figures", "--out", str(afile), "--only", "fig02", "--quiet"], "is not a directory")
    assert afile.read_text() == "mine\n" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_data_dir_must_hold_data_for_a_figure_that_reads_it(capsys, tmp_path, no_work):
    empty = tmp_path / "empty"
    empty.mkdir()
    refuse(capsys, ["figures", "--data-dir", str(empty), "--only", "fig08", "--out", str(tmp_path / "o")],
           "neither MNIST")
    (empty / "train-images-idx3-ubyte").write_bytes(b"")
    refuse(capsys, ["figures", "--data-dir", str(empty), "--only", "fig04", "--out", str(tmp_path / "o")],
           "read only by figures on real data")
    assert not (tmp_path / "o").exists()
