"""gradcore-arrayapi: a gradcore backend over any Array API standard namespace.

This module is what the entry point ``gradcore = arrayapi`` (pyproject.toml) names, so
gradcore imports it at discovery, whatever backend the user picks. That is why it holds
nothing but the registration hook and imports nothing heavy: the backend class, the
array library and array-api-compat are imported only when the backend is first used.
"""

import gradcore

from gradcore_arrayapi.namespace import namespace_module_name

__version__ = "0.1.0"


def _load():
    # Imported here, not at the top: loading is the first moment the array library is needed.
    from gradcore_arrayapi.backend import ArrayAPIBackend

    return ArrayAPIBackend()


@gradcore.hookimpl
def gradcore_register_backends(register):
    # ``requires`` names top-level modules only: gradcore checks them with importlib.util.find_spec,
    # which imports the parent package of a dotted name (and "jax.numpy" would import all of jax).
    register(
        "arrayapi",
        load=_load,
        requires=("array_api_compat", namespace_module_name().partition(".")[0]),
    )
