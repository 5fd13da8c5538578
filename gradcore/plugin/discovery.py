"""Backend discovery and selection through pluggy.

Backends announce themselves through one collector hook,
``gradcore_register_backends(register)``: the built-ins from
``gradcore.backends``, third parties through the entry-point group
``gradcore``. Discovery runs once, on first backend use, never at
``import gradcore``; registering imports nothing, and a backend's ``load``
runs only when that backend is first used, so gradcore never imports torch or
jax unless asked to. The built-ins register first, then each distribution's
entry points in ``sys.path`` order (docs/plugins.md).

A broken plugin never breaks gradcore, nor another plugin: an entry point
whose module raises on import, a plugin pluggy rejects, a hook that raises
(its plugin then registers nothing: partial registrations are dropped) and a
backend name already taken (the first registration keeps it) each become an
unavailable entry of ``discover()``, with the reason and the distribution it
came from. Such an entry sits under its plugin's entry-point name (by
convention its backend's name, so ``gc.set_backend(name)`` says why it cannot
be used), or under ``"name (distribution version)"`` where that name is taken.

``GRADCORE_DISABLE_PLUGIN_AUTOLOAD`` set to any non-empty value (as pytest's
``PYTEST_DISABLE_PLUGIN_AUTOLOAD``) loads only the built-ins and the entry
points named explicitly: those listed in ``GRADCORE_PLUGINS``
(comma-separated entry-point names), and the one whose name equals the backend
asked for: through ``GRADCORE_BACKEND`` at discovery, through
``gc.set_backend(name)`` or ``gc.backend_scope(name)`` when first asked for.
"""

import contextlib
import importlib.metadata
import importlib.util
import itertools
import os
import threading
from dataclasses import dataclass

import pluggy

from gradcore.engine import thread_state
from gradcore.errors import BackendUnavailableError
from gradcore.plugin.entry_points import (
    ENV_VAR,
    PLUGINS_ENV_VAR,
    PROJECT,
    PluginEntryPoint,
    distribution_name,
    explicitly_named,
    origin_of,
    plugin_distributions,
)

HOOK = "gradcore_register_backends"
AUTOLOAD_ENV_VAR = "GRADCORE_DISABLE_PLUGIN_AUTOLOAD"
DEFAULT_BACKEND = "numpy"
BUILT_IN = "built-in"
MAX_REASON = 300  # characters of an exception message kept: a reason is one table cell

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class BackendHookSpec:
    @hookspec
    def gradcore_register_backends(self, register):
        """Announce backends by calling ``register(name, load, requires=())``.

        ``name`` is what users pass to ``gc.set_backend`` or ``GRADCORE_BACKEND``.
        ``load`` is a zero-argument callable returning a ``gradcore.Backend``
        instance; it is called once, the first time the backend is used.
        ``requires`` names the modules the backend imports; a backend whose
        modules are missing is listed as unavailable instead of failing.
        """


@dataclass
class BackendSpec:
    """What a plugin registered for one backend, and what became of it.

    A plugin that failed before it could register anything is a spec too, with
    ``plugin_error`` set and nothing to load, so every listing shows it.
    """

    name: str
    load: object
    requires: tuple = ()
    origin: str = BUILT_IN
    instance: object = None
    load_error: str = None
    plugin_error: str = None

    @classmethod
    def failed_plugin(cls, name, origin, reason):
        return cls(name, load=None, origin=origin, plugin_error=reason)

    def missing_requirements(self):
        return [module for module in self.requires if not _installed(module)]

    def unavailable_reason(self):
        """None when the backend can be used, else why not (without importing it)."""
        if self.plugin_error or self.load_error:
            return self.plugin_error or self.load_error
        missing = self.missing_requirements()
        return f"{', '.join(missing)} not installed" if missing else None

    def version(self):
        if self.plugin_error:
            return "-"
        if self.instance is not None:
            return self.instance.version()
        try:
            return importlib.metadata.version(self.requires[0]) if self.requires else "unknown"
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    def try_load(self):
        """None once the backend is loaded (loading it on the first call), else why it cannot be."""
        if self.instance is not None:
            return None
        return self.unavailable_reason() or self._load()

    def _load(self):
        from gradcore.plugin.contract import Backend

        try:
            instance = self.load()
        except Exception as exc:  # noqa: BLE001 - a broken backend must not take the others down
            self.load_error = f"loading failed: {describe_exception(exc)}"
            return self.load_error
        if not isinstance(instance, Backend):
            self.load_error = f"load() returned {type(instance).__name__}, not a gradcore.Backend"
            return self.load_error
        self.instance = instance
        return None


def _installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a dotted name whose parent package is missing, or a malformed name
        return False


def describe_exception(exc):
    """``Class: message`` on one line, short enough for a table cell."""
    text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


# ---- discovery -------------------------------------------------------------------------

class Discovery:
    """The plugin manager, the backends registered so far and the plugins that failed.

    Entry points are loaded one by one, each in its own try, rather than by pluggy's
    load_setuptools_entrypoints, which stops at the first one that fails to load.
    """

    def __init__(self):
        self.manager = pluggy.PluginManager(PROJECT)
        self.manager.add_hookspecs(BackendHookSpec)
        self.autoload = not os.environ.get(AUTOLOAD_ENV_VAR)
        self.registered = {}  # backend name -> BackendSpec, first registration wins
        self.failures = []  # BackendSpec.failed_plugin entries, in the order they happened
        self.loaded = []  # PluginEntryPoints tried, failed ones included
        self.pending = []  # PluginEntryPoints not tried yet (autoload off)
        self.backends = {}  # what discover() returns: the registered backends, then the failures
        self.ready = False

    def run(self):
        from gradcore import backends as builtin_backends

        try:
            self._add_plugin(builtin_backends, "gradcore.backends", BUILT_IN)
            self._scan_distributions()
            self.load_entry_points(None if self.autoload else explicitly_named())
        finally:
            self.ready = True

    def load_entry_points(self, names=None):
        """Load the pending entry points called one of ``names`` (all of them for None)."""
        chosen = [entry for entry in self.pending if names is None or entry.name in names]
        for entry in chosen:
            if entry in self.pending:  # else a plugin loaded before asked for its backend already
                self.pending.remove(entry)
                self.loaded.append(entry)
                self._load_entry_point(entry)

    def is_pending(self, name):
        """Whether asking for backend ``name`` should load the entry point of that name first."""
        return name not in self.backends and any(entry.name == name for entry in self.pending)

    def _scan_distributions(self):
        for dist, entry_points in plugin_distributions():
            origin = origin_of(dist)
            if isinstance(entry_points, Exception):
                reason = f"entry_points.txt cannot be parsed: {describe_exception(entry_points)}"
                self._fail(distribution_name(dist), origin, reason)
            else:
                self.pending += [PluginEntryPoint(entry_point, origin) for entry_point in entry_points]

    def _load_entry_point(self, entry):
        try:
            plugin = entry.entry_point.load()
        except Exception as exc:  # noqa: BLE001 - its module raised on import: report it, load the others
            self._fail(entry.name, entry.origin,
                       f"plugin {entry.name!r} (entry point {entry.name} = {entry.entry_point.value}) "
                       f"failed to load: {describe_exception(exc)}")
            return
        self._add_plugin(plugin, entry.name, entry.origin)

    def _add_plugin(self, plugin, plugin_name, origin):
        try:
            self.manager.register(plugin, name=plugin_name)
        except Exception as exc:  # noqa: BLE001 - pluggy rejects it: a malformed hookimpl, a name taken
            self._fail(plugin_name, origin,
                       f"plugin {plugin_name!r} cannot be registered: {describe_exception(exc)}")
            return
        for impl in self.manager.hook.gradcore_register_backends.get_hookimpls():
            if impl.plugin_name == plugin_name:
                self._call_hook(impl, origin)

    def _call_hook(self, impl, origin):
        # Staged, so that a hook that raises registers nothing: a plugin counts whole or not at all.
        staged = {}

        def register(name, load, requires=()):
            spec = BackendSpec(_checked_name(name), _checked_load(load), _checked_requires(requires), origin)
            holder = self.registered.get(name) or staged.get(name)
            if holder is None:
                staged[name] = spec
            else:  # the first registration keeps the name; the built-ins register first
                self._fail(name, origin, f"plugin {impl.plugin_name!r} (hook {HOOK}) registers backend {name!r}, "
                                         f"already registered by {holder.origin}")

        try:
            impl.function(register=register)
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported as its failure
            self._fail(impl.plugin_name, origin,
                       f"plugin {impl.plugin_name!r} (hook {HOOK}) raised {describe_exception(exc)}")
            return
        self.registered.update(staged)
        self._publish()

    def _fail(self, name, origin, reason):
        self.failures.append(BackendSpec.failed_plugin(name, origin, reason))
        self._publish()

    def _publish(self):
        # A new dict after every change, assigned at once: readers never see one half built, and a
        # plugin that uses gradcore while it loads sees what was registered before it.
        backends = dict(self.registered)
        for failure in self.failures:
            backends[_free_key(backends, failure)] = failure
        self.backends = backends


def _checked_name(name):
    if not isinstance(name, str) or not name:
        raise TypeError(f"a backend name must be a non-empty string, not {name!r}")
    return name


def _checked_load(load):
    if not callable(load):
        raise TypeError(f"load must be callable, not {type(load).__name__}")
    return load


def _checked_requires(requires):
    requires = (requires,) if isinstance(requires, str) else tuple(requires)
    if not all(isinstance(module, str) for module in requires):
        raise TypeError(f"requires must name modules as strings, not {requires!r}")
    return requires


def _free_key(backends, failure):
    """The failure's own name where nothing holds it, else that name qualified by its origin."""
    qualified = f"{failure.name} ({failure.origin})"
    keys = itertools.chain([failure.name, qualified], (f"{qualified} #{n}" for n in itertools.count(2)))
    return next(key for key in keys if key not in backends)


_discovery = None
# Re-entrant: a plugin that uses gradcore while it is being loaded gets the backends found so far
# (the built-ins at least) instead of a deadlock.
_discovery_lock = threading.RLock()


def _current_discovery():
    global _discovery
    found = _discovery
    if found is not None and found.ready:
        return found
    with _discovery_lock:
        if _discovery is None:
            _discovery = Discovery()
            _discovery.run()
        return _discovery


def discover(requested=None):
    """All backends by name, failed plugins as unavailable entries; discovered on the first call.

    With plugin autoload off, the entry point named ``requested`` is loaded first if it was not yet.
    """
    found = _current_discovery()
    if requested is not None and found.is_pending(requested):
        with _discovery_lock:
            found.load_entry_points({requested})
    return found.backends


def describe_autoload():
    """None when every plugin is loaded automatically, else which entry points were loaded and which not."""
    found = _current_discovery()
    if found.autoload:
        return None
    loaded = ", ".join(entry.label() for entry in found.loaded) or "none"
    skipped = ", ".join(entry.label() for entry in found.pending)
    skipped = f"{skipped} (name them in ${PLUGINS_ENV_VAR})" if skipped else "none"
    return f"plugin autoload disabled by ${AUTOLOAD_ENV_VAR}: entry points loaded: {loaded}; not loaded: {skipped}"


def describe_backends():
    """One line per known backend: name, origin and availability."""
    lines = []
    for spec in discover().values():
        reason = spec.unavailable_reason()
        state = "available" if reason is None else f"unavailable: {reason}"
        lines.append(f"  {spec.name} ({spec.origin}): {state}")
    return "\n".join(lines)


def load_backend(name):
    """The Backend object called ``name``, loading it on first use."""
    spec = discover(requested=name).get(name)
    if spec is None:
        autoload = describe_autoload()
        raise BackendUnavailableError(
            f"unknown gradcore backend {name!r}. Known backends:\n{describe_backends()}\n"
            + (f"{autoload}\n" if autoload else "")
            + f"Choose one with gc.set_backend(name) or {ENV_VAR}=name."
        )
    reason = spec.try_load()
    if reason is not None:
        raise BackendUnavailableError(
            f"gradcore backend {name!r} is unavailable ({reason}). Known backends:\n"
            f"{describe_backends()}\n{_remedy(spec)} or choose another with gc.set_backend(name) or {ENV_VAR}=name."
        )
    return spec.instance


def _remedy(spec):
    if spec.plugin_error:
        return f"Fix or uninstall the plugin's distribution ({spec.origin})"
    if spec.origin == BUILT_IN:
        return f"Install what it needs (pip install 'gradcore[{spec.name}]')"
    return f"Install what its distribution ({spec.origin}) needs"


# ---- selection -------------------------------------------------------------------------

_default = None  # the Backend of set_backend, else of GRADCORE_BACKEND read on first use


class _Scopes(threading.local):
    def __init__(self):
        self.stack = []


_scopes = _Scopes()
thread_state.attribute(_scopes, "stack", list)


def get_backend():
    """The Backend object new tensors are created on: scope, then set_backend, then env."""
    global _default
    if _scopes.stack:
        return _scopes.stack[-1]
    if _default is None:
        _default = load_backend(os.environ.get(ENV_VAR) or DEFAULT_BACKEND)
    return _default


def set_backend(name):
    """Make ``name`` the default backend of this process (checked at once)."""
    global _default
    _default = load_backend(name)


@contextlib.contextmanager
def backend_scope(name):
    """Create new tensors on backend ``name`` inside the block (thread-local)."""
    _scopes.stack.append(load_backend(name))
    try:
        yield _scopes.stack[-1]
    finally:
        _scopes.stack.pop()
