"""Regression metrics: the running mean of a regression loss's per-sample values."""

from gradcore.losses import mean_absolute_error, mean_squared_error
from gradcore.metrics.reduction_metrics import MeanMetricWrapper


class MeanSquaredError(MeanMetricWrapper):
    """The mean of mean(square(y_true - y_pred), axis=-1) over every sample seen."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of mean(abs(y_true - y_pred), axis=-1) over every sample seen."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)
