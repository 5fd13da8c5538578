"""BatchNormalization and LayerNormalization, with Keras 3's formulas and defaults.

Both compute ``(x - mean) / sqrt(variance + epsilon) * gamma + beta`` with the
biased variance (the mean of squared deviations); they differ in which axes
the statistics are taken over and in BatchNormalization's moving statistics.
"""

import numbers

from gradcore import initializers, regularizers
from gradcore.distribute import get_replica_context
from gradcore.engine.recording import paused
from gradcore.layers.base import InputSpec, Layer
from gradcore.ops.array_ops import reshape
from gradcore.ops.creation_ops import ones_like
from gradcore.ops.math_ops import add, maximum, multiply, rsqrt, square, subtract
from gradcore.ops.reduction_ops import reduce_mean, reduce_sum


def _moments(x, axes):
    """Mean and biased variance over ``axes``, kept as size-1 axes so they broadcast against ``x``."""
    mean = reduce_mean(x, axes, keepdims=True)
    return mean, reduce_mean(square(subtract(x, mean)), axes, keepdims=True)


def _synchronized_moments(x, axes):
    """``_moments`` over the batches of every replica of the running strategy (``synchronized=True``):
    the sums of x and x^2 and the count go through one differentiable all-reduce."""
    replica = get_replica_context()
    if replica is None or replica.num_replicas_in_sync == 1:
        return _moments(x, axes)
    count = reduce_sum(ones_like(x), axes, keepdims=True)
    total, total_squares, count = replica.all_reduce(
        "sum", [reduce_sum(x, axes, keepdims=True), reduce_sum(square(x), axes, keepdims=True), count])
    mean = total / count
    return mean, maximum(total_squares / count - square(mean), 0.0)


def _normalized(x, mean, variance, gamma, beta, epsilon):
    """(x - mean) * rsqrt(variance + epsilon) * gamma + beta; gamma and beta may be None."""
    inverse = rsqrt(add(variance, epsilon))
    if gamma is not None:
        inverse = multiply(inverse, gamma)
    y = multiply(subtract(x, mean), inverse)
    return y if beta is None else add(y, beta)


class _Normalization(Layer):
    """What both layers share: gamma/beta weights shaped like the normalized axes, and a broadcast shape."""

    def __init__(self, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                 gamma_regularizer, **kwargs):
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"{type(self).__name__}: epsilon must be a positive number, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _build_parameters(self, input_shape, axes):
        """gamma and beta of shape [input_shape[a] for a in axes]; statistics reduce the other axes."""
        rank = len(input_shape)
        axes = sorted(_normalized_axis(self, a, rank) for a in axes)
        shape = tuple(input_shape[a] for a in axes)
        self._broadcast_shape = tuple(input_shape[i] if i in axes else 1 for i in range(rank))
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, regularizer=self.gamma_regularizer, name="gamma")
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, regularizer=self.beta_regularizer, name="beta")
        self.input_spec = InputSpec(ndim=rank, axes={a: input_shape[a] for a in axes})
        return axes, shape

    def _broadcast(self, weight):
        return None if weight is None else reshape(weight, self._broadcast_shape)


def _normalized_axis(layer, axis, rank):
    if not -rank <= axis < rank:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: axis {axis} is out of range for inputs of rank {rank}")
    return axis % rank


class BatchNormalization(_Normalization):
    """Normalizes each feature along ``axis`` by batch statistics while training, moving ones at inference.

    With ``training=True`` (and the layer trainable) it uses the mean and biased variance over
    every other axis, and updates ``moving = moving * momentum + batch * (1 - momentum)`` for
    moving_mean and moving_variance, which are non-trainable weights. The update is not
    recorded on any tape. Otherwise, and whenever the layer is frozen, it uses the moving
    statistics and changes nothing (Keras 3).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, synchronized=False, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, **kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.synchronized = bool(synchronized)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        (axis,), shape = self._build_parameters(input_shape, [self.axis])
        self._reduction_axes = [i for i in range(len(input_shape)) if i != axis]
        # aggregation="mean": under a strategy each replica's update is averaged over the replicas.
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer, trainable=False, name="moving_mean",
                                           aggregation="mean")
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer, trainable=False,
                                               name="moving_variance", aggregation="mean")

    def call(self, inputs, training=None):
        if training and self.trainable:
            moments = _synchronized_moments if self.synchronized else _moments
            mean, variance = moments(inputs, self._reduction_axes)
            self._update_moving_statistics(mean, variance)
        else:
            mean, variance = self._broadcast(self.moving_mean), self._broadcast(self.moving_variance)
        return _normalized(inputs, mean, variance, self._broadcast(self.gamma), self._broadcast(self.beta),
                           self.epsilon)

    def _update_moving_statistics(self, mean, variance):
        # paused(): bookkeeping, not part of the loss; recording it would only grow the tape.
        with paused():
            for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
                batch = reshape(batch, moving.shape)
                moving.assign(add(multiply(moving, self.momentum), multiply(batch, 1.0 - self.momentum)))


class LayerNormalization(_Normalization):
    """Normalizes each example over ``axis`` (an int or a list; default the last axis), as Keras 3."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, **kwargs)
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]

    def build(self, input_shape):
        self._axes, _ = self._build_parameters(input_shape, self.axis)

    def call(self, inputs):
        mean, variance = _moments(inputs, self._axes)
        return _normalized(inputs, mean, variance, self._broadcast(self.gamma), self._broadcast(self.beta),
                           self.epsilon)
