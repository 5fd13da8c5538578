"""``gc.math``: TensorFlow's ``tf.math`` names."""

from gradcore.ops.math_ops import (  # noqa: F401
    abs, add, add_n, cast, divide_no_nan, ceil, cos, divide, equal, erf, exp, expm1, floor, floordiv, floormod,
    greater, greater_equal, is_finite, is_nan, less, less_equal, log, log1p, logical_and,
    logical_not, logical_or, logical_xor, maximum, minimum, multiply, negative, not_equal, pow,
    reciprocal, round, rsqrt, sigmoid, sign, sin, sqrt, square, squared_difference, subtract, tan,
    tanh,
)
from gradcore.ops.reduction_ops import (  # noqa: F401
    argmax, argmin, reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_std,
    reduce_sum, reduce_variance,
)
from gradcore.ops.indexing_ops import unsorted_segment_sum  # noqa: F401
