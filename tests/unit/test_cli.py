"""The ``gradcore`` command: in-process through click's CliRunner, and as the installed script.

Third-party plugins are real distributions written to a tmp dir: a ``*.dist-info`` directory
(METADATA, entry_points.txt) and the plugin's module, put on PYTHONPATH for a subprocess and on
sys.path in process.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gradcore
from gradcore.cli import main
from gradcore.cli.main import COLUMNS
from gradcore.plugin import discovery as plugins
from tests.unit.fake_distributions import install_distribution


def _table(output):
    """The backend table's rows as {column: cell}, cut where the header line starts each column."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("backend "))
    offsets = [lines[start].index(column) for column in COLUMNS] + [None]
    return [{column: line[begin:end].strip() for column, begin, end in zip(COLUMNS, offsets, offsets[1:])}
            for line in lines[start + 1:] if line.strip()]


def _rows(output):
    """The backend table as {name: {column: cell}}, the first row of each name."""
    rows = {}
    for row in _table(output):
        rows.setdefault(row["backend"], row)
    return rows


def _cells(row, *columns):
    return [row[column] for column in columns]


def test_version_matches_the_package():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"gradcore, version {gradcore.__version__}"


def test_info_lists_numpy_as_available_with_its_version_and_device():
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    numpy_row = _rows(result.output)["numpy"]
    assert _cells(numpy_row, "origin", "version", "status", "devices") == ["built-in", np.__version__, "available", "cpu"]


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


def _run(args, extra_path=None, code=None, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADCORE_")}  # none of the shell's settings
    env.update(env_extra or {})
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", code] if code else [_installed_script(), *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=120)


def test_installed_script_prints_version():
    done = _run(["--version"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"gradcore, version {gradcore.__version__}"


FAKE_PLUGIN = """
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
"""

BROKEN_PLUGIN = """
raise ImportError("libcudart.so.12: cannot open shared object file")
"""


def _fake_distribution(root, module="gradcore_fake"):
    """A third-party distribution on ``root``: one backend that loads, one whose module is missing."""
    install_distribution(root, "gradcore-fake", "1.2.3", {"fake": module}, {module: FAKE_PLUGIN})


def _broken_distribution(root, module="gradcore_broken_cupy"):
    """A third-party distribution on ``root`` whose module raises ImportError on import."""
    install_distribution(root, "gradcore-broken", "0.4.2", {"cupy": module}, {module: BROKEN_PLUGIN})


def test_installed_script_lists_a_third_party_backend_with_its_distribution(tmp_path):
    _fake_distribution(tmp_path)
    done = _run(["info"], extra_path=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert _cells(rows["numpy"], "origin", "status") == ["built-in", "available"]
    assert _cells(rows["fake"], "origin", "version", "status", "devices") == [
        "gradcore-fake 1.2.3", "9.9", "available", "cpu, fake:0"]
    assert _cells(rows["ghost"], "origin", "status") == [
        "gradcore-fake 1.2.3", "unavailable: gradcore_ghost_lib_not_installed not installed"]


def test_installed_script_lists_a_plugin_that_fails_to_import_and_the_others(tmp_path):
    _broken_distribution(tmp_path)  # found first: its failure must not stop the scan
    _fake_distribution(tmp_path)
    done = _run(["info"], extra_path=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert rows["numpy"]["status"] == rows["fake"]["status"] == "available"
    why = ("plugin 'cupy' (entry point cupy = gradcore_broken_cupy) failed to load: "
           "ImportError: libcudart.so.12: cannot open shared object file")
    assert _cells(rows["cupy"], "origin", "version", "status", "devices") == [
        "gradcore-broken 0.4.2", "-", f"unavailable: {why}", "-"]


def test_a_broken_plugin_breaks_neither_import_nor_the_backends(tmp_path):
    _broken_distribution(tmp_path)
    code = textwrap.dedent("""
        import gradcore as gc
        gc.set_backend("numpy")
        print(float(gc.reduce_sum(gc.constant([1.0, 2.0]) * 2.0)))
        try:
            gc.set_backend("cupy")
        except gc.BackendUnavailableError as error:
            print(error)
    """)
    done = _run([], extra_path=tmp_path, code=code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("6.0\n")
    assert "gradcore backend 'cupy' is unavailable (plugin 'cupy' (entry point cupy = gradcore_broken_cupy) " \
           "failed to load: ImportError: libcudart.so.12" in done.stdout
    assert "cupy (gradcore-broken 0.4.2): unavailable" in done.stdout


def test_installed_script_with_autoload_disabled_loads_only_what_is_named(tmp_path):
    _broken_distribution(tmp_path)
    _fake_distribution(tmp_path)
    done = _run(["info"], extra_path=tmp_path, env_extra={"GRADCORE_DISABLE_PLUGIN_AUTOLOAD": "1",
                                                          "GRADCORE_PLUGINS": "fake"})
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[1]
    assert header.startswith("plugin autoload disabled by $GRADCORE_DISABLE_PLUGIN_AUTOLOAD: "
                             "entry points loaded: fake (gradcore-fake 1.2.3); not loaded: ")
    assert "cupy (gradcore-broken 0.4.2)" in header.split("not loaded:")[1]
    rows = _rows(done.stdout)
    assert rows["numpy"]["status"] == rows["fake"]["status"] == "available"
    assert "cupy" not in rows  # never imported


# ---- in process, with a distribution on sys.path -------------------------------------------------

MISBEHAVING_PLUGIN = """
import gradcore
from gradcore.backends.numpy_backend import NumpyBackend

class NoDevices(NumpyBackend):
    def devices(self):
        raise RuntimeError("driver crashed")

class NoVersion(NumpyBackend):
    def version(self):
        raise OSError("version file missing")

def no_driver():
    raise RuntimeError("no driver")

@gradcore.hookimpl
def gradcore_register_backends(register):
    register("bad-load", load=no_driver)
    register("bad-devices", load=NoDevices)
    register("bad-version", load=NoVersion)
    register("numpy", load=NumpyBackend)
"""


@pytest.fixture
def rediscover(tmp_path, monkeypatch):
    """Install distributions on ``tmp_path`` (on sys.path) and rediscover; everything is restored afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in (plugins.AUTOLOAD_ENV_VAR, plugins.PLUGINS_ENV_VAR, plugins.ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(plugins, "_discovery", None)
    monkeypatch.setattr(plugins, "_default", plugins._default)
    return tmp_path


def test_info_lists_backends_whose_load_devices_or_version_raise(rediscover):
    install_distribution(rediscover, "gradcore-misbehaving", "5.0", {"misbehaving": "gradcore_misbehaving"},
             {"gradcore_misbehaving": MISBEHAVING_PLUGIN})
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert _cells(rows["bad-load"], "origin", "status", "devices") == [
        "gradcore-misbehaving 5.0", "unavailable: loading failed: RuntimeError: no driver", "-"]
    assert _cells(rows["bad-devices"], "status", "devices") == [
        "available", "devices() raised RuntimeError: driver crashed"]
    assert _cells(rows["bad-version"], "version", "status", "devices") == [
        "version() raised OSError: version file missing", "available", "cpu"]


def test_info_lists_a_duplicate_name_as_unavailable_and_keeps_the_first(rediscover):
    install_distribution(rediscover, "gradcore-misbehaving", "5.0", {"dup": "gradcore_misbehaving_dup"},
             {"gradcore_misbehaving_dup": MISBEHAVING_PLUGIN})
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    kept, refused = [row for row in _table(result.output) if row["backend"] == "numpy"]
    assert _cells(kept, "origin", "version", "status") == ["built-in", np.__version__, "available"]
    why = "plugin 'dup' (hook gradcore_register_backends) registers backend 'numpy', already registered by built-in"
    assert _cells(refused, "origin", "version", "status", "devices") == [
        "gradcore-misbehaving 5.0", "-", f"unavailable: {why}", "-"]


def test_info_with_autoload_disabled_lists_what_it_loaded(rediscover):
    _fake_distribution(rediscover, module="gradcore_fake_in_process")
    _broken_distribution(rediscover, module="gradcore_broken_in_process")
    result = CliRunner().invoke(main, ["info"], env={plugins.AUTOLOAD_ENV_VAR: "1", plugins.ENV_VAR: "fake"})
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[1]
    assert "autoload disabled" in header and "entry points loaded: fake (gradcore-fake 1.2.3);" in header
    assert "cupy (gradcore-broken 0.4.2)" in header.split("not loaded:")[1]
    assert "default backend: fake (from $GRADCORE_BACKEND)" in result.output
    assert set(_rows(result.output)) >= {"numpy", "fake", "ghost"} and "cupy" not in _rows(result.output)


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
    assert rows["numpy"]["status"] == "available"
    for name in ("torch", "jax"):
        if name in rows:
            assert rows[name]["status"] == f"unavailable: {name} not installed"


def test_importing_the_cli_imports_no_framework():
    code = "import sys, gradcore.cli.main; print(sorted(m for m in ('torch', 'jax') if m in sys.modules))"
    done = _run([], code=code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
