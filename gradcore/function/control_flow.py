"""``gc.cond`` and ``gc.while_loop``, as ``tf.cond`` and ``tf.while_loop`` behave in eager TensorFlow 2.

Eagerly both are plain Python control flow: ``cond`` calls only the branch the predicate
picks, ``while_loop`` calls ``cond`` and ``body`` until the predicate is false. Every op a
branch or an iteration runs is recorded on the tapes like any other op, so gradients (of
any order, and of loops whose trip count depends on the data) need no rule of their own.

Where TensorFlow's eager code is loose, gradcore takes the stricter reading its graph mode
and its documentation give:

- a predicate (``pred``, or what ``cond`` returns in a loop) must be a Python bool or a
  scalar bool tensor; TensorFlow's eager mode takes the truth value of any scalar;
- ``body``'s result must have the structure of ``loop_vars`` (lists and tuples count as the
  same sequence, as TensorFlow's graph mode counts them), and the result of the loop always
  has the structure of ``loop_vars``; a body returning one value for a one-element
  list/tuple of loop variables is accepted, as TensorFlow accepts it;
- loop variables are tensors from the start: Python numbers, NumPy values and Variables in
  ``loop_vars`` are converted before the first call, and a Python number ``body`` returns
  takes the dtype of the loop variable it replaces (as a weak scalar does in any op).

Like TensorFlow's eager mode, a loop variable may change shape (or dtype) from one
iteration to the next: ``shape_invariants``, ``parallel_iterations``, ``swap_memory`` and
``name`` change nothing when running eagerly. ``back_prop=False`` cuts the results off
from the tapes, as TensorFlow's graph mode does (``stop_gradient`` on each result).
A negative ``maximum_iterations`` runs no iteration, as in TensorFlow.
"""

import numbers

import numpy as np

from gradcore.engine import nest
from gradcore.engine.convert import check_fits, is_weak, to_tensor
from gradcore.engine.tensor import Tensor
from gradcore.errors import DTypeError, InvalidArgumentError
from gradcore.function.structured import is_traced, traced_cond, traced_while
from gradcore.ops.array_ops import stop_gradient

_COND = "gc.cond"
_WHILE = "gc.while_loop"


def _predicate(pred, api, what):
    """A predicate checked: a Python bool, or a scalar bool tensor (whose value may not be known yet)."""
    if pred is True or pred is False:
        return pred
    if isinstance(pred, np.bool_):
        return bool(pred)
    if isinstance(pred, (numbers.Number, np.generic)):
        raise DTypeError(
            f"{api}: {what} must be a Python bool or a scalar bool tensor, "
            f"got the {type(pred).__name__} {pred!r}; compare it (e.g. `x > 0`) to get a bool"
        )
    if pred is None:
        raise TypeError(f"{api}: {what} must be a Python bool or a scalar bool tensor, got None")
    tensor = to_tensor(pred, op_name=api)
    if not tensor.dtype.is_bool:
        raise DTypeError(
            f"{api}: {what} must be a scalar bool tensor, got dtype {tensor.dtype.name}; "
            f"compare it (e.g. `x > 0`) to get a bool"
        )
    if tensor.shape != ():
        raise InvalidArgumentError(
            f"{api}: {what} must be a scalar bool tensor, got shape {tensor.shape}; "
            f"index one element, or compare a reduction (e.g. `gc.reduce_max(x) > 0`)"
        )
    return tensor


def cond(pred, true_fn=None, false_fn=None, name=None):
    """``tf.cond``: ``true_fn()`` if ``pred`` is true else ``false_fn()``; only that branch runs.

    ``pred`` is a Python bool or a scalar bool tensor. The chosen branch's result is
    returned as it is, nested structures included.
    """
    if true_fn is None:
        raise TypeError(f"{_COND}: 'true_fn' argument required")
    if false_fn is None:
        raise TypeError(f"{_COND}: 'false_fn' argument required")
    if not callable(true_fn):
        raise TypeError(f"{_COND}: 'true_fn' must be callable.")
    if not callable(false_fn):
        raise TypeError(f"{_COND}: 'false_fn' must be callable.")
    pred = _predicate(pred, _COND, "pred")
    if is_traced(pred):
        return traced_cond(pred, true_fn, false_fn)
    if pred if type(pred) is bool else bool(pred):
        return true_fn()
    return false_fn()


# ---- while_loop ------------------------------------------------------------------------------


def _iteration_limit(maximum_iterations):
    """``maximum_iterations`` as a Python int, or None for no limit."""
    if maximum_iterations is None:
        return None
    value = maximum_iterations
    if isinstance(value, (bool, np.bool_)):
        raise DTypeError(f"{_WHILE}: 'maximum_iterations' must be an integer, got the bool {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    tensor = to_tensor(value, op_name=_WHILE)
    if tensor.shape != ():
        raise InvalidArgumentError(f"{_WHILE}: 'maximum_iterations' must be a scalar, got shape {tensor.shape}")
    if not tensor.dtype.is_integer:
        raise DTypeError(f"{_WHILE}: 'maximum_iterations' must be an integer, got dtype {tensor.dtype.name}")
    return int(tensor)


def _describe(value):
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value, key=repr)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a single value ({type(value).__name__})"


def _check_same_structure(expected, actual, path="loop_vars"):
    """Raise ValueError unless ``actual`` nests like ``expected`` (lists and tuples alike)."""
    expected_seq, actual_seq = isinstance(expected, (list, tuple)), isinstance(actual, (list, tuple))
    expected_map, actual_map = isinstance(expected, dict), isinstance(actual, dict)
    if (
        expected_seq != actual_seq
        or expected_map != actual_map
        or (expected_seq and len(expected) != len(actual))
        or (expected_map and set(expected) != set(actual))
    ):
        raise ValueError(
            f"{_WHILE}: the two structures don't have the same nested structure: body's result must "
            f"have the structure of loop_vars; at {path}: expected {_describe(expected)}, "
            f"body returned {_describe(actual)}"
        )
    if expected_seq:
        for i, (e, a) in enumerate(zip(expected, actual)):
            _check_same_structure(e, a, f"{path}[{i}]")
    elif expected_map:
        for key in expected:
            _check_same_structure(expected[key], actual[key], f"{path}[{key!r}]")


def _as_loop_tensor(value, previous=None):
    """A loop variable as a Tensor; a Python number takes the dtype of the value it replaces."""
    if type(value) is Tensor:
        return value
    if previous is not None and is_weak(value) and not isinstance(value, (list, tuple)):
        try:
            check_fits(value, previous.dtype, _WHILE)
        except (DTypeError, InvalidArgumentError):
            pass
        else:
            return to_tensor(value, previous.dtype, op_name=_WHILE)
    return to_tensor(value, op_name=_WHILE)


def while_loop(
    cond,
    body,
    loop_vars,
    shape_invariants=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    maximum_iterations=None,
    name=None,
):
    """``tf.while_loop``: repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``.

    ``loop_vars`` is a (possibly nested) list or tuple whose items are passed to ``cond``
    and ``body`` as arguments, or any other single value (a tensor, a dict ...) passed as
    the only argument. ``body`` returns new values in the same structure. At most
    ``maximum_iterations`` iterations run when it is given. Returns the final loop
    variables, as tensors, in the structure of ``loop_vars``.
    """
    if not callable(cond):
        raise TypeError(f"{_WHILE}: 'cond' must be callable.")
    if not callable(body):
        raise TypeError(f"{_WHILE}: 'body' must be callable.")
    if (
        isinstance(parallel_iterations, bool)
        or not isinstance(parallel_iterations, numbers.Integral)
        or parallel_iterations < 1
    ):
        raise TypeError(f"{_WHILE}: 'parallel_iterations' must be a positive integer, got {parallel_iterations!r}.")
    limit = _iteration_limit(maximum_iterations)
    as_arguments = isinstance(loop_vars, (list, tuple))
    if as_arguments and not loop_vars:
        raise ValueError(f"{_WHILE}: 'loop_vars' must be provided (got an empty {type(loop_vars).__name__}).")

    flat = [_as_loop_tensor(v) for v in nest.flatten(loop_vars)]
    current = nest.pack_sequence_as(loop_vars, flat)
    iterations = 0
    while limit is None or iterations < limit:
        keep_going = _predicate(cond(*current) if as_arguments else cond(current), _WHILE, "the result of cond")
        if is_traced(keep_going):  # from here on the function computes the trip count: one structured step
            remaining = None if limit is None else limit - iterations
            return traced_while(cond, body, current, remaining, as_arguments, _as_loop_tensor, _check_same_structure)
        if not (keep_going if type(keep_going) is bool else bool(keep_going)):
            break
        result = body(*current) if as_arguments else body(current)
        if as_arguments and not isinstance(result, (list, tuple)):
            result = [result]  # one value for a one-element loop_vars, as TensorFlow allows
        _check_same_structure(loop_vars, result)
        flat = [_as_loop_tensor(v, prev) for v, prev in zip(nest.flatten(result), flat)]
        current = nest.pack_sequence_as(loop_vars, flat)
        iterations += 1

    if not back_prop:
        current = nest.pack_sequence_as(loop_vars, [stop_gradient(t) for t in flat])
    return current
