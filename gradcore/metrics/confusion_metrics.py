"""Precision, Recall and AUC: weighted confusion-matrix counts at fixed thresholds.

A prediction is positive at threshold t when it is strictly greater than t,
and a label is positive when it is nonzero. Counts are sums of sample
weights, accumulated in Variables named as Keras names them; results
divide them with divide_no_nan, so a metric with no data reads 0.
"""

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.errors import InvalidArgumentError, ShapeError
from gradcore.losses import align_ranks
from gradcore.metrics.metric import Metric
from gradcore.ops.array_ops import expand_dims, reshape
from gradcore.ops.creation_ops import ones_like
from gradcore.ops.creation_ops import range as arange
from gradcore.ops.math_ops import (
    add,
    cast,
    divide_no_nan,
    equal,
    greater,
    less,
    log,
    logical_and,
    logical_or,
    maximum,
    minimum,
    multiply,
    not_equal,
    sigmoid,
    subtract,
    where,
)
from gradcore.ops.reduction_ops import reduce_sum

#: The threshold Keras uses with ``top_k`` alone: everything kept by top_k is above it.
NEG_INF = -1e10
EPSILON = 1e-7
_COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def confusion_counts(metric, y_true, y_pred, sample_weight, thresholds, top_k=None, class_id=None):
    """{name: weighted count at each threshold} for the four names in _COUNTS.

    With ``top_k`` only the k largest predictions of each row (ties to the lower index, as
    ``tf.math.top_k``) can be positive; with ``class_id`` only that column of the last axis counts.
    """
    y_pred = metric._values(y_pred)
    y_true = cast(to_tensor(y_true, backend=y_pred.backend, op_name=metric._label), metric.dtype)
    y_pred, y_true = align_ranks(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"{metric._label}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} "
            f"must have the same shape"
        )
    weights = _weights_like(metric, y_true, metric._sample_weight(sample_weight))
    if top_k is not None:
        y_pred = where(_in_top_k(y_pred, top_k), y_pred, NEG_INF)
    if class_id is not None:
        _check_class_id(metric, class_id, y_pred.shape)
        y_true, y_pred, weights = (t[..., class_id] for t in (y_true, y_pred, weights))
    predicted = cast(greater(reshape(y_pred, (1, -1)), reshape(_constant(thresholds, y_pred), (-1, 1))), y_pred.dtype)
    actual = cast(not_equal(reshape(y_true, (-1,)), 0), y_pred.dtype)
    weights = reshape(weights, (-1,))
    positives, negatives = multiply(actual, weights), multiply(subtract(1.0, actual), weights)
    tp = reduce_sum(multiply(predicted, positives), 1)
    fp = reduce_sum(multiply(predicted, negatives), 1)
    return {
        "true_positives": tp,
        "false_positives": fp,
        "true_negatives": subtract(reduce_sum(negatives), fp),
        "false_negatives": subtract(reduce_sum(positives), tp),
    }


def _weights_like(metric, y_true, weights):
    """One weight per element of y_true: a weight per sample spreads over the sample's other axes."""
    if weights is None:
        return ones_like(y_true)
    _, weights = align_ranks(y_true, expand_dims(weights, -1), expand_rank_1=False)
    return metric._broadcast_weights(weights, y_true.shape)


def _in_top_k(x, k):
    """Whether each entry is among the k largest of its last axis (ties go to the lower index).

    An entry's rank is the number of entries that beat it: larger ones, and equal ones before it.
    """
    n = x.shape[-1]
    index = arange(n)
    before = less(reshape(index, (1, n)), reshape(index, (n, 1)))  # [i, j]: j comes before i
    mine, others = expand_dims(x, -1), expand_dims(x, -2)
    beaten_by = logical_or(greater(others, mine), logical_and(equal(others, mine), before))
    return less(reduce_sum(cast(beaten_by, dtypes.int32), -1), int(k))


def _check_class_id(metric, class_id, shape):
    if len(shape) < 2 or not 0 <= class_id < shape[-1]:
        raise InvalidArgumentError(
            f"{metric._label}: class_id={class_id} needs predictions of shape (..., num_classes) with "
            f"class_id in [0, num_classes); got predictions of shape {shape}"
        )


def _constant(values, like):
    return cast(to_tensor(np.asarray(values, np.float64), backend=like.backend), like.dtype)


def _parse_thresholds(thresholds, default):
    """Thresholds as a list of floats in [0, 1]; ``default`` (unchecked) when none are given."""
    if thresholds is None:
        return [float(default)]
    values = [float(t) for t in np.atleast_1d(thresholds)]
    outside = [t for t in values if not 0.0 <= t <= 1.0]
    if outside:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {outside}")
    return values


class _TruePositiveRatio(Metric):
    """tp / (tp + errors) at each threshold: Precision's errors are the false positives, Recall's the
    false negatives. One threshold gives a scalar result, several a vector."""

    _errors = None  # the name of the count in the denominator beside true_positives

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape, name="true_positives")
        setattr(self, self._errors, self.add_variable(shape, name=self._errors))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(self, y_true, y_pred, sample_weight, self.thresholds, self.top_k, self.class_id)
        self.true_positives.assign_add(counts["true_positives"])
        getattr(self, self._errors).assign_add(counts[self._errors])

    def result(self):
        tp = self.true_positives.read_value()
        ratio = divide_no_nan(tp, add(tp, getattr(self, self._errors)))
        return ratio[0] if len(self.thresholds) == 1 else ratio

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_TruePositiveRatio):
    """tp / (tp + fp): how many of the predicted positives are positive."""

    _errors = "false_positives"


class Recall(_TruePositiveRatio):
    """tp / (tp + fn): how many of the positives are predicted positive."""

    _errors = "false_negatives"


class AUC(Metric):
    """The area under the ROC or precision-recall curve, as a Riemann sum over fixed thresholds.

    The thresholds are ``num_thresholds`` evenly spaced in [0, 1], or the given ``thresholds``,
    with the end points moved to -EPSILON and 1 + EPSILON so predictions of exactly 0 and 1
    fall inside. 'interpolation' uses the trapezoidal rule for ROC, and for PR Keras's
    interpolation of true and false positives (Davis & Goadrich 2006, ``_interpolated_pr_auc``).
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 dtype=None, thresholds=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, None))
        elif isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
            raise ValueError(
                f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
            )
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._init_thresholds = thresholds
        self.num_thresholds = len(inner) + 2
        self._thresholds = [0.0 - EPSILON, *inner, 1.0 + EPSILON]
        self.curve = _choice("curve", curve, ("ROC", "PR"))
        self.summation_method = _choice("summation_method", summation_method, ("interpolation", "minoring", "majoring"))
        self.from_logits = from_logits
        for count in _COUNTS:
            setattr(self, count, self.add_variable((self.num_thresholds,), name=count))

    @property
    def thresholds(self):
        """The thresholds used, end points included."""
        return list(self._thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = sigmoid(self._values(y_pred))
        counts = confusion_counts(self, y_true, y_pred, sample_weight, self._thresholds)
        for count in _COUNTS:
            getattr(self, count).assign_add(counts[count])

    def result(self):
        tp, fp, tn, fn = (getattr(self, count).read_value() for count in _COUNTS)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolated_pr_auc(tp, fp, fn)
        recall = divide_no_nan(tp, add(tp, fn))
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, add(fp, tn)), recall
        else:
            x, y = recall, divide_no_nan(tp, add(tp, fp))
        if self.summation_method == "interpolation":
            heights = multiply(add(y[:-1], y[1:]), 0.5)
        else:
            heights = (minimum if self.summation_method == "minoring" else maximum)(y[:-1], y[1:])
        return reduce_sum(multiply(subtract(x[:-1], x[1:]), heights))

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "from_logits": self.from_logits}
        if self._init_thresholds is not None:
            config["thresholds"] = self._thresholds[1:-1]
        return config


def _interpolated_pr_auc(tp, fp, fn):
    """Keras's closed form: within each threshold interval TP and P = TP + FP vary linearly, so
    precision = TP / P integrates over recall to slope * (dTP + intercept * log(P_A / P_B)) / (TP + FN),
    with slope = dTP / dP and intercept = TP_B - slope * P_B (B the higher threshold)."""
    p = add(tp, fp)
    dtp = subtract(tp[:-1], tp[1:])
    dp = subtract(p[:-1], p[1:])
    slope = divide_no_nan(dtp, maximum(dp, 0.0))
    intercept = subtract(tp[1:], multiply(slope, p[1:]))
    both_positive = logical_and(greater(p[:-1], 0.0), greater(p[1:], 0.0))
    p_ratio = where(both_positive, divide_no_nan(p[:-1], maximum(p[1:], 0.0)), 1.0)
    integrals = multiply(slope, add(dtp, multiply(intercept, log(p_ratio))))
    areas = divide_no_nan(integrals, maximum(add(tp[1:], fn[1:]), 0.0))
    return reduce_sum(areas)


def _choice(argument, value, allowed):
    """``value`` matched case-insensitively against ``allowed``, returned in its canonical spelling."""
    for option in allowed:
        if str(value).lower() == option.lower():
            return option
    raise ValueError(f"gc.metrics.AUC: invalid {argument} {value!r}; expected one of {list(allowed)}")
