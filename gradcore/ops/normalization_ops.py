"""``tf.nn``'s statistics and normalization: moments and batch_normalization.

Both are compositions of differentiable ops (reductions, arithmetic, rsqrt, cast), so
their gradients at every order come from those ops' rules; no kernel of their own.
"""

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.ops.array_ops import squeeze
from gradcore.ops.math_ops import add, cast, multiply, negative, rsqrt, square, subtract
from gradcore.ops.operands import FLOAT, check_kind, normalize_axis
from gradcore.ops.reduction_ops import reduce_mean

#: Half-precision inputs are reduced in float32 and the results rounded back once, as TF does for float16.
_HALF = frozenset({dtypes.float16, dtypes.bfloat16})


def moments(x, axes, shift=None, keepdims=False, name=None):
    """The mean and the biased variance (mean squared deviation) of ``x`` over ``axes``.

    As ``tf.nn.moments``, whose ``shift`` is accepted and unused. One deliberate difference: TF stops
    the gradient of the mean inside the variance; here it flows, which leaves the first derivative
    unchanged (the deviations sum to zero) and makes the second one the true one, which the
    conformance case checks against finite differences (cases/nn_more_cases.py).
    """
    api = "gc.nn.moments"
    x = to_tensor(x, op_name=api)
    check_kind(api, x, FLOAT)
    axes = normalize_axis(api, axes, x.ndim)
    wide = cast(x, dtypes.float32) if x._dtype in _HALF else x
    mean = reduce_mean(wide, axes, keepdims=True)
    variance = reduce_mean(square(subtract(wide, mean)), axes, keepdims=keepdims)
    if not keepdims:
        mean = squeeze(mean, axes)
    return cast(mean, x._dtype), cast(variance, x._dtype)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) / sqrt(variance + variance_epsilon) * scale + offset; ``offset`` and ``scale`` may be None.

    As ``tf.nn.batch_normalization``, computed as ``x * inv + (offset - mean * inv)`` with
    ``inv = scale * rsqrt(variance + variance_epsilon)`` taken in the statistics' dtype and cast to
    x's, so float32 statistics can normalize a float16 ``x``.
    """
    api = "gc.nn.batch_normalization"
    x = to_tensor(x, op_name=api)
    check_kind(api, x, FLOAT)
    inverse = rsqrt(add(variance, variance_epsilon))
    if scale is not None:
        inverse = multiply(inverse, scale)
    shift = multiply(mean, inverse)
    shift = negative(shift) if offset is None else subtract(offset, shift)
    return add(multiply(x, cast(inverse, x._dtype)), cast(shift, x._dtype))
