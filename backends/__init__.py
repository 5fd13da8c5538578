"""The backends that ship with gradcore, registered through the same hook as third-party ones."""

from importlib import import_module

from gradcore.plugin.discovery import hookimpl


def _loader(module, cls):
    return lambda: getattr(import_module(f"{__name__}.{module}"), cls)()


@hookimpl
def gradcore_register_backends(register):
    register("numpy", load=_loader("numpy_backend", "NumpyBackend"), requires=("numpy", "ml_dtypes"))
    register("torch", load=_loader("torch_backend", "TorchBackend"), requires=("torch",))
    register("jax", load=_loader("jax_backend", "JaxBackend"), requires=("jax",))
