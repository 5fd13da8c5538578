"""``gc.nn``: TensorFlow's ``tf.nn`` names."""

from gradcore.distribute.average_loss import compute_average_loss, scale_regularization_loss
from gradcore.ops.conv_more_ops import (
    avg_pool1d,
    conv1d,
    conv2d_transpose,
    depthwise_conv2d,
    depthwise_conv2d_backprop_filter,
    depthwise_conv2d_backprop_input,
    max_pool1d,
)
from gradcore.ops.conv_ops import (
    avg_pool,
    avg_pool2d,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    max_pool,
    max_pool2d,
)
from gradcore.ops.indexing_ops import embedding_lookup
from gradcore.ops.math_ops import sigmoid, tanh
from gradcore.ops.nn_ops import (
    dropout,
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    relu6,
    selu,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
)
from gradcore.ops.norm_ops import l2_normalize
from gradcore.ops.normalization_ops import batch_normalization, moments
from gradcore.ops.sorting_ops import top_k
