"""Elementwise kernels: unary and binary math, comparisons, logic and ``where``."""

import torch


class ElementwiseKernels:
    """One torch function per kernel."""

    negative = staticmethod(torch.neg)
    abs = staticmethod(torch.abs)
    sign = staticmethod(torch.sign)
    sqrt = staticmethod(torch.sqrt)
    exp = staticmethod(torch.exp)
    log = staticmethod(torch.log)
    log1p = staticmethod(torch.log1p)
    expm1 = staticmethod(torch.expm1)
    sin = staticmethod(torch.sin)
    cos = staticmethod(torch.cos)
    tan = staticmethod(torch.tan)
    tanh = staticmethod(torch.tanh)
    erf = staticmethod(torch.special.erf)
    floor = staticmethod(torch.floor)
    ceil = staticmethod(torch.ceil)
    logical_not = staticmethod(torch.logical_not)
    isfinite = staticmethod(torch.isfinite)
    isnan = staticmethod(torch.isnan)
    square = staticmethod(torch.square)
    rsqrt = staticmethod(torch.rsqrt)
    reciprocal = staticmethod(torch.reciprocal)

    def round(self, x):
        return torch.round(x) if x.is_floating_point() else x

    add = staticmethod(torch.add)
    subtract = staticmethod(torch.sub)
    multiply = staticmethod(torch.mul)
    divide = staticmethod(torch.div)
    floor_mod = staticmethod(torch.remainder)
    power = staticmethod(torch.pow)
    maximum = staticmethod(torch.maximum)
    minimum = staticmethod(torch.minimum)
    equal = staticmethod(torch.eq)
    not_equal = staticmethod(torch.ne)
    less = staticmethod(torch.lt)
    less_equal = staticmethod(torch.le)
    greater = staticmethod(torch.gt)
    greater_equal = staticmethod(torch.ge)
    logical_and = staticmethod(torch.logical_and)
    logical_or = staticmethod(torch.logical_or)
    where = staticmethod(torch.where)

    def floor_divide(self, x, y):
        return torch.div(x, y, rounding_mode="floor")
