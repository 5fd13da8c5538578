"""From a recorded program to the callable a concrete function runs: the backend's compiler, or the lean replay.

A backend declares its compile capability as the optional contract method
``compile_function(fn, jit_compile)`` (gradcore/plugin/contract.py); the default hands the
function back unchanged, so a backend without a compiler, a third-party one included,
gets the lean replay (docs/function.md, "Compiling").
"""

import logging

from gradcore.function.program import host_check

logger = logging.getLogger("gradcore")


def compile_program(program, jit_compile):
    """``run(*arrays) -> (outputs, new variable values)`` for ``program``, checks included."""
    backend = program.backend
    compiled = pure = None
    # Checks inside branches must stop the call on the host, a host call (a collective between
    # workers) must run between the kernels, and one computation cannot span several devices: these
    # replay the program as Python (docs/function.md, "Host calls").
    if backend is not None and not program.has_nested_checks() and not program.replayed:
        pure = program.replay(inline_checks=False)
        compiled = backend.compile_function(pure, jit_compile)
    if compiled is None or compiled is pure:
        replay = program.replay(inline_checks=True)
        return lambda *arrays: replay(*arrays)[:2]
    checks, start = [], 0
    for step in program.checks:  # each check and the slice of the returned values it checks
        checks.append((host_check(step.check, step.backend), slice(start, start + len(step.args))))
        start += len(step.args)
    if not checks:
        return lambda *arrays: compiled(*arrays)[:2]

    def run(*arrays):
        outputs, written, checked = compiled(*arrays)
        for check, values in checks:
            check(*checked[values])  # before the caller commits the variables: a failed check changes nothing
        return outputs, written

    return run
