"""The gradient registry: op type -> gradient function, as TensorFlow's.

A gradient function has TensorFlow's signature ``fn(op, *output_grads)`` and
returns one gradient per op input (a single value for a one-input op), None
where an input gets no gradient. ``op`` is the recorded node: ``op.inputs``,
``op.outputs``, ``op.get_attr(name)``, ``op.type``. Rules are written with
gradcore ops, so an outer tape records them and higher orders come for free.
"""

import inspect
import sys

from gradcore.engine.own_code import is_gradcore_module

_rules = {}  # op type -> (gradient function or None for no_gradient, where, registering module)


class RegisterGradient:
    """Decorator registering the gradient function of op type ``op_type`` (a name registered twice is a KeyError)."""

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn):
        written = getattr(fn, "__wrapped__", fn)  # a rule built by a helper (ops/rules.py) names its author
        _register(self._op_type, fn, _caller_location(written), getattr(written, "__module__", "?"))
        return fn


def no_gradient(op_type):
    """Declare ops of ``op_type`` non-differentiable: they give None gradients."""
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    caller = sys._getframe(1)  # not inspect.stack(): that reads every frame's source, slowing `import gradcore`
    _register(op_type, None, f"{caller.f_code.co_filename}:{caller.f_lineno}", caller.f_globals.get("__name__", "?"))


def _register(op_type, fn, location, module):
    if op_type in _rules:
        raise KeyError(
            f"Registering two gradient with name '{op_type}'! (Previous registration was in {_rules[op_type][1]})"
        )
    _rules[op_type] = (fn, location, module)


def _caller_location(fn):
    try:
        return f"{inspect.getsourcefile(fn)}:{fn.__code__.co_firstlineno}"
    except (TypeError, AttributeError):
        return repr(fn)


def get_gradient_function(op_type):
    """The rule for ``op_type``; None for a no_gradient op; LookupError if unregistered, as TF."""
    try:
        return _rules[op_type][0]
    except KeyError:
        raise LookupError(f"gradient registry has no entry for: {op_type}") from None


def registered_op_types(gradcore_only=False):
    """Sorted op types in the registry; with ``gradcore_only``, only those gradcore's own modules register."""
    return sorted(name for name, (_, _, module) in _rules.items() if not gradcore_only or is_gradcore_module(module))


def unregister(op_type):
    """Remove ``op_type`` from the registry (for tests that register temporary rules)."""
    _rules.pop(op_type, None)
