"""Kernels on ``jax.Array``, run eagerly (op by op), one jax.numpy call each.

Loading this backend turns on ``jax_enable_x64`` for the whole process:
without it jax cannot hold float64 or int64 arrays at all. What changes for
other jax code in the same process: Python scalars and NumPy float64 arrays
given to jax without a dtype become 64-bit instead of 32-bit. gradcore
always passes explicit dtypes, so its own results do not depend on it.
float32 matmuls ask for HIGHEST precision so GPUs and TPUs do not round
through TF32/bfloat16.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf as _erf

from gradcore.engine import dtypes
from gradcore.plugin.contract import Backend

_PLATFORM_NAMES = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "rocm": "cuda", "tpu": "tpu"}


def _device_name(device):
    kind = _PLATFORM_NAMES.get(device.platform, device.platform)
    return "cpu" if kind == "cpu" else f"{kind}:{device.id}"


# ---- convolution and pooling kernels ----------------------------------------------------------
# Each is one jitted XLA computation, compiled once per shapes, dtype and window arguments (all
# static). Most backward kernels are jax.vjp of the forward one inside the kernel: jax
# transposing a linear map to compute one kernel, not gradcore's autodiff.

_NHWC = ("NHWC", "HWIO", "NHWC")


def _static(*argnums):
    return functools.partial(jax.jit, static_argnums=argnums)


@_static(2, 3, 4)
def _conv2d(x, filters, strides, dilations, padding):
    return jax.lax.conv_general_dilated(
        x, filters, strides, padding, rhs_dilation=dilations, dimension_numbers=_NHWC,
        precision=jax.lax.Precision.HIGHEST,
    )


@_static(2, 3, 4, 5)
def _conv2d_backprop_input(filters, dy, input_shape, strides, dilations, padding):
    x = jnp.zeros(input_shape, dy.dtype)  # conv2d is linear in x: its transpose never reads x
    return jax.vjp(lambda x: _conv2d(x, filters, strides, dilations, padding), x)[1](dy)[0]


@_static(2, 3, 4, 5)
def _conv2d_backprop_filter(x, dy, filter_shape, strides, dilations, padding):
    filters = jnp.zeros(filter_shape, dy.dtype)
    return jax.vjp(lambda w: _conv2d(x, w, strides, dilations, padding), filters)[1](dy)[0]


def _window_reduce(x, init, reducer, ksize, strides, padding):
    # A NumPy (concrete) init lets jax recognise max/add windows, which it can differentiate.
    return jax.lax.reduce_window(
        x, np.array(init, x.dtype), reducer, (1, *ksize, 1), (1, *strides, 1), ((0, 0), *padding, (0, 0))
    )


@_static(1, 2, 3)
def _max_pool2d(x, ksize, strides, padding):
    return _window_reduce(x, -jnp.inf, jax.lax.max, ksize, strides, padding)


@_static(2, 3, 4)
def _max_pool2d_grad(x, dy, ksize, strides, padding):
    # Not jax.vjp of the max: among tied maxima XLA's choice need not be TF's first, and its
    # select-and-scatter compiles slowly. The transpose of cutting windows is a sum of pads.
    picked = jnp.where(_first_max(x, ksize, strides, padding), dy[..., None], jnp.zeros((), dy.dtype))
    return jax.vjp(lambda x: _window_stack(x, 0, ksize, strides, padding), x)[1](picked)[0]


@_static(2, 3, 4)
def _max_pool2d_grad_grad(x, g, ksize, strides, padding):
    picked = jnp.where(_first_max(x, ksize, strides, padding), _window_stack(g, 0, ksize, strides, padding), 0)
    return jnp.sum(picked, axis=-1, dtype=g.dtype)


def _first_max(x, ksize, strides, padding):
    """[N, Ho, Wo, C, KH*KW], True at the first maximum of each window (TF's pick among ties)."""
    windows = _window_stack(x, -jnp.inf, ksize, strides, padding)
    return jnp.argmax(windows, axis=-1)[..., None] == jnp.arange(windows.shape[-1])


def _window_stack(x, fill, ksize, strides, padding):
    """[N, Ho, Wo, C, KH*KW]: the pooling windows of x padded with ``fill``, taps row-major."""
    x = jnp.pad(x, ((0, 0), *padding, (0, 0)), constant_values=fill)
    return jnp.stack([x[key] for key in _tap_keys(x.shape, ksize, strides)], axis=-1)


def _tap_keys(padded_shape, ksize, strides):
    """Per window tap (row-major), the key cutting that tap of every window from a padded NHWC array."""
    (kh, kw), (sh, sw) = ksize, strides
    last_row, last_col = (padded_shape[1] - kh) // sh * sh, (padded_shape[2] - kw) // sw * sw
    rows = [slice(i, i + last_row + 1, sh) for i in range(kh)]
    return [(slice(None), r, slice(j, j + last_col + 1, sw)) for r in rows for j in range(kw)]


@_static(1, 2, 3)
def _avg_pool2d(x, ksize, strides, padding):
    ones = jnp.ones((1, x.shape[1], x.shape[2], 1), x.dtype)  # counts only input elements, as TF
    counts = _window_reduce(ones, 0, jax.lax.add, ksize, strides, padding)
    return _window_reduce(x, 0, jax.lax.add, ksize, strides, padding) / counts


@_static(1, 2, 3, 4)
def _avg_pool2d_grad(dy, input_shape, ksize, strides, padding):
    x = jnp.zeros(input_shape, dy.dtype)
    return jax.vjp(lambda x: _avg_pool2d(x, ksize, strides, padding), x)[1](dy)[0]


class JaxBackend(Backend):
    name = "jax"

    def __init__(self):
        jax.config.update("jax_enable_x64", True)
        self._devices = {}
        for d in jax.devices() + ([] if jax.devices()[0].platform == "cpu" else jax.devices("cpu")):
            self._devices.setdefault(_device_name(d), d)

    def devices(self):
        return list(self._devices)

    def default_device(self):
        return next(iter(self._devices))

    def version(self):
        return jax.__version__

    def _place(self, array, device):
        return array if device is None else jax.device_put(array, self._devices[device])

    # ---- conversion and creation ---------------------------------------------------

    def asarray(self, value, dtype, device=None):
        return self._place(jnp.asarray(value, dtype=dtype.as_numpy_dtype), device)

    def to_numpy(self, x):
        return np.asarray(x)

    def dtype_of(self, x):
        return dtypes.as_dtype(x.dtype)

    def device_of(self, x):
        return _device_name(next(iter(x.devices())))

    def full(self, shape, value, dtype, device=None):
        return self._place(jnp.full(tuple(shape), value, dtype=dtype.as_numpy_dtype), device)

    def arange(self, start, limit, delta, dtype, device=None):
        return self._place(jnp.arange(start, limit, delta, dtype=dtype.as_numpy_dtype), device)

    def eye(self, num_rows, num_columns, dtype, device=None):
        return self._place(jnp.eye(num_rows, num_columns, dtype=dtype.as_numpy_dtype), device)

    def cast(self, x, dtype):
        return x.astype(dtype.as_numpy_dtype)

    # ---- elementwise ------------------------------------------------------------------

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
    sigmoid = staticmethod(jax.nn.sigmoid)
    rsqrt = staticmethod(jax.lax.rsqrt)

    def relu(self, x):
        return jnp.maximum(x, jnp.zeros((), x.dtype))

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

    def tanh_grad(self, y, dy):
        return dy * (1 - y * y)

    def sigmoid_grad(self, y, dy):
        return dy * (y * (1 - y))

    def relu_grad(self, x, dy):
        return jnp.where(x > 0, dy, jnp.zeros((), dy.dtype))

    # ---- reductions --------------------------------------------------------------------

    def reduce_sum(self, x, axis, keepdims):
        return jnp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_mean(self, x, axis, keepdims):
        return jnp.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_max(self, x, axis, keepdims):
        return jnp.max(x, axis=axis, keepdims=keepdims)

    def reduce_min(self, x, axis, keepdims):
        return jnp.min(x, axis=axis, keepdims=keepdims)

    def reduce_prod(self, x, axis, keepdims):
        return jnp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_logsumexp(self, x, axis, keepdims):
        return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)

    def argmax(self, x, axis):
        return jnp.argmax(x, axis=axis).astype(jnp.int64)

    def argmin(self, x, axis):
        return jnp.argmin(x, axis=axis).astype(jnp.int64)

    def softmax(self, x, axis):
        return jax.nn.softmax(x, axis=axis)

    def log_softmax(self, x, axis):
        return jax.nn.log_softmax(x, axis=axis)

    # ---- shapes and indexing -----------------------------------------------------------

    def reshape(self, x, shape):
        return jnp.reshape(x, tuple(shape))

    def transpose(self, x, perm):
        return jnp.transpose(x, perm)

    def broadcast_to(self, x, shape):
        return jnp.broadcast_to(x, tuple(shape))

    def concat(self, xs, axis):
        return jnp.concatenate(list(xs), axis=axis)

    def stack(self, xs, axis):
        return jnp.stack(list(xs), axis=axis)

    def tile(self, x, multiples):
        return jnp.tile(x, tuple(multiples))

    def pad(self, x, paddings, constant_value):
        return jnp.pad(x, paddings, constant_values=constant_value)

    def slice(self, x, key):
        return x[key]

    def slice_into_zeros(self, update, shape, key):
        return jnp.zeros(tuple(shape), update.dtype).at[key].set(update)

    def gather(self, params, indices, axis):
        return jnp.take(params, indices, axis=axis)

    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        rest = tuple(data.shape[segment_ids.ndim:])
        return jax.ops.segment_sum(data.reshape((-1,) + rest), segment_ids.reshape(-1), num_segments)

    # ---- linear algebra -----------------------------------------------------------------

    def matmul(self, a, b):
        return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)

    # ---- convolution and pooling: jitted once per shape and window (see the functions below) ---

    conv2d = staticmethod(_conv2d)
    conv2d_backprop_input = staticmethod(_conv2d_backprop_input)
    conv2d_backprop_filter = staticmethod(_conv2d_backprop_filter)
    max_pool2d = staticmethod(_max_pool2d)
    max_pool2d_grad = staticmethod(_max_pool2d_grad)
    max_pool2d_grad_grad = staticmethod(_max_pool2d_grad_grad)
    avg_pool2d = staticmethod(_avg_pool2d)
    avg_pool2d_grad = staticmethod(_avg_pool2d_grad)
