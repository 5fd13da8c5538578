"""The plugin layer: discovery through pluggy, selection, scopes, and clear errors (docs/architecture.md section 1).

Third-party plugins are simulated through the real entry-point path: discovery reads
``importlib.metadata.distributions()``, which ``_discover_with`` extends with in-memory
distributions (``FakeDistribution``: METADATA and entry_points.txt as pip writes them) whose entry
points name objects in this module. A distribution on disk is tested in test_cli.py.
"""

import importlib.metadata
import os
import pathlib
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


class OtherBackend(NumpyBackend):
    name = "other"


class OtherPlugin:
    @gc.hookimpl
    def gradcore_register_backends(self, register):
        register("other", load=OtherBackend)


OTHER = OtherPlugin()


class DuplicatePlugin:
    @gc.hookimpl
    def gradcore_register_backends(self, register):
        register("numpy", load=ToyBackend)
        register("toy", load=ToyBackend)
        register("dup-only", load=ToyBackend)


DUPLICATE = DuplicatePlugin()


class RaisingPlugin:
    @gc.hookimpl
    def gradcore_register_backends(self, register):
        register("half-registered", load=ToyBackend)
        raise ValueError("bad config")


RAISING = RaisingPlugin()


class MisspelledHookPlugin:
    @gc.hookimpl
    def gradcore_register_backends(self, registr):  # pluggy rejects an argument the hookspec lacks
        raise AssertionError("never called")


MISSPELLED = MisspelledHookPlugin()


class FakeDistribution(importlib.metadata.Distribution):
    """An installed distribution that lives in memory: its METADATA and entry_points.txt."""

    def __init__(self, entry_points, name="gradcore-toy", version="1.2.3"):
        """``entry_points``: {entry-point name: "module:attribute"}, or entry_points.txt's text itself."""
        if not isinstance(entry_points, str):
            entry_points = "[gradcore]\n" + "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
        self._files = {"METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                       "entry_points.txt": entry_points}

    def read_text(self, filename):
        return self._files.get(filename)

    def locate_file(self, path):
        return pathlib.Path(path)


def here(attribute):
    """An entry point's target: an object of this module."""
    return f"{__name__}:{attribute}"


TOY = FakeDistribution({"gradcore_toy": here("THIRD_PARTY")})
OTHER_DIST = FakeDistribution({"other": here("OTHER")}, name="gradcore-other", version="2.0")


def _discover_with(monkeypatch, *distributions):
    """Rediscover with ``distributions`` installed after the real ones; everything is restored afterwards."""
    real = importlib.metadata.distributions
    monkeypatch.setattr(importlib.metadata, "distributions", lambda **kw: [*real(**kw), *distributions])
    monkeypatch.setattr(plugins, "_discovery", None)
    monkeypatch.setattr(plugins, "_default", plugins._default)
    return plugins.discover()


@pytest.fixture(autouse=True)
def plugin_environment(monkeypatch):
    """Autoload on, as by default, whatever the shell running the tests says."""
    monkeypatch.delenv(plugins.AUTOLOAD_ENV_VAR, raising=False)
    monkeypatch.delenv(plugins.PLUGINS_ENV_VAR, raising=False)


@pytest.fixture
def fresh_discovery(monkeypatch):
    """Rediscover backends with the third-party plugin installed; restore everything afterwards."""
    return _discover_with(monkeypatch, TOY)


@pytest.fixture
def raising_module(tmp_path, monkeypatch):
    """The name of a module on sys.path that raises RuntimeError on import."""
    (tmp_path / "gradcore_test_raising_plugin.py").write_text("raise RuntimeError('cannot find libcupy')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "gradcore_test_raising_plugin"


def _reason(name):
    return plugins.discover()[name].unavailable_reason()


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
    # a third party's requirements are its distribution's to install, not a gradcore extra
    assert "Install what its distribution (gradcore-toy 1.2.3) needs" in message and "GRADCORE_BACKEND" in message
    assert "gradcore[" not in message

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
    assert "autoload" not in message  # autoload is on: nothing to say about it
    assert isinstance(info.value, gc.BackendError) and isinstance(info.value, RuntimeError)


# ---- broken plugins ------------------------------------------------------------------------------


def test_a_backend_name_registered_twice_names_the_plugin_and_hook(monkeypatch):
    backends = _discover_with(monkeypatch, TOY, FakeDistribution({"dup": here("DUPLICATE")}, name="gradcore-dup",
                                                                  version="0.9"))
    gc.set_backend("numpy")  # the built-in keeps its name, and works
    assert type(gc.get_backend()) is NumpyBackend
    assert backends["toy"].origin == "gradcore-toy 1.2.3"  # so does an earlier plugin
    assert backends["dup-only"].unavailable_reason() is None  # the plugin's other backends still count
    expected = ("numpy (gradcore-dup 0.9): unavailable: plugin 'dup' (hook gradcore_register_backends) "
                "registers backend 'numpy', already registered by built-in")
    assert expected in plugins.describe_backends()
    assert backends["numpy (gradcore-dup 0.9)"].name == "numpy"
    with pytest.raises(gc.BackendUnavailableError) as info:
        gc.set_backend("unknown")
    assert expected in str(info.value)
    assert "toy (gradcore-dup 0.9): unavailable: plugin 'dup' (hook gradcore_register_backends) registers " \
           "backend 'toy', already registered by gradcore-toy 1.2.3" in str(info.value)


@pytest.mark.parametrize("target, error", [
    ("gradcore_test_no_such_plugin_module", "ModuleNotFoundError: No module named 'gradcore_test_no_such_plugin_module'"),
    ("RAISING_MODULE", "RuntimeError: cannot find libcupy"),
    (here("NO_SUCH_ATTRIBUTE"), "AttributeError: module 'tests.unit.test_plugins' has no attribute 'NO_SUCH_ATTRIBUTE'"),
])
def test_a_plugin_that_fails_to_load_is_listed_and_the_others_still_work(monkeypatch, raising_module, target, error):
    target = raising_module if target == "RAISING_MODULE" else target
    broken = FakeDistribution({"cupy": target}, name="gradcore-cupy", version="0.4")
    backends = _discover_with(monkeypatch, broken, TOY)  # the broken one first: the scan goes on past it
    assert plugins.load_backend("toy").name == "toy"
    gc.set_backend("numpy")
    assert backends["cupy"].origin == "gradcore-cupy 0.4"
    reason = f"plugin 'cupy' (entry point cupy = {target}) failed to load: {error}"
    assert backends["cupy"].unavailable_reason() == reason
    assert f"cupy (gradcore-cupy 0.4): unavailable: {reason}" in plugins.describe_backends()
    with pytest.raises(gc.BackendUnavailableError) as info:
        gc.set_backend("cupy")
    assert f"gradcore backend 'cupy' is unavailable ({reason})" in str(info.value)
    assert "Fix or uninstall the plugin's distribution (gradcore-cupy 0.4)" in str(info.value)
    assert gc.get_backend().name == "numpy"  # the failed set_backend changed nothing


def test_a_hook_that_raises_registers_nothing_and_is_listed(monkeypatch):
    raising = FakeDistribution({"raising": here("RAISING")}, name="gradcore-raising", version="3.1")
    backends = _discover_with(monkeypatch, raising, TOY)
    assert "half-registered" not in backends  # a plugin counts whole or not at all
    assert backends["raising"].origin == "gradcore-raising 3.1"
    assert _reason("raising") == "plugin 'raising' (hook gradcore_register_backends) raised ValueError: bad config"
    assert plugins.load_backend("toy").name == "toy"
    with pytest.raises(gc.BackendUnavailableError, match="raised ValueError: bad config"):
        gc.set_backend("raising")


def test_a_plugin_that_pluggy_rejects_is_listed(monkeypatch):
    misspelled = FakeDistribution({"misspelled": here("MISSPELLED")}, name="gradcore-misspelled")
    backends = _discover_with(monkeypatch, misspelled, TOY)
    assert _reason("misspelled").startswith("plugin 'misspelled' cannot be registered: PluginValidationError: ")
    assert "registr" in _reason("misspelled")  # names the argument pluggy objects to
    assert backends["toy"].unavailable_reason() is None


def _register_with(arguments):
    """A plugin whose hook calls register(**arguments)."""
    class Plugin:
        @gc.hookimpl
        def gradcore_register_backends(self, register):
            register(**arguments)
    return Plugin()


@pytest.mark.parametrize("arguments, error", [
    ({"name": None, "load": ToyBackend}, "TypeError: a backend name must be a non-empty string, not None"),
    ({"name": "odd", "load": "ToyBackend"}, "TypeError: load must be callable, not str"),
    ({"name": "odd", "load": ToyBackend, "requires": ["numpy", 3]}, "TypeError: requires must name modules"),
])
def test_register_rejects_arguments_it_cannot_list(monkeypatch, arguments, error):
    monkeypatch.setattr(sys.modules[__name__], "ODD", _register_with(arguments), raising=False)
    _discover_with(monkeypatch, FakeDistribution({"odd": here("ODD")}))
    assert f"plugin 'odd' (hook gradcore_register_backends) raised {error}" in _reason("odd")


def test_requires_may_be_one_module_or_a_dotted_name_whose_parent_is_missing(monkeypatch):
    plugin = _register_with({"name": "odd", "load": ToyBackend, "requires": "gradcore_no_such_pkg.sub"})
    monkeypatch.setattr(sys.modules[__name__], "ODD", plugin, raising=False)
    _discover_with(monkeypatch, FakeDistribution({"odd": here("ODD")}))
    assert _reason("odd") == "gradcore_no_such_pkg.sub not installed"  # find_spec raises here; not for us


def test_a_distribution_with_unparsable_entry_points_is_listed(monkeypatch):
    unparsable = "[gradcore]\nthis line has no equals sign\n"
    backends = _discover_with(monkeypatch, FakeDistribution(unparsable, name="gradcore-garbled", version="0.1"),
                              FakeDistribution("[console_scripts]\ngarbage\n", name="unrelated"), TOY)
    assert backends["gradcore-garbled"].origin == "gradcore-garbled 0.1"
    assert _reason("gradcore-garbled").startswith("entry_points.txt cannot be parsed: ")
    assert not any("unrelated" in spec.origin for spec in backends.values())  # not a gradcore plugin
    assert backends["toy"].unavailable_reason() is None


def test_a_failed_plugin_gives_way_to_a_backend_of_its_name(monkeypatch):
    broken = FakeDistribution({"toy": "gradcore_test_no_such_plugin_module"}, name="gradcore-broken", version="1")
    backends = _discover_with(monkeypatch, broken, TOY)
    assert plugins.load_backend("toy").name == "toy"  # the working backend keeps the name
    assert backends["toy (gradcore-broken 1)"].unavailable_reason().startswith("plugin 'toy' (entry point")


def test_the_same_distribution_twice_on_the_path_is_loaded_once(monkeypatch):
    backends = _discover_with(monkeypatch, TOY, FakeDistribution({"gradcore_toy": here("THIRD_PARTY")}))
    assert [key for key in backends if key.startswith("toy")] == ["toy"]  # no duplicate-name failure
    assert all(spec.plugin_error is None for spec in backends.values() if spec.origin == "gradcore-toy 1.2.3")


def test_a_plugin_that_uses_gradcore_while_it_loads_sees_the_builtins(tmp_path, monkeypatch):
    (tmp_path / "gradcore_test_eager_plugin.py").write_text(textwrap.dedent("""
        import gradcore as gc
        from gradcore.backends.numpy_backend import NumpyBackend

        ONE = gc.constant(1.0)  # discovery is under way: this must neither deadlock nor recurse

        @gc.hookimpl
        def gradcore_register_backends(register):
            register("eager", load=NumpyBackend)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_default", None)
    monkeypatch.delenv(plugins.ENV_VAR, raising=False)  # the default backend is then numpy, in every tox env
    found = {}
    worker = threading.Thread(target=lambda: found.update(
        _discover_with(monkeypatch, FakeDistribution({"eager": "gradcore_test_eager_plugin"}))), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "discovery deadlocked"
    assert found["eager"].unavailable_reason() is None
    assert sys.modules["gradcore_test_eager_plugin"].ONE.backend.name == "numpy"


# ---- autoload disabled ---------------------------------------------------------------------------


@pytest.fixture
def autoload_off(monkeypatch, raising_module):
    """Autoload disabled, with toy, other and a plugin whose module raises on import installed."""
    monkeypatch.setenv(plugins.AUTOLOAD_ENV_VAR, "1")
    monkeypatch.delenv(plugins.ENV_VAR, raising=False)
    broken = FakeDistribution({"cupy": raising_module}, name="gradcore-cupy", version="0.4")
    return lambda: _discover_with(monkeypatch, TOY, OTHER_DIST, broken)


def test_autoload_disabled_loads_only_the_builtins(autoload_off):
    backends = autoload_off()
    assert {"numpy", "torch", "jax"} <= set(backends)
    assert not {"toy", "other", "cupy"} & set(backends)  # the broken module is not even imported
    note = plugins.describe_autoload()
    assert note.startswith("plugin autoload disabled by $GRADCORE_DISABLE_PLUGIN_AUTOLOAD: entry points loaded: none;")
    for label in ("gradcore_toy (gradcore-toy 1.2.3)", "other (gradcore-other 2.0)", "cupy (gradcore-cupy 0.4)"):
        assert label in note.split("not loaded:")[1]


def test_autoload_disabled_loads_the_plugins_named_in_gradcore_plugins(autoload_off, monkeypatch):
    monkeypatch.setenv(plugins.PLUGINS_ENV_VAR, " gradcore_toy, ,cupy")
    backends = autoload_off()
    assert backends["toy"].unavailable_reason() is None
    assert "failed to load: RuntimeError: cannot find libcupy" in backends["cupy"].unavailable_reason()
    assert "other" not in backends
    assert "entry points loaded: gradcore_toy (gradcore-toy 1.2.3), cupy (gradcore-cupy 0.4);" \
           in plugins.describe_autoload()


def _set_and_get(name):
    gc.set_backend(name)
    return gc.get_backend()


def _in_scope(name):
    with gc.backend_scope(name) as backend:
        return backend


@pytest.mark.parametrize("ask", [_set_and_get, _in_scope])
def test_autoload_disabled_loads_the_plugin_of_the_backend_asked_for(autoload_off, ask):
    assert "other" not in autoload_off()
    assert ask("other").name == "other"
    assert "entry points loaded: other (gradcore-other 2.0);" in plugins.describe_autoload()
    assert "toy" not in plugins.discover()  # only what was asked for


def test_autoload_disabled_loads_the_plugin_named_by_gradcore_backend(autoload_off, monkeypatch):
    monkeypatch.setenv(plugins.ENV_VAR, "other")
    assert "other" in autoload_off()  # at discovery, so that gradcore info lists it
    monkeypatch.setattr(plugins, "_default", None)
    assert plugins.get_backend().name == "other"


def test_autoload_disabled_a_failed_plugin_asked_for_says_why(autoload_off):
    autoload_off()
    with pytest.raises(gc.BackendUnavailableError, match="failed to load: RuntimeError: cannot find libcupy"):
        gc.set_backend("cupy")


def test_autoload_disabled_an_unknown_backend_says_what_was_not_loaded(autoload_off):
    autoload_off()
    with pytest.raises(gc.BackendUnavailableError) as info:
        gc.set_backend("nope")
    message = str(info.value)
    assert "unknown gradcore backend 'nope'" in message
    assert "plugin autoload disabled by $GRADCORE_DISABLE_PLUGIN_AUTOLOAD" in message
    assert "other (gradcore-other 2.0)" in message.split("not loaded:")[1]


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
    with pytest.raises(gc.BackendUnavailableError, match="unknown gradcore backend 'nope'"), gc.backend_scope("nope"):
        pass
    assert gc.get_backend() is default


# ---- whole processes ---------------------------------------------------------------------------


def _run(code, env_extra=None, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADCORE_")}
    env.update(env_extra or {})
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath] + [p for p in [env.get("PYTHONPATH")] if p])
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
                          timeout=120)


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
