"""Cases for the further tf.nn activations, dropout and normalization (gradcore/ops/nn_ops.py,
gradcore/ops/normalization_ops.py).

All are compositions of registered ops, named in each case. References are the
definitions written in NumPy/SciPy in float64. Inputs of the piecewise activations
keep away from their kinks (0 for selu and softsign's second derivative, 0 and 6 for
relu6) so central differences measure the true derivative; what happens exactly at
a kink is tested in test_nn_more.py.
"""

import numpy as np

import gradcore as gc
from gradcore.ops.nn_ops import SELU_ALPHA, SELU_SCALE

from . import OpCase, normal



def signed(low, high, *shapes):
    """Floats with |x| in [low, high) and random signs: away from the kink at 0."""
    return lambda rng: [rng.uniform(low, high, size=s) * rng.choice([-1.0, 1.0], size=s) for s in shapes]


def around_relu6_kinks(rng):
    """Values in each of relu6's three pieces, at least 0.1 from 0 and 6."""
    pieces = [(-3.0, -0.1), (0.1, 5.9), (6.1, 9.0)]
    low, high = np.array(pieces)[rng.integers(0, 3, size=(3, 4))].transpose(2, 0, 1)
    return [rng.uniform(low, high)]


def log_sigmoid_reference(x):
    return -np.logaddexp(0.0, -x)


def log_sigmoid_inputs(rng):
    """Moderate values, and values where sigmoid rounds to 0 or 1 and exp(200) overflows."""
    return [np.concatenate([rng.normal(scale=3.0, size=(1, 3)), [[-200.0, -40.0, 0.0], [200.0, 40.0, 1.5]]])]


DROPOUT_RATE, DROPOUT_SEED = 0.5, 7


def dropout_reference(x):
    """The mask is gc.random.uniform's own draw for the seed (identical bits on every backend)."""
    with gc.backend_scope("numpy"):
        draw = gc.random.uniform(x.shape, seed=DROPOUT_SEED).numpy()
    return np.where(draw >= DROPOUT_RATE, x / (1 - DROPOUT_RATE), 0.0)


def batch_norm_reference(x, mean, variance, offset, scale):
    return (x - mean) / np.sqrt(variance + 1e-3) * scale + offset


def batch_norm_inputs(rng):
    return [rng.normal(size=(2, 3)), rng.normal(size=(3,)), rng.uniform(0.5, 2.0, size=(3,)),
            rng.normal(size=(3,)), rng.normal(size=(3,))]


CASES = [
    OpCase("relu6", ("Relu", "ReluGrad", "Minimum"), gc.nn.relu6, lambda x: np.clip(x, 0, 6), around_relu6_kinks),
    OpCase("selu", ("Less", "Minimum", "Expm1", "Mul", "SelectV2"), gc.nn.selu,
           lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), signed(0.1, 3.0, (3, 4))),
    # A tensor beta is differentiated too, as TF's silu (beta's default, 1, is tested in test_nn_more.py).
    OpCase("silu-beta", ("Mul", "Sigmoid", "SigmoidGrad"), gc.nn.silu, lambda x, beta: x / (1 + np.exp(-beta * x)),
           lambda rng: [rng.normal(scale=3.0, size=(3, 4)), rng.uniform(0.5, 2.0, size=())], grad=(0, 1)),
    OpCase("softsign", ("Abs", "AddV2", "RealDiv"), gc.nn.softsign, lambda x: x / (1 + np.abs(x)),
           signed(0.1, 4.0, (3, 4))),
    OpCase("log-sigmoid", ("Neg", "Softplus", "Sigmoid", "SigmoidGrad"), gc.math.log_sigmoid, log_sigmoid_reference,
           log_sigmoid_inputs),
    OpCase("dropout-seeded", ("GreaterEqual", "Mul", "SelectV2"),
           lambda x: gc.nn.dropout(x, DROPOUT_RATE, seed=DROPOUT_SEED), dropout_reference, normal((3, 4)),
           dtypes=("float16", "float32", "float64")),
    # keepdims=True only skips the squeeze: test_nn_more.py checks it.
    OpCase("moments", ("Cast", "Mean", "Sub", "Square", "Reshape", "Pack"),
           lambda x: gc.stack(gc.nn.moments(x, [0, -1])),
           lambda x: np.stack([x.mean(axis=(0, 2)), x.var(axis=(0, 2))]), normal((2, 3, 2))),
    OpCase("batch-normalization", ("AddV2", "Rsqrt", "Mul", "Sub", "Cast"),
           lambda x, m, v, o, s: gc.nn.batch_normalization(x, m, v, o, s, 1e-3), batch_norm_reference,
           batch_norm_inputs, grad=(0, 1, 2, 3, 4)),
]
