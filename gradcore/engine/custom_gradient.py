"""``gc.custom_gradient``: a function that brings its own gradient, as ``tf.custom_gradient``.

The decorated ``f(*args, **kwargs)`` returns ``(outputs, grad_fn)``. ``f`` runs
with every tape paused; the call is then recorded as ONE node whose rule is
``grad_fn``, with the positional tensor arguments (and the variables ``f`` read
that were not arguments) as its inputs. ``grad_fn`` runs on the backward pass,
where any outer tape records its ops, so second derivatives work
(test_custom_gradient.py::test_second_order_through_a_custom_gradient).
"""

import functools
import inspect

from gradcore.engine import nest
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import paused, record, state
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable


def custom_gradient(f=None):
    """Decorator: ``f(*x) -> (y, grad_fn)`` with ``grad_fn(*dy[, variables]) -> dx | (dx, dvars)``."""
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        inputs = [to_tensor(a) if isinstance(a, Variable) else a for a in args]
        watcher = []
        state.variable_watchers.append(watcher)
        try:
            with paused():
                result, grad_fn = f(*inputs, **kwargs)
        finally:
            state.variable_watchers.remove(watcher)
        input_tensors = [x for x in inputs if isinstance(x, Tensor)]
        variables = _variables_read(watcher, args)
        if variables and not _accepts_variables(grad_fn):
            raise TypeError(
                "@gc.custom_gradient grad_fn must accept keyword argument 'variables', since function "
                f"uses variables: {variables}"
            )  # as TF: raised at call time, even with no tape active
        flat = [to_tensor(y) for y in nest.flatten(result)]
        outputs = tuple(Tensor(y._value, y._dtype, y._backend) for y in flat)
        if state.recording:
            for tape in state.recording:  # f ran paused, so let tapes see the variables it read
                for v in variables:
                    if tape._watch_accessed_variables:
                        tape._watch_variable(v)
            rule = _rule(grad_fn, len(input_tensors), variables, f.__name__)
            record(f"CustomGradient-{f.__name__}", tuple(input_tensors) + tuple(variables), outputs, None, rule)
        return nest.pack_sequence_as(result, list(outputs))

    return decorated


def _accepts_variables(grad_fn):
    try:
        parameters = inspect.signature(grad_fn).parameters
    except (TypeError, ValueError):
        return True
    return "variables" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _variables_read(watcher, args):
    """Trainable variables ``f`` read that were not passed as arguments (arguments are inputs), first-read order."""
    passed = {id(a) for a in args if isinstance(a, Variable)}
    seen, variables = set(), []
    for v in watcher:
        if v.trainable and id(v) not in passed and id(v) not in seen:
            seen.add(id(v))
            variables.append(v)
    return variables


def _rule(grad_fn, num_inputs, variables, name):
    def rule(op, *dys):
        if variables:
            input_grads, variable_grads = grad_fn(*dys, variables=variables)
            variable_grads = list(variable_grads)
            if len(variable_grads) != len(variables):
                raise ValueError("Must return gradient for each variable from @custom_gradient grad_fn.")
        else:
            input_grads, variable_grads = grad_fn(*dys), []
        input_grads = list(input_grads) if isinstance(input_grads, (list, tuple)) else [input_grads]
        if len(input_grads) != num_inputs:
            raise ValueError(
                f"custom_gradient function expected to return {num_inputs} gradients, but returned "
                f"{len(input_grads)} instead."
            )
        grads = input_grads + variable_grads
        return [None if g is None else to_tensor(g, x._dtype if not isinstance(g, Tensor) else None, x._backend)
                for g, x in zip(grads, op.inputs)]

    rule.__name__ = f"custom_gradient_rule_{name}"
    return rule
