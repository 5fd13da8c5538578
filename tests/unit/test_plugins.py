"""The plugin layer: discovery through pluggy, selection, scopes, and clear errors (docs/architecture.md section 1).

Third-party plugins are simulated through the real entry-point path: pluggy's
``load_setuptools_entrypoints`` reads ``importlib.metadata.distributions()``,
which the ``fresh_discovery`` fixture extends with a fake distribution whose
entry point names an object in this module.
"""

import importlib.metadata
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from gradcore.backends.numpy_backend import NumpyBackend

import gradcore as gc
from gradcore.plugin import discovery as plugins


class ToyBackend(NumpyBackend):
    name = "toy"


class ThirdPartyPlugin:
    """What a package such as gradcore_cupy exposes through its "gradcore" entry point."""

    @gc.hookimpl
    def gradcore_register_backends(self, register):
        register("toy", load=ToyBackend, requires=("numpy",))
        register("needs-missing", load=ToyBackend, requires=("gradcore_test_no_such_module",))
        register("broken", load=self._broken)
        register("not-a-backend", load=object)

    @staticmethod
    def _broken():
        raise RuntimeError("boom")


THIRD_PARTY = ThirdPartyPlugin()


class DuplicatePlugin:
    @gc.hookimpl
    def gradcore_register_backends(self, register):
        register("numpy", load=ToyBackend)


DUPLICATE = DuplicatePlugin()


class FakeDistribution:
    """Enough of importlib.metadata.Distribution for pluggy: entry points, metadata, version."""

    def __init__(self, attribute):
        self.entry_points = [importlib.metadata.EntryPoint(
            name="gradcore_toy", value=f"{__name__}:{attribute}", group="gradcore")]
        self.metadata = {"name": "gradcore-toy"}
        self.version = "1.2.3"


def _discover_with(monkeypatch, attribute):
    real = importlib.metadata.distributions
    monkeypatch.setattr(importlib.metadata, "distributions",
                        lambda: list(real()) + [FakeDistribution(attribute)])
    monkeypatch.setattr(plugins, "_specs", None)
    return plugins.discover()


@pytest.fixture
def fresh_discovery(monkeypatch):
    """Rediscover backends with the third-party plugin installed; restore everything afterwards."""
    monkeypatch.setattr(plugins, "_default", plugins._default)
    return _discover_with(monkeypatch, "THIRD_PARTY")


# ---- discovery ---------------------------------------------------------------------------------


def test_builtin_backends_are_registered():
    specs = plugins.discover()
    assert {"numpy", "torch", "jax"} <= set(specs)
    assert specs["numpy"].origin == "built-in"
    assert specs["numpy"].unavailable_reason() is None


def test_third_party_plugin_registers_through_its_entry_point(fresh_discovery):
    spec = fresh_discovery["toy"]
    assert spec.origin == "gradcore-toy 1.2.3"  # where it came from
    assert spec.instance is None  # registering loads nothing
    backend = plugins.load_backend("toy")
    assert isinstance(backend, ToyBackend) and backend.name == "toy"
    assert plugins.load_backend("toy") is backend  # loaded once
    assert "toy (gradcore-toy 1.2.3): available" in plugins.describe_backends()


def test_unavailable_backends_say_why(fresh_discovery):
    with pytest.raises(gc.BackendUnavailableError) as info:
        plugins.load_backend("needs-missing")
    message = str(info.value)
    assert "'needs-missing' is unavailable (gradcore_test_no_such_module not installed)" in message
    assert "pip install 'gradcore[needs-missing]'" in message and "GRADCORE_BACKEND" in message

    with pytest.raises(gc.BackendUnavailableError, match=r"loading failed: RuntimeError: boom"):
        plugins.load_backend("broken")
    with pytest.raises(gc.BackendUnavailableError, match="load\\(\\) returned object, not a gradcore.Backend"):
        plugins.load_backend("not-a-backend")
    listing = plugins.describe_backends()
    assert "broken (gradcore-toy 1.2.3): unavailable: loading failed: RuntimeError: boom" in listing


def test_unknown_backend_lists_known_ones_and_why_unavailable_ones_are(fresh_discovery):
    with pytest.raises(gc.BackendUnavailableError) as info:
        gc.set_backend("nope")
    message = str(info.value)
    assert "unknown gradcore backend 'nope'" in message
    assert "numpy (built-in): available" in message
    assert "needs-missing (gradcore-toy 1.2.3): unavailable: gradcore_test_no_such_module not installed" in message
    for spec in fresh_discovery.values():  # torch and jax too, where they are not installed
        assert spec.name in message
        reason = spec.unavailable_reason()
        if reason is not None:
            assert reason in message
    assert isinstance(info.value, gc.BackendError) and isinstance(info.value, RuntimeError)


def test_a_backend_name_registered_twice_names_the_plugin_and_hook(monkeypatch):
    with pytest.raises(gc.BackendError, match=r"plugin 'gradcore_toy' \(hook gradcore_register_backends\) "
                                              r"registers backend 'numpy', already registered by built-in"):
        _discover_with(monkeypatch, "DUPLICATE")


# ---- selection -----------------------------------------------------------------------------------


def test_set_backend_changes_the_default(fresh_discovery):
    gc.set_backend("toy")
    assert gc.get_backend().name == "toy"
    assert gc.constant(1.0).backend.name == "toy"
    gc.set_backend("numpy")
    assert gc.get_backend().name == "numpy"


def test_backend_scopes_nest(fresh_discovery):
    default = gc.get_backend()
    with gc.backend_scope("toy") as toy:
        assert gc.get_backend() is toy and toy.name == "toy"
        assert gc.constant([1.0]).backend is toy
        with gc.backend_scope("numpy") as numpy_backend:
            assert gc.get_backend() is numpy_backend
        assert gc.get_backend() is toy
    assert gc.get_backend() is default


def test_backend_scope_is_restored_after_an_exception(fresh_discovery):
    default = gc.get_backend()
    with pytest.raises(KeyError), gc.backend_scope("toy"):
        raise KeyError("inside")
    assert gc.get_backend() is default


def test_backend_scope_is_thread_local(fresh_discovery):
    default = gc.get_backend()
    seen = {}

    def other_thread():
        seen["backend"] = gc.get_backend()

    with gc.backend_scope("toy"):
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert gc.get_backend().name == "toy"
    assert seen["backend"] is default


def test_an_unknown_scope_fails_before_entering(fresh_discovery):
    default = gc.get_backend()
    with pytest.raises(gc.BackendUnavailableError, match="unknown gradcore backend 'nope'"):
        with gc.backend_scope("nope"):
            pass
    assert gc.get_backend() is default


# ---- whole processes ---------------------------------------------------------------------------


def _run(code, env_extra=None, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADCORE_")}
    env.update(env_extra or {})
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath] + [p for p in [env.get("PYTHONPATH")] if p])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_unknown_backend_from_the_environment_fails_clearly():
    result = _run("import gradcore as gc; gc.constant(1.0)", {"GRADCORE_BACKEND": "nope"})
    assert result.returncode != 0
    assert "BackendUnavailableError: unknown gradcore backend 'nope'" in result.stderr
    assert "numpy (built-in): available" in result.stderr


def test_import_gradcore_imports_neither_torch_nor_jax(tmp_path):
    # Stand-ins that fail on import, so the test means something where torch and jax are absent too.
    for name in ("torch", "jax"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('gradcore imported {name}')\n")
    code = textwrap.dedent("""
        import sys
        import gradcore as gc
        gc.reduce_sum(gc.constant([1.0, 2.0]) * 2.0)
        from gradcore.plugin import discovery; print(discovery.describe_backends())
        print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "jax", "jaxlib")))
    """)
    result = _run(code, pythonpath=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout
