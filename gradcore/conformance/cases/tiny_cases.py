"""Cases for functions near 0, where f(x) ~ x: values compared relatively (``relative=True``).

log1p, expm1, sin and tanh of |x| in 1e-30 .. 1e-10 are about x itself, so an absolute floor
(float64's atol 1e-7) would accept any result of that size, 0 included, and hide a kernel
that loses every digit there (log(1 + x) for log1p(x): 1 + 1e-17 rounds to 1). Compared with
the table's rtol alone, those results must keep their relative precision. float16 cannot hold
such values (its smallest normal is 6e-5), so it gets inputs of 1e-4 .. 1e-3, where 1 + x
already loses half of x's bits in float16.
"""

import numpy as np

import gradcore as gc

from . import OpCase


def signed_log_uniform(low, high, shape):
    """Magnitudes log-uniform in [low, high), random signs."""
    def inputs(rng):
        magnitudes = 10.0 ** rng.uniform(np.log10(low), np.log10(high), size=shape)
        return [magnitudes * rng.choice([-1.0, 1.0], size=shape)]
    return inputs


FUNCTIONS = [  # (name, op types, gc function, float64 reference)
    ("log1p", ("Log1p",), gc.math.log1p, np.log1p),
    ("expm1", ("Expm1",), gc.math.expm1, np.expm1),
    ("sin", ("Sin",), gc.sin, np.sin),
    ("tanh", ("Tanh", "TanhGrad"), gc.tanh, np.tanh),
]

CASES = [
    OpCase(f"{name}-tiny", ops, fn, reference, signed_log_uniform(1e-30, 1e-10, (4, 5)),
           dtypes=("bfloat16", "float32", "float64"), relative=True)
    for name, ops, fn, reference in FUNCTIONS
] + [
    OpCase(f"{name}-small-float16", ops, fn, reference, signed_log_uniform(1e-4, 1e-3, (4, 5)),
           dtypes=("float16",), relative=True)
    for name, ops, fn, reference in FUNCTIONS
]
