"""``gc.metrics``: Keras 3's streaming metrics (``tf.keras.metrics``), checked in gradcore/conformance/test_metrics.py.

A metric keeps its statistics in non-trainable Variables, grows them with
``update_state`` and reads them with ``result()``; ``m(...)`` does both. This
module only re-exports; the code lives in the modules named below.
"""

from gradcore.losses import mean_absolute_error, mean_squared_error  # noqa: F401 - Keras exports them here too
from gradcore.metrics.accuracy_metrics import (  # noqa: F401
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from gradcore.metrics.confusion_metrics import AUC, Precision, Recall  # noqa: F401
from gradcore.metrics.metric import Metric  # noqa: F401
from gradcore.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum  # noqa: F401
from gradcore.metrics.regression_metrics import MeanAbsoluteError, MeanSquaredError  # noqa: F401
