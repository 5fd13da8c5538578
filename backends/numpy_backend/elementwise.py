"""Elementwise kernels: unary and binary math, comparisons, logic and ``where``."""

import math

import numpy as np

try:  # SciPy's erf is vectorised C; without SciPy fall back to math.erf per element.
    from scipy import special as _special
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only where SciPy is absent
    _special = None
    _erf_scalar = np.frompyfunc(math.erf, 1, 1)

    def _erf(x):
        return _erf_scalar(x).astype(x.dtype)


def _in_float64(function):
    """A SciPy special function on any float dtype (SciPy knows no bfloat16), rounded back once."""
    return lambda self, *arrays: np.asarray(function(*[a.astype(np.float64) for a in arrays]), dtype=arrays[-1].dtype)


class SpecialKernels:
    """lgamma, digamma and polygamma from SciPy where it is installed; else the contract's composites."""

    if _special is not None:
        lgamma = _in_float64(_special.gammaln)
        digamma = _in_float64(_special.psi)
        polygamma = _in_float64(_special.polygamma)


class ElementwiseKernels(SpecialKernels):
    """One NumPy ufunc per kernel."""

    negative = staticmethod(np.negative)
    abs = staticmethod(np.abs)
    sign = staticmethod(np.sign)
    sqrt = staticmethod(np.sqrt)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    expm1 = staticmethod(np.expm1)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tan = staticmethod(np.tan)
    tanh = staticmethod(np.tanh)
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)
    round = staticmethod(np.round)
    logical_not = staticmethod(np.logical_not)
    isfinite = staticmethod(np.isfinite)
    isnan = staticmethod(np.isnan)
    square = staticmethod(np.square)
    reciprocal = staticmethod(np.reciprocal)
    isinf = staticmethod(np.isinf)
    asin = staticmethod(np.arcsin)
    acos = staticmethod(np.arccos)
    atan = staticmethod(np.arctan)
    sinh = staticmethod(np.sinh)
    cosh = staticmethod(np.cosh)
    asinh = staticmethod(np.arcsinh)
    acosh = staticmethod(np.arccosh)
    atanh = staticmethod(np.arctanh)
    atan2 = staticmethod(np.arctan2)

    def erf(self, x):
        return np.asarray(_erf(x), dtype=x.dtype)

    def rsqrt(self, x):
        return np.reciprocal(np.sqrt(x))

    add = staticmethod(np.add)
    subtract = staticmethod(np.subtract)
    multiply = staticmethod(np.multiply)
    divide = staticmethod(np.divide)
    floor_divide = staticmethod(np.floor_divide)
    floor_mod = staticmethod(np.mod)
    power = staticmethod(np.power)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    equal = staticmethod(np.equal)
    not_equal = staticmethod(np.not_equal)
    less = staticmethod(np.less)
    less_equal = staticmethod(np.less_equal)
    greater = staticmethod(np.greater)
    greater_equal = staticmethod(np.greater_equal)
    logical_and = staticmethod(np.logical_and)
    logical_or = staticmethod(np.logical_or)
    where = staticmethod(np.where)
