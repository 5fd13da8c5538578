"""gc.metrics behaves as Keras 3's metrics (tf.keras.metrics), and agrees with scikit-learn.

Expected values are Keras' own (its docstring examples, or a run of Keras on TF), NumPy
formulas written here, or scikit-learn's accuracy_score, precision_score, recall_score and
roc_auc_score. For Precision with several thresholds only Keras' result is known, not its
data, so the data here is chosen to produce those numbers. Streaming is checked by feeding
the same data in several batches.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.engine.recording import state
from gradcore.testing import assert_allclose

rng = np.random.default_rng(11)


@pytest.fixture
def sklearn_metrics():
    """scikit-learn (the test extra installs it); only the agreement tests need it."""
    return pytest.importorskip("sklearn.metrics")


def value(tensor):
    return np.asarray(tensor, np.float64).tolist()


# ---- Mean and Sum --------------------------------------------------------------------------------


def test_mean_with_and_without_weights():  # Keras' docstring example
    m = gc.metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert value(m.result()) == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert value(m.result()) == 2.0


def test_mean_before_any_update_is_zero():  # Keras: divide_no_nan
    assert value(gc.metrics.Mean().result()) == 0.0


def test_mean_accumulates_total_and_count():  # Keras: total 9, count 3
    m = gc.metrics.Mean()
    m.update_state([1.0, 2.0])
    m.update_state(6.0)
    assert [value(v) for v in m.variables] == [9.0, 3.0]
    assert value(m.result()) == 3.0


def test_mean_of_2d_values_averages_rows_first():  # Keras 3: count is per sample
    m = gc.metrics.Mean()
    m.update_state([[1, 2, 3], [4, 5, 9]])
    assert value(m.count) == 2.0 and value(m.result()) == 4.0
    m.reset_state()
    m.update_state([[1, 2, 3], [4, 5, 9]], sample_weight=[1, 3])
    assert value(m.count) == 4.0 and value(m.result()) == 5.0


def test_call_is_update_then_result():  # Keras: __call__ = update_state + result
    m = gc.metrics.Mean()
    assert value(m([1.0, 3.0])) == 2.0
    assert value(m(5.0)) == 3.0


def test_sum_with_and_without_weights():  # Keras' docstring example
    assert value(gc.metrics.Sum()([1, 3, 5, 7])) == 16.0
    assert value(gc.metrics.Sum()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])) == 4.0


def test_weights_per_element_average_into_weights_per_sample():
    values, weights = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    m = gc.metrics.Mean(dtype="float64")
    m.update_state(values, sample_weight=weights)
    # per sample: mean(v * w) over the row, weighted by mean(w) over the row
    expected = np.sum(np.mean(values * weights, 1)) / np.sum(np.mean(weights, 1))
    assert_allclose(m.result(), expected, gc.float64)


# ---- accuracies ----------------------------------------------------------------------------------


def test_accuracy_is_exact_equality():  # Keras' docstring example
    y_true, y_pred = [[1], [2], [3], [4]], [[0], [2], [3], [4]]
    assert value(gc.metrics.Accuracy()(y_true, y_pred)) == 0.75
    assert value(gc.metrics.Accuracy()(y_true, y_pred, sample_weight=[1, 1, 0, 0])) == 0.5


def test_binary_accuracy_threshold_is_strict():  # Keras: pred > threshold
    y_true, y_pred = [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]
    assert value(gc.metrics.BinaryAccuracy()(y_true, y_pred)) == 0.75
    assert value(gc.metrics.BinaryAccuracy()(y_true, y_pred, sample_weight=[1, 0, 0, 1])) == 0.5
    assert value(gc.metrics.BinaryAccuracy()([[1], [0]], [[0.5], [0.5]])) == 0.5


def test_categorical_accuracy_ties_pick_the_first_index():  # Keras' docstring example
    y_true, y_pred = [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    assert value(gc.metrics.CategoricalAccuracy()(y_true, y_pred)) == 0.5
    assert_allclose(gc.metrics.CategoricalAccuracy()(y_true, y_pred, sample_weight=[0.7, 0.3]), 0.3)
    tied = [[0.4, 0.4, 0.2], [0.3, 0.3, 0.3]]
    assert value(gc.metrics.CategoricalAccuracy()([[1, 0, 0], [1, 0, 0]], tied)) == 1.0
    assert value(gc.metrics.CategoricalAccuracy()([[0, 1, 0], [0, 0, 1]], tied)) == 0.0


def test_sparse_categorical_accuracy_takes_column_or_flat_labels():  # Keras' docstring example
    y_pred = [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]
    assert value(gc.metrics.SparseCategoricalAccuracy()([[2], [1]], y_pred)) == 0.5
    assert_allclose(gc.metrics.SparseCategoricalAccuracy()([[2], [1]], y_pred, sample_weight=[0.7, 0.3]), 0.3)
    assert value(gc.metrics.SparseCategoricalAccuracy()([2, 1], y_pred)) == 0.5
    assert value(gc.metrics.SparseCategoricalAccuracy()([2.0, 1.0], y_pred)) == 0.5


def test_binary_accuracy_weights_each_element_of_multi_label_rows():
    y_true, y_pred = [[1, 1, 0, 0], [1, 1, 0, 0]], [[1, 1, 0, 0], [1, 1, 0, 1]]
    weights = [[1, 1, 1, 1], [0, 0, 0, 1]]
    # elementwise matches [[1,1,1,1],[1,1,1,0]], each weighted by its own weight
    m = gc.metrics.BinaryAccuracy()
    m.update_state(y_true, y_pred, sample_weight=weights)
    assert_allclose(m.result(), (1 + (0 + 0 + 0 + 0) / 4) / (1 + 1 / 4))


# ---- Precision and Recall ------------------------------------------------------------------------


def test_precision_documented_examples():  # Keras' docstring examples
    assert_allclose(gc.metrics.Precision()([0, 1, 1, 1], [1, 0, 1, 1]), 2 / 3)
    assert value(gc.metrics.Precision()([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])) == 1.0
    assert value(gc.metrics.Precision(top_k=2)([0, 0, 1, 1], [1, 1, 1, 1])) == 0.0
    assert value(gc.metrics.Precision(top_k=4)([0, 0, 1, 1], [1, 1, 1, 1])) == 0.5


def test_prediction_on_the_threshold_is_negative_and_several_thresholds_give_a_vector():  # Keras: pred > threshold
    assert value(gc.metrics.Precision()([0, 1], [0.5, 0.9])) == 1.0  # 0.5 is not > 0.5
    m = gc.metrics.Precision(thresholds=[0.3, 0.7])
    out = m([0, 1, 1, 0], [0.5, 0.4, 0.8, 0.2])  # > 0.3: 2 of 3 positive; > 0.7: 1 of 1
    assert out.shape == (2,)
    assert_allclose(out, [2 / 3, 1.0])


def test_recall_documented_examples():  # Keras' docstring examples
    assert_allclose(gc.metrics.Recall()([0, 1, 1, 1], [1, 0, 1, 1]), 2 / 3)
    assert value(gc.metrics.Recall()([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])) == 1.0


def test_class_id_counts_one_column_and_top_k_masks_the_rest():
    y_true = [[0, 1, 0], [1, 0, 0], [0, 1, 0]]
    y_pred = [[0.2, 0.7, 0.6], [0.9, 0.3, 0.8], [0.6, 0.55, 0.1]]
    # column 1 > 0.5: rows 0 and 2, both labelled 1
    assert value(gc.metrics.Precision(class_id=1)(y_true, y_pred)) == 1.0
    # column 1 kept only where it is the row's top 1: row 0 only
    assert value(gc.metrics.Recall(class_id=1, top_k=1)(y_true, y_pred)) == 0.5
    # top 2 of each row: {1, 2}, {0, 2}, {0, 1}; labelled: 1 of 2 in each row
    assert value(gc.metrics.Precision(top_k=2)(y_true, y_pred)) == 0.5


def test_top_k_ties_go_to_the_lower_index():
    # ones everywhere: top 2 are columns 0 and 1, labelled [0, 1]
    assert value(gc.metrics.Precision(top_k=2)([[0, 1, 1, 1]], [[1.0, 1.0, 1.0, 1.0]])) == 0.5


def test_thresholds_outside_zero_one_are_a_value_error():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]. Received: \[1.5\]"):
        gc.metrics.Precision(thresholds=[0.5, 1.5])


# ---- AUC ---------------------------------------------------------------------------------------


def test_auc_with_three_thresholds():  # Keras' docstring example
    m = gc.metrics.AUC(num_thresholds=3)
    assert value(m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])) == 0.75
    assert m.thresholds == [-1e-7, 0.5, 1 + 1e-7]
    m.reset_state()
    assert value(m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])) == 1.0


def test_auc_roc_and_pr_with_200_thresholds():  # Keras' values
    y_true, y_pred = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert_allclose(gc.metrics.AUC()(y_true, y_pred), 0.75)
    assert_allclose(gc.metrics.AUC(curve="PR")(y_true, y_pred), 0.7972674)


def test_auc_needs_two_thresholds():  # Keras' ValueError
    message = "Argument `num_thresholds` must be an integer > 1. Received: num_thresholds=1"
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        gc.metrics.AUC(num_thresholds=1)


def test_empty_precision_and_auc_read_zero():  # Keras: 0.0, not NaN
    assert value(gc.metrics.Precision().result()) == 0.0
    assert value(gc.metrics.AUC().result()) == 0.0
    assert value(gc.metrics.AUC(curve="PR").result()) == 0.0


def np_interpolated_pr_auc(tp, fp, fn):
    """Keras's formula, written out in float64 NumPy (0/0 read as 0, as divide_no_nan)."""
    def div(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b != 0)
    p = tp + fp
    dtp, dp = tp[:-1] - tp[1:], p[:-1] - p[1:]
    slope = div(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    ratio = np.where((p[:-1] > 0) & (p[1:] > 0), div(p[:-1], np.maximum(p[1:], 0)), 1.0)
    return np.sum(div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)))


def np_counts(y_true, y_pred, thresholds, weights):
    """tp, fp, fn at each threshold, a prediction positive when strictly above it."""
    above = y_pred[None, :] > np.asarray(thresholds)[:, None]
    positive = y_true[None, :] != 0
    return tuple(np.sum(mask * weights, axis=1) for mask in (above & positive, above & ~positive, ~above & positive))


@pytest.mark.parametrize("summation_method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_formulas_match_numpy(curve, summation_method):
    y_true = rng.integers(0, 2, size=40)
    y_pred = np.round(rng.uniform(size=40), 3).astype(np.float32)
    weights = rng.uniform(size=40).astype(np.float32)
    m = gc.metrics.AUC(num_thresholds=11, curve=curve, summation_method=summation_method, dtype="float64")
    m.update_state(y_true, y_pred.astype(np.float64), sample_weight=weights.astype(np.float64))
    tp, fp, fn = np_counts(y_true, y_pred.astype(np.float64), m.thresholds, weights.astype(np.float64))
    tn = np.sum(weights * (y_true == 0)) - fp
    recall, fpr, precision = tp / (tp + fn), np.divide(fp, fp + tn), np.divide(tp, np.maximum(tp + fp, 1e-300))
    if curve == "PR" and summation_method == "interpolation":
        expected = np_interpolated_pr_auc(tp, fp, fn)
    else:
        x, y = (fpr, recall) if curve == "ROC" else (recall, precision)
        heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
                   "majoring": np.maximum(y[:-1], y[1:])}[summation_method]
        expected = np.sum((x[:-1] - x[1:]) * heights)
    assert_allclose(m.result(), expected, gc.float64)


def test_auc_from_logits_applies_a_sigmoid():
    y_true, logits = [0, 0, 1, 1], np.array([-2.0, 0.4, -0.6, 1.4])
    expected = gc.metrics.AUC()(y_true, 1 / (1 + np.exp(-logits)))
    assert_allclose(gc.metrics.AUC(from_logits=True)(y_true, logits), expected)


def test_auc_with_given_thresholds_adds_the_end_points():
    m = gc.metrics.AUC(thresholds=[0.7, 0.2])
    assert m.thresholds == [-1e-7, 0.2, 0.7, 1 + 1e-7]
    assert m.num_thresholds == 4
    assert m.get_config()["thresholds"] == [0.2, 0.7]


# ---- the Metric interface -----------------------------------------------------------------------


@pytest.mark.parametrize("make, names", [
    (gc.metrics.Mean, ["total", "count"]),
    (gc.metrics.Sum, ["total"]),
    (gc.metrics.Precision, ["true_positives", "false_positives"]),
    (gc.metrics.Recall, ["true_positives", "false_negatives"]),
    (gc.metrics.AUC, ["true_positives", "false_positives", "true_negatives", "false_negatives"]),
])
def test_variables_are_named_as_keras_names_them_and_not_trainable(make, names):  # Keras' names
    variables = make().variables
    assert [v.name.split(":")[0] for v in variables] == names
    assert not any(v.trainable for v in variables)


def test_there_is_no_reset_states():  # Keras 3: only reset_state
    assert not hasattr(gc.metrics.Mean(), "reset_states")


def test_dtype_sets_the_result_dtype():  # Keras: float32 by default
    assert gc.metrics.Mean().dtype is gc.float32
    m = gc.metrics.Mean(dtype="float64")
    assert m([1, 2]).dtype is gc.float64
    assert all(v.dtype is gc.float64 for v in m.variables)
    assert gc.metrics.AUC(dtype=gc.float64)([0, 1], [0.2, 0.8]).dtype is gc.float64


@pytest.mark.parametrize("make", [
    lambda: gc.metrics.Mean(name="loss"),
    lambda: gc.metrics.BinaryAccuracy(threshold=0.7),
    lambda: gc.metrics.Precision(thresholds=[0.2, 0.6], class_id=1),
    lambda: gc.metrics.AUC(num_thresholds=50, curve="PR", summation_method="majoring", from_logits=True),
])
def test_config_round_trips(make):
    metric = make()
    config = metric.get_config()
    assert type(metric).from_config(config).get_config() == config


def test_reset_state_zeroes_every_variable():
    m = gc.metrics.AUC(num_thresholds=5)
    m.update_state([0, 1, 1], [0.2, 0.7, 0.4])
    m.reset_state()
    assert all(not v.numpy().any() for v in m.variables)


def test_updates_record_nothing_on_an_open_tape():
    x = gc.constant([0.2, 0.9, 0.4, 0.7])
    with gc.GradientTape() as tape:
        tape.watch(x)
        doubled = x * 2.0
        recorded = len(tape._nodes)
        gc.metrics.Mean()(x)
        for m in (gc.metrics.BinaryAccuracy(), gc.metrics.Precision(), gc.metrics.AUC(), gc.metrics.MeanSquaredError()):
            m([0.0, 1.0, 0.0, 1.0], x)
        assert len(tape._nodes) == recorded
    assert_allclose(tape.gradient(doubled, x), [2.0] * 4)


def test_subclass_methods_run_with_recording_paused():
    class Seen(gc.metrics.Metric):
        def __init__(self):
            super().__init__()
            self.recording_in = []

        def update_state(self, values):
            self.recording_in.append(list(state.recording))

        def result(self):
            self.recording_in.append(list(state.recording))
            return gc.constant(0.0)

    m = Seen()
    assert m.name == "seen"
    with gc.GradientTape():
        m(1.0)
    assert m.recording_in == [[], []]


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, args", [
    (gc.metrics.Mean, ([1.0, 2.0],)),
    (gc.metrics.Accuracy, ([1, 2], [1, 2])),
    (gc.metrics.Precision, ([0, 1], [0.2, 0.8])),
    (gc.metrics.AUC, ([0, 1], [0.2, 0.8])),
])
def test_nan_sample_weights_are_an_error_naming_the_metric(make, args):
    metric = make()
    pattern = rf"gc.metrics.{type(metric).__name__}\('{metric.name}'\): sample_weight has a NaN at position \(1,\)"
    with pytest.raises(gc.InvalidArgumentError, match=pattern):
        metric.update_state(*args, sample_weight=[1.0, np.nan])
    assert value(metric.result()) == 0.0  # the state is untouched


@pytest.mark.parametrize("make", [gc.metrics.Precision, gc.metrics.Recall, gc.metrics.AUC])
def test_mismatched_shapes_name_the_metric(make):
    metric = make()
    with pytest.raises(gc.ShapeError, match=rf"{type(metric).__name__}.*\(3, 2\).*\(3, 4\)"):
        metric.update_state(np.zeros((3, 2)), np.zeros((3, 4)))


@pytest.mark.parametrize("metric, name", [
    (gc.metrics.Accuracy, "accuracy"),
    (gc.metrics.BinaryAccuracy, "binary_accuracy"),
    (gc.metrics.CategoricalAccuracy, "categorical_accuracy"),
    (gc.metrics.MeanSquaredError, "mean_squared_error"),
])
def test_accuracy_shape_errors_name_the_function(metric, name):
    with pytest.raises(gc.ShapeError, match=rf"{name}: y_true of shape \(3, 2\) and y_pred of shape \(3, 4\)"):
        metric().update_state(np.zeros((3, 2)), np.zeros((3, 4)))


def test_sample_weight_that_does_not_broadcast_names_the_metric():
    with pytest.raises(gc.ShapeError, match=r"gc.metrics.Mean\('mean'\): sample_weight of shape \(3,\)"):
        gc.metrics.Mean().update_state([[1.0, 2.0], [3.0, 4.0]], sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(gc.ShapeError, match=r"gc.metrics.Recall\('recall'\): sample_weight of shape"):
        gc.metrics.Recall().update_state([0, 1], [0.2, 0.8], sample_weight=[1.0, 2.0, 3.0])


def test_class_id_out_of_range_is_an_error():
    with pytest.raises(gc.InvalidArgumentError, match=r"class_id=3.*\(2, 3\)"):
        gc.metrics.Precision(class_id=3).update_state(np.zeros((2, 3)), np.zeros((2, 3)))


# ---- agreement with scikit-learn ----------------------------------------------------------------

N = 60


def binary_data():
    y_true = rng.integers(0, 2, size=N)
    y_pred = rng.uniform(size=N).astype(np.float32)
    weights = rng.integers(0, 4, size=N).astype(np.float32)  # integer weights: float32 sums are exact
    return y_true, y_pred, weights


@pytest.mark.parametrize("weighted", [False, True])
def test_accuracies_precision_recall_agree_with_sklearn(sklearn_metrics, weighted):
    y_true, y_pred, weights = binary_data()
    kwargs = {"sample_weight": weights if weighted else None}
    decided = (y_pred > 0.5).astype(int)
    assert_allclose(gc.metrics.BinaryAccuracy()(y_true, y_pred, **kwargs),
                    sklearn_metrics.accuracy_score(y_true, decided, **kwargs))
    assert_allclose(gc.metrics.Precision()(y_true, y_pred, **kwargs),
                    sklearn_metrics.precision_score(y_true, decided, **kwargs))
    assert_allclose(gc.metrics.Recall()(y_true, y_pred, **kwargs),
                    sklearn_metrics.recall_score(y_true, decided, **kwargs))

    labels, scores = rng.integers(0, 5, size=N), rng.normal(size=(N, 5))
    expected = sklearn_metrics.accuracy_score(labels, scores.argmax(-1), **kwargs)
    assert_allclose(gc.metrics.SparseCategoricalAccuracy()(labels, scores, **kwargs), expected)
    assert_allclose(gc.metrics.CategoricalAccuracy()(np.eye(5)[labels], scores, **kwargs), expected)
    assert_allclose(gc.metrics.Accuracy()(labels, scores.argmax(-1), **kwargs), expected)


@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_agrees_with_sklearn_when_the_thresholds_separate_the_scores(sklearn_metrics, weighted):
    """Exact, not approximate: every score sits strictly between two neighbouring thresholds
    (the grid (k + 1/2) / 199 against thresholds i / 199), so the thresholds produce every vertex
    of the exact ROC curve, the extra points lie on its segments, and the trapezoidal sum over
    them equals sklearn's trapezoidal sum over the distinct scores. Ties share a grid point,
    as they share a score in sklearn. Only float32 rounding of the rates remains."""
    y_true = rng.integers(0, 2, size=N)
    y_pred = (rng.integers(0, 199, size=N) + 0.5) / 199  # 60 draws from 199 points: ties happen
    weights = rng.integers(1, 4, size=N).astype(np.float64) if weighted else None
    expected = sklearn_metrics.roc_auc_score(y_true, y_pred, sample_weight=weights)
    assert_allclose(gc.metrics.AUC()(y_true, y_pred, sample_weight=weights), expected)


def test_roc_auc_with_coarse_thresholds_is_within_the_bucket_error_of_sklearn(sklearn_metrics):
    """With 11 thresholds scores sharing a bucket become ties; the trapezoid over a bucket replaces
    the exact staircase inside it, so the error is at most half the pairs that share a bucket."""
    y_true, y_pred, _ = binary_data()
    positives, negatives = y_pred[y_true == 1], y_pred[y_true == 0]
    bucket = lambda s: np.ceil(s * 10)
    shared = np.sum(bucket(positives)[:, None] == bucket(negatives)[None, :]) / (len(positives) * len(negatives))
    error = float(gc.metrics.AUC(num_thresholds=11)(y_true, y_pred)) - sklearn_metrics.roc_auc_score(y_true, y_pred)
    assert abs(error) <= shared / 2 + 1e-6


# ---- streaming: several batches equal one -------------------------------------------------------


@pytest.mark.parametrize("make, data", [
    (gc.metrics.Mean, "values"),
    (gc.metrics.Sum, "values"),
    (gc.metrics.Accuracy, "classes"),
    (gc.metrics.BinaryAccuracy, "binary"),
    (gc.metrics.CategoricalAccuracy, "one_hot"),
    (gc.metrics.SparseCategoricalAccuracy, "sparse"),
    (gc.metrics.Precision, "binary"),
    (lambda: gc.metrics.Recall(thresholds=[0.2, 0.5, 0.8]), "binary"),
    (gc.metrics.AUC, "binary"),
    (lambda: gc.metrics.AUC(curve="PR"), "binary"),
    (gc.metrics.MeanSquaredError, "regression"),
])
def test_several_batches_equal_one_big_batch(make, data):
    y_true, y_pred, weights = binary_data()
    labels, scores = rng.integers(0, 4, size=N), rng.normal(size=(N, 4))
    args = {
        "values": (y_pred,),
        "classes": (labels, scores.argmax(-1)),
        "binary": (y_true, y_pred),
        "one_hot": (np.eye(4)[labels], scores),
        "sparse": (labels, scores),
        "regression": (scores, rng.normal(size=(N, 4))),
    }[data]
    whole, streamed = make(), make()
    whole.update_state(*args, sample_weight=weights)
    for part in np.split(np.arange(N), 3):  # equal parts: fewer shapes for backends that compile per shape
        streamed.update_state(*(a[part] for a in args), sample_weight=weights[part])
    assert_allclose(streamed.result(), whole.result())
