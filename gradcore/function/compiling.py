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
    if backend is not None and not program.has_nested_checks():  # such checks must stop the call on the host
        pure = program.replay(inline_checks=False)
        compiled = backend.compile_function(pure, jit_compile)
    if compiled is None or compiled is pure:
        replay = program.replay(inline_checks=True)
        return lambda *arrays: replay(*arrays)[:2]
    checks = [host_check(step.check, step.backend) for step in program.checks]

    def run(*arrays):
        outputs, written, checked = compiled(*arrays)
        for check, values in zip(checks, checked_groups(program, checked)):
            check(*values)  # before the caller commits the variables: a failed check changes nothing
        return outputs, written

    return run


def checked_groups(program, checked):
    """The flat checked values, regrouped per check."""
    groups, start = [], 0
    for step in program.checks:
        groups.append(checked[start:start + len(step.args)])
        start += len(step.args)
    return groups
