"""Composite functions written once against a small namespace, so the same body runs on
gradcore and natively on torch or jax. Each framework's own autodiff then serves as an
independent oracle for gradcore's gradients (see test_native_oracles.py).

A composite is ``Composite(name, fn, make_inputs)``: ``fn(ns, *inputs)`` returns a scalar;
``make_inputs(rng)`` returns float64 NumPy arrays (all differentiated) and, through
``Composite.constants``, integer arrays passed as-is.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Composite:
    name: str
    fn: Callable
    make_inputs: Callable  # rng -> list of float64 arrays, all differentiated
    constants: Callable = lambda rng: []  # rng -> list of integer arrays (indices, labels)


def _normal(*shapes):
    return lambda rng: [rng.normal(size=s) for s in shapes]


def _labels(n, classes):
    return lambda rng: [rng.integers(0, classes, size=n)]


def mlp_layer(ns, x, w, b):
    return ns.reduce_sum(ns.relu(ns.matmul(x, w) + b) ** 2)


def tanh_mlp(ns, x, w1, w2):
    return ns.reduce_mean(ns.tanh(ns.matmul(ns.tanh(ns.matmul(x, w1)), w2)))


def softmax_xent(ns, logits, labels):
    return ns.reduce_mean(ns.sparse_xent(labels, logits))


def dense_xent(ns, logits, targets):
    return ns.reduce_sum(-ns.softmax(targets, -1) * ns.log_softmax(logits, -1))


def layer_norm(ns, x, gamma, beta):
    mean = ns.reduce_mean(x, -1, True)
    var = ns.reduce_mean((x - mean) ** 2, -1, True)
    y = (x - mean) / ns.sqrt(var + 1e-5) * gamma + beta
    return ns.reduce_sum(y * ns.sin(y))


def attention(ns, q, k, v):
    scores = ns.matmul(q, ns.transpose(k, (0, 2, 1))) / 2.0
    return ns.reduce_sum(ns.matmul(ns.softmax(scores, -1), v) ** 2)


def two_head_attention(ns, x, wq, wk):
    q, k = ns.matmul(x, wq), ns.matmul(x, wk)
    weights = ns.softmax(ns.matmul(q, ns.transpose(k, (1, 0))), -1)
    return ns.reduce_sum(ns.matmul(weights, x) * x)


def gather_duplicates(ns, params, indices):
    return ns.reduce_sum(ns.gather(params, indices, 0) ** 2 * 1.5)


def gather_axis1(ns, params, indices):
    return ns.reduce_sum(ns.exp(ns.gather(params, indices, 1)))


def embedding_mlp(ns, table, w, indices):
    return ns.reduce_sum(ns.tanh(ns.matmul(ns.gather(table, indices, 0), w)))


def clip_value(ns, x):
    return ns.reduce_sum(ns.clip_by_value(x * 2.0, -0.7, 0.9) ** 2)


def clip_norm(ns, x):
    return ns.reduce_sum(ns.clip_by_norm(x, 1.5) * ns.cos(x))


def logsumexp_chain(ns, x):
    return ns.reduce_sum(ns.logsumexp(x, -1) * ns.logsumexp(x * 0.5, -1))


def sigmoid_bce(ns, logits, z):
    labels = ns.sigmoid(z)
    return ns.reduce_mean(ns.sigmoid_xent(labels, logits))


def softplus_gelu(ns, x):
    return ns.reduce_sum(ns.softplus(x) * ns.gelu(x))


def elu_leaky(ns, x):
    return ns.reduce_sum(ns.elu(x) + ns.leaky_relu(x) * 3.0)


def max_pool_like(ns, x):
    return ns.reduce_sum(ns.reduce_max(ns.reshape(x, (3, 2, 4)), 1) ** 2)


def concat_stack(ns, a, b):
    joined = ns.concat([a, b * 2.0], 1)
    return ns.reduce_sum(ns.stack([joined, ns.tanh(joined)], 0) ** 3)


def reshape_transpose(ns, x):
    y = ns.transpose(ns.reshape(x, (2, 3, 4)), (2, 0, 1))
    return ns.reduce_sum(y * ns.reshape(ns.exp(x * 0.1), (4, 2, 3)))


def where_branch(ns, x, y):
    return ns.reduce_sum(ns.where(x > y, x * y, ns.sin(x - y)))


def max_min_mix(ns, x, y):
    return ns.reduce_sum(ns.maximum(x, y) * ns.minimum(x, y * 0.5))


def variance_std(ns, x):
    centered = x - ns.reduce_mean(x, 0, True)
    return ns.reduce_sum(ns.sqrt(ns.reduce_mean(centered * centered, 0) + 0.1))


def pow_chain(ns, x, y):
    return ns.reduce_sum(ns.abs(x) ** 1.5 + ns.exp(y) ** 0.5)


def log1p_expm1(ns, x):
    return ns.reduce_sum(ns.log1p(ns.exp(x)) - ns.expm1(x * 0.3))


def erf_gauss(ns, x):
    return ns.reduce_sum(ns.erf(x) * ns.exp(-x * x))


def batched_matmul(ns, a, b):
    return ns.reduce_sum(ns.tanh(ns.matmul(a, b)))


def broadcast_bias(ns, x, row, col):
    return ns.reduce_sum((x + row) * (x - col) / (1.0 + ns.square(col)))


def slicing(ns, x):
    return ns.reduce_sum(x[1:, ::2] * x[:-1, 1::2] + x[0, ::2] ** 2)


def residual_block(ns, x, w):
    h = ns.relu(ns.matmul(x, w))
    return ns.reduce_sum(ns.tanh(h + x) ** 2)


def rms_norm(ns, x, gamma):
    scale = 1.0 / ns.sqrt(ns.reduce_mean(x * x, -1, True) + 1e-6)
    return ns.reduce_sum(x * scale * gamma * ns.sigmoid(x))


def sum_of_logs(ns, x):
    return ns.reduce_sum(ns.log(x * x + 1.0) + ns.sqrt(x * x + 2.0))


def tile_pad(ns, x):
    return ns.reduce_sum(ns.tile(x, (2, 1)) ** 2) + ns.reduce_sum(ns.pad(x, ((1, 0), (0, 2))) * 3.0)


COMPOSITES = [
    Composite("mlp_layer", mlp_layer, _normal((4, 5), (5, 3), (3,))),
    Composite("tanh_mlp", tanh_mlp, _normal((4, 5), (5, 6), (6, 2))),
    Composite("softmax_xent", softmax_xent, _normal((6, 5)), _labels(6, 5)),
    Composite("dense_xent", dense_xent, _normal((4, 5), (4, 5))),
    Composite("layer_norm", layer_norm, _normal((3, 6), (6,), (6,))),
    Composite("attention", attention, _normal((2, 3, 4), (2, 5, 4), (2, 5, 3))),
    Composite("two_head_attention", two_head_attention, _normal((5, 4), (4, 4), (4, 4))),
    Composite("gather_duplicates", gather_duplicates, _normal((5, 3)), lambda rng: [np.array([0, 2, 0, 4, 2, 2])]),
    Composite("gather_axis1", gather_axis1, _normal((3, 4)), lambda rng: [np.array([3, 3, 1])]),
    Composite("embedding_mlp", embedding_mlp, _normal((6, 4), (4, 3)), lambda rng: [np.array([[1, 5], [1, 0]])]),
    Composite("clip_value", clip_value, _normal((4, 5))),
    Composite("clip_norm", clip_norm, _normal((3, 4))),
    Composite("logsumexp_chain", logsumexp_chain, _normal((3, 5))),
    Composite("sigmoid_bce", sigmoid_bce, _normal((4, 3), (4, 3))),
    Composite("softplus_gelu", softplus_gelu, _normal((10,))),
    Composite("elu_leaky", elu_leaky, _normal((10,))),
    Composite("max_pool_like", max_pool_like, _normal((6, 4))),
    Composite("concat_stack", concat_stack, _normal((2, 3), (2, 2))),
    Composite("reshape_transpose", reshape_transpose, _normal((6, 4))),
    Composite("where_branch", where_branch, _normal((3, 4), (3, 4))),
    Composite("max_min_mix", max_min_mix, _normal((3, 4), (4,))),
    Composite("variance_std", variance_std, _normal((5, 3))),
    Composite("pow_chain", pow_chain, _normal((6,), (6,))),
    Composite("log1p_expm1", log1p_expm1, _normal((7,))),
    Composite("erf_gauss", erf_gauss, _normal((7,))),
    Composite("batched_matmul", batched_matmul, _normal((2, 3, 4), (4, 2))),
    Composite("broadcast_bias", broadcast_bias, _normal((3, 4), (4,), (3, 1))),
    Composite("slicing", slicing, _normal((4, 6))),
    Composite("residual_block", residual_block, _normal((3, 4), (4, 4))),
    Composite("rms_norm", rms_norm, _normal((3, 5), (5,))),
    Composite("sum_of_logs", sum_of_logs, _normal((8,))),
    Composite("tile_pad", tile_pad, _normal((2, 3))),
]
