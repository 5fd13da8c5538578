"""Accuracies: how often predictions match labels, as the Mean of a 0/1 match per sample.

The functions give 1.0 where a prediction matches, else 0.0; the classes average
them with ``MeanMetricWrapper``. Matches are elementwise for ``accuracy`` and
``binary_accuracy`` (Keras 3), so a weight per element weights each element.
"""

from gradcore.engine import dtypes
from gradcore.losses import _float_tensor, _paired, sparse_labels
from gradcore.metrics.reduction_metrics import MeanMetricWrapper
from gradcore.ops.math_ops import cast, equal, greater
from gradcore.ops.reduction_ops import argmax


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly (ranks aligned first), else 0.0."""
    y_true, y_pred = _paired("gc.metrics.accuracy", y_true, y_pred)
    return _as_float(equal(y_true, y_pred))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where y_true equals (y_pred > threshold), else 0.0; the threshold is strict."""
    y_true, y_pred = _paired("gc.metrics.binary_accuracy", y_true, y_pred)
    return _as_float(equal(y_true, cast(greater(y_pred, float(threshold)), y_pred.dtype)))


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) along the last axis; ties pick the first index."""
    y_true, y_pred = _paired("gc.metrics.categorical_accuracy", y_true, y_pred)
    return _as_float(equal(argmax(y_true, -1), argmax(y_pred, -1)))


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label y_true == argmax(y_pred) along the last axis.

    Labels have the predictions' shape without the class axis, or with a class axis of 1.
    """
    api = "gc.metrics.sparse_categorical_accuracy"
    y_pred = _float_tensor(api, y_pred)
    labels = sparse_labels(api, y_true, y_pred)
    return _as_float(equal(labels, cast(argmax(y_pred, -1), labels.dtype)))


def _as_float(matches):
    return cast(matches, dtypes.float32)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) equals the binary label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if not 0 < threshold < 1:
            raise ValueError(f"gc.metrics.BinaryAccuracy: threshold must be in (0, 1), got {threshold!r}")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax of the predictions picks the one-hot label's class."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax of the predictions is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)
