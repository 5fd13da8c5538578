"""Cases for the inverse trigonometric and hyperbolic functions, atan2, xlogy/xdivy, the gamma
family, any/all, norms and counts, and the scans (math_ops, special_ops, reduction_ops, scan_ops).

Most run in float32 and float64 only: the half-precision paths are the same kernels, checked
once on asin and lgamma. Values at the edges (zeros for xlogy, poles, non-whole orders, empty
axes) and the options of bincount are in test_math_more.py, cosh's values in sinh's gradient.
Inputs keep away from each function's poles and branch points, so central differences measure
the true derivative; cumprod's inputs hold zeros on purpose (its
gradient must not divide by them, and a product is smooth there).
"""

import numpy as np
from scipy import special

import gradcore as gc

from . import FLOATS, OpCase, normal, uniform

F32_F64 = ("float32", "float64")


def _fixed(*arrays):
    return lambda rng: [np.asarray(a) for a in arrays]


def _off_integers(low, high, *shapes):
    """Floats in [low, high) at least 0.2 from every integer: away from the gamma family's poles."""
    return lambda rng: [rng.integers(low, high, size=s) + rng.uniform(0.2, 0.8, size=s) for s in shapes]


def _cumulative(scan, axis, exclusive=False, reverse=False):
    """A NumPy reference of TensorFlow's cumsum/cumprod options: flip, scan, shift in the identity."""
    identity = 1 if scan is np.cumprod else 0

    def reference(x):
        y = np.flip(x, axis) if reverse else x
        y = scan(y, axis=axis)
        if exclusive:
            y = np.concatenate([np.full_like(np.take(y, [0], axis), identity), np.delete(y, -1, axis)], axis)
        return np.flip(y, axis) if reverse else y

    return reference


def _polygamma_reference(a, x):
    whole = (a == np.floor(a)) & (a >= 0)
    return np.where(whole, special.polygamma(np.where(whole, a, 0).astype(int), x), np.nan)


# A zero in row 0 and two in row 1: the product's gradient is exact there only without division.
WITH_ZEROS = [[0.7, 0.0, -1.3, 1.1], [0.0, 1.2, 0.0, -0.8]]
WHOLE_ORDERS = [[0.0, 1.0, 2.0], [3.0, 1.0, 0.0]]

UNARY = [  # (name, op types, gc function, reference, inputs, dtypes): differentiable
    ("asin", ("Asin",), gc.math.asin, np.arcsin, uniform(-0.9, 0.9, (2, 3)), FLOATS),
    ("acos", ("Acos",), gc.math.acos, np.arccos, uniform(-0.9, 0.9, (2, 3)), F32_F64),
    ("atan", ("Atan",), gc.math.atan, np.arctan, uniform(-4.0, 4.0, (2, 3)), F32_F64),  # every reduction range
    ("sinh", ("Sinh", "Cosh"), gc.math.sinh, np.sinh, normal((2, 3)), F32_F64),
    ("asinh", ("Asinh",), gc.math.asinh, np.arcsinh, lambda rng: [rng.normal(size=(2, 3)) * 3], F32_F64),
    ("acosh", ("Acosh",), gc.math.acosh, np.arccosh, uniform(1.2, 4.0, (2, 3)), F32_F64),
    ("atanh", ("Atanh",), gc.math.atanh, np.arctanh, uniform(-0.8, 0.8, (2, 3)), F32_F64),
    ("lgamma", ("Lgamma", "Digamma"), gc.math.lgamma, special.gammaln, _off_integers(-3, 4, (2, 3)), FLOATS),
    ("digamma", ("Digamma", "Polygamma"), gc.math.digamma, special.psi, _off_integers(-3, 4, (2, 3)), F32_F64),
]

DIFFERENTIABLE = [
    OpCase("atan2", ("Atan2",), gc.math.atan2, np.arctan2, normal((3, 1), (4,)), grad=(0, 1), dtypes=F32_F64),
    OpCase("xlogy", ("Mul", "Log", "SelectV2"), gc.math.xlogy, special.xlogy,
           lambda rng: [rng.normal(size=(2, 3)), rng.uniform(0.5, 3.0, size=(3,))], grad=(0, 1), dtypes=F32_F64),
    OpCase("xdivy", ("RealDiv", "SelectV2"), gc.math.xdivy, np.divide,
           lambda rng: [rng.normal(size=(2, 3)), rng.uniform(0.5, 3.0, size=(3,))], grad=(0, 1), dtypes=F32_F64),
    OpCase("polygamma", ("Polygamma",), gc.math.polygamma, _polygamma_reference,
           lambda rng: [np.asarray(WHOLE_ORDERS), _off_integers(-2, 4, (2, 3))(rng)[0]], grad=(1,), dtypes=F32_F64),
    OpCase("reduce_euclidean_norm-axis-1", ("Sqrt", "Sum", "Square"),
           lambda x: gc.math.reduce_euclidean_norm(x, axis=1), lambda x: np.sqrt(np.sum(x * x, axis=1)),
           normal((3, 4)), dtypes=F32_F64),
    OpCase("cumsum-exclusive-reverse", ("Cumsum",), lambda x: gc.math.cumsum(x, -1, exclusive=True, reverse=True),
           _cumulative(np.cumsum, 1, exclusive=True, reverse=True), normal((2, 4)), dtypes=F32_F64),
    OpCase("cumprod-zeros", ("Cumprod",), lambda x: gc.math.cumprod(x, axis=1), _cumulative(np.cumprod, 1),
           _fixed(WITH_ZEROS), dtypes=F32_F64),
    OpCase("cumprod-zeros-exclusive-reverse", ("Cumprod",),
           lambda x: gc.math.cumprod(x, axis=-1, exclusive=True, reverse=True),
           _cumulative(np.cumprod, 1, exclusive=True, reverse=True), _fixed(WITH_ZEROS), dtypes=F32_F64),
]


def _with_non_finite(rng):
    x = rng.normal(size=(2, 4))
    x[0, 1], x[1, 0], x[1, 3] = np.nan, np.inf, -np.inf
    return [x]


def _bools(*shapes):
    return lambda rng: [rng.random(size=s) < 0.5 for s in shapes]


def _counts(rng):
    return [rng.integers(0, 6, size=(7,))]


NOT_DIFFERENTIABLE = [
    OpCase("is-inf", ("IsInf",), gc.math.is_inf, np.isinf, _with_non_finite, grad=(), dtypes=F32_F64),
    OpCase("reduce_any-axis-1", ("Any",), lambda x: gc.reduce_any(x, axis=1), lambda x: np.any(x, axis=1),
           _bools((3, 4)), grad=(), dtypes=("bool",)),
    OpCase("reduce_all-keepdims", ("All",), lambda x: gc.reduce_all(x, axis=(0, -1), keepdims=True),
           lambda x: np.all(x, axis=(0, 2), keepdims=True), _bools((2, 3, 2)), grad=(), dtypes=("bool",)),
    OpCase("count_nonzero-axis-0", ("NotEqual", "Cast", "Sum"), lambda x: gc.math.count_nonzero(x, axis=0),
           lambda x: np.count_nonzero(x, axis=0), lambda rng: [rng.integers(-1, 2, size=(3, 4)).astype(np.float64)],
           grad=(), dtypes=F32_F64),
    OpCase("cumsum-int-exclusive", ("Cumsum",), lambda x: gc.math.cumsum(x, axis=1, exclusive=True),
           _cumulative(np.cumsum, 1, exclusive=True), lambda rng: [rng.integers(-5, 5, size=(2, 4)).astype(np.int32)],
           grad=(), dtypes=("int32",)),
    OpCase("cumprod-int-reverse", ("Cumprod",), lambda x: gc.math.cumprod(x, axis=0, reverse=True),
           _cumulative(np.cumprod, 0, reverse=True),
           lambda rng: [rng.integers(-3, 4, size=(3, 2)).astype(np.int32)], grad=(), dtypes=("int32",)),
    OpCase("bincount-weights", ("UnsortedSegmentSum",), lambda x, w: gc.math.bincount(x, weights=w),
           lambda x, w: np.bincount(x, weights=w), lambda rng: _counts(rng) + [rng.normal(size=(7,))], grad=(),
           dtypes=F32_F64),
]

CASES = (
    [OpCase(name, ops, fn, reference, inputs, dtypes=dtypes) for name, ops, fn, reference, inputs, dtypes in UNARY]
    + DIFFERENTIABLE
    + NOT_DIFFERENTIABLE
)
