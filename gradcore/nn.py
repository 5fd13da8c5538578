"""``gc.nn``: TensorFlow's ``tf.nn`` names."""

from gradcore.ops.conv_ops import (
    avg_pool,
    avg_pool2d,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    max_pool,
    max_pool2d,
)
from gradcore.ops.math_ops import sigmoid, tanh
from gradcore.ops.nn_ops import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    sparse_softmax_cross_entropy_with_logits,
)
from gradcore.distribute.average_loss import compute_average_loss, scale_regularization_loss
