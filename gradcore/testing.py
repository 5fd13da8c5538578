"""Tolerances and checks shared by gradcore's conformance suite and third-party backends.

THE tolerance table: every numeric comparison in the suite takes its
tolerance from here, by dtype. Never loosen an entry to make a test pass;
find the bug.
"""

from dataclasses import dataclass

import numpy as np

from gradcore.engine import dtypes


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


TOLERANCES = {
    # float64 kernels agree with a float64 NumPy reference to a few ulps.
    dtypes.float64: Tolerance(rtol=1e-7, atol=1e-7),
    # float32: ~100 ulps (2^-23 ~ 1.2e-7) leaves room for reordered sums, not for bugs.
    dtypes.float32: Tolerance(rtol=1e-5, atol=1e-5),
    # float16 has 10 mantissa bits (eps ~ 1e-3), bfloat16 has 7 (eps ~ 8e-3).
    dtypes.float16: Tolerance(rtol=1e-2, atol=1e-2),
    dtypes.bfloat16: Tolerance(rtol=5e-2, atol=5e-2),
}

#: Central differences in float64 with step FD_STEP: truncation ~ step^2 |f'''| ~ 1e-12 and
#: rounding ~ 1e-16 |f| / step ~ 1e-10, so 1e-6 separates a wrong rule from noise.
FD_STEP = 1e-6
FINITE_DIFFERENCES = Tolerance(rtol=1e-6, atol=1e-6)


def tolerance(dtype):
    """The tolerance for comparing values of ``dtype`` (integers and bools compare exactly)."""
    dtype = dtypes.as_dtype(dtype)
    return TOLERANCES.get(dtype, Tolerance(0.0, 0.0))


def assert_allclose(actual, expected, dtype=None, err_msg="", relative=False):
    """Compare arrays (or Tensors) with the table's tolerance for ``dtype`` (default: actual's).

    ``relative=True`` keeps the table's rtol and drops its absolute floor (atol = 0): for values far
    below 1 in magnitude, where the floor would accept anything of their size, 0 included. In
    float64, log(1 + x) in place of log1p(x) at x = 1e-12 is 9e-5 off relative (and 0 at x = 1e-17),
    yet within an atol of 1e-7.
    """
    actual_np = np.asarray(actual)
    dtype = dtypes.as_dtype(dtype if dtype is not None else getattr(actual, "dtype", actual_np.dtype))
    expected_np = np.asarray(expected)
    if dtype.is_floating:  # compare in float64 so bfloat16 (an ml_dtypes type) works too
        actual_np, expected_np = actual_np.astype(np.float64), expected_np.astype(np.float64)
    tol = tolerance(dtype)
    atol = 0.0 if relative else tol.atol
    np.testing.assert_allclose(actual_np, expected_np, rtol=tol.rtol, atol=atol, err_msg=err_msg)


def assert_fd_close(analytic, numeric, err_msg=""):
    """Compare an analytic directional derivative with its central-difference estimate."""
    tol = FINITE_DIFFERENCES
    np.testing.assert_allclose(float(analytic), float(numeric), rtol=tol.rtol, atol=tol.atol, err_msg=err_msg)
