"""``gradcore demo``: it reaches its accuracy, fails loudly when asked to, and draws the same
loss curve on every backend because everything random is seeded on the host."""

import io
import os
import sys

import pytest
from click.testing import CliRunner

import gradcore as gc
from gradcore.cli import demo, main
from gradcore.testing import assert_allclose

pytest.importorskip("sklearn")

ON_NUMPY = os.environ.get("GRADCORE_BACKEND", "numpy") == "numpy"


@pytest.fixture(autouse=True)
def _in_a_scratch_directory(tmp_path, monkeypatch):
    """The CLI writes its run directory under ./runs: here, never into the checkout."""
    monkeypatch.chdir(tmp_path)


def quiet_run(backend, epochs=2, limit=320, eager=False):
    """The seeded demo on ``limit`` examples (10 batches an epoch), printing nothing."""
    return demo.run(epochs=epochs, seed=0, backend=backend, limit=limit, echo=lambda line: None,
                    progress_file=io.StringIO(), eager=eager)


def losses(result):
    return [[epoch["loss"], epoch["val_loss"]] for epoch in result.history]


@pytest.mark.skipif(not ON_NUMPY, reason="a full run is a numpy-backend claim; one env is enough")
def test_the_full_demo_reaches_the_target_accuracy(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--backend", "numpy", "--require-accuracy",
                                       "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("epoch ")]) == demo.EPOCHS
    final = lines[-2]
    assert final.startswith("validation accuracy ") and final.endswith("on the numpy backend"), final
    assert lines[-1] == f"checkpoints and summaries in {tmp_path / 'run'}: tensorboard --logdir {tmp_path / 'run'}"
    accuracy = float(final.split()[2].rstrip("%")) / 100
    assert accuracy >= demo.TARGET_ACCURACY


def test_training_lowers_the_loss_on_the_current_backend():
    result = quiet_run(None, epochs=3)
    assert result.backend == gc.get_backend().name
    train, val = ([epoch[name] for epoch in result.history] for name in ("loss", "val_loss"))
    assert train[0] > train[1] > train[2] and val[0] > val[1] > val[2], result.history


def test_the_same_seed_repeats_the_run_exactly():
    assert losses(quiet_run("numpy")) == losses(quiet_run("numpy"))


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_the_loss_curve_is_the_same_on_every_backend(backend):
    pytest.importorskip(backend)
    # Same split, same initial weights and same shuffles (all drawn on the host), so the runs
    # differ only by float32 rounding in each library's kernels: 20 steps stay well inside it.
    expected = losses(quiet_run("numpy"))
    actual = quiet_run(backend)
    assert actual.backend == backend
    assert_allclose(losses(actual), expected, dtype=gc.float32, err_msg=f"{backend} against numpy")


def test_gc_function_trains_as_the_eager_steps_do():
    """The steps run under gc.function unless --eager; both give one loss curve (float32 rounding aside)."""
    assert_allclose(losses(quiet_run(None)), losses(quiet_run(None, eager=True)), dtype=gc.float32)


def test_the_eager_flag_reaches_the_demo(monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "run", lambda **kwargs: calls.append(kwargs) or demo.Result("numpy", [], 0.0))
    result = CliRunner().invoke(main, ["demo", "--epochs", "1", "--eager"])
    assert result.exit_code == 0, result.output
    assert calls[0]["eager"] is True


def test_require_accuracy_fails_below_the_target():
    result = CliRunner().invoke(main, ["demo", "--epochs", "1", "--backend", "numpy", "--require-accuracy", "0.999"])
    assert result.exit_code == 1, result.output
    assert "below the required 99.90%" in result.output


def test_an_unknown_backend_is_a_clean_error():
    result = CliRunner().invoke(main, ["demo", "--backend", "no_such_backend"])
    assert result.exit_code == 1
    assert "unknown gradcore backend 'no_such_backend'" in result.output
    assert "Traceback" not in result.output


def test_without_scikit_learn_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # None: "import sklearn.datasets" fails
    result = CliRunner().invoke(main, ["demo", "--epochs", "1"])
    assert result.exit_code == 1
    assert "pip install 'gradcore[demo]'" in result.output


class _Stop(Exception):
    pass


def test_a_stopped_run_resumes_where_it_stopped(tmp_path):
    """A run stopped after its first epoch's checkpoint, resumed from its directory, gives the
    epochs an uninterrupted run gives, exactly (docs/checkpoints.md, "Exact resume")."""
    def stop_after_first_epoch(line):
        raise _Stop(line)

    # On numpy in every env: test_resume.py shows exact resume on each backend.
    options = {"epochs": 3, "seed": 0, "limit": 160, "backend": "numpy", "progress_file": io.StringIO()}
    whole = demo.run(echo=lambda line: None, run_dir=str(tmp_path / "whole"), **options)
    with pytest.raises(_Stop):
        demo.run(echo=stop_after_first_epoch, run_dir=str(tmp_path / "stopped"), **options)
    lines = []
    resumed = demo.run(echo=lines.append, run_dir=str(tmp_path / "stopped"), **options)
    assert lines[0].startswith("resumed from ") and lines[0].endswith("after epoch 1")
    assert resumed.history == whole.history[1:]


def test_the_cli_resumes_a_run_directory_with_its_own_settings(tmp_path):
    """`gradcore demo --resume DIR` takes the seed and epochs the run started with."""
    run_dir = tmp_path / "run"
    demo.write_run_settings(str(run_dir), seed=3, epochs=1)
    assert demo.read_run_settings(str(run_dir), seed=0, epochs=10) == (3, 1)
    result = CliRunner().invoke(main, ["demo", "--backend", "numpy", "--resume", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "epoch 1/1" in result.stdout
    again = CliRunner().invoke(main, ["demo", "--backend", "numpy", "--resume", str(run_dir)])
    assert again.exit_code == 0 and "has finished its 1 epochs" in again.stdout, again.output
