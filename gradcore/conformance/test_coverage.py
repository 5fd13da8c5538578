"""The registry and the suite cannot drift apart: every op gradcore registers has a case."""

import gradcore as gc
from gradcore.engine import registry

from .cases import all_cases

# Ops whose conformance lives in a dedicated test file rather than an OpCase (file named).
COVERED_ELSEWHERE = {
    "ReadVariableOp": "test_variables.py",
}


def test_every_registered_op_has_a_conformance_case():
    covered = {op for case in all_cases() for op in case.ops} | set(COVERED_ELSEWHERE)
    registered = set(registry.registered_op_types(gradcore_only=True))
    missing = sorted(registered - covered)
    assert not missing, f"registered ops without a conformance case: {missing}"


def test_cases_name_only_registered_ops():
    registered = set(registry.registered_op_types())
    unknown = sorted({op for case in all_cases() for op in case.ops} - registered)
    assert not unknown, f"cases name ops that are not registered: {unknown}"


def test_backend_implements_every_required_kernel():
    backend = gc.get_backend()
    missing = [k for k in gc.required_kernels() if getattr(type(backend), k, None) is getattr(gc.Backend, k)]
    assert not missing, f"backend {backend.name} lacks required kernels: {missing}"
