"""Cases for reductions (reduction_ops): axis None / int / tuple / negative, keepdims.

Max and Min are differentiated only on inputs without ties (random normals), where
finite differences are valid. Ties are checked against TensorFlow's rule instead:
the gradient is shared equally among the elements that attain the extreme.
"""

import numpy as np
from scipy.special import logsumexp

import gradcore as gc

from . import OpCase, normal, uniform


def _fixed(*arrays):
    return lambda rng: [np.asarray(a, dtype=np.float64) for a in arrays]


def _gradient_of(reduction, **kwargs):
    """x -> d sum(reduction(x, **kwargs)) / dx, computed by a tape."""
    def fn(x):
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = gc.reduce_sum(reduction(x, **kwargs))
        return tape.gradient(y, x)
    return fn


def _shared_among_extremes(x, extreme, axis):
    """TensorFlow's Max/Min gradient: 1/count on each element equal to the extreme, else 0."""
    hits = (x == extreme(x, axis=axis, keepdims=True)).astype(np.float64)
    return hits / hits.sum(axis=axis, keepdims=True)


def _product_of_others(x, axis):
    """For each element, the product of all the others along ``axis`` (d prod / dx), by deletion."""
    moved = np.moveaxis(x, axis, -1)
    others = [np.prod(np.delete(moved, i, axis=-1), axis=-1) for i in range(moved.shape[-1])]
    return np.moveaxis(np.stack(others, axis=-1), -1, axis)


# A zero in row 0 and two in row 1: prod is a polynomial, so finite differences hold there too.
WITH_ZEROS = [[0.0, 1.5, -0.7, 1.2], [0.9, 0.0, 1.3, 0.0], [1.1, -0.8, 0.6, 1.4]]
# Reduced over axes (0, 2) it has three slices of four elements: with no zero, one zero, two zeros.
WITH_ZEROS_3D = [[[1.2, -0.5], [0.7, 0.0], [0.0, 1.1]], [[0.8, 1.3], [-1.4, 0.6], [0.9, 0.0]]]
# Ties for the maximum (row 0: 3 twice; row 1: 2 twice) and the minimum (row 1: 0 once, row 2: -1 twice).
WITH_TIES = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0], [-1.0, 0.5, -1.0]]

SUM_MEAN = [
    OpCase("reduce_sum-all", ("Sum",), gc.reduce_sum, np.sum, normal((3, 4))),
    OpCase("reduce_sum-axis-1", ("Sum",), lambda x: gc.reduce_sum(x, axis=1), lambda x: np.sum(x, axis=1),
           normal((3, 4))),
    OpCase("reduce_sum-tuple-negative-keepdims", ("Sum",), lambda x: gc.reduce_sum(x, axis=(0, -1), keepdims=True),
           lambda x: np.sum(x, axis=(0, 2), keepdims=True), normal((2, 3, 4))),
    OpCase("reduce_sum-int", ("Sum",), lambda x: gc.reduce_sum(x, axis=0), lambda x: np.sum(x, axis=0),
           lambda rng: [rng.integers(-9, 9, size=(3, 2))], grad=()),
    OpCase("reduce_mean-all", ("Mean",), gc.reduce_mean, np.mean, normal((3, 4))),
    OpCase("reduce_mean-negative-keepdims", ("Mean",), lambda x: gc.reduce_mean(x, axis=-2, keepdims=True),
           lambda x: np.mean(x, axis=-2, keepdims=True), normal((2, 3, 4))),
]

EXTREMES = [
    OpCase("reduce_max-all", ("Max",), gc.reduce_max, np.max, normal((3, 4))),
    OpCase("reduce_max-axis-tuple", ("Max",), lambda x: gc.reduce_max(x, axis=(0, 2)),
           lambda x: np.max(x, axis=(0, 2)), normal((2, 3, 4))),
    OpCase("reduce_min-negative-keepdims", ("Min",), lambda x: gc.reduce_min(x, axis=-1, keepdims=True),
           lambda x: np.min(x, axis=-1, keepdims=True), normal((3, 4))),
    OpCase("reduce_max-tie-forward", ("Max",), lambda x: gc.reduce_max(x, axis=1),
           lambda x: np.max(x, axis=1), _fixed(WITH_TIES), grad=()),
    OpCase("reduce_max-tie-gradient-shared", ("Max",), _gradient_of(gc.reduce_max, axis=1),
           lambda x: _shared_among_extremes(x, np.max, 1), _fixed(WITH_TIES), grad=()),
    OpCase("reduce_min-tie-gradient-shared", ("Min",), _gradient_of(gc.reduce_min, axis=-1),
           lambda x: _shared_among_extremes(x, np.min, -1), _fixed(WITH_TIES), grad=()),
    OpCase("argmax-axis-none-is-0", ("ArgMax",), gc.argmax, lambda x: np.argmax(x, axis=0), normal((4, 3)),
           grad=()),
    OpCase("argmax-negative-axis-ties-first", ("ArgMax",), lambda x: gc.argmax(x, axis=-1),
           lambda x: np.argmax(x, axis=-1), _fixed(WITH_TIES), grad=()),
    OpCase("argmin-axis-1", ("ArgMin",), lambda x: gc.argmin(x, axis=1), lambda x: np.argmin(x, axis=1),
           normal((3, 5)), grad=()),
    OpCase("argmin-ties-first", ("ArgMin",), lambda x: gc.argmin(x, axis=0), lambda x: np.argmin(x, axis=0),
           _fixed(WITH_TIES), grad=()),
]

PRODUCTS = [
    OpCase("reduce_prod-axis-0", ("Prod",), lambda x: gc.reduce_prod(x, axis=0), lambda x: np.prod(x, axis=0),
           uniform(0.5, 1.5, (3, 4))),
    OpCase("reduce_prod-all-keepdims", ("Prod",), lambda x: gc.reduce_prod(x, keepdims=True),
           lambda x: np.prod(x, keepdims=True), uniform(-1.5, 1.5, (2, 3))),
    OpCase("reduce_prod-with-zeros", ("Prod",), lambda x: gc.reduce_prod(x, axis=-1),
           lambda x: np.prod(x, axis=-1), _fixed(WITH_ZEROS)),
    OpCase("reduce_prod-with-zeros-axis-tuple-keepdims", ("Prod",),
           lambda x: gc.reduce_prod(x, axis=(0, 2), keepdims=True), lambda x: np.prod(x, axis=(0, 2), keepdims=True),
           _fixed(WITH_ZEROS_3D)),
    # Two zeros: the one second derivative that is not zero there is the one between them.
    OpCase("reduce_prod-with-two-zeros-all", ("Prod",), gc.reduce_prod, np.prod,
           _fixed([[0.0, 1.5, -0.7], [1.2, 0.0, 0.9]])),
    # The rule's value against the product of the others; the harness then checks its
    # derivative (prod's second) and second derivative (prod's third) at the zeros.
    OpCase("reduce_prod-gradient-with-zeros", ("Prod", "Transpose", "Reshape", "PadV2", "StridedSlice", "Mul"),
           _gradient_of(gc.reduce_prod, axis=0), lambda x: _product_of_others(x, 0), _fixed(np.transpose(WITH_ZEROS))),
    OpCase("reduce_logsumexp-all", ("ReduceLogSumExp",), gc.reduce_logsumexp, logsumexp, normal((3, 4))),
    OpCase("reduce_logsumexp-axis-keepdims", ("ReduceLogSumExp",),
           lambda x: gc.reduce_logsumexp(x, axis=(1,), keepdims=True),
           lambda x: logsumexp(x, axis=1, keepdims=True), normal((3, 4))),
    OpCase("reduce_logsumexp-large", ("ReduceLogSumExp",), lambda x: gc.reduce_logsumexp(x, axis=0),
           lambda x: logsumexp(x, axis=0), uniform(80.0, 90.0, (3, 2)), dtypes=("float32", "float64")),
]

MOMENTS = [
    OpCase("reduce_variance-all", ("Mean", "Sub", "Square"), gc.math.reduce_variance, np.var, normal((3, 4))),
    OpCase("reduce_variance-axis-keepdims", ("Mean", "Sub", "Square"),
           lambda x: gc.math.reduce_variance(x, axis=-1, keepdims=True),
           lambda x: np.var(x, axis=-1, keepdims=True), normal((2, 5))),
    OpCase("reduce_std-axis-tuple", ("Mean", "Sub", "Square", "Sqrt"),
           lambda x: gc.math.reduce_std(x, axis=(0, 1)), lambda x: np.std(x, axis=(0, 1)), normal((3, 4, 2))),
]

CASES = SUM_MEAN + EXTREMES + PRODUCTS + MOMENTS
