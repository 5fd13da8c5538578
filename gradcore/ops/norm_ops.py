"""Norms: gc.norm (vector and matrix norms, as tf.norm) and l2_normalize, composed of other ops.

The Euclidean norm and the p-norms take their root only of positive sums, so the
gradient at a zero vector is 0 where TensorFlow's is NaN (docs/linalg.md, "Norms").
"""

import math
import numbers

from gradcore.engine.convert import to_tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import reshape, squeeze, transpose
from gradcore.ops.decomposition_ops import svd
from gradcore.ops.math_ops import abs, greater, maximum, multiply, pow, rsqrt, sqrt, square, where, zeros_like_raw
from gradcore.ops.operands import FLOAT, check_kind, normalize_single_axis
from gradcore.ops.reduction_ops import reduce_max, reduce_sum

def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    """The ``ord`` norm of ``tensor``: of all its elements as one vector (``axis`` None), of vectors along
    an int ``axis``, or of matrices over a pair of axes. Vector ords: 'euclidean', 1, 2, inf or any
    positive real p; matrix ords: 'euclidean' / 'fro' (Frobenius), 1, 2 (largest singular value), inf."""
    api = "gc.norm"
    x = to_tensor(tensor, op_name=api)
    check_kind(api, x, FLOAT)
    keepdims = bool(keepdims)
    if isinstance(axis, (list, tuple)) and len(axis) == 2:
        axes = _matrix_axes(api, axis, x.ndim)
        if not _is_matrix_ord(ord):
            raise InvalidArgumentError(f"{api}: 'ord' must be a supported matrix norm in "
                                       f"['euclidean', 'fro', 1, 2, inf], got {ord!r}")
        result = _matrix_norm(x, ord, axes)
    else:
        if not (axis is None or isinstance(axis, int)):
            raise InvalidArgumentError(f"{api}: 'axis' must be None, an integer, or a tuple of 2 unique "
                                       f"integers, got {axis!r}")
        if not (ord == "euclidean" or _is_positive_real(ord)):
            raise InvalidArgumentError(f"{api}: 'ord' must be a supported vector norm ('euclidean' or a "
                                       f"positive real such as 1, 2, inf), got {ord!r}")
        axes = tuple(range(x.ndim)) if axis is None else (normalize_single_axis(api, axis, x.ndim),)
        result = _vector_norm(x, ord, axes)
    return result if keepdims else squeeze(result, list(axes))


def _is_matrix_ord(ord):
    if isinstance(ord, str):
        return ord in ("euclidean", "fro")
    return _is_positive_real(ord) and ord in (1, 2, math.inf)


def _is_positive_real(ord):
    return isinstance(ord, numbers.Real) and not isinstance(ord, bool) and ord > 0


def _matrix_axes(api, axis, ndim):
    if not all(isinstance(a, int) for a in axis):
        raise InvalidArgumentError(f"{api}: 'axis' must be None, an integer, or a tuple of 2 unique integers, "
                                   f"got {axis!r}")
    axes = tuple(normalize_single_axis(api, a, ndim) for a in axis)
    if axes[0] == axes[1]:
        raise InvalidArgumentError(f"{api}: the two axes of a matrix norm must differ, got {axis!r}")
    return axes


def _vector_norm(x, ord, axes):
    if ord in ("euclidean", 2):
        return _root_of_positive(reduce_sum(square(x), axes, keepdims=True), 2)
    magnitude = abs(x)
    if ord == 1:
        return reduce_sum(magnitude, axes, keepdims=True)
    if ord == math.inf:
        return reduce_max(magnitude, axes, keepdims=True)
    return _root_of_positive(reduce_sum(pow(magnitude, float(ord)), axes, keepdims=True), ord)


def _matrix_norm(x, ord, axes):
    rows, columns = axes
    if ord in ("euclidean", "fro"):
        return _root_of_positive(reduce_sum(square(x), axes, keepdims=True), 2)
    if ord == 1:  # the largest column sum
        return reduce_max(reduce_sum(abs(x), rows, keepdims=True), columns, keepdims=True)
    if ord == math.inf:  # the largest row sum
        return reduce_max(reduce_sum(abs(x), columns, keepdims=True), rows, keepdims=True)
    others = [i for i in range(x.ndim) if i not in axes]
    singular_values = svd(transpose(x, others + [rows, columns]), compute_uv=False)
    largest = reduce_max(singular_values, -1)
    return reshape(largest, tuple(1 if i in axes else n for i, n in enumerate(x.shape)))


def _root_of_positive(total, p):
    """total^(1/p), with the root only ever taken of positive values: gradient 0, not NaN, at a zero total."""
    positive = greater(total, 0)
    safe = where(positive, total, 1.0)
    root = sqrt(safe) if p == 2 else pow(safe, 1.0 / p)
    return where(positive, root, zeros_like_raw(total))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x^2, axis), epsilon)), as ``tf.math.l2_normalize`` (``dim`` is its old name for axis)."""
    api = "gc.math.l2_normalize"
    x = to_tensor(x, op_name=api)
    check_kind(api, x, FLOAT)
    if dim is not None:
        if axis is not None:
            raise InvalidArgumentError(f"{api}: give axis or its deprecated name dim, not both")
        axis = dim
    square_sum = reduce_sum(square(x), axis, keepdims=True)
    return multiply(x, rsqrt(maximum(square_sum, epsilon)))
