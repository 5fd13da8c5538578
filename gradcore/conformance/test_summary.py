"""gc.summary, as tf.summary behaves in TensorFlow 2 (tensorflow/python/ops/summary_ops_v2.py and
TensorBoard's tensorboard/plugins/*/summary_v2.py); each test names the behaviour it mirrors.

Events are read back with TensorBoard's own readers; expected values come from the test's own
arithmetic and NumPy, never from gc.summary. docs/summary.md describes what is checked here.
"""

import io
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboard.util import tensor_util

import gradcore as gc
import gradcore.summary  # until gradcore/__init__.py imports it
from gradcore.summary import writer as writer_module
from gradcore.testing import assert_allclose

summary = gc.summary

NO_STEP = "No step set. Please specify one either through the `step` argument or through gc.summary.experimental.set_step()"


@pytest.fixture(autouse=True)
def fresh_summary_state():
    """Each test starts and ends with no default writer, step or condition in this thread."""
    state = writer_module.summary_state
    state.writer = state.step = state.is_recording = None
    yield
    state.writer = state.step = state.is_recording = None


def event_files(logdir):
    return sorted(name for name in os.listdir(logdir) if name.startswith("events.out.tfevents."))


def read_events(logdir):
    """Every summary value in ``logdir``'s event files, in order: (step, tag, plugin name, value)."""
    found = []
    for name in event_files(logdir):
        for event in LegacyEventFileLoader(os.path.join(logdir, name)).Load():
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                found.append((event.step, value.tag, plugin, tensor_util.make_ndarray(value.tensor)))
    return found


def scalars(logdir, tag):
    return [(step, float(value)) for step, t, _, value in read_events(logdir) if t == tag]


def is_bool_tensor(result, expected):
    return isinstance(result, gc.Tensor) and result.dtype == gc.bool and bool(result) is expected


# ---- writers, steps and recording conditions ------------------------------------------------------


def test_without_a_default_writer_nothing_is_recorded(tmp_path):
    """tf.summary.scalar('x', 1., step=1) with no default writer returns False (a bool tensor);
    should_record_summaries() is False."""
    assert is_bool_tensor(summary.scalar("x", 1.0, step=1), False)
    assert is_bool_tensor(summary.histogram("h", [1.0, 2.0], step=1), False)
    assert is_bool_tensor(summary.text("t", "hello", step=1), False)
    assert is_bool_tensor(summary.image("i", np.zeros((1, 2, 2, 3)), step=1), False)
    assert is_bool_tensor(summary.should_record_summaries(), False)


def test_a_writer_without_a_step_raises(tmp_path):
    """TF: a default writer and no step anywhere -> ValueError "No step set. ..."."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(), pytest.raises(ValueError, match=re.escape(NO_STEP)):
        summary.scalar("x", 1.0)
    with writer.as_default(), pytest.raises(ValueError, match=re.escape(NO_STEP)):
        summary.histogram("h", [1.0])


def test_no_step_is_no_error_when_nothing_is_recorded(tmp_path):
    """TF's write() raises "No step set" inside record(): under record_if(False) it returns False."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(), summary.record_if(False):
        assert is_bool_tensor(summary.scalar("x", 1.0), False)


def test_as_default_with_a_step_writes_every_kind_of_summary(tmp_path):
    """TF: with w.as_default(step=10): scalar at 10, scalar step=11, text step=3, histogram step=4
    buckets=2, image [2,4,4,3] step=5 max_outputs=1: each returns True; the events carry those
    steps, tags and plugins; get_step() is 10 inside and None after; one events.out.tfevents.*.v2 file."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=10):
        results = [
            summary.scalar("loss", 0.5),
            summary.scalar("loss", 0.25, step=11),
            summary.text("t", "hello", step=3),
            summary.histogram("h", [1.0, 2.0, 4.0], step=4, buckets=2),
            summary.image("img", gc.zeros([2, 4, 4, 3]), step=5, max_outputs=1),
        ]
        assert summary.experimental.get_step() == 10
    assert summary.experimental.get_step() is None
    assert all(is_bool_tensor(r, True) for r in results)
    events = read_events(tmp_path)
    assert [(step, tag, plugin) for step, tag, plugin, _ in events] == [
        (10, "loss", "scalars"), (11, "loss", "scalars"), (3, "t", "text"), (4, "h", "histograms"),
        (5, "img", "images"),
    ]
    assert [float(events[0][3]), float(events[1][3])] == [0.5, 0.25]
    assert events[0][3].dtype == np.float32  # scalars are stored as float32, as TensorBoard's scalar()
    files = event_files(tmp_path)
    assert len(files) == 1 and re.fullmatch(r"events\.out\.tfevents\.\d{10}\..+\.v2", files[0]), files


def test_tensorboard_files_the_tags_under_their_plugins(tmp_path):
    """TensorBoard's own loader (plugin_event_accumulator) sees the run: each tag under its plugin,
    the tensors with their steps, the writer's file version event first."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=1):
        summary.scalar("loss", 0.5)
        summary.histogram("weights", [0.0, 1.0])
        summary.text("notes", "*markdown*")
        summary.image("pictures", np.ones((1, 2, 2, 1)))
    accumulator = plugin_event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert set(accumulator.PluginTagToContent("scalars")) == {"loss"}
    assert set(accumulator.PluginTagToContent("histograms")) == {"weights"}
    assert set(accumulator.PluginTagToContent("text")) == {"notes"}
    assert set(accumulator.PluginTagToContent("images")) == {"pictures"}
    (loss,) = accumulator.Tensors("loss")
    assert loss.step == 1 and float(tensor_util.make_ndarray(loss.tensor_proto)) == 0.5


def test_record_if_false_and_a_callable_condition(tmp_path):
    """TF: under record_if(False), or record_if(lambda: step % 2 == 0) at step 1, scalar returns False
    and should_record_summaries() is False; after the block both are True again."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=1):
        with summary.record_if(False):
            assert is_bool_tensor(summary.scalar("x", 1.0), False)
            assert is_bool_tensor(summary.should_record_summaries(), False)
        step = gc.constant(1, dtype=gc.int64)
        with summary.record_if(lambda: step % 2 == 0):
            assert is_bool_tensor(summary.scalar("x", 2.0, step=step), False)
            assert is_bool_tensor(summary.should_record_summaries(), False)
        step = gc.constant(2, dtype=gc.int64)
        with summary.record_if(lambda: step % 2 == 0):  # called each time a summary op runs
            assert is_bool_tensor(summary.scalar("x", 3.0, step=step), True)
        assert is_bool_tensor(summary.should_record_summaries(), True)
        assert is_bool_tensor(summary.scalar("x", 4.0, step=3), True)
    assert scalars(tmp_path, "x") == [(2, 3.0), (3, 4.0)]


def test_a_non_scalar_scalar_raises_even_without_a_writer(tmp_path):
    """TF (TensorBoard's scalar asserts the shape first): scalar('x', [1., 2.]) ->
    ValueError "Expected scalar shape, saw shape: (2,).", with or without a writer."""
    with pytest.raises(ValueError, match=re.escape("Expected scalar shape, saw shape: (2,).")):
        summary.scalar("x", [1.0, 2.0])
    writer = summary.create_file_writer(str(tmp_path))
    shape_error = pytest.raises(ValueError, match=re.escape("Expected scalar shape, saw shape: (2, 1)."))
    with writer.as_default(step=0), shape_error:
        summary.scalar("x", gc.constant([[1.0], [2.0]]))


def test_create_file_writer_needs_a_logdir():
    """TF: create_file_writer(None) -> ValueError "Argument `logdir` cannot be None"."""
    with pytest.raises(ValueError, match="Argument `logdir` cannot be None"):
        summary.create_file_writer(None)


def test_nested_as_default_restores_the_outer_writer_and_step(tmp_path):
    """TF: set_step(5); wa.as_default() (no step) then wb.as_default(step=20): steps 5, 20, then 5
    again (as_default(step=None) leaves the step alone), each summary in its writer's file."""
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    writer_a, writer_b = summary.create_file_writer(str(dir_a)), summary.create_file_writer(str(dir_b))
    summary.experimental.set_step(5)
    with writer_a.as_default() as entered:
        assert entered is writer_a
        summary.scalar("s", 1.0)
        with writer_b.as_default(step=20):
            assert summary.experimental.get_step() == 20
            summary.scalar("s", 2.0)
        assert summary.experimental.get_step() == 5
        summary.scalar("s", 3.0)
    assert scalars(dir_a, "s") == [(5, 1.0), (5, 3.0)]
    assert scalars(dir_b, "s") == [(20, 2.0)]


def test_a_variable_step_is_read_when_each_summary_is_written(tmp_path):
    """TF: a tf.Variable(int64) step incremented in a loop gives events at steps 0, 1, 2 with
    values 0.0, 1.5, 3.0."""
    step = gc.Variable(0, dtype=gc.int64)
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=step):
        for i in range(3):
            summary.scalar("v", gc.constant(1.5 * i))
            step.assign_add(1)
    assert scalars(tmp_path, "v") == [(0, 0.0), (1, 1.5), (2, 3.0)]


def test_flush_without_a_writer_is_a_no_op(tmp_path):
    """TF: tf.summary.flush() with no writer returns a no-op (None eagerly); with one it flushes it."""
    assert summary.flush() is None
    writer = summary.create_file_writer(str(tmp_path), max_queue=100)
    with writer.as_default(step=0):
        summary.scalar("x", 1.0)
        assert scalars(tmp_path, "x") == []  # queued, not on the disk yet
        assert summary.flush() is None
        assert scalars(tmp_path, "x") == [(0, 1.0)]
    with pytest.raises(ValueError, match="Invalid argument to flush"):
        summary.flush("not a writer")


def test_set_as_default_makes_the_writer_the_threads_default(tmp_path):
    """TF: w.set_as_default(step=3) makes w the thread's default without a context; get_step() == 3.
    The default writer and step are per thread (TF's _SummaryState is thread-local)."""
    writer = summary.create_file_writer(str(tmp_path))
    writer.set_as_default(step=3)
    assert summary.experimental.get_step() == 3
    assert is_bool_tensor(summary.scalar("x", 7.0), True)
    seen_in_another_thread = []

    def other_thread():
        seen_in_another_thread.append((bool(summary.scalar("x", 8.0, step=1)), summary.experimental.get_step()))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=30)
    assert seen_in_another_thread == [(False, None)]
    writer.flush()
    assert scalars(tmp_path, "x") == [(3, 7.0)]


def test_leaving_as_default_flushes_the_writer(tmp_path):
    """TF's _SummaryContextManager.__exit__ flushes the writer; until then events wait in the queue
    (at most max_queue of them, TF's create_file_writer)."""
    writer = summary.create_file_writer(str(tmp_path), max_queue=2, flush_millis=10**9)
    with writer.as_default(step=0):
        summary.scalar("x", 1.0)
        summary.scalar("x", 2.0)
        assert scalars(tmp_path, "x") == []
        summary.scalar("x", 3.0)  # a third waiting event is more than max_queue: all go to the disk
        assert scalars(tmp_path, "x") == [(0, 1.0), (0, 2.0), (0, 3.0)]
        summary.scalar("x", 4.0)
        assert len(scalars(tmp_path, "x")) == 3
    assert scalars(tmp_path, "x")[-1] == (0, 4.0)


def test_a_closed_writer_cannot_become_the_default(tmp_path):
    """TF: as_default / set_as_default on a closed writer -> RuntimeError "... already closed";
    close() flushes, and a second close() or flush() does nothing."""
    writer = summary.create_file_writer(str(tmp_path), max_queue=100)
    with writer.as_default(step=0):
        summary.scalar("x", 1.0)
        writer.close()
        assert scalars(tmp_path, "x") == [(0, 1.0)]
    writer.close()
    writer.flush()
    with pytest.raises(RuntimeError, match="already closed"):
        writer.as_default()
    with pytest.raises(RuntimeError, match="already closed"):
        writer.set_as_default()


def test_filename_suffix_replaces_v2(tmp_path):
    """TF: filename_suffix (default ".v2") ends the event file's name."""
    summary.create_file_writer(str(tmp_path), filename_suffix=".mine").close()
    (name,) = event_files(tmp_path)
    assert name.endswith(".mine") and not name.endswith(".v2.mine")


def test_a_step_must_be_an_integer_scalar(tmp_path):
    """TF converts the step to an int64 scalar: a float step is refused."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        with pytest.raises(TypeError, match="step"):
            summary.scalar("x", 1.0, step=1.5)
        with pytest.raises(TypeError, match="step"):
            summary.scalar("x", 1.0, step=gc.constant(1.0))
        with pytest.raises(ValueError, match="scalar"):
            summary.scalar("x", 1.0, step=gc.constant([1, 2]))


# ---- the summary ops' values --------------------------------------------------------------------


def test_scalars_of_any_dtype_are_written_as_float32(tmp_path):
    """TensorBoard's scalar() casts data to float32: float64, int and bool gc tensors and Variables."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0):
        summary.scalar("a", gc.constant(0.1, dtype=gc.float64))
        summary.scalar("b", gc.constant(3, dtype=gc.int32))
        summary.scalar("c", gc.constant(True))
        summary.scalar("d", gc.Variable(2.5))
    assert [(tag, value.dtype, float(value)) for _, tag, _, value in read_events(tmp_path)] == [
        ("a", np.float32, float(np.float32(0.1))), ("b", np.float32, 3.0), ("c", np.float32, 1.0),
        ("d", np.float32, 2.5),
    ]


def _histogram(logdir, tag):
    (value,) = [v for _, t, _, v in read_events(logdir) if t == tag]
    return value


def test_histogram_buckets_match_numpy(tmp_path):
    """TensorBoard's histogram(): 30 equal buckets over [min, max] by default, rows (left, right,
    count) in float64; checked against numpy.histogram, which buckets the same way."""
    data = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0):
        summary.histogram("default", gc.constant(data))
        summary.histogram("seven", data, buckets=7)
    for tag, count in (("default", 30), ("seven", 7)):
        buckets = _histogram(tmp_path, tag)
        counts, edges = np.histogram(data.astype(np.float64), bins=count)
        assert buckets.shape == (count, 3) and buckets.dtype == np.float64
        assert_allclose(buckets[:, 0], edges[:-1], dtype=gc.float64)
        assert_allclose(buckets[:, 1], edges[1:], dtype=gc.float64)
        assert buckets[:, 2].tolist() == counts.tolist()
        assert buckets[-1, 1] == data.max()


def test_histogram_edge_cases(tmp_path):
    """TensorBoard's _buckets: a value on an inner edge goes right and the maximum to the last
    bucket; no data -> all-zero rows; all values equal -> every edge at the value and all counted
    in the last bucket; buckets=0 -> shape (0, 3)."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0):
        summary.histogram("small", [0.0, 1.0, 1.5, 3.0], buckets=2)
        summary.histogram("empty", np.zeros((0,), np.float32), buckets=5)
        summary.histogram("equal", gc.constant([2.0, 2.0, 2.0]), buckets=4)
        summary.histogram("none", [1.0, 2.0], buckets=0)
    assert _histogram(tmp_path, "small").tolist() == [[0.0, 1.5, 2.0], [1.5, 3.0, 2.0]]
    assert _histogram(tmp_path, "empty").tolist() == [[0.0, 0.0, 0.0]] * 5
    assert _histogram(tmp_path, "equal").tolist() == [[2.0, 2.0, 0.0]] * 3 + [[2.0, 2.0, 3.0]]
    assert _histogram(tmp_path, "none").shape == (0, 3)


def test_text_is_stored_as_utf8_strings_of_the_data_shape(tmp_path):
    """TensorBoard's text(): a string tensor of any shape; anything but strings is a TypeError."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=2):
        summary.text("one", "naïve **bold**")
        summary.text("table", [["a", "b"], ["c", b"d"]])
    events = read_events(tmp_path)
    assert events[0][3].tolist() == "naïve **bold**".encode()
    assert events[1][3].tolist() == [[b"a", b"b"], [b"c", b"d"]]
    with writer.as_default(step=2):
        with pytest.raises(TypeError, match="gc.summary.text"):
            summary.text("bad", gc.constant([1.0]))
        with pytest.raises(TypeError, match="gc.summary.text"):
            summary.text("bad", [1, 2])


def _decoded_images(logdir, tag):
    """(width, height, [decoded images as arrays]) from an image summary's [w, h, png...] tensor."""
    (value,) = [v for _, t, _, v in read_events(logdir) if t == tag]
    width, height, *pngs = value.tolist()
    return int(width), int(height), [np.asarray(Image.open(io.BytesIO(png))) for png in pngs]


def test_images_are_png_encoded_pixels(tmp_path):
    """TensorBoard's image(): floats in [0, 1] become uint8 as convert_image_dtype(saturate=True)
    (x * 255.5, clipped, truncated), uint8 stays; PNG per image, at most max_outputs; the tensor
    starts with the width and height."""
    rng = np.random.default_rng(1)
    floats = rng.uniform(-0.2, 1.2, size=(4, 3, 5, 3)).astype(np.float32)
    grey = rng.integers(0, 256, size=(2, 3, 2, 1), dtype=np.uint8)
    rgba = rng.integers(0, 256, size=(1, 2, 2, 4), dtype=np.uint8)
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0):
        summary.image("floats", gc.constant(floats))  # max_outputs=3 by default
        summary.image("grey", grey, max_outputs=5)
        summary.image("rgba", gc.constant(rgba))
    width, height, images = _decoded_images(tmp_path, "floats")
    assert (width, height, len(images)) == (5, 3, 3)
    expected = np.trunc(np.clip(floats[:3].astype(np.float64) * 255.5, 0, 255)).astype(np.uint8)
    assert all(np.array_equal(image, want) for image, want in zip(images, expected))
    width, height, images = _decoded_images(tmp_path, "grey")
    assert (width, height, len(images)) == (2, 3, 2)
    assert all(np.array_equal(image, want[..., 0]) for image, want in zip(images, grey))
    _, _, (image,) = _decoded_images(tmp_path, "rgba")
    assert np.array_equal(image, rgba[0])


def test_image_arguments_are_checked_when_recorded(tmp_path):
    """TensorBoard's image(): data must have rank 4 with 1 to 4 channels, floats or uint8, and
    max_outputs must be non-negative."""
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0):
        with pytest.raises(ValueError, match="rank 4"):
            summary.image("i", np.zeros((2, 2, 3)))
        with pytest.raises(ValueError, match="channels"):
            summary.image("i", np.zeros((1, 2, 2, 5)))
        with pytest.raises(TypeError, match="uint8"):
            summary.image("i", gc.zeros([1, 2, 2, 3], dtype=gc.int32))
        with pytest.raises(ValueError, match="max_outputs"):
            summary.image("i", np.zeros((1, 2, 2, 3)), max_outputs=-1)
        assert is_bool_tensor(summary.image("i", np.zeros((2, 2, 2, 3)), max_outputs=0), True)
    assert _decoded_images(tmp_path, "i") == (2, 2, [])


# ---- inside gc.function -------------------------------------------------------------------------


def test_a_function_writes_each_calls_values_and_steps(tmp_path):
    """TF: summary ops in a tf.function write at every call, with that call's values and the step
    Variable's value at run time. The first call creates a variable, so it is traced twice (TF
    does the same), and still writes once."""
    step = gc.Variable(0, dtype=gc.int64)
    weights = gc.Variable([1.0, -2.0])
    created = {}

    @gc.function
    def train_step(x):
        if "scale" not in created:
            created["scale"] = gc.Variable(2.0)
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum(created["scale"] * weights * x)
        (gradient,) = tape.gradient(loss, [weights])
        weights.assign_sub(0.1 * gradient)
        summary.scalar("loss", loss, step=step)
        summary.text("note", "constant text", step=7)
        step.assign_add(1)
        return loss

    inputs = [np.array([1.0, float(i)], np.float32) for i in range(4)]
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for x in inputs:
            train_step(gc.constant(x))
    assert train_step.experimental_get_tracing_count() == 2
    expected, w = [], np.array([1.0, -2.0])
    for x in inputs:  # the same training in NumPy
        expected.append(float(np.sum(2.0 * w * x)))
        w = w - 0.1 * 2.0 * x
    written = scalars(tmp_path, "loss")
    assert [s for s, _ in written] == [0, 1, 2, 3]
    assert_allclose(np.array([v for _, v in written]), np.array(expected), dtype=gc.float32)
    assert [(s, v.tolist()) for s, t, _, v in read_events(tmp_path) if t == "note"] == [(7, b"constant text")] * 4


def test_a_function_with_unknown_sizes_writes_each_call_once(tmp_path):
    """TF: one trace for an input_signature with a None size serves every size, and its summary
    ops write each call's values."""
    step = gc.Variable(4, dtype=gc.int64)

    @gc.function(input_signature=[gc.TensorSpec([None], gc.float32)])
    def mean(x):
        return summary.scalar("mean", gc.reduce_mean(x), step=step)

    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        results = [mean(gc.constant(np.arange(n, dtype=np.float32))) for n in (2, 3, 5)]
    assert all(is_bool_tensor(r, True) for r in results)
    assert scalars(tmp_path, "mean") == [(4, 0.5), (4, 1.0), (4, 2.0)]
    assert mean.experimental_get_tracing_count() == 1


def test_a_function_decides_record_if_at_every_call(tmp_path):
    """TF: a record_if condition computed from a Variable is evaluated at every call of the
    function; the summary op's result is that call's decision."""
    step = gc.Variable(0, dtype=gc.int64)

    @gc.function
    def log(x):
        written = summary.scalar("x", x, step=step)
        step.assign_add(1)
        return written

    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(), summary.record_if(lambda: step % 2 == 0):
        results = [bool(log(gc.constant(float(i)))) for i in range(4)]
    assert results == [True, False, True, False]
    assert scalars(tmp_path, "x") == [(0, 0.0), (2, 2.0)]


def test_a_summary_inside_a_traced_branch_is_refused(tmp_path):
    """gradcore deviation (docs/summary.md): a summary inside a gc.cond branch that gc.function
    traces would run for both branches, so it is refused; record_if does the same job."""
    @gc.function
    def branchy(x):
        return gc.cond(x > 0, lambda: summary.scalar("x", x, step=1), lambda: summary.scalar("x", -x, step=1))

    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(), pytest.raises(NotImplementedError, match="record_if"):
        branchy(gc.constant(1.0))


# ---- without tensorboard ------------------------------------------------------------------------


def test_without_tensorboard_the_first_summary_call_names_the_extra(tmp_path, monkeypatch):
    """TF without the tensorboard package: TBNotInstalledError "TensorBoard is not installed,
    missing implementation for tf.summary.scalar"; gradcore's also names the extra to install."""
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    for call, api in ((lambda: summary.scalar("x", 1.0, step=1), "gc.summary.scalar"),
                      (lambda: summary.create_file_writer(str(tmp_path)), "gc.summary.create_file_writer")):
        with pytest.raises(summary.TBNotInstalledError) as raised:
            call()
        message = str(raised.value)
        assert "TensorBoard is not installed" in message and api in message
        assert "pip install 'gradcore[summary]'" in message
        assert isinstance(raised.value, ImportError) and isinstance(raised.value, gc.GradcoreError)


def test_importing_gradcore_does_not_import_tensorboard():
    """docs/summary.md, "Installing": tensorboard and Pillow load at the first summary call only."""
    code = ("import sys, gradcore, gradcore.summary; "
            "print(sorted(m for m in ('tensorboard', 'PIL') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
