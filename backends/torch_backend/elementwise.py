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
    isinf = staticmethod(torch.isinf)
    asin = staticmethod(torch.asin)
    acos = staticmethod(torch.acos)
    atan = staticmethod(torch.atan)
    sinh = staticmethod(torch.sinh)
    cosh = staticmethod(torch.cosh)
    asinh = staticmethod(torch.asinh)
    acosh = staticmethod(torch.acosh)
    atanh = staticmethod(torch.atanh)
    atan2 = staticmethod(torch.atan2)
    lgamma = staticmethod(torch.lgamma)
    digamma = staticmethod(torch.digamma)

    def polygamma(self, a, x):
        """(-1)^(a+1) a! zeta(a + 1, x) for whole a >= 1, digamma at a = 0: torch.polygamma takes one
        Python int as the order, torch.special.zeta takes tensors (but no half precision)."""
        if x.dtype in (torch.float16, torch.bfloat16):
            return self.polygamma(a.float(), x.float()).to(x.dtype)
        zeroth = a == 0
        s = torch.where(zeroth, 2.0, a + 1)
        sign = torch.where(torch.remainder(s, 2) == 0, 1.0, -1.0).to(x.dtype)
        value = sign * torch.exp(torch.lgamma(s)) * torch.special.zeta(s, x)
        return torch.where(zeroth, torch.digamma(x), value)

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
