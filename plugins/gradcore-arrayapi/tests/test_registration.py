"""The plugin as gradcore sees it: discovered through its entry point, lazy, and named by origin."""

import json
import os
import subprocess
import sys

import gradcore as gc
from gradcore.plugin.discovery import discover


def run_python(code, **env):
    """``code``'s stdout, run in a fresh interpreter (discovery happens once per process)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, **env})
    return result.stdout


def test_the_entry_point_registers_the_backend_with_its_distribution_as_origin():
    spec = discover()["arrayapi"]
    assert spec.origin == "gradcore-arrayapi 0.1.0"
    assert spec.unavailable_reason() is None


def test_discovery_imports_neither_the_backend_nor_the_array_library():
    loaded = json.loads(run_python(
        "import json, sys; from gradcore.plugin.discovery import discover; discover(); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('array_api', 'gradcore_arrayapi')))))"))
    assert loaded == ["gradcore_arrayapi", "gradcore_arrayapi.namespace"]


def test_a_missing_namespace_module_makes_the_backend_unavailable_not_broken():
    out = run_python("from gradcore.plugin.discovery import describe_backends; print(describe_backends())",
                     GRADCORE_ARRAYAPI_NAMESPACE="no_such_array_library")
    assert "arrayapi (gradcore-arrayapi 0.1.0): unavailable: no_such_array_library not installed" in out


def test_the_backend_computes_through_gradcore():
    with gc.backend_scope("arrayapi"):
        x = gc.Variable([1.0, 2.0], dtype=gc.float64)
        with gc.GradientTape() as tape:
            y = gc.reduce_sum(x * x)
        assert tape.gradient(y, x).numpy().tolist() == [2.0, 4.0]
        assert x.read_value()._backend.name == "arrayapi"
