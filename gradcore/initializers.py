"""``gc.initializers``: Keras 3's weight initializers.

An initializer is called as ``init(shape, dtype=None)`` and returns a Tensor
(dtype defaults to float32). Random ones draw through ``gc.random``, which
draws on the host, so a seeded initializer gives bit-identical values on every
backend, and gives the same values each time it is called (Keras 3 documents
the same for an int seed). An unseeded one draws from gc.random's global
generator at call time: two models built one after the other get different
weights, and ``gc.random.set_seed(s)`` before building makes a whole model
reproducible. (Keras 3 instead fixes a random seed when an unseeded
initializer is constructed, so calling the same instance twice repeats its
values; gradcore's draw-per-call is TF 2 / Keras 2 behaviour.)
"""

import math
import operator

import numpy as np

from gradcore.engine import dtypes
from gradcore.ops import random_ops
from gradcore.ops.creation_ops import constant

#: The standard deviation of a standard normal truncated to [-2, 2] (gc.random's truncation),
#: which a truncated normal's stddev is divided by so the samples have the intended variance.
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype=None)")

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


def _dtype(dtype):
    return dtypes.float32 if dtype is None else dtypes.as_dtype(dtype)


class Constant(Initializer):
    """Every element ``value`` (a number, or an array that broadcasts to the shape)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        host = np.broadcast_to(np.asarray(self.value), tuple(shape)).astype(dtype.as_numpy_dtype)
        return constant(host, dtype=dtype)


class Zeros(Constant):
    def __init__(self):
        super().__init__(0)


class Ones(Constant):
    def __init__(self):
        super().__init__(1)


class _Seeded(Initializer):
    def __init__(self, seed=None):
        if seed is not None:
            try:
                seed = operator.index(seed)
            except TypeError:
                raise ValueError(f"{type(self).__name__}: seed must be an int or None, got {seed!r}") from None
        self.seed = seed


class RandomNormal(_Seeded):
    """Samples of N(mean, stddev^2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return random_ops.normal(shape, self.mean, self.stddev, _dtype(dtype), self.seed)


class TruncatedNormal(_Seeded):
    """Normal samples re-drawn until within 2 standard deviations of the mean."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return random_ops.truncated_normal(shape, self.mean, self.stddev, _dtype(dtype), self.seed)


class RandomUniform(_Seeded):
    """Samples uniform in [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return random_ops.uniform(shape, self.minval, self.maxval, _dtype(dtype), self.seed)


def compute_fans(shape):
    """(fan_in, fan_out) as Keras: [in, out] for a matrix, [..., in, out] times the receptive field for kernels."""
    shape = tuple(shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(_Seeded):
    """Samples with variance ``scale / n``, n the fan picked by ``mode``, as Keras.

    ``truncated_normal``: stddev sqrt(scale/n) / 0.8796 before truncation at 2 stddev;
    ``untruncated_normal``: stddev sqrt(scale/n); ``uniform``: within +-sqrt(3 scale/n).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        name = type(self).__name__
        if not scale > 0:
            raise ValueError(f"{name}: scale must be positive, got {scale!r}")
        if mode not in _MODES:
            raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"{name}: distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        dtype = _dtype(dtype)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return random_ops.uniform(shape, -limit, limit, dtype, self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.normal(shape, 0.0, math.sqrt(variance), dtype, self.seed)
        stddev = math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV
        return random_ops.truncated_normal(shape, 0.0, stddev, dtype, self.seed)


class GlorotUniform(VarianceScaling):
    """Uniform in +-sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010); Dense's default kernel."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in) (He et al., 2015), for ReLU layers."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class HeUniform(VarianceScaling):
    """Uniform in +-sqrt(6 / fan_in)."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class LecunNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


class LecunUniform(VarianceScaling):
    """Uniform in +-sqrt(3 / fan_in)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)


_BY_NAME = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal,
    "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
}
_BY_NAME.update({cls.__name__: cls for cls in set(_BY_NAME.values())})


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'GlorotUniform' ...), class, instance or callable; None stays None."""
    if identifier is None or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"unknown initializer {identifier!r}; known names: {sorted(_BY_NAME)}")
        return _BY_NAME[identifier]()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    raise ValueError(f"cannot interpret {identifier!r} as an initializer: pass a name, an Initializer or a callable")

