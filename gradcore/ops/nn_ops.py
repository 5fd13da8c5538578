"""Neural-network ops: activations, dropout, softmax, and the cross-entropy losses of ``tf.nn``.

Ops with a kernel of their own (relu, softplus, softmax, log_softmax, sparse
softmax cross-entropy) register a rule written with gradcore ops. The other
activations, dropout and the dense and sigmoid cross-entropies are composites of
differentiable ops: their gradients, at every order, come from those ops' rules.
"""

import math
import numbers

from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.engine.tensor import Tensor
from gradcore.errors import DTypeError, InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import expand_dims
from gradcore.ops.factories import backward_op, unary_op
from gradcore.ops.kernels import run_kernel
from gradcore.ops.math_ops import abs as absolute
from gradcore.ops.math_ops import (
    add,
    divide,
    erf,
    exp,
    expm1,
    greater,
    greater_equal,
    less,
    minimum,
    multiply,
    negative,
    sigmoid,
    square,
    subtract,
    tanh,
    where,
)
from gradcore.ops.operands import (
    FLOAT,
    NUMERIC,
    check_in_range,
    check_kind,
    normalize_single_axis,
    operands,
)
from gradcore.ops.random_ops import uniform
from gradcore.ops.reduction_ops import reduce_sum
from gradcore.ops.rules import unary_rule

# ---- activations ---------------------------------------------------------------------------

relu = unary_op("Relu", "relu", NUMERIC, api="gc.nn.relu", doc="max(features, 0).")
relu_grad = backward_op("ReluGrad", "relu_grad")
softplus = unary_op("Softplus", "softplus", FLOAT, api="gc.nn.softplus", doc="log(1 + exp(features)), stable in |x|.")


# d relu(x) = 1 where x > 0, else 0 (also at 0, as TF); y > 0 exactly where x > 0.
unary_rule("Relu", lambda dy, x, y: relu_grad(y, dy))


@RegisterGradient("ReluGrad")
def _relu_grad_grad(op, g):
    """z = dy where y > 0: linear in dy, piecewise constant (zero derivative) in y."""
    y, _ = op.inputs
    return None, relu_grad(y, g)


unary_rule("Softplus", lambda dy, x, y: multiply(dy, sigmoid(x)))  # d softplus(x) = sigmoid(x)


def leaky_relu(features, alpha=0.2, name=None):
    """features where features > 0, else alpha * features; the slope at 0 is alpha, as TF's LeakyReluGrad."""
    x = _float_input("gc.nn.leaky_relu", features)
    return where(greater(x, 0), x, multiply(x, float(alpha)))


def elu(features, name=None):
    """features where features > 0, else exp(features) - 1."""
    x = _float_input("gc.nn.elu", features)
    return where(greater(x, 0), x, _expm1_of_negative_part(x))


#: SELU's constants (Klambauer et al. 2017), to TensorFlow's digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name=None):
    """scale * (features where features >= 0, else alpha * (exp(features) - 1)), with TF's constants.

    At 0 the derivative is scale, the linear piece's, as TF's SeluGrad (test_nn_more.py).
    """
    x = _float_input("gc.nn.selu", features)
    return multiply(where(less(x, 0), multiply(_expm1_of_negative_part(x), SELU_ALPHA), x), SELU_SCALE)


def _expm1_of_negative_part(x):
    # expm1 sees only x <= 0: where x > 0 its overflowing value would turn the zero gradient
    # of the unselected branch into 0 * inf = NaN.
    return expm1(minimum(x, 0))


def relu6(features, name=None):
    """min(max(features, 0), 6); the derivative is 1 strictly inside (0, 6) and 0 elsewhere, as TF's Relu6Grad."""
    x = to_tensor(features, op_name="gc.nn.relu6")
    check_kind("gc.nn.relu6", x, NUMERIC)
    # The constant comes first because minimum's ties go to its first argument: no gradient at 6.
    return minimum(6, relu(x))


def silu(features, beta=1.0):
    """features * sigmoid(beta * features), also named swish; a tensor ``beta`` gets a gradient too, as in TF."""
    x = _float_input("gc.nn.silu", features)
    unscaled = isinstance(beta, numbers.Real) and beta == 1
    return multiply(x, sigmoid(x if unscaled else multiply(x, beta)))


swish = silu


def softsign(features, name=None):
    """features / (1 + |features|)."""
    x = _float_input("gc.nn.softsign", features)
    return divide(x, add(absolute(x), 1))


def log_sigmoid(x, name=None):
    """log(sigmoid(x)), computed as -softplus(-x): finite and exact where sigmoid(x) rounds to 0 or 1."""
    x = _float_input("gc.math.log_sigmoid", x)
    return negative(softplus(negative(x)))


def gelu(features, approximate=False, name=None):
    """x * Phi(x) with Phi the normal CDF (via erf), or TF's tanh approximation when ``approximate``."""
    x = _float_input("gc.nn.gelu", features)
    if approximate:
        inner = multiply(add(x, multiply(multiply(x, square(x)), 0.044715)), math.sqrt(2 / math.pi))
        cdf = add(tanh(inner), 1.0)
    else:
        cdf = add(erf(multiply(x, 1 / math.sqrt(2))), 1.0)
    return multiply(multiply(x, 0.5), cdf)


def _float_input(api, value):
    x = to_tensor(value, op_name=api)
    check_kind(api, x, FLOAT)
    return x


# ---- dropout -------------------------------------------------------------------------------


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes each element of ``x`` with probability ``rate`` and scales the rest by 1 / (1 - rate).

    As ``tf.nn.dropout``: ``rate`` 0 returns ``x`` itself; ``noise_shape`` (its None entries taken
    from ``x`` when the ranks agree) shares one keep-or-drop draw along its size-1 axes. The draw
    comes from ``gc.random.uniform``, so it is the same on every backend, and an explicit ``seed``
    alone decides the mask (gc.random's stateless seeds); ``seed`` may also be a function called at
    each draw, which is how ``layers.Dropout`` gets a fresh mask per call.
    """
    api = "gc.nn.dropout"
    rate = dropout_rate(api, rate)
    x = to_tensor(x, op_name=api)
    if not x._dtype.is_floating:
        raise DTypeError(f"{api}: x must be a floating-point tensor, as it is scaled; got dtype {x._dtype.name} "
                         f"with shape {x.shape}; cast it with gc.cast")
    if rate == 0:
        return x
    keep = greater_equal(uniform(_noise_shape(api, x.shape, noise_shape), seed=seed), rate)
    return where(keep, multiply(x, 1 / (1 - rate)), 0)


def dropout_rate(api, rate):
    """``rate`` (a number or scalar tensor) as a float in [0, 1), or TensorFlow's ValueError."""
    if type(rate) is Tensor and rate.ndim == 0:
        rate = float(rate)
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise InvalidArgumentError(f"{api}: rate must be a number in [0, 1) (the fraction of inputs dropped), "
                                   f"got rate={rate!r}")
    return float(rate)


def _noise_shape(api, shape, noise_shape):
    if noise_shape is None:
        return shape
    if type(noise_shape) is Tensor:
        noise_shape = noise_shape.numpy().tolist()
    noise_shape = tuple(noise_shape)
    if len(noise_shape) == len(shape):
        noise_shape = tuple(n if s is None else s for s, n in zip(noise_shape, shape))
    fits = len(noise_shape) <= len(shape) and all(
        n is not None and (n == 1 or n == s) for n, s in zip(reversed(noise_shape), reversed(shape)))
    if not fits:
        raise ShapeError(f"{api}: noise_shape {noise_shape} must broadcast to the shape of x, {tuple(shape)} "
                         f"(each size 1 or x's size; None entries need x's rank)")
    return noise_shape


# ---- softmax along an axis -----------------------------------------------------------------


def _along_axis(op_type, kernel, api, doc):
    """An op normalizing ``logits`` along one axis with the kernel ``backend.<kernel>(x, axis)``."""

    def op(logits, axis=-1, name=None):
        x = _float_input(api, logits)
        axis = normalize_single_axis(api, axis, x.ndim)
        backend = x._backend
        y = run_kernel(api, backend, kernel, x._dtype, x._value, axis)
        if state.recording:
            record(op_type, (x,), (y,), {"axis": axis})
        return y

    op.__name__ = op.__qualname__ = kernel
    op.__doc__ = doc
    return op


softmax = _along_axis("Softmax", "softmax", "gc.nn.softmax", "exp(logits) / sum(exp(logits), axis).")
log_softmax = _along_axis("LogSoftmax", "log_softmax", "gc.nn.log_softmax", "logits - logsumexp(logits, axis).")


@RegisterGradient("Softmax")
def _softmax_grad(op, dy):
    """d softmax = y * (dy - sum(dy * y, axis))."""
    y, axis = op.outputs[0], op.get_attr("axis")
    return multiply(y, subtract(dy, reduce_sum(multiply(dy, y), axis, keepdims=True)))


@RegisterGradient("LogSoftmax")
def _log_softmax_grad(op, dy):
    """d log_softmax = dy - exp(y) * sum(dy, axis)."""
    y, axis = op.outputs[0], op.get_attr("axis")
    return subtract(dy, multiply(exp(y), reduce_sum(dy, axis, keepdims=True)))


# ---- cross-entropies -----------------------------------------------------------------------

_SPARSE_XENT = "gc.nn.sparse_softmax_cross_entropy_with_logits"


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """-log softmax(logits)[labels] along the last axis, one loss per row.

    ``labels`` are integer class indices of shape ``logits.shape[:-1]``, each in
    ``[0, num_classes)``; they get no gradient.
    """
    x = _float_input(_SPARSE_XENT, logits)
    ids = to_tensor(labels, backend=x._backend, op_name=_SPARSE_XENT)
    if not ids._dtype.is_integer:
        raise DTypeError(
            f"{_SPARSE_XENT}: labels must be integer class indices, got dtype {ids._dtype.name} "
            f"with shape {ids.shape}; cast them with gc.cast(labels, gc.int64)"
        )
    if x.ndim == 0 or ids.shape != x.shape[:-1]:
        raise ShapeError(
            f"{_SPARSE_XENT}: labels of shape {ids.shape} do not fit logits of shape {x.shape}; "
            f"labels must have the logits' shape without its last (class) axis"
        )
    check_in_range(_SPARSE_XENT, ids, x.shape[-1], "label", f"logits have {x.shape[-1]} classes")
    backend = x._backend
    loss = run_kernel(_SPARSE_XENT, backend, "sparse_softmax_cross_entropy", x._dtype, x._value, ids._value)
    if state.recording:
        record("SparseSoftmaxCrossEntropyWithLogits", (x, ids), (loss,))
    return loss


@RegisterGradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_xent_grad(op, dy):
    """d loss / d logits = softmax(logits) - one_hot(labels); softmax carries the higher orders."""
    logits, ids = op.inputs
    backend = logits._backend
    one_hot = run_kernel(_SPARSE_XENT, backend, "one_hot", logits._dtype, ids._value, logits.shape[-1], logits._dtype)
    return multiply(expand_dims(dy, -1), subtract(softmax(logits), one_hot)), None


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """-sum(labels * log_softmax(logits), axis): the cross-entropy of ``labels`` relative to softmax(logits).

    Both inputs get gradients, as in TF: ``-log_softmax(logits)`` for labels, and for logits the
    exact derivative ``softmax * sum(labels) - labels``, which is TF's ``softmax - labels`` when
    each row of labels is a distribution (as TF requires).
    """
    api = "gc.nn.softmax_cross_entropy_with_logits"
    labels, x = _same_shape(api, labels, logits)
    axis = normalize_single_axis(api, axis, x.ndim)
    return negative(reduce_sum(multiply(labels, log_softmax(x, axis)), axis))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise -z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x)) for labels z and logits x.

    Computed as TF's stable ``max(x, 0) - x*z + log(1 + exp(-|x|))``: the first and last
    terms are softplus(x), whose derivative sigmoid(x) is exact also at x = 0.
    """
    labels, x = _same_shape("gc.nn.sigmoid_cross_entropy_with_logits", labels, logits)
    return subtract(softplus(x), multiply(x, labels))


def _same_shape(api, labels, logits):
    labels, logits = operands(labels, logits, api)
    check_kind(api, logits, FLOAT)
    if labels.shape != logits.shape:
        raise ShapeError(
            f"{api}: labels of shape {labels.shape} and logits of shape {logits.shape} must have the same shape"
        )
    return labels, logits

