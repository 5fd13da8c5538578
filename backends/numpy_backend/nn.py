"""Neural-network kernels: activations, their gradients, one-hot and sparse cross-entropy."""

import numpy as np


class NNKernels:
    """Activations and losses; softmax and log_softmax use the contract's composites."""

    def sigmoid(self, x):
        # Split by sign so exp never overflows: e^x/(1+e^x) for x<0, 1/(1+e^-x) otherwise.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def relu(self, x):
        return np.maximum(x, 0)

    def tanh_grad(self, y, dy):
        return dy * (1 - y * y)

    def sigmoid_grad(self, y, dy):
        return dy * (y * (1 - y))

    def relu_grad(self, x, dy):
        return np.where(x > 0, dy, np.zeros((), dy.dtype))

    def one_hot(self, indices, depth, dtype):
        return (indices[..., None] == np.arange(depth)).astype(dtype.as_numpy_dtype)

    def sparse_softmax_cross_entropy(self, logits, labels):
        shifted = logits - np.max(logits, axis=-1, keepdims=True)
        picked = np.take_along_axis(shifted, labels[..., None].astype(np.intp), axis=-1)[..., 0]
        return np.log(np.sum(np.exp(shifted), axis=-1)) - picked
