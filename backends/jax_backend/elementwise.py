"""Elementwise kernels: unary and binary math, comparisons, logic and ``where``."""

import jax
import jax.numpy as jnp
from jax.scipy.special import erf as _erf


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
