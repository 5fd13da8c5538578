"""The one table that turns Keras' activation names into gradcore functions.

``Dense(..., activation='relu')``, ``Conv2D(..., activation=...)`` and
``Activation('relu')`` all resolve their argument with ``get``.
"""

from gradcore.ops import math_ops, nn_ops


def linear(x):
    """The identity: Keras' 'linear' (and what ``activation=None`` means)."""
    return x


ACTIVATIONS = {
    "linear": linear,
    "relu": nn_ops.relu,
    "tanh": math_ops.tanh,
    "sigmoid": math_ops.sigmoid,
    "softmax": nn_ops.softmax,
    "log_softmax": nn_ops.log_softmax,
    "gelu": nn_ops.gelu,
    "elu": nn_ops.elu,
    "softplus": nn_ops.softplus,
    "leaky_relu": nn_ops.leaky_relu,
    "relu6": nn_ops.relu6,
    "selu": nn_ops.selu,
    "silu": nn_ops.silu,
    "swish": nn_ops.silu,
    "softsign": nn_ops.softsign,
    "log_sigmoid": nn_ops.log_sigmoid,
    "exponential": math_ops.exp,
}


def get(identifier):
    """The activation function named by ``identifier``; a callable is returned as is, None is linear."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in ACTIVATIONS:
        return ACTIVATIONS[identifier]
    raise ValueError(f"unknown activation {identifier!r}; known names: {sorted(ACTIVATIONS)}, or pass a callable")
