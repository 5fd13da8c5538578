"""Conv2D, MaxPooling2D and AveragePooling2D (NHWC) against loop-based NumPy references.

'same' padding follows TensorFlow: the output has ceil(size / stride) positions and the
total padding max((out - 1) * stride + window - size, 0) is split with the extra cell at
the bottom/right; average pooling does not count padded cells.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

rng = np.random.default_rng(4)


def padded(x, window, strides, padding, fill):
    """x [N, H, W, C] padded as TF pads for ``padding``, with ``fill`` in the new cells."""
    if padding == "valid":
        return x
    pads = []
    for size, k, s in zip(x.shape[1:3], window, strides):
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=fill)


def windows(x, window, strides, dilation=(1, 1)):
    """Yield (i, j, patch [N, KH, KW, C]) for every output position of a valid sliding window."""
    span = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    for i in range((x.shape[1] - span[0]) // strides[0] + 1):
        for j in range((x.shape[2] - span[1]) // strides[1] + 1):
            top, left = i * strides[0], j * strides[1]
            yield i, j, x[:, top:top + span[0]:dilation[0], left:left + span[1]:dilation[1], :]


def numpy_conv2d(x, kernel, strides, padding, dilation):
    span = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:2], dilation)]
    x = padded(x, span, strides, padding, 0.0)
    found = list(windows(x, kernel.shape[:2], strides, dilation))
    out = np.zeros((x.shape[0], found[-1][0] + 1, found[-1][1] + 1, kernel.shape[-1]))
    for i, j, patch in found:
        out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, kernel)
    return out


def numpy_pool(x, window, strides, padding, reduce):
    x = padded(x, window, strides, padding, np.nan)
    found = list(windows(x, window, strides))
    out = np.zeros((x.shape[0], found[-1][0] + 1, found[-1][1] + 1, x.shape[-1]))
    for i, j, patch in found:
        out[:, i, j, :] = reduce(patch, axis=(1, 2))  # nan-aware: padded cells do not count
    return out


@pytest.mark.parametrize("kernel_size, strides, padding, dilation", [
    ((3, 3), (1, 1), "valid", (1, 1)),
    ((3, 2), (2, 2), "same", (1, 1)),
    ((2, 2), (1, 1), "valid", (2, 2)),
    ((3, 3), (2, 1), "same", (1, 1)),
])
def test_conv2d_matches_numpy(kernel_size, strides, padding, dilation):
    x = rng.standard_normal((2, 7, 6, 3))
    layer = gc.layers.Conv2D(4, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                             activation="relu", dtype=gc.float64)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (*kernel_size, 3, 4) and bias.shape == (4,)
    bias = rng.standard_normal(4)
    layer.set_weights([kernel, bias])
    expected = np.maximum(numpy_conv2d(x, kernel, strides, padding, dilation) + bias, 0)
    assert y.shape == expected.shape
    assert_allclose(layer(x), expected, dtype=gc.float64)


def test_conv2d_int_arguments_and_channel_check():
    layer = gc.layers.Conv2D(2, 3, strides=2, padding="SAME")
    assert layer.kernel_size == (3, 3) and layer.strides == (2, 2)
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(gc.ShapeError, match=r"axis -1 of size 3.*\(1, 5, 5, 3\)"):
        layer(np.zeros((1, 5, 5, 4), np.float32))
    with pytest.raises(gc.ShapeError, match="rank 4"):
        layer(np.zeros((5, 5, 3), np.float32))


@pytest.mark.parametrize("bad", [{"padding": "full"}, {"kernel_size": 0}, {"data_format": "channels_first"}])
def test_conv2d_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        gc.layers.Conv2D(**{"filters": 2, "kernel_size": 3, **bad})


@pytest.mark.parametrize("layer_class, reduce", [
    (gc.layers.MaxPooling2D, np.nanmax),
    (gc.layers.AveragePooling2D, np.nanmean),
])
@pytest.mark.parametrize("pool_size, strides, padding", [
    ((2, 2), None, "valid"),  # strides default to the pool size
    ((3, 3), (2, 2), "same"),
    ((2, 3), (1, 2), "valid"),
    ((2, 2), None, "same"),
])
def test_pooling_matches_numpy(layer_class, reduce, pool_size, strides, padding):
    x = rng.standard_normal((2, 7, 5, 3))
    layer = layer_class(pool_size=pool_size, strides=strides, padding=padding, dtype=gc.float64)
    expected = numpy_pool(x, pool_size, strides or pool_size, padding, reduce)
    assert_allclose(layer(x), expected, dtype=gc.float64)
    assert layer.weights == []


def test_pooling_aliases():
    assert gc.layers.MaxPool2D is gc.layers.MaxPooling2D
    assert gc.layers.AvgPool2D is gc.layers.AveragePooling2D is gc.layers.AveragePool2D
