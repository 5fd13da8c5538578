"""Elementwise kernels: unary and binary math, comparisons, logic and ``where``."""

import jax
import jax.numpy as jnp
from jax.scipy.special import erf as _erf
from jax.scipy.special import zeta as _zeta


class ElementwiseKernels:
    """One jax.numpy function per kernel, run eagerly."""

    negative = staticmethod(jnp.negative)
    abs = staticmethod(jnp.abs)
    sign = staticmethod(jnp.sign)
    sqrt = staticmethod(jnp.sqrt)
    exp = staticmethod(jnp.exp)
    log = staticmethod(jnp.log)
    log1p = staticmethod(jnp.log1p)
    expm1 = staticmethod(jnp.expm1)
    sin = staticmethod(jnp.sin)
    cos = staticmethod(jnp.cos)
    tan = staticmethod(jnp.tan)
    tanh = staticmethod(jnp.tanh)
    erf = staticmethod(_erf)
    floor = staticmethod(jnp.floor)
    ceil = staticmethod(jnp.ceil)
    round = staticmethod(jnp.round)
    logical_not = staticmethod(jnp.logical_not)
    isfinite = staticmethod(jnp.isfinite)
    isnan = staticmethod(jnp.isnan)
    square = staticmethod(jnp.square)
    reciprocal = staticmethod(jnp.reciprocal)
    rsqrt = staticmethod(jax.lax.rsqrt)
    isinf = staticmethod(jnp.isinf)
    asin = staticmethod(jnp.arcsin)
    acos = staticmethod(jnp.arccos)
    atan = staticmethod(jnp.arctan)
    sinh = staticmethod(jnp.sinh)
    cosh = staticmethod(jnp.cosh)
    asinh = staticmethod(jnp.arcsinh)
    acosh = staticmethod(jnp.arccosh)
    atanh = staticmethod(jnp.arctanh)
    atan2 = staticmethod(jnp.arctan2)
    lgamma = staticmethod(jax.lax.lgamma)
    digamma = staticmethod(jax.lax.digamma)

    def polygamma(self, a, x):
        """(-1)^(a+1) a! zeta(a + 1, x) for whole a >= 1, digamma at a = 0 (jax's own polygamma wants
        an integer order; the core's is a float of x's dtype)."""
        zeroth = a == 0
        s = jnp.where(zeroth, 2, a + 1)
        sign = jnp.where(jnp.remainder(s, 2) == 0, 1, -1).astype(x.dtype)
        value = sign * jnp.exp(jax.lax.lgamma(s)) * _zeta(s, x)
        return jnp.where(zeroth, jax.lax.digamma(x), value)

    add = staticmethod(jnp.add)
    subtract = staticmethod(jnp.subtract)
    multiply = staticmethod(jnp.multiply)
    divide = staticmethod(jnp.divide)
    floor_divide = staticmethod(jnp.floor_divide)
    floor_mod = staticmethod(jnp.mod)
    power = staticmethod(jnp.power)
    maximum = staticmethod(jnp.maximum)
    minimum = staticmethod(jnp.minimum)
    equal = staticmethod(jnp.equal)
    not_equal = staticmethod(jnp.not_equal)
    less = staticmethod(jnp.less)
    less_equal = staticmethod(jnp.less_equal)
    greater = staticmethod(jnp.greater)
    greater_equal = staticmethod(jnp.greater_equal)
    logical_and = staticmethod(jnp.logical_and)
    logical_or = staticmethod(jnp.logical_or)
    where = staticmethod(jnp.where)
