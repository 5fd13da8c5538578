"""The ``gradcore`` command: in-process through click's CliRunner, and as the installed script."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import gradcore
from gradcore.cli import main


def _rows(output):
    """The backend table as {name: line}, skipping the header lines."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("backend "))
    return {line.split()[0]: line for line in lines[start + 1:] if line.strip()}


def test_version_matches_the_package():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"gradcore, version {gradcore.__version__}"


def test_info_lists_numpy_as_available_with_its_version_and_device():
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    numpy_row = _rows(result.output)["numpy"]
    assert numpy_row.split()[1:5] == ["built-in", np.__version__, "available", "cpu"]


def test_info_names_the_backend_chosen_by_the_environment():
    result = CliRunner().invoke(main, ["info"], env={"GRADCORE_BACKEND": "numpy"})
    assert "default backend: numpy (from $GRADCORE_BACKEND)" in result.output


def test_unknown_command_fails():
    assert CliRunner().invoke(main, ["no-such-command"]).exit_code != 0


def _installed_script():
    script = Path(sys.executable).parent / "gradcore"
    found = str(script) if script.exists() else shutil.which("gradcore")
    assert found, "the gradcore console script is not installed (pip install -e .)"
    return found


def _run(args, extra_path=None, code=None):
    env = dict(os.environ)
    env.pop("GRADCORE_BACKEND", None)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", code] if code else [_installed_script(), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_installed_script_prints_version():
    done = _run(["--version"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"gradcore, version {gradcore.__version__}"


def _fake_distribution(root):
    """A third-party distribution on ``root``: one backend that loads, one whose module is missing."""
    (root / "gradcore_fake").mkdir()
    (root / "gradcore_fake" / "__init__.py").write_text(textwrap.dedent("""
        import gradcore
        from gradcore.backends.numpy_backend import NumpyBackend

        class FakeBackend(NumpyBackend):
            name = "fake"

            def devices(self):
                return ["cpu", "fake:0"]

            def version(self):
                return "9.9"

        @gradcore.hookimpl
        def gradcore_register_backends(register):
            register("fake", load=FakeBackend)
            register("ghost", load=FakeBackend, requires=("gradcore_ghost_lib_not_installed",))
    """))
    info = root / "gradcore_fake-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gradcore-fake\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("[gradcore]\nfake = gradcore_fake\n")


def test_installed_script_lists_a_third_party_backend_with_its_distribution(tmp_path):
    _fake_distribution(tmp_path)
    done = _run(["info"], extra_path=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert "built-in" in rows["numpy"] and "available" in rows["numpy"]
    assert rows["fake"].split()[1:] == ["gradcore-fake", "1.2.3", "9.9", "available", "cpu,", "fake:0"]
    assert "gradcore-fake 1.2.3" in rows["ghost"]
    assert "unavailable: gradcore_ghost_lib_not_installed not installed" in rows["ghost"]


def test_info_works_without_torch_or_jax():
    # A None entry in sys.modules makes both "import torch" and find_spec("torch") see no torch.
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = sys.modules["jax"] = None
        from gradcore.cli import main
        main(["info"])
    """)
    done = _run([], code=code)
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert "available" in rows["numpy"].split()
    for name in ("torch", "jax"):
        if name in rows:
            assert "unavailable: " in rows[name] and "not installed" in rows[name]


def test_importing_the_cli_imports_no_framework():
    code = "import sys, gradcore.cli.main; print(sorted(m for m in ('torch', 'jax') if m in sys.modules))"
    done = _run([], code=code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
