"""``gc.losses``: Keras 3's losses (``tf.keras.losses``) built from differentiable gradcore ops.

Each loss comes twice, as in Keras: a function giving one value per sample
(``mean_squared_error(y_true, y_pred)``, the mean over the last axis) and a class
whose ``__call__(y_true, y_pred, sample_weight=None)`` weights those values and
reduces them ("sum_over_batch_size", "sum" or "none"). Gradients of every order
come from the ops' rules. Cross-entropies from logits use gc.nn's stable kernels;
from probabilities they clip to [EPSILON, 1 - EPSILON] as Keras does, so values and
gradients stay finite at probabilities of exactly 0 and 1.
"""

import math
import re

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.errors import ShapeError
from gradcore.ops.array_ops import expand_dims, one_hot, squeeze
from gradcore.ops.clip_ops import clip_by_value
from gradcore.ops.math_ops import (
    abs,
    add,
    cast,
    divide,
    less_equal,
    log,
    multiply,
    negative,
    square,
    subtract,
    where,
)
from gradcore.ops.nn_ops import (
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
from gradcore.ops.operands import broadcast_shape, check_in_range, normalize_single_axis
from gradcore.ops.reduction_ops import reduce_mean, reduce_sum

#: Keras's ``backend.epsilon()``: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log.
EPSILON = 1e-7

# ---- the per-sample loss functions ---------------------------------------------------------


def mean_squared_error(y_true, y_pred):
    """mean(square(y_true - y_pred), axis=-1)."""
    y_true, y_pred = _paired("gc.losses.mean_squared_error", y_true, y_pred)
    return reduce_mean(square(subtract(y_true, y_pred)), -1)


def mean_absolute_error(y_true, y_pred):
    """mean(abs(y_true - y_pred), axis=-1)."""
    y_true, y_pred = _paired("gc.losses.mean_absolute_error", y_true, y_pred)
    return reduce_mean(abs(subtract(y_true, y_pred)), -1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 * e^2 where |e| <= delta, else delta * |e| - 0.5 * delta^2.

    e = y_pred - y_true: quadratic near 0, linear (so less swayed by outliers) beyond ``delta``.
    """
    y_true, y_pred = _paired("gc.losses.huber", y_true, y_pred)
    error = subtract(y_pred, y_true)
    quadratic = multiply(square(error), 0.5)
    linear = subtract(multiply(abs(error), float(delta)), 0.5 * float(delta) ** 2)
    return reduce_mean(where(less_equal(abs(error), float(delta)), quadratic, linear), -1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over ``axis`` of -(y log p + (1 - y) log(1 - p)), p = y_pred or sigmoid(y_pred) when ``from_logits``.

    ``label_smoothing`` moves the labels towards 0.5: y * (1 - s) + 0.5 * s.
    """
    y_true, y_pred = _paired("gc.losses.binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = _smoothed(y_true, label_smoothing, 0.5)
    if from_logits:
        elementwise = sigmoid_cross_entropy_with_logits(y_true, y_pred)
    else:
        p = clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        log_likelihood = add(multiply(y_true, log(p)), multiply(subtract(1.0, y_true), log(subtract(1.0, p))))
        elementwise = negative(log_likelihood)
    return reduce_mean(elementwise, axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log p, axis) for one-hot (or soft) labels, p = y_pred or softmax(y_pred) when ``from_logits``.

    Probabilities are rescaled to sum to 1 along ``axis`` before clipping, as Keras does.
    ``label_smoothing`` mixes the labels with the uniform distribution: y * (1 - s) + s / num_classes.
    """
    api = "gc.losses.categorical_crossentropy"
    y_true, y_pred = _paired(api, y_true, y_pred)
    axis = normalize_single_axis(api, axis, y_pred.ndim)
    if label_smoothing:
        y_true = _smoothed(y_true, label_smoothing, 1.0 / y_pred.shape[axis])
    if from_logits:
        return softmax_cross_entropy_with_logits(y_true, y_pred, axis)
    return negative(reduce_sum(multiply(y_true, _clipped_log_probabilities(y_pred, axis)), axis))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-log p[y_true] along the last axis, for integer class labels (shape y_pred.shape[:-1], or with a trailing 1).

    Labels must lie in [0, num_classes); float labels are cast to integers, as Keras does.
    """
    api = "gc.losses.sparse_categorical_crossentropy"
    y_pred = _float_tensor(api, y_pred)
    labels = _class_ids(api, y_true, y_pred)
    if from_logits:
        return sparse_softmax_cross_entropy_with_logits(labels, y_pred)
    num_classes = y_pred.shape[-1]
    picked = one_hot(labels, num_classes, dtype=y_pred.dtype)
    return negative(reduce_sum(multiply(picked, _clipped_log_probabilities(y_pred, -1)), -1))


def _clipped_log_probabilities(y_pred, axis):
    probabilities = divide(y_pred, reduce_sum(y_pred, axis, keepdims=True))
    return log(clip_by_value(probabilities, EPSILON, 1.0 - EPSILON))


def _smoothed(y_true, smoothing, target):
    return add(multiply(y_true, 1.0 - float(smoothing)), float(smoothing) * float(target))


def sparse_labels(api, y_true, y_pred):
    """Sparse labels shaped as y_pred without its class axis (a trailing axis of 1 is dropped)."""
    labels = to_tensor(y_true, backend=y_pred._backend, op_name=api)
    if labels.ndim == y_pred.ndim and labels.ndim > 0 and labels.shape[-1] == 1:
        labels = squeeze(labels, -1)
    if y_pred.ndim == 0 or labels.shape != y_pred.shape[:-1]:
        raise ShapeError(
            f"{api}: labels of shape {labels.shape} do not fit predictions of shape {y_pred.shape}; labels "
            f"must have the predictions' shape without its last (class) axis, or with a last axis of 1"
        )
    return labels


def _class_ids(api, y_true, y_pred):
    """Labels as integer class ids of shape y_pred.shape[:-1] (floats cast to int64), each in [0, num_classes)."""
    labels = sparse_labels(api, y_true, y_pred)
    if not labels.dtype.is_integer:
        labels = cast(labels, dtypes.int64)
    num_classes = y_pred.shape[-1]
    check_in_range(api, labels, num_classes, "label", f"predictions have {num_classes} classes")
    return labels


# ---- turning inputs into tensors of one float dtype ---------------------------------------------


def _float_tensor(api, value, dtype=None):
    """``value`` as a float tensor: of ``dtype`` if given, else float64 stays float64 and all else is float32.

    Half precision is computed in float32 because 1 - EPSILON rounds to 1 in float16, which would
    turn the clipped log(1 - p) into log(0).
    """
    x = to_tensor(value, op_name=api)
    if dtype is None:
        dtype = dtypes.float64 if x.dtype is dtypes.float64 else dtypes.float32
    return cast(x, dtype)


def _paired(api, y_true, y_pred):
    """y_pred as a float tensor and y_true cast to its dtype, ranks aligned, shapes checked equal."""
    y_pred = _float_tensor(api, y_pred)
    y_true = cast(to_tensor(y_true, backend=y_pred._backend, op_name=api), y_pred.dtype)
    y_true, y_pred = align_ranks(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"{api}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} must have the same shape"
        )
    return y_true, y_pred


def align_ranks(x1, x2, expand_rank_1=True):
    """Keras's ``squeeze_or_expand_to_same_rank``: if the ranks differ by one and the longer shape ends
    in 1, squeeze that axis, or instead give the rank-1 tensor a trailing axis when ``expand_rank_1``.

    This is what makes labels of shape (batch,) work with predictions of shape (batch, 1).
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, expand_dims(x2, -1)) if x2.ndim == 1 and expand_rank_1 else (squeeze(x1, -1), x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (expand_dims(x1, -1), x2) if x1.ndim == 1 and expand_rank_1 else (x1, squeeze(x2, -1))
    return x1, x2


# ---- weighting and reducing -----------------------------------------------------------------

_REDUCTIONS = {
    "sum_over_batch_size": "sum_over_batch_size",
    "auto": "sum_over_batch_size",  # tf.keras 2's name for the default
    "mean": "sum_over_batch_size",  # Keras 3's alias
    "sum": "sum",
    "none": "none",
    None: "none",
}


def _standardize_reduction(reduction):
    try:
        return _REDUCTIONS[reduction]
    except (KeyError, TypeError):
        raise ValueError(
            f"gc.losses: invalid reduction {reduction!r}; expected one of "
            f"{sorted(str(r) for r in _REDUCTIONS)}"
        ) from None


def _reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size", api="gc.losses"):
    """``values * sample_weight`` (ranks aligned, then broadcast), then summed, averaged or kept.

    "sum_over_batch_size" divides the weighted sum by the number of values, not by the sum of
    the weights, as Keras does: a weight of 0 masks a sample but still counts it.
    """
    if sample_weight is not None:
        weights = cast(to_tensor(sample_weight, backend=values._backend, op_name=api), values.dtype)
        values, weights = align_ranks(values, weights)
        try:
            broadcast_shape(values.shape, weights.shape, api)
        except ShapeError:
            raise ShapeError(
                f"{api}: sample_weight of shape {weights.shape} does not broadcast against the per-sample "
                f"losses of shape {values.shape}"
            ) from None
        values = multiply(values, weights)
    reduction = _standardize_reduction(reduction)
    if reduction == "none" or values.ndim == 0:
        return values
    total = reduce_sum(values)
    # The count as an int (no float()): it may be an unknown size of a gc.function trace.
    return total if reduction == "sum" else divide(total, max(math.prod(values.shape), 1))


# ---- the loss classes ----------------------------------------------------------------------


class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample losses, ``__call__`` weights and reduces them.

    ``dtype`` is the dtype predictions are cast to first and the dtype of the result; by default
    float64 stays float64 and everything else becomes float32 (Keras's floatx). Half precision is
    computed in float32 by the loss functions; with ``dtype="float16"`` (or bfloat16) their
    per-sample values are then rounded to it and weighted and reduced in it, as Keras's
    ``reduce_weighted_values`` converts them to the loss's dtype, so the result has that dtype
    (gradcore/conformance/test_mixed_precision.py, test_loss_dtype_float16_gives_float16).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        self.dtype = None if dtype is None else dtypes.as_dtype(dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        api = f"gc.losses.{type(self).__name__}"
        y_pred = _float_tensor(api, y_pred, self.dtype)
        losses = self.call(y_true, y_pred)
        if self.dtype is not None and losses.dtype is not self.dtype:
            losses = cast(losses, self.dtype)
        return _reduce_weighted_values(losses, sample_weight, self.reduction, api)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<gc.losses.{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A Loss whose ``call`` is ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    """mean(square(y_true - y_pred)) per sample, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """mean(abs(y_true - y_pred)) per sample, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to ``delta``, linear beyond (see ``huber``)."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)


class BinaryCrossentropy(LossFunctionWrapper):
    """Cross-entropy of independent binary labels (see ``binary_crossentropy``)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy of one-hot labels (see ``categorical_crossentropy``)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy of integer class labels (see ``sparse_categorical_crossentropy``)."""

    def __init__(self, from_logits=False, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype, from_logits=from_logits)


def _snake_case(name):
    """'MeanSquaredError' -> 'mean_squared_error', 'AUC' -> 'auc' (Keras's to_snake_case)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
