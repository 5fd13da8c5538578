"""Special functions: lgamma, digamma, polygamma, each the derivative of the one before.

The gradient of each is the next one (d lgamma = digamma, d digamma = polygamma(1, .),
d polygamma(a, .) = polygamma(a + 1, .)), so every order of derivative is exact.
"""

import math

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.registry import RegisterGradient
from gradcore.errors import DTypeError
from gradcore.ops.factories import binary_op, unary_op
from gradcore.ops.math_ops import (
    add, equal, floor, floormod, greater_equal, less_equal, logical_and, multiply, negative, where, zeros_like_raw,
)
from gradcore.ops.operands import FLOAT, check_kind, operands
from gradcore.ops.rules import unbroadcast, unary_rule

lgamma = unary_op("Lgamma", "lgamma", FLOAT, api="gc.math.lgamma", doc="log|Gamma(x)|, as ``tf.math.lgamma``.")
_digamma = unary_op("Digamma", "digamma", FLOAT, api="gc.math.digamma")
# The kernel sees only whole orders a >= 0 (polygamma below sends NaN elsewhere itself).
_polygamma = binary_op("Polygamma", "polygamma", FLOAT, api="gc.math.polygamma")

#: TensorFlow's Polygamma kernel takes float32 and float64 only.
_POLYGAMMA_DTYPES = frozenset({dtypes.float32, dtypes.float64})


def digamma(x, name=None):
    """d lgamma(x) / dx, as ``tf.math.digamma``: NaN at 0 and the negative integers, where the
    libraries disagree (-inf, NaN), so the core decides."""
    x = to_tensor(x, op_name="gc.math.digamma")
    check_kind("gc.math.digamma", x, FLOAT)
    return where(_pole(x), math.nan, _digamma(x))


def _pole(x):
    """Where x is 0 or a negative integer: the poles of the gamma family."""
    return logical_and(equal(x, floor(x)), less_equal(x, 0))


def polygamma(a, x, name=None):
    """The a-th derivative of digamma at x, as ``tf.math.polygamma``: ``a`` holds whole numbers >= 0
    (floats of x's dtype, broadcasting with it); NaN where it does not, as TensorFlow."""
    a, x = operands(a, x, "gc.math.polygamma")
    check_kind("gc.math.polygamma", a, FLOAT)
    if a.dtype not in _POLYGAMMA_DTYPES:
        raise DTypeError(f"gc.math.polygamma: expected float32 or float64, got {a.dtype.name} (shapes {a.shape}, "
                         f"{x.shape}); cast with gc.cast")
    order = logical_and(equal(a, floor(a)), greater_equal(a, 0))
    value = _polygamma(where(order, a, 0.0), x)
    # At a pole: digamma's NaN for a = 0, else (-1)^(a+1) a! times zeta's +inf, as TensorFlow.
    odd = equal(floormod(a, 2.0), 1.0)
    infinite = add(zeros_like_raw(value), math.inf)
    at_pole = where(equal(a, 0.0), math.nan, where(odd, infinite, negative(infinite)))
    return where(order, where(_pole(x), at_pole, value), math.nan)


unary_rule("Lgamma", lambda dy, x, y: multiply(dy, digamma(x)))
unary_rule("Digamma", lambda dy, x, y: multiply(dy, _polygamma(1.0, x)))  # trigamma


@RegisterGradient("Polygamma")
def _polygamma_grad(op, dy):
    """d/dx polygamma(a, x) = polygamma(a + 1, x); none into the order a, as TensorFlow."""
    a, x = op.inputs
    return None, unbroadcast(multiply(dy, _polygamma(add(a, 1), x)), x.shape)
