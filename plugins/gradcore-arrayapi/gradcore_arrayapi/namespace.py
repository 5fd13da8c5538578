"""Which Array API namespace the backend runs on, and its dtypes.

The user names a module in ``GRADCORE_ARRAYAPI_NAMESPACE`` (default ``array_api_strict``).
We never use that module's functions directly: we make one small array with it and ask
``array_api_compat.array_namespace`` for the standard namespace of that array. So
``numpy`` or ``torch`` come back wrapped by array-api-compat (their standard spelling),
and a library that already conforms (``array_api_strict``) comes back as itself.
"""

import importlib
import importlib.metadata
import os
from dataclasses import dataclass

ENV_VAR = "GRADCORE_ARRAYAPI_NAMESPACE"
DEFAULT_NAMESPACE = "array_api_strict"

#: The dtypes of the standard that gradcore has too. float16 and bfloat16 are not in the
#: standard, so this backend declares them absent even where a library (numpy, torch) has them.
STANDARD_DTYPES = ("float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


def namespace_module_name():
    """The module the user chose; reading it imports nothing (registration must stay cheap)."""
    return os.environ.get(ENV_VAR) or DEFAULT_NAMESPACE


@dataclass(frozen=True)
class Namespace:
    """What the backend needs to know about its namespace."""

    module_name: str
    xp: object  # the standard namespace: every kernel calls only its functions
    device: object  # the namespace's default device, which gradcore calls "cpu"
    array_type: type  # the type of the namespace's arrays, to tell them from host values
    version: str


def load_namespace(module_name=None):
    """Import the chosen module and find its standard namespace."""
    import array_api_compat

    module_name = module_name or namespace_module_name()
    module = importlib.import_module(module_name)
    sample = module.asarray([0])
    return Namespace(
        module_name=module_name,
        xp=array_api_compat.array_namespace(sample),
        device=array_api_compat.device(sample),
        array_type=type(sample),
        version=_version_of(module, module_name),
    )


def _version_of(module, module_name):
    version = getattr(module, "__version__", None)
    if version is not None:
        return str(version)
    try:
        return importlib.metadata.version(module_name.partition(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
