"""``gradcore conformance`` judges a third-party backend: it fails on a wrong derivative and names
the op and dtype, counts declared gaps as unsupported, and reports stale expected failures.

The backends under test come from a real (if tiny) installed distribution: a ``*.dist-info``
with a ``gradcore`` entry point on PYTHONPATH, found by the same discovery users get.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.unit.envs import numpy_env_only
from tests.unit.fake_distributions import install_distribution

# The backends judged here are NumPy's subclasses whatever GRADCORE_BACKEND says: one env runs them.
pytestmark = numpy_env_only

PLUGIN = '''
import gradcore
from gradcore.backends.numpy_backend import NumpyBackend


class FlippedTanhGrad(NumpyBackend):
    """NumPy with one deliberate bug: the sign of tanh's derivative kernel."""

    name = "flipped"

    def tanh_grad(self, y, dy):
        return -super().tanh_grad(y, dy)


class Narrow(NumpyBackend):
    """NumPy that declares gaps: no half-precision dtypes, no erf kernel."""

    name = "narrow"
    dtypes = tuple(d for d in NumpyBackend.dtypes if d not in ("float16", "bfloat16"))
    unsupported_kernels = ("erf",)


@gradcore.hookimpl
def gradcore_register_backends(register):
    register("flipped", load=FlippedTanhGrad)
    register("narrow", load=Narrow)
'''

TIMEOUT_S = 300
# The verdict is the same in one process and across pytest-xdist workers, where the workers run
# the tests and the controller counts their reports.
WORKERS = pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one-process", "two-workers"])


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    """A directory holding an installed distribution ``gradcore-testbackends`` with two backends."""
    root = tmp_path_factory.mktemp("site")
    install_distribution(root, "gradcore-testbackends", "0.1", {"testbackends": "gradcore_testbackends"},
                         {"gradcore_testbackends": PLUGIN})
    return root


def run_conformance(plugin_path, tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")])}
    env.pop("GRADCORE_BACKEND", None)
    script = Path(sys.executable).parent / "gradcore"  # the installed command, as an author runs it
    return subprocess.run([str(script), "conformance", *args], check=False, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def test_a_flipped_derivative_fails_and_names_the_op_and_dtype(plugin_path, tmp_path):
    result = run_conformance(plugin_path, tmp_path, "--backend", "flipped", "-k", "test_ops and tanh",
                             "--report", "report.json")
    assert result.returncode == 1, result.stdout[-3000:]
    named = "FAILED Tanh/TanhGrad [float64] test_ops.py::test_gradient_matches_finite_differences[tanh]: "
    assert any(line.startswith(named) for line in result.stdout.splitlines()), result.stdout[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["backend"] == "flipped"
    failures = {f["id"] for f in report["failures"]}
    assert "test_ops.py::test_gradient_matches_finite_differences[tanh]" in failures
    assert "test_ops.py::test_forward_matches_reference[tanh-float32]" not in failures  # the forward is right
    assert set(report["table"]["Tanh"]["float32"]) == {"passed"}
    assert report["table"]["Tanh"]["float64"].get("failed", 0) >= 1


@WORKERS
def test_declared_gaps_are_counted_as_unsupported_not_failed(plugin_path, tmp_path, workers):
    result = run_conformance(plugin_path, tmp_path, *workers, "--backend", "narrow", "-k",
                             "test_forward_matches_reference and (erf or abs)", "--report", "report.md")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 failed" in result.stdout
    gaps = next(line for line in result.stdout.splitlines() if line.startswith("unsupported (declared"))
    assert "dtype float16" in gaps and "dtype bfloat16" in gaps and "kernel erf" in gaps, gaps
    markdown = (tmp_path / "report.md").read_text()
    assert "| Abs | unsup | unsup | ok | ok |" in markdown  # float16, bfloat16, float32, float64
    assert "| Erf | unsup | unsup | unsup | unsup |" in markdown


@WORKERS
def test_expected_failures_run_as_xfail_and_stale_entries_are_reported(plugin_path, tmp_path, workers):
    xfails = tmp_path / "xfails.txt"
    xfails.write_text(textwrap.dedent("""\
        # the flipped backend's known bug
        test_ops.py::test_gradient_matches_finite_differences[tanh]
        test_ops.py::test_forward_matches_reference[tanh-float32]   # passes: stale
        test_nothing.py::*                                           # names no test
        """))
    result = run_conformance(plugin_path, tmp_path, *workers, "--backend", "flipped", "--xfails", str(xfails), "-k",
                             "test_ops and (test_gradient_matches or test_forward_matches) and tanh and not (tanh-grad or tiny or small)")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 xfailed" in result.stdout
    assert "STALE expected failure 'test_ops.py::test_forward_matches_reference[tanh-float32]'" in result.stdout
    assert f"({xfails}:3)" in result.stdout
    assert "UNMATCHED expected failure 'test_nothing.py::*'" in result.stdout


def test_an_unknown_backend_is_a_clear_error(plugin_path, tmp_path):
    result = run_conformance(plugin_path, tmp_path, "--backend", "no-such-backend")
    assert result.returncode == 1
    assert "unknown gradcore backend 'no-such-backend'" in result.stderr
    assert "flipped" in result.stderr  # the known backends are listed


def test_the_repository_runner_runs_the_installed_suite(tmp_path):
    """tests/conformance holds only a conftest: pytest on that folder runs gradcore/conformance."""
    runner = Path(__file__).resolve().parents[1] / "conformance"
    env = {**os.environ, "GRADCORE_BACKEND": "numpy"}
    result = subprocess.run([sys.executable, "-m", "pytest", str(runner), "-p", "no:cacheprovider", "-k",
                             "test_forward_matches_reference and abs", "--collect-only", "-q"],
                            check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert len(collected) == 5, collected  # abs in float16, bfloat16, float32, float64 and int32
    assert all("gradcore/conformance/test_ops.py::" in line for line in collected), collected
