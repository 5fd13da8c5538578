"""1-D, transposed and depthwise convolution, 1-D and global pooling: ops beyond their op cases, and layers.

The ops: TF's and Keras' documented numbers, the identities TF defines them by (conv1d is conv2d
over a height of 1, conv2d_transpose is conv2d's adjoint, depthwise output channel c * M + m
is input channel c convolved alone), native autodiff as an oracle, errors raised before any
kernel runs, and the depthwise composites on this backend. The layers: Keras 3's shapes, values
against NumPy loops, arguments Keras refuses, and a small model that trains.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.plugin.contract import composite_view
from gradcore.testing import assert_allclose

from .cases import conv_cases as ref
from .cases import conv_more_cases as more

DEPTHWISE_KERNELS = ("depthwise_conv2d", "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter")
rng = np.random.default_rng(12)


def constant(*shape):
    return gc.constant(rng.normal(size=shape))


def inner(a, b):
    return float(np.sum(np.asarray(a) * np.asarray(b)))


# ---- the ops' documented numbers and defining identities -------------------------------------------

SEQUENCE = np.arange(1.0, 6.0).reshape(1, 5, 1)  # [1, 2, 3, 4, 5]: Keras' 1-D pooling examples


@pytest.mark.parametrize("pool, strides, padding, expected", [
    (gc.nn.max_pool1d, 1, "VALID", [2, 3, 4, 5]),
    (gc.nn.max_pool1d, 2, "VALID", [2, 4]),
    (gc.nn.max_pool1d, 1, "SAME", [2, 3, 4, 5, 5]),
    (gc.nn.avg_pool1d, 1, "VALID", [1.5, 2.5, 3.5, 4.5]),
    (gc.nn.avg_pool1d, 2, "VALID", [1.5, 3.5]),
    # SAME averages the input steps of a window only: the last window holds 5 alone.
    (gc.nn.avg_pool1d, 1, "SAME", [1.5, 2.5, 3.5, 4.5, 5.0]),
])
def test_keras_documented_1d_pooling_examples(pool, strides, padding, expected):
    assert pool(gc.constant(SEQUENCE), 2, strides, padding).numpy()[0, :, 0].tolist() == expected


def test_conv1d_is_conv2d_over_a_height_of_one_and_keeps_a_batch_shape():
    """TF: input batch_shape + [W, C] is reshaped to [.., 1, W, C], the filters to [1, KW, C, O], and back."""
    x, w = rng.normal(size=(2, 3, 9, 2)), rng.normal(size=(3, 2, 4))
    y = gc.nn.conv1d(gc.constant(x), gc.constant(w), [1, 2, 1], "SAME", dilations=[2])
    pads = ref.explicit("SAME", (1, 9), (1, 3), (1, 2), (1, 2))
    expected = ref.reference_conv2d(x.reshape(6, 1, 9, 2), w[None], (1, 2), (1, 2), pads).reshape(2, 3, 5, 4)
    assert y.shape == (2, 3, 5, 4)
    assert_allclose(y, expected, dtype=gc.float64)


@pytest.mark.parametrize("z_shape, x_shape, strides, padding, dilations", [
    ((2, 7, 6, 3), (2, 4, 3, 4), 2, "SAME", 1),  # TF's SAME split with an odd size
    ((1, 8, 7, 3), (1, 4, 5, 4), 1, "VALID", [1, 2, 2, 1]),  # dilated spans 5 x 3
    ((1, 5, 6, 3), (1, 2, 4, 4), [2, 2], [[0, 0], [1, 0], [0, 2], [0, 0]], 1),
])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(z_shape, x_shape, strides, padding, dilations):
    """<conv2d(z, w), x> = <z, conv2d_transpose(x, w, z.shape)>."""
    z, w, x = constant(*z_shape), constant(3, 2, 3, 4), constant(*x_shape)
    conv = gc.nn.conv2d(z, w, strides, padding, dilations=dilations)
    transposed = gc.nn.conv2d_transpose(x, w, z_shape, strides, padding, dilations=dilations)
    assert conv.shape == x_shape and transposed.shape == z_shape
    assert inner(conv, x) == pytest.approx(inner(z, transposed), rel=1e-12)


def test_conv2d_transpose_of_one_pixel_stamps_the_filter():
    """A single 1 at stride 2 places one copy of filter[:, :, out, in] in the output (VALID)."""
    x = np.zeros((1, 2, 2, 1))
    x[0, 1, 0, 0] = 1.0
    w = np.arange(1.0, 10.0).reshape(3, 3, 1, 1)
    y = gc.nn.conv2d_transpose(gc.constant(x), gc.constant(w), (1, 5, 5, 1), 2, "VALID").numpy()[0, :, :, 0]
    expected = np.zeros((5, 5))
    expected[2:5, 0:3] = w[:, :, 0, 0]
    np.testing.assert_array_equal(y, expected)


def test_depthwise_output_channel_c_times_m_plus_k_is_input_channel_c_convolved_alone():
    x, w = rng.normal(size=(2, 6, 5, 3)), rng.normal(size=(3, 2, 3, 2))
    y = gc.nn.depthwise_conv2d(gc.constant(x), gc.constant(w), [1, 1, 1, 1], "SAME").numpy()
    for c in range(3):
        alone = gc.nn.conv2d(gc.constant(x[..., c:c + 1]), gc.constant(w[:, :, c:c + 1, :]), 1, "SAME").numpy()
        assert_allclose(y[..., 2 * c:2 * c + 2], alone, dtype=gc.float64)


# ---- native autodiff as an oracle for the depthwise gradients --------------------------------------


def torch_depthwise(x, w, weights, strides, padding):
    import torch
    import torch.nn.functional as F

    (top, bottom), (left, right) = padding
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    kh, kw, c, m = w.shape
    grouped = wt.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
    y = F.conv2d(F.pad(xt.permute(0, 3, 1, 2), (left, right, top, bottom)), grouped, stride=strides, groups=c)
    y = y.permute(0, 2, 3, 1)
    return [g.numpy() for g in torch.autograd.grad((y * torch.tensor(weights)).sum(), [xt, wt])]


def jax_depthwise(x, w, weights, strides, padding):
    import jax

    kh, kw, c, m = w.shape

    def loss(x, w):
        y = jax.lax.conv_general_dilated(x, w.reshape(kh, kw, 1, c * m), strides, padding,
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=c,
                                         precision=jax.lax.Precision.HIGHEST)
        return (y * weights).sum()

    with jax.enable_x64(True):
        return [np.asarray(g) for g in jax.grad(loss, argnums=(0, 1))(x, w)]


@pytest.mark.parametrize("oracle", ["torch", "jax"])
def test_depthwise_gradients_match_native_autodiff(oracle):
    pytest.importorskip(oracle)
    x, w = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 2, 3, 2))
    xt, wt = gc.constant(x), gc.constant(w)
    with gc.GradientTape() as tape:
        tape.watch([xt, wt])
        y = gc.nn.depthwise_conv2d(xt, wt, [1, 2, 2, 1], "SAME")
        weights = rng.normal(size=y.shape)
        loss = gc.reduce_sum(y * gc.constant(weights))
    grads = tape.gradient(loss, [xt, wt])
    padding = ref.explicit("SAME", (7, 6), (3, 2), (2, 2))
    expected = {"torch": torch_depthwise, "jax": jax_depthwise}[oracle](x, w, weights, (2, 2), padding)
    for g, e in zip(grads, expected):
        assert_allclose(g, e, dtype=gc.float64)


# ---- errors, raised before any kernel runs ------------------------------------------------------------


@pytest.fixture
def no_kernel_runs(monkeypatch):
    backend = gc.get_backend()
    for name in DEPTHWISE_KERNELS + ("conv2d", "conv2d_backprop_input", "max_pool2d", "avg_pool2d"):
        def kernel(*args, _name=name):
            raise AssertionError(f"kernel {_name} ran although the core should have refused the input")

        monkeypatch.setattr(backend, name, kernel)


def zeros(*shape):
    return gc.constant(np.zeros(shape, np.float32))


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: gc.nn.conv1d(zeros(5, 3), zeros(3, 3, 2), 1, "SAME"),
     gc.ShapeError, r"gc.nn.conv1d: input must have rank at least 3.*got shape \(5, 3\)"),
    (lambda: gc.nn.conv1d(zeros(1, 5, 3), zeros(3, 2, 2), 1, "SAME"),
     gc.ShapeError, r"gc.nn.conv1d: input of shape \(1, 5, 3\) has 3 channels but filters .* expect 2"),
    (lambda: gc.nn.conv1d(zeros(1, 5, 3), zeros(3, 3, 2), [2, 2, 1], "SAME"),
     gc.InvalidArgumentError, r"gc.nn.conv1d: stride must be .*\[1, width, 1\].*got \[2, 2, 1\]"),
    (lambda: gc.nn.conv1d(zeros(1, 5, 3), zeros(3, 3, 2), 1, [[0, 0], [1, 1], [1, 0]]),
     gc.InvalidArgumentError, r"gc.nn.conv1d: padding must be 'SAME', 'VALID' or \[\[0, 0\], \[left, right\]"),
    (lambda: gc.nn.conv1d(zeros(1, 3, 5), zeros(3, 3, 2), 1, "SAME", data_format="NCW"),
     gc.InvalidArgumentError, r"gc.nn.conv1d: data_format 'NCW' is not supported.*NWC"),
    (lambda: gc.nn.conv1d(zeros(1, 2, 3), zeros(3, 3, 2), 1, "VALID"),
     gc.ShapeError, r"gc.nn.conv1d: the window spans 3 along width"),
    (lambda: gc.nn.conv2d_transpose(zeros(1, 3, 3, 4), zeros(3, 3, 2, 4), [1, 7, 7, 2], 2, "SAME"),
     gc.ShapeError, r"gc.nn.conv2d_transpose: output_shape \[1, 7, 7, 2\] does not fit the input of shape "
                    r"\(1, 3, 3, 4\): conv2d of that shape .* has shape \(1, 4, 4, 4\)"),
    (lambda: gc.nn.conv2d_transpose(zeros(1, 3, 3, 4), zeros(3, 3, 2, 3), [1, 6, 6, 2], 2, "SAME"),
     gc.ShapeError, r"input of shape \(1, 3, 3, 4\) has 4 channels but filters .* expect 3 "
                    r"\(filters are \[height, width, output_channels, in_channels\]\)"),
    (lambda: gc.nn.conv2d_transpose(zeros(1, 3, 3, 4), zeros(3, 3, 2, 4), [1, 6, 6, 3], 2, "SAME"),
     gc.ShapeError, r"output_shape \[1, 6, 6, 3\] must be \[1 \(the input's batch\), height, width, 2"),
    (lambda: gc.nn.depthwise_conv2d(zeros(1, 5, 5, 3), zeros(3, 3, 2, 2), 1, "SAME"),
     gc.ShapeError, r"gc.nn.depthwise_conv2d: input .* has 3 channels .* expect 2 "
                    r"\(filters are \[height, width, in_channels, channel_multiplier\]\)"),
    (lambda: gc.nn.depthwise_conv2d(zeros(1, 8, 8, 2), zeros(3, 3, 2, 1), [1, 2, 2, 1], "SAME", dilations=[2, 2]),
     gc.InvalidArgumentError, r"gc.nn.depthwise_conv2d: strides \[2, 2\] with dilations \[2, 2\]"),
    (lambda: gc.nn.depthwise_conv2d_backprop_input([1, 5, 5, 2], zeros(3, 3, 2, 2), zeros(1, 5, 5, 2), 1, "SAME"),
     gc.ShapeError, r"out_backprop has shape \(1, 5, 5, 2\), but the convolution's output has shape \(1, 5, 5, 4\)"),
    (lambda: gc.nn.max_pool1d(zeros(1, 4, 4, 1), 2, 2, "VALID"),
     gc.ShapeError, r"gc.nn.max_pool1d: input must have rank 3"),
    (lambda: gc.nn.avg_pool1d(zeros(1, 4, 1), [1, 2, 2], 2, "VALID"),
     gc.InvalidArgumentError, r"gc.nn.avg_pool1d: ksize must be"),
])
def test_bad_arguments_raise_naming_the_op_before_any_kernel_runs(call, error, pattern, no_kernel_runs):
    with pytest.raises(error, match=pattern):
        call()


# ---- the depthwise composites on this backend ------------------------------------------------------------

WINDOW = ((2, 1), (1, 2), ((1, 1), (0, 2)))  # strides, dilations, padding as the core resolves them
COMPOSITE_INPUTS = {  # kernel -> (input shapes, extra arguments): 3x2 windows, strides (2, 1), dilations (1, 2)
    "depthwise_conv2d": ([(2, 7, 6, 3), (3, 2, 3, 2)], WINDOW),
    "depthwise_conv2d_backprop_input": ([(3, 2, 3, 2), (2, 4, 6, 6)], ((2, 7, 6, 3),) + WINDOW),
    "depthwise_conv2d_backprop_filter": ([(2, 7, 6, 3), (2, 4, 6, 6)], ((3, 2, 3, 2),) + WINDOW),
}
REFERENCES = {
    "depthwise_conv2d": more.reference_depthwise_conv2d,
    "depthwise_conv2d_backprop_input": more.reference_depthwise_conv2d_backprop_input,
    "depthwise_conv2d_backprop_filter": more.reference_depthwise_conv2d_backprop_filter,
}


@pytest.mark.parametrize("kernel", DEPTHWISE_KERNELS)
def test_depthwise_composites_agree_with_this_backends_kernels_and_a_reference(kernel):
    """The composite defaults a third-party backend inherits, run on this backend's required kernels."""
    backend = gc.get_backend()
    shapes, extra = COMPOSITE_INPUTS[kernel]
    arrays = [np.random.default_rng(5).normal(size=shape) for shape in shapes]
    raws = [backend.asarray(a, gc.float64) for a in arrays]
    expected = REFERENCES[kernel](*arrays, *extra)
    own = backend.to_numpy(getattr(backend, kernel)(*raws, *extra))
    composite = backend.to_numpy(getattr(composite_view(backend), kernel)(*raws, *extra))
    assert_allclose(own, expected, dtype=gc.float64)
    assert_allclose(composite, expected, dtype=gc.float64)


# ---- layers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, input_shape, output_shape", [
    # Keras' docstring examples.
    (lambda: gc.layers.Conv1D(32, 3, activation="relu"), (4, 10, 128), (4, 8, 32)),
    (lambda: gc.layers.Conv2DTranspose(32, 2, 2, activation="relu"), (4, 10, 8, 128), (4, 20, 16, 32)),
    (lambda: gc.layers.DepthwiseConv2D(3, activation="relu"), (4, 10, 10, 12), (4, 8, 8, 12)),
    (lambda: gc.layers.GlobalAveragePooling2D(), (2, 4, 5, 3), (2, 3)),
    (lambda: gc.layers.GlobalAveragePooling2D(keepdims=True), (2, 4, 5, 3), (2, 1, 1, 3)),
    (lambda: gc.layers.GlobalMaxPooling2D(), (2, 4, 5, 3), (2, 3)),
    (lambda: gc.layers.GlobalAveragePooling1D(), (2, 3, 4), (2, 4)),
    (lambda: gc.layers.MaxPooling1D(), (2, 7, 3), (2, 3, 3)),  # strides default to pool_size 2
    (lambda: gc.layers.AveragePooling1D(3, 2, "same"), (2, 7, 3), (2, 4, 3)),
    # Keras' deconv lengths: 'same' 5 * 2, 'valid' 5 * 2 + 3 - 2; output_padding 1: 4 * 2 + 3 - 2 + 1.
    (lambda: gc.layers.Conv2DTranspose(2, 3, 2, "same"), (1, 5, 4, 1), (1, 10, 8, 2)),
    (lambda: gc.layers.Conv2DTranspose(2, 3, 2, "valid"), (1, 5, 4, 1), (1, 11, 9, 2)),
    (lambda: gc.layers.Conv2DTranspose(2, 3, 2, "same", output_padding=1), (1, 5, 4, 1), (1, 10, 8, 2)),
    (lambda: gc.layers.Conv2DTranspose(2, 3, (2, 3), "valid", output_padding=(1, 2)), (1, 5, 4, 1), (1, 12, 14, 2)),
])
def test_layer_output_shapes_follow_keras(make, input_shape, output_shape):
    assert make()(np.zeros(input_shape, np.float32)).shape == output_shape


def test_conv1d_layer_matches_numpy_including_causal_padding():
    x = rng.normal(size=(2, 7, 3))
    for padding, pads in [("valid", (0, 0)), ("same", (2, 2)), ("causal", (4, 0))]:
        layer = gc.layers.Conv1D(4, 3, padding=padding, dilation_rate=2, dtype=gc.float64)
        y = layer(x)
        kernel, bias = layer.get_weights()
        assert kernel.shape == (3, 3, 4) and bias.shape == (4,)
        padded = np.pad(x, ((0, 0), pads, (0, 0)))
        expected = np.stack([np.einsum("nkc,kco->no", padded[:, t:t + 5:2], kernel)
                             for t in range(padded.shape[1] - 4)], axis=1)
        assert_allclose(y, expected, dtype=gc.float64)
    assert y.numpy()[:, 0] == pytest.approx(x[:, 0] @ kernel[2])  # causal: the first output sees x[0] alone


def test_depthwise_layer_matches_the_loop_reference_and_trains():
    x = rng.normal(size=(2, 6, 5, 3))
    layer = gc.layers.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=2, dtype=gc.float64)
    layer(x)
    kernel = rng.normal(size=(3, 2, 3, 2))
    bias = rng.normal(size=6)
    layer.set_weights([kernel, bias])
    assert [w.name.split("/")[-1] for w in layer.weights] == ["kernel:0", "bias:0"]
    pads = ref.explicit("SAME", (6, 5), (3, 2), (2, 2))
    with gc.GradientTape() as tape:
        y = layer(x)
        loss = gc.reduce_sum(y * y)
    assert_allclose(y, more.reference_depthwise_conv2d(x, kernel, (2, 2), (1, 1), pads) + bias, dtype=gc.float64)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert [g.shape for g in grads] == [(3, 2, 3, 2), (6,)]
    assert_allclose(grads[1], 2 * y.numpy().sum(axis=(0, 1, 2)), dtype=gc.float64)


def test_conv2d_transpose_layer_is_the_transpose_op_plus_bias():
    x = rng.normal(size=(2, 3, 4, 3))
    layer = gc.layers.Conv2DTranspose(2, (3, 2), strides=2, padding="same", dtype=gc.float64)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 2, 3) and bias.shape == (2,)
    bias = rng.normal(size=2)
    layer.set_weights([kernel, bias])
    pads = ref.explicit("SAME", (6, 8), (3, 2), (2, 2))
    expected = ref.reference_conv2d_backprop_input(kernel, x, (2, 6, 8, 2), (2, 2), (1, 1), pads) + bias
    assert y.shape == (2, 6, 8, 2)
    assert_allclose(layer(x), expected, dtype=gc.float64)


def test_global_pooling_values_and_the_masked_average():
    x = rng.normal(size=(2, 4, 5, 3))
    assert_allclose(gc.layers.GlobalAveragePooling2D()(x), x.mean(axis=(1, 2)), dtype=gc.float64)
    assert_allclose(gc.layers.GlobalMaxPool2D(keepdims=True)(x), x.max(axis=(1, 2), keepdims=True), dtype=gc.float64)
    steps = x[:, 0]  # [2, 5, 3]
    mask = np.array([[True, True, False, False, False], [True, True, True, True, True]])
    masked = gc.layers.GlobalAveragePooling1D()(steps, mask=mask)
    assert_allclose(masked, [steps[0, :2].mean(axis=0), steps[1].mean(axis=0)], dtype=gc.float64)
    assert_allclose(gc.layers.GlobalMaxPooling1D()(steps), steps.max(axis=1), dtype=gc.float64)


@pytest.mark.parametrize("make", [
    lambda: gc.layers.DepthwiseConv2D(3, strides=2, dilation_rate=2),
    lambda: gc.layers.Conv1D(2, 3, strides=2, dilation_rate=2),
    lambda: gc.layers.Conv2DTranspose(2, 3, strides=2, output_padding=2),
    lambda: gc.layers.Conv1D(2, 3, padding="full"),
    lambda: gc.layers.Conv2D(2, 3, padding="causal"),  # causal is Conv1D's alone
    lambda: gc.layers.DepthwiseConv2D(3, depth_multiplier=0),
    lambda: gc.layers.GlobalAveragePooling2D(data_format="channels_first"),
    lambda: gc.layers.MaxPooling1D(pool_size=(2, 2)),
])
def test_layers_refuse_what_keras_refuses(make):
    with pytest.raises(ValueError):
        make()


def test_layer_aliases():
    layers = gc.layers
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool2D is layers.GlobalMaxPooling2D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.Convolution1D is layers.Conv1D and layers.Convolution2DTranspose is layers.Conv2DTranspose


def test_a_small_sequence_model_takes_a_training_step():
    model = gc.Sequential([
        gc.layers.Conv1D(4, 3, padding="causal", activation="relu"),
        gc.layers.MaxPooling1D(),
        gc.layers.GlobalAveragePooling1D(),
        gc.layers.Dense(1),
    ])
    x = rng.normal(size=(3, 8, 2)).astype(np.float32)
    with gc.GradientTape() as tape:
        loss = gc.reduce_mean(gc.square(model(x)))
    grads = tape.gradient(loss, model.trainable_weights)
    assert len(grads) == 4 and all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    assert any(np.any(g.numpy() != 0) for g in grads[:2])  # the gradient reaches the convolution
