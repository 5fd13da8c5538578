"""Sum, Mean, and MeanMetricWrapper: the mean of a per-sample function, the base of the accuracies.

Values are reduced to one per sample before weighting (Keras 3's
``reduce_to_samplewise_values``): Mean counts samples, or sums their weights,
so 2-D values without weights give the mean of the row means.
"""

from gradcore.losses import align_ranks
from gradcore.metrics.metric import Metric
from gradcore.ops.math_ops import divide_no_nan, multiply
from gradcore.ops.reduction_ops import reduce_mean, reduce_sum


def reduce_to_samplewise_values(metric, values, sample_weight, reduce_fn):
    """(one value per sample, one weight per sample or None), values already multiplied by the weights.

    Axes the weights do not have are reduced with ``reduce_fn`` first; weights of rank > 1
    are reduced the same way, so a weight per element averages (Mean) into a weight per sample.
    """
    if sample_weight is not None:
        values, sample_weight = align_ranks(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = reduce_fn(values, list(range(weight_ndim, values.ndim)))
        sample_weight = metric._broadcast_weights(sample_weight, values.shape)
        values = multiply(values, sample_weight)
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, list(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, list(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of every value seen: ``Sum()([1, 3, 5, 7]) == 16``."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(
            self, self._values(values), self._sample_weight(sample_weight), reduce_sum
        )
        self.total.assign_add(reduce_sum(values))

    def result(self):
        return self.total.read_value()


class Mean(Metric):
    """The (weighted) mean of the values seen: total / count, 0 before any update."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(
            self, self._values(values), self._sample_weight(sample_weight), reduce_mean
        )
        self.total.assign_add(reduce_sum(values))
        if sample_weight is not None:
            self.count.assign_add(reduce_sum(sample_weight))
        else:
            self.count.assign_add(values.shape[0] if values.ndim else 1)  # an int: may be an unknown size

    def result(self):
        return divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)``, one value per sample (or per element)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}
