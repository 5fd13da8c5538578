"""Elementwise kernels: unary and binary math, comparisons, logic and ``where``.

All but ``erf`` are one standard function each (lgamma, digamma and polygamma, which the
standard lacks, are the contract's composites); where the standard's name differs from
the contract's (``remainder``, ``pow``) or its rule is the one the contract asks for, a
comment says so.
"""

from gradcore_arrayapi import composites


class ElementwiseKernels:
    """One standard function per kernel (erf: composites.erf)."""

    # ---- one input ----

    def negative(self, x):
        return self.xp.negative(x)

    def abs(self, x):
        return self.xp.abs(x)

    def sign(self, x):
        return self.xp.sign(x)

    def sqrt(self, x):
        return self.xp.sqrt(x)

    def square(self, x):
        return self.xp.square(x)

    def exp(self, x):
        return self.xp.exp(x)

    def log(self, x):
        return self.xp.log(x)

    def log1p(self, x):
        return self.xp.log1p(x)

    def expm1(self, x):
        return self.xp.expm1(x)

    def sin(self, x):
        return self.xp.sin(x)

    def cos(self, x):
        return self.xp.cos(x)

    def tan(self, x):
        return self.xp.tan(x)

    def tanh(self, x):
        return self.xp.tanh(x)

    def erf(self, x):
        return composites.erf(self.xp, x)  # the standard has no erf

    def floor(self, x):
        return self.xp.floor(x)

    def ceil(self, x):
        return self.xp.ceil(x)

    def round(self, x):
        return self.xp.round(x)  # the standard rounds half to even, as the contract asks

    def logical_not(self, x):
        return self.xp.logical_not(x)

    def isfinite(self, x):
        return self.xp.isfinite(x)

    def isnan(self, x):
        return self.xp.isnan(x)

    def isinf(self, x):
        return self.xp.isinf(x)

    def asin(self, x):
        return self.xp.asin(x)

    def acos(self, x):
        return self.xp.acos(x)

    def atan(self, x):
        return self.xp.atan(x)

    def sinh(self, x):
        return self.xp.sinh(x)

    def cosh(self, x):
        return self.xp.cosh(x)

    def asinh(self, x):
        return self.xp.asinh(x)

    def acosh(self, x):
        return self.xp.acosh(x)

    def atanh(self, x):
        return self.xp.atanh(x)

    # ---- two inputs (same dtype, broadcast) ----

    def add(self, x, y):
        return self.xp.add(x, y)

    def subtract(self, x, y):
        return self.xp.subtract(x, y)

    def multiply(self, x, y):
        return self.xp.multiply(x, y)

    def divide(self, x, y):
        return self.xp.divide(x, y)

    def floor_divide(self, x, y):
        return self.xp.floor_divide(x, y)

    def floor_mod(self, x, y):
        return self.xp.remainder(x, y)  # the standard's remainder takes the divisor's sign

    def power(self, x, y):
        return self.xp.pow(x, y)

    def maximum(self, x, y):
        return self.xp.maximum(x, y)

    def minimum(self, x, y):
        return self.xp.minimum(x, y)

    def equal(self, x, y):
        return self.xp.equal(x, y)

    def not_equal(self, x, y):
        return self.xp.not_equal(x, y)

    def less(self, x, y):
        return self.xp.less(x, y)

    def less_equal(self, x, y):
        return self.xp.less_equal(x, y)

    def greater(self, x, y):
        return self.xp.greater(x, y)

    def greater_equal(self, x, y):
        return self.xp.greater_equal(x, y)

    def logical_and(self, x, y):
        return self.xp.logical_and(x, y)

    def logical_or(self, x, y):
        return self.xp.logical_or(x, y)

    def atan2(self, y, x):
        return self.xp.atan2(y, x)

    def where(self, condition, x, y):
        return self.xp.where(condition, x, y)
