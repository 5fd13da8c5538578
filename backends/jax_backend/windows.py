"""Convolution and pooling kernels over NHWC images, with their backward kernels."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

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


@_static(2, 3, 4)
def _depthwise_conv2d(x, filters, strides, dilations, padding):
    # One feature group per input channel; HWIO filters [KH, KW, 1, C * M] put TF's output
    # channel c * M + m in group c, as the reshape of [KH, KW, C, M] orders them.
    kh, kw, c, m = filters.shape
    return jax.lax.conv_general_dilated(
        x, filters.reshape(kh, kw, 1, c * m), strides, padding, rhs_dilation=dilations, dimension_numbers=_NHWC,
        feature_group_count=c, precision=jax.lax.Precision.HIGHEST,
    )


@_static(2, 3, 4, 5)
def _depthwise_conv2d_backprop_input(filters, dy, input_shape, strides, dilations, padding):
    x = jnp.zeros(input_shape, dy.dtype)
    return jax.vjp(lambda x: _depthwise_conv2d(x, filters, strides, dilations, padding), x)[1](dy)[0]


@_static(2, 3, 4, 5)
def _depthwise_conv2d_backprop_filter(x, dy, filter_shape, strides, dilations, padding):
    filters = jnp.zeros(filter_shape, dy.dtype)
    return jax.vjp(lambda w: _depthwise_conv2d(x, w, strides, dilations, padding), filters)[1](dy)[0]


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


class WindowKernels:
    """The jitted functions above, one XLA computation each (see the comment at their head)."""

    conv2d = staticmethod(_conv2d)
    conv2d_backprop_input = staticmethod(_conv2d_backprop_input)
    conv2d_backprop_filter = staticmethod(_conv2d_backprop_filter)
    depthwise_conv2d = staticmethod(_depthwise_conv2d)
    depthwise_conv2d_backprop_input = staticmethod(_depthwise_conv2d_backprop_input)
    depthwise_conv2d_backprop_filter = staticmethod(_depthwise_conv2d_backprop_filter)
    max_pool2d = staticmethod(_max_pool2d)
    max_pool2d_grad = staticmethod(_max_pool2d_grad)
    max_pool2d_grad_grad = staticmethod(_max_pool2d_grad_grad)
    avg_pool2d = staticmethod(_avg_pool2d)
    avg_pool2d_grad = staticmethod(_avg_pool2d_grad)
