"""Cases for neural-network ops (gradcore/ops/nn_ops.py).

References are written independently in NumPy/SciPy (scipy.special for erf,
log_softmax, logsumexp). Inputs of the piecewise activations keep away from 0,
where relu, leaky_relu and elu have a kink, so central differences measure the
true derivative. Composite activations name the registered ops they are built of.
"""

import math

import numpy as np
from scipy import special

import gradcore as gc
from gradcore.ops import nn_ops

from . import OpCase, normal


def signed(low, high, *shapes):
    """Floats with |x| in [low, high) and random signs: away from the kink at 0."""
    return lambda rng: [rng.uniform(low, high, size=s) * rng.choice([-1.0, 1.0], size=s) for s in shapes]


def logits_and_labels(*batch, classes=5):
    return lambda rng: [rng.normal(size=(*batch, classes)), rng.integers(0, classes, size=batch)]


def distribution_and_logits(*shape):
    """Labels that are probability rows (TF requires it) and logits."""
    return lambda rng: [special.softmax(rng.normal(size=shape), axis=-1), rng.normal(size=shape)]


def sparse_xent(logits, labels):
    log_p = special.log_softmax(logits, axis=-1)
    return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def softplus(x):
    return np.logaddexp(0.0, x)


CASES = [
    OpCase("relu", ("Relu", "ReluGrad"), gc.nn.relu, lambda x: np.maximum(x, 0), signed(0.1, 2.0, (3, 4))),
    OpCase("relu-int", ("Relu",), gc.nn.relu, lambda x: np.maximum(x, 0),
           lambda rng: [rng.integers(-5, 5, size=(3, 4)).astype(np.int32)], grad=(), dtypes=("int32",)),
    # The backward op in both arguments: its own rule (zero in y, linear in dy).
    OpCase("relu-grad", ("ReluGrad",), nn_ops.relu_grad, lambda y, dy: np.where(y > 0, dy, 0.0),
           lambda rng: [signed(0.1, 2.0, (3, 4))(rng)[0], rng.normal(size=(3, 4))], grad=(0, 1)),
    OpCase("leaky-relu", ("Greater", "SelectV2", "Mul"), gc.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x),
           signed(0.1, 2.0, (3, 4))),
    OpCase("leaky-relu-alpha", ("Greater", "SelectV2", "Mul"), lambda x: gc.nn.leaky_relu(x, alpha=0.01),
           lambda x: np.where(x > 0, x, 0.01 * x), signed(0.1, 2.0, (3, 4))),
    OpCase("elu", ("Greater", "Minimum", "Expm1", "SelectV2"), gc.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)),
           signed(0.1, 3.0, (3, 4))),
    # Far beyond exp's float32/float64 range: the unselected expm1 branch must not turn into 0 * inf = NaN.
    OpCase("elu-large-inputs", ("Greater", "Minimum", "Expm1", "SelectV2"), gc.nn.elu,
           lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), signed(1.0, 800.0, (3, 4))),
    OpCase("gelu", ("Mul", "Erf", "AddV2"), gc.nn.gelu, lambda x: 0.5 * x * (1 + special.erf(x / math.sqrt(2))),
           normal((3, 4))),
    OpCase("gelu-approximate", ("Mul", "Square", "Tanh", "TanhGrad", "AddV2"),
           lambda x: gc.nn.gelu(x, approximate=True), gelu_tanh, normal((3, 4))),
    OpCase("softplus", ("Softplus", "Sigmoid", "SigmoidGrad"), gc.nn.softplus, softplus,
           lambda rng: [rng.normal(scale=3.0, size=(3, 4))]),
    OpCase("softmax", ("Softmax",), gc.nn.softmax, lambda x: special.softmax(x, axis=-1), normal((3, 5))),
    OpCase("softmax-axis0", ("Softmax",), lambda x: gc.nn.softmax(x, axis=0), lambda x: special.softmax(x, axis=0),
           normal((4, 2, 3))),
    OpCase("log-softmax", ("LogSoftmax",), gc.nn.log_softmax, lambda x: special.log_softmax(x, axis=-1),
           normal((3, 5))),
    OpCase("log-softmax-axis1", ("LogSoftmax",), lambda x: gc.nn.log_softmax(x, axis=1),
           lambda x: special.log_softmax(x, axis=1), normal((2, 4, 3))),
    OpCase("sparse-softmax-xent", ("SparseSoftmaxCrossEntropyWithLogits", "Softmax"),
           lambda logits, labels: gc.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
           sparse_xent, logits_and_labels(4)),
    OpCase("sparse-softmax-xent-3d", ("SparseSoftmaxCrossEntropyWithLogits", "Softmax"),
           lambda logits, labels: gc.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
           sparse_xent, logits_and_labels(2, 3, classes=4)),
    # Logits spread over +-1000: a shift by the row maximum keeps exp finite.
    OpCase("sparse-softmax-xent-extreme-logits", ("SparseSoftmaxCrossEntropyWithLogits", "Softmax"),
           lambda logits, labels: gc.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
           sparse_xent, lambda rng: [rng.uniform(-1000, 1000, size=(3, 4)), rng.integers(0, 4, size=3)]),
    OpCase("softmax-xent", ("LogSoftmax", "Mul", "Sum", "Neg"),
           lambda labels, logits: gc.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
           lambda labels, logits: -np.sum(labels * special.log_softmax(logits, axis=-1), axis=-1),
           distribution_and_logits(3, 5), grad=(0, 1)),
    OpCase("softmax-xent-axis0", ("LogSoftmax", "Mul", "Sum", "Neg"),
           lambda labels, logits: gc.nn.softmax_cross_entropy_with_logits(labels, logits, axis=0),
           lambda labels, logits: -np.sum(labels * special.log_softmax(logits, axis=0), axis=0),
           lambda rng: [special.softmax(rng.normal(size=(4, 3)), axis=0), rng.normal(size=(4, 3))], grad=(0, 1)),
    # Reference: the plain definition -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), with
    # log(sigmoid(x)) = -softplus(-x); logits up to |x| = 6 exercise both signs of the stable form.
    OpCase("sigmoid-xent", ("Softplus", "Mul", "Sub"),
           lambda labels, logits: gc.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits),
           lambda z, x: z * softplus(-x) + (1 - z) * softplus(x),
           lambda rng: [rng.uniform(0, 1, size=(3, 4)), rng.normal(scale=3.0, size=(3, 4))], grad=(0, 1)),
    # Logits at exactly 0 (where |x| has a kink but the loss does not) and at +-40 (exp(40) overflows float16).
    OpCase("sigmoid-xent-extreme-logits", ("Softplus", "Mul", "Sub"),
           lambda labels, logits: gc.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits),
           lambda z, x: z * softplus(-x) + (1 - z) * softplus(x),
           lambda rng: [rng.uniform(0, 1, size=(2, 3)), np.array([[0.0, 40.0, -40.0], [0.0, 12.0, -0.5]])],
           grad=(0, 1)),
]
