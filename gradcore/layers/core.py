"""Core layers: Dense, Activation, Flatten, Dropout, Embedding (Keras 3 semantics)."""

import math
import numbers
import operator

import numpy as np

from gradcore import initializers, regularizers
from gradcore.engine import dtypes
from gradcore.engine.convert import convert_to_tensor
from gradcore.layers import activations
from gradcore.layers.base import InputSpec, Layer
from gradcore.ops.array_ops import reshape
from gradcore.ops.indexing_ops import gather
from gradcore.ops.linalg_ops import matmul
from gradcore.ops.math_ops import add, cast
from gradcore.ops.nn_ops import dropout, dropout_rate


def positive_int(owner, what, value):
    """``value`` as an int, or a ValueError naming the layer class and argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{type(owner).__name__}: {what} must be a positive integer, got {what}={value!r}")
    return int(value)


class KernelBiasLayer(Layer):
    """A layer computing ``activation(product(inputs, kernel) + bias)``: Dense and Conv2D."""

    def _configure(self, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                   bias_regularizer):
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _build_kernel_and_bias(self, kernel_shape):
        self.kernel = self.add_weight(kernel_shape, self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      name="kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(kernel_shape[-1:], self.bias_initializer, regularizer=self.bias_regularizer,
                                        name="bias")

    def _add_bias_and_activate(self, outputs):
        if self.bias is not None:
            outputs = add(outputs, self.bias)
        return self.activation(outputs)


class Dense(KernelBiasLayer):
    """``activation(inputs @ kernel + bias)`` with kernel [input_dim, units], over the last axis of inputs of rank >= 2."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(self, "units", units)
        self._configure(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                        bias_regularizer)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self._build_kernel_and_bias((input_dim, self.units))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        return self._add_bias_and_activate(matmul(inputs, self.kernel))


class Activation(Layer):
    """Applies an activation: a name from layers/activations.py ('relu', 'softmax' ...) or a callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)


class Flatten(Layer):
    """Reshapes [batch, d1, d2, ...] to [batch, d1 * d2 * ...]; a rank-1 input becomes [batch, 1]."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: only data_format='channels_last' (NHWC) is supported, got {data_format!r}")
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        return reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))


class Dropout(Layer):
    """While training, zeroes each input with probability ``rate`` and scales the rest by 1/(1 - rate).

    At inference (``training`` False or None) it returns its input unchanged. Masks are drawn
    with ``gc.random`` on the host, so they are identical on every backend. Unseeded, they come
    from gc.random's global generator (``gc.random.set_seed`` makes them reproducible); with a
    ``seed``, mask number k is decided by (seed, k) alone, so every call draws a fresh mask and
    a new layer with the same seed repeats the sequence. ``noise_shape`` (None entries taken
    from the input) shares one mask value along the axes where it is 1.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = dropout_rate("Dropout", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = None if seed is None else operator.index(seed)
        self._masks_drawn = 0

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        # The seed is a function, called at each draw, so under gc.function every call gets a fresh mask.
        seed = None if self.seed is None else self._next_mask_seed
        return dropout(inputs, self.rate, self.noise_shape, seed=seed)

    def _trackable_state(self):
        """The count of masks drawn: a resumed run draws the masks an uninterrupted one would."""
        return {"masks_drawn": np.asarray(self._masks_drawn, dtype=np.int64)}

    def _restore_trackable_state(self, name, value):
        self._masks_drawn = int(value)

    def _next_mask_seed(self):
        sequence = np.random.SeedSequence([self.seed % 2**64, self._masks_drawn])
        self._masks_drawn += 1
        return int(sequence.generate_state(1, np.uint64)[0])


class Embedding(Layer):
    """Looks up rows of ``embeddings`` [input_dim, output_dim] by integer index (a gather along axis 0).

    Floating indices are cast to int32 first, as Keras does; indices out of [0, input_dim) are
    an error (gc.gather). The gradient reaching ``embeddings`` is dense, rows summed per index.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = positive_int(self, "input_dim", input_dim)
        self.output_dim = positive_int(self, "output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer, name="embeddings")

    def call(self, inputs):
        ids = convert_to_tensor(inputs)
        if not ids.dtype.is_integer:
            ids = cast(ids, dtypes.int32)
        return gather(self.embeddings, ids)
