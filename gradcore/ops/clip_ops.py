"""Clipping by value and by norm, as TensorFlow's ``clip_ops`` (checked in gradcore/conformance/test_clipping.py).

Every function is a composite of differentiable ops, built the way TF builds
it, so the gradients (including the ones on a bound and at a zero norm) are
TF's. Inputs are dense tensors: gradcore has no IndexedSlices (docs/deviations.md,
"Gradients are always dense").
"""

from collections.abc import Sequence

from gradcore.engine.convert import to_tensor
from gradcore.errors import ShapeError
from gradcore.ops.creation_ops import constant
from gradcore.ops.math_ops import (
    add,
    add_n,
    cast,
    divide,
    greater,
    maximum,
    minimum,
    multiply,
    sqrt,
    square,
    subtract,
    where,
)
from gradcore.ops.operands import FLOAT, broadcast_shape, check_kind, operands
from gradcore.ops.reduction_ops import reduce_sum


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """``t`` with values below ``clip_value_min`` raised to it and above ``clip_value_max`` lowered to it.

    maximum(minimum(t, max), min), as TF: NaN passes through, min > max gives min,
    a value on a bound passes its gradient to ``t``, and bound gradients sum over
    broadcasting. Bounds must not broadcast ``t`` to a bigger shape.
    """
    api = "gc.clip_by_value"
    x, high = operands(t, clip_value_max, api)
    x, low = operands(x, clip_value_min, api)
    _check_keeps_shape(api, x, high, "clip_value_max")
    _check_keeps_shape(api, x, low, "clip_value_min")
    return maximum(minimum(x, high), low)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t * clip_norm / max(||t||_2, clip_norm), the norm taken over ``axes`` (all by default).

    A negative ``clip_norm`` counts as 0. The norm goes through TF's two-``where``
    trick, so a zero ``t`` has value 0 and a finite gradient.
    """
    api = "gc.clip_by_norm"
    x = _float_tensor(api, t)
    return _clip_by_norm(x, _clip_norm(api, clip_norm, x), axes)


def clip_by_average_norm(t, clip_norm, name=None):
    """clip_by_norm(t, clip_norm * n) with n the number of elements of ``t`` (TF 1's op; see docs/deviations.md)."""
    api = "gc.clip_by_average_norm"
    x = _float_tensor(api, t)
    return _clip_by_norm(x, _clip_norm(api, clip_norm, x) * x.size, None)


def _float_tensor(api, t):
    x = to_tensor(t, op_name=api)
    check_kind(api, x, FLOAT)
    return x


def _clip_norm(api, clip_norm, x):
    """max(clip_norm, 0): a Python float stays one (exact in any dtype), a tensor is cast to x's dtype."""
    if isinstance(clip_norm, (int, float)):
        return max(float(clip_norm), 0.0)
    clip = cast(to_tensor(clip_norm, backend=x._backend, op_name=api), x.dtype)
    _check_keeps_shape(api, x, clip, "clip_norm")
    return maximum(clip, 0.0)


def _clip_by_norm(x, clip, axes):
    l2sum = reduce_sum(square(x), axes, keepdims=True)
    positive = greater(l2sum, 0)
    # sqrt only ever sees positive values, so its gradient is never inf * 0 = NaN at a zero t.
    l2norm = where(positive, sqrt(where(positive, l2sum, 1.0)), l2sum)
    return divide(multiply(x, clip), maximum(l2norm, clip))


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every element of every tensor in ``t_list``); None entries are ignored."""
    tensors = [to_tensor(t, op_name="gc.linalg.global_norm") for t in _sequence("gc.linalg.global_norm", t_list)
               if t is not None]
    if not tensors:
        return constant(0.0)
    return sqrt(add_n([reduce_sum(square(t)) for t in tensors]))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """(list of t * clip_norm / max(global_norm, clip_norm), global_norm), None entries kept.

    An infinite or NaN norm turns every output into NaN, as in TF, rather than silently into zeros.
    """
    api = "gc.clip_by_global_norm"
    t_list = list(_sequence(api, t_list))
    norm = global_norm(t_list) if use_norm is None else to_tensor(use_norm, op_name=api)
    norm, clip = operands(norm, clip_norm, api)
    # norm - norm is 0 for a finite norm and NaN for inf or NaN (TF's trick).
    scale = add(divide(clip, maximum(norm, clip)), subtract(norm, norm))
    return [None if t is None else _scaled(api, t, scale) for t in t_list], norm


def _scaled(api, t, scale):
    x = to_tensor(t, op_name=api)
    return multiply(x, scale if scale.dtype is x.dtype else cast(scale, x.dtype))


def _sequence(api, t_list):
    if not isinstance(t_list, Sequence) or isinstance(t_list, str):
        raise TypeError(f"{api}: `t_list` should be a sequence of tensors. Received {type(t_list)}.")
    return t_list


def _check_keeps_shape(api, x, other, what):
    """TF refuses a bound or clip_norm that would broadcast ``t`` to a bigger shape."""
    if other.shape != x.shape and broadcast_shape(x.shape, other.shape, api) != x.shape:
        raise ShapeError(
            f"{api}: {what} of shape {other.shape} would broadcast t of shape {x.shape} to "
            f"{broadcast_shape(x.shape, other.shape, api)}; give it a shape that broadcasts to {x.shape}"
        )
