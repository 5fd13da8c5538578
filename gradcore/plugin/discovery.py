"""Backend discovery and selection through pluggy.

Backends announce themselves through one collector hook,
``gradcore_register_backends(register)``, called once at discovery: the
built-ins from ``gradcore.backends``, third parties through the entry-point
group ``gradcore``. Registering is cheap and imports nothing; a backend's
``load`` runs only when that backend is first used, so ``import gradcore``
never imports torch or jax.
"""

import contextlib
import importlib.metadata
import importlib.util
import os
import threading
from dataclasses import dataclass, field

import pluggy

from gradcore.engine import thread_state
from gradcore.errors import BackendError, BackendUnavailableError

PROJECT = "gradcore"
ENV_VAR = "GRADCORE_BACKEND"
DEFAULT_BACKEND = "numpy"

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
    """What a plugin registered for one backend, and what became of it."""

    name: str
    load: object
    requires: tuple = ()
    origin: str = "built-in"
    instance: object = None
    load_error: str = field(default=None)

    def missing_requirements(self):
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def unavailable_reason(self):
        """None when the backend can be used, else why not (without importing it)."""
        if self.load_error:
            return self.load_error
        missing = self.missing_requirements()
        return f"{', '.join(missing)} not installed" if missing else None

    def version(self):
        if self.instance is not None:
            return self.instance.version()
        try:
            return importlib.metadata.version(self.requires[0]) if self.requires else "unknown"
        except importlib.metadata.PackageNotFoundError:
            return "not installed"


_specs = None
_discovery_lock = threading.Lock()


def _origin_of(plugin, distributions):
    dist = distributions.get(id(plugin))
    if dist is None:
        return "built-in"
    return f"{dist.metadata['name']} {dist.version}"


def discover():
    """All registered backends by name, discovering them on first call."""
    global _specs
    if _specs is not None:
        return _specs
    with _discovery_lock:
        if _specs is None:
            _specs = _collect_specs()
    return _specs


def _collect_specs():
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(BackendHookSpec)
    from gradcore import backends as builtin_backends

    manager.register(builtin_backends, name="gradcore.backends")
    manager.load_setuptools_entrypoints(PROJECT)
    distributions = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    specs = {}
    for impl in manager.hook.gradcore_register_backends.get_hookimpls():
        origin = _origin_of(impl.plugin, distributions)

        def register(name, load, requires=(), _origin=origin, _plugin=impl.plugin_name):
            if name in specs:
                raise BackendError(
                    f"plugin {_plugin!r} (hook gradcore_register_backends) registers backend "
                    f"{name!r}, already registered by {specs[name].origin}"
                )
            specs[name] = BackendSpec(name, load, tuple(requires), _origin)

        impl.function(register=register)
    return specs


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
    specs = discover()
    spec = specs.get(name)
    if spec is None:
        raise BackendUnavailableError(
            f"unknown gradcore backend {name!r}. Known backends:\n{describe_backends()}\n"
            f"Choose one with gc.set_backend(name) or {ENV_VAR}=name."
        )
    if spec.instance is None:
        reason = spec.unavailable_reason()
        if reason is None:
            reason = _try_load(spec)
        if reason is not None:
            raise BackendUnavailableError(
                f"gradcore backend {name!r} is unavailable ({reason}). Known backends:\n"
                f"{describe_backends()}\nInstall what it needs (pip install 'gradcore[{name}]') "
                f"or choose another with gc.set_backend(name) or {ENV_VAR}=name."
            )
    return spec.instance


def _try_load(spec):
    from gradcore.plugin.contract import Backend

    try:
        instance = spec.load()
    except Exception as exc:  # a broken plugin must not take the others down
        spec.load_error = f"loading failed: {type(exc).__name__}: {exc}"
        return spec.load_error
    if not isinstance(instance, Backend):
        spec.load_error = f"load() returned {type(instance).__name__}, not a gradcore.Backend"
        return spec.load_error
    spec.instance = instance
    return None


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
