"""gc.function, as tf.function behaves in TensorFlow 2 (the guide "Better performance with
tf.function" and the tf.function API documentation); each test names the behaviour it mirrors.

Expected values come from arithmetic or from running the same Python function eagerly,
never from gc.function itself.
"""

import logging

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose


def close(actual, expected, dtype=gc.float32):
    assert_allclose(actual, np.asarray(expected, dtype=np.float64), dtype=dtype)


def vector(*values, dtype=gc.float32):
    return gc.constant(list(values), dtype=dtype)


# ---- tracing: one trace per input signature ---------------------------------------------------


def test_python_side_effects_run_once_per_trace_and_results_are_recomputed():
    """TF guide: a function called with three float32 [2] tensors traces once; print/append run at trace only."""
    log = []

    @gc.function
    def f(x):
        log.append(1)
        return x * 2.0 + 1.0

    for x in ([1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]):
        close(f(vector(*x)), np.asarray(x) * 2 + 1)
    assert log == [1]
    assert f.experimental_get_tracing_count() == 1


def test_a_new_shape_or_dtype_traces_again_and_old_signatures_are_cached():
    """TF guide: new shapes and dtypes retrace; the first signature is then served from the cache."""
    @gc.function
    def f(x):
        return x + 1

    f(vector(1.0, 2.0))
    f(vector(1.0, 2.0, 3.0))
    f(vector(1.0, 2.0, dtype=gc.float64))
    f(gc.constant([[1.0, 2.0]]))
    assert f.experimental_get_tracing_count() == 4
    close(f(vector(5.0, 6.0)), [6.0, 7.0])
    assert f.experimental_get_tracing_count() == 4


def test_tensor_calls_spelled_any_way_share_one_trace_and_a_repeated_tensor_is_its_own_signature():
    """TF guide: the trace depends on the inputs' signature, not on how the call spells them.
    (gradcore serves all-tensor positional calls on a shorter path; both paths must pick the same trace.)"""
    @gc.function
    def f(x, y):
        return x * 2 + y

    x, y = vector(1.0, 2.0), vector(3.0, 4.0)
    close(f(x, y), [5.0, 8.0])
    close(f(x, y=y), [5.0, 8.0])
    close(f(y=y, x=x), [5.0, 8.0])
    close(f(vector(0.0, 1.0), y), [3.0, 6.0])
    assert f.experimental_get_tracing_count() == 1
    # The same tensor twice is one input of the program, so it is a signature of its own.
    close(f(x, x), [3.0, 6.0])
    close(f(y, y), [9.0, 12.0])
    assert f.experimental_get_tracing_count() == 2
    from gradcore.function.signature import call_key, tensor_call_key

    assert tensor_call_key((x, y)) == call_key((x, y), {})[0]
    assert tensor_call_key((x, x)) == call_key((x, x), {})[0] != tensor_call_key((x, y))
    assert tensor_call_key((x, 2.0)) is None


def test_python_arguments_trace_per_value_and_keyword_spelling_does_not_matter():
    """TF guide: f(x, 2), f(x, 3), f(x, 2), f(x, n=3) trace twice."""
    @gc.function
    def f(x, n):
        return x * n

    x = vector(1.0, 2.0)
    close(f(x, 2), [2.0, 4.0])
    close(f(x, 3), [3.0, 6.0])
    close(f(x, 2), [2.0, 4.0])
    close(f(x, n=3), [3.0, 6.0])
    assert f.experimental_get_tracing_count() == 2


def test_a_python_bool_argument_is_an_ordinary_branch_per_value():
    """TF guide: `if training:` on a Python bool is plain Python at trace time, one trace per value."""
    @gc.function
    def f(x, training):
        if training:
            return x * 10.0
        return x

    x = vector(1.0)
    close(f(x, True), [10.0])
    close(f(x, False), [1.0])
    close(f(x, True), [10.0])
    assert f.experimental_get_tracing_count() == 2


def test_input_signature_refuses_a_call_that_does_not_fit():
    """TF: a call that does not match input_signature raises TypeError ("Binding inputs ... failed")."""
    f = gc.function(lambda x: x + 1.0, input_signature=[gc.TensorSpec([None], gc.float32)])
    close(f(vector(1.0, 2.0)), [2.0, 3.0])
    with pytest.raises(TypeError, match="Binding inputs"):
        f(gc.constant([[1.0]]))
    with pytest.raises(TypeError, match="Binding inputs"):
        f(vector(1.0, dtype=gc.float64))


def test_many_retraces_log_a_warning(caplog):
    """TF logs a warning when a function retraces many times (a retracing storm)."""
    f = gc.function(lambda x, n: x * n)
    x = vector(1.0)
    with caplog.at_level(logging.WARNING, logger="gradcore"):
        for n in range(8):
            f(x, n)
    assert any("traced" in record.getMessage() for record in caplog.records)


def test_get_concrete_function_traces_without_changing_variables():
    """TF: get_concrete_function(spec) traces once; the result is callable; nothing runs for real."""
    v = gc.Variable(1.0)

    @gc.function
    def f(x):
        v.assign_add(1.0)
        return x * v

    concrete = f.get_concrete_function(gc.TensorSpec([2], gc.float32))
    assert f.experimental_get_tracing_count() == 1
    close(v.read_value(), 1.0)
    close(concrete(vector(1.0, 2.0)), [2.0, 4.0])
    assert f.experimental_get_tracing_count() == 1


# ---- unknown sizes: one trace for every size ---------------------------------------------------------


def test_an_input_signature_with_none_traces_once_for_every_size():
    """TF guide: input_signature=[TensorSpec([None], float32)], sizes 2, 3, 7: one trace; x.shape is (None,)."""
    seen = []

    @gc.function(input_signature=[gc.TensorSpec([None], gc.float32)])
    def f(x):
        seen.append(x.shape)
        return x * 2.0 + 1.0

    for n in (2, 3, 7):
        x = np.arange(n, dtype=np.float32)
        close(f(gc.constant(x)), x * 2 + 1)
    assert f.experimental_get_tracing_count() == 1
    assert seen == [(None,)]


def test_reduce_retracing_generalises_the_second_trace():
    """TF: reduce_retracing=True with sizes 2, 3, 4, 5, 9 traces twice; the second has x.shape[0] None."""
    unknown = []

    @gc.function(reduce_retracing=True)
    def f(x):
        unknown.append(x.shape[0] is None)
        return gc.reduce_sum(x * x)

    for n in (2, 3, 4, 5, 9):
        x = np.arange(n, dtype=np.float32)
        close(f(gc.constant(x)), np.sum(x * x))
    assert f.experimental_get_tracing_count() == 2
    assert unknown == [False, True]


def test_a_concrete_function_for_a_none_spec_serves_every_size():
    """TF: get_concrete_function(TensorSpec([None], float32)) counts one trace and takes any size."""
    f = gc.function(lambda x: x + 1.0)
    concrete = f.get_concrete_function(gc.TensorSpec([None], gc.float32))
    assert f.experimental_get_tracing_count() == 1
    close(concrete(vector(1.0, 2.0)), [2.0, 3.0])
    close(concrete(vector(1.0, 2.0, 3.0, 4.0)), [2.0, 3.0, 4.0, 5.0])
    assert f.experimental_get_tracing_count() == 1


def test_gc_shape_gives_the_unknown_sizes_when_the_function_runs():
    """TF: tf.shape(x) inside gives the run-time shape where x.shape has None; reshape with -1 follows it."""
    @gc.function(input_signature=[gc.TensorSpec([None, 3], gc.float32)])
    def f(x):
        rows = gc.cast(gc.shape(x)[0], gc.float32)
        return gc.reshape(x, [-1]) * rows, gc.shape(x)

    for n in (1, 2, 5):
        x = np.arange(3 * n, dtype=np.float32).reshape(n, 3)
        flat, shape = f(gc.constant(x))
        close(flat, x.reshape(-1) * n)
        assert shape.numpy().tolist() == [n, 3] and shape.dtype == gc.int32
    assert gc.shape(gc.zeros([2, 4]), out_type=gc.int64).numpy().tolist() == [2, 4]


def test_a_train_step_with_an_unknown_batch_size_trains_as_eagerly_from_one_trace():
    """TF: a train_step with input_signature [None, 8], [None] serves batches of every size; the
    optimizer's slots are created on the first call, which traces twice."""
    def build():
        gc.random.set_seed(0)
        model = gc.Sequential([gc.layers.Dense(16, activation="relu"), gc.layers.Dense(3)])
        model(gc.zeros([1, 8]))  # the weights now, so both models draw the same ones
        optimizer, accuracy, mean = gc.optimizers.Adam(0.01), gc.metrics.SparseCategoricalAccuracy(), gc.metrics.Mean()
        loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True)

        def train_step(x, y):
            with gc.GradientTape() as tape:
                logits = model(x, training=True)
                loss = loss_fn(y, logits) + 0.01 * gc.reduce_mean(gc.square(logits))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            accuracy.update_state(y, logits)
            mean.update_state(loss)
            return loss
        return train_step, model, accuracy, mean

    rng = np.random.default_rng(0)
    batches = [(gc.constant(rng.normal(size=(n, 8)).astype(np.float32)), gc.constant(rng.integers(0, 3, size=n)))
               for n in (4, 2, 3)]
    eager_step, *eager_parts = build()
    traced_step, *traced_parts = build()
    traced_step = gc.function(traced_step, input_signature=[
        gc.TensorSpec([None, 8], gc.float32), gc.TensorSpec([None], gc.int64)])
    for x, y in batches:
        close(traced_step(x, y), eager_step(x, y).numpy())
    assert traced_step.experimental_get_tracing_count() == 2
    for traced, eager in zip(traced_parts[0].variables, eager_parts[0].variables):
        close(traced.read_value(), eager.numpy())
    for traced, eager in zip(traced_parts[1:], eager_parts[1:]):
        close(traced.result(), eager.result().numpy())


def test_unknown_sizes_that_differ_at_a_call_get_a_trace_of_their_own():
    """Every None of a signature is taken as one size; a call where they differ is traced for its shapes
    (docs/function.md, "Unknown sizes"), and a size the trace compared with (1) too: never a wrong value."""
    @gc.function(input_signature=[gc.TensorSpec([None], gc.float32), gc.TensorSpec([None], gc.float32)])
    def f(x, y):
        return gc.concat([x * 2.0, y], 0), gc.reduce_mean(x) + gc.reduce_mean(y)

    for a, b in ((2, 2), (3, 3), (2, 3), (1, 1)):
        x, y = np.arange(a, dtype=np.float32) + 1, np.arange(b, dtype=np.float32) - 1
        joined, means = f(gc.constant(x), gc.constant(y))
        close(joined, np.concatenate([x * 2, y]))
        close(means, x.mean() + y.mean())
        if a == 3:
            assert f.experimental_get_tracing_count() == 1
    assert f.experimental_get_tracing_count() >= 2


def test_random_numbers_of_the_unknown_size_are_traced_per_shape_with_the_eager_values():
    """Random numbers shaped by an unknown size cannot come from one program: gc.function traces each
    shape as without a signature (docs/function.md, "Unknown sizes"), and gives the eager masks."""
    eager_layer, traced_layer = gc.layers.Dropout(0.5, seed=3), gc.layers.Dropout(0.5, seed=3)
    traced = gc.function(lambda x: traced_layer(x, training=True),
                         input_signature=[gc.TensorSpec([None, 2], gc.float32)])
    for n in (3, 4, 3):
        x = gc.constant(np.ones((n, 2), np.float32))
        close(traced(x), eager_layer(x, training=True).numpy())


def test_a_number_that_a_size_could_have_made_is_never_baked_in():
    """A relaxed trace gives up on a number that looks computed from its stand-in size (97 here, the
    first prime from 97 that no known size is a multiple of) and traces the call's shape: same values."""
    f = gc.function(lambda x: x * 97.0 + 1.0 / 97.0, input_signature=[gc.TensorSpec([None, 2], gc.float32)])
    for n in (3, 4):
        x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
        close(f(gc.constant(x)), x * 97.0 + 1.0 / 97.0)


# ---- variables ---------------------------------------------------------------------------------


def test_variables_are_read_when_the_function_runs_not_when_traced():
    """TF guide: w.assign_add inside, w.assign outside between calls: each call sees the current value."""
    w = gc.Variable(1.0)

    @gc.function
    def f(d):
        w.assign_add(d)
        return w.read_value()

    close(f(gc.constant(1.0)), 2.0)
    w.assign(10.0)
    close(f(gc.constant(1.0)), 11.0)
    close(w.read_value(), 11.0)
    assert f.experimental_get_tracing_count() == 1


def test_a_module_may_create_its_variable_on_the_first_call():
    """TF guide: a method that creates self.v when None is allowed; it is created once, traced twice."""
    class Counter(gc.Module):
        def __init__(self):
            super().__init__()
            self.v = None

        @gc.function
        def __call__(self, x):
            if self.v is None:
                self.v = gc.Variable(2.0)
            self.v.assign_add(1.0)
            return self.v * x

    counter = Counter()
    x = vector(1.0, 2.0)
    close(counter(x), [3.0, 6.0])
    close(counter(x), [4.0, 8.0])
    close(counter.v.read_value(), 4.0)
    assert counter.__call__.experimental_get_tracing_count() == 2


def test_a_function_creating_a_variable_on_every_call_is_refused_on_the_first():
    """TF: ValueError "... only supports singleton tf.Variables created on the first call ..."."""
    @gc.function
    def f(x):
        v = gc.Variable(1.0)
        return v * x

    with pytest.raises(ValueError, match="created on the first call"):
        f(vector(1.0))


def test_a_retrace_that_creates_a_variable_is_refused_at_the_creation():
    """TF: a later trace that would create a variable raises at the variable's creation."""
    class Lazy(gc.Module):
        @gc.function
        def __call__(self, x):
            if x.shape[0] == 3:
                self.late = gc.Variable(1.0)
            if not hasattr(self, "v"):
                self.v = gc.Variable(2.0)
            return self.v * x

    lazy = Lazy()
    lazy(vector(1.0, 2.0))
    with pytest.raises(ValueError, match="created on the first call"):
        lazy(vector(1.0, 2.0, 3.0))
    assert not hasattr(lazy, "late")


def test_optimizer_slots_created_on_the_first_call_train_as_eagerly():
    """TF: apply_gradients creating Adam's slots inside the first call works; the call traces twice."""
    def make():
        return gc.Variable([1.0, -2.0]), gc.optimizers.Adam(0.1)

    def step(w, optimizer, x):
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum((w * x - 3.0) ** 2)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        return loss

    x = vector(1.0, 2.0)
    w_eager, opt_eager = make()
    eager = [step(w_eager, opt_eager, x).numpy() for _ in range(4)]
    w, opt = make()
    compiled = gc.function(step)
    traced = [compiled(w, opt, x).numpy() for _ in range(4)]
    close(traced, eager)
    close(w.read_value(), w_eager.numpy())
    assert int(opt.iterations.numpy()) == 4
    assert compiled.experimental_get_tracing_count() == 2


# ---- structures, nesting, tapes ---------------------------------------------------------------------


def test_nested_structures_keep_their_containers_both_ways():
    """TF: returning {"sum": s, "pair": (a, [b, c])} and taking a dict keeps the container types."""
    @gc.function
    def f(d):
        return {"sum": d["a"] + d["b"], "pair": (d["a"], [d["b"], d["a"] * 2.0])}

    out = f({"a": vector(1.0), "b": vector(2.0)})
    assert set(out) == {"sum", "pair"}
    assert isinstance(out["pair"], tuple) and isinstance(out["pair"][1], list)
    close(out["sum"], [3.0])
    close(out["pair"][1][1], [2.0])


def test_a_function_called_inside_another_runs_its_body_at_the_outer_trace():
    """TF guide: outer calling a decorated inner: both bodies run once; inner is callable on its own."""
    log = []

    @gc.function
    def inner(x):
        log.append("inner")
        return x * 3.0

    @gc.function
    def outer(x):
        log.append("outer")
        return inner(x) + 1.0

    x = vector(1.0, 2.0)
    close(outer(x), [4.0, 7.0])
    close(outer(x), [4.0, 7.0])
    assert log == ["outer", "inner"]
    close(inner(x), [3.0, 6.0])


def test_a_tape_inside_gives_the_eager_gradients():
    """TF: a train_step's tape inside the function differentiates as eagerly."""
    w = gc.Variable([0.5, -1.0])

    def grads(x):
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum(gc.tanh(w * x) ** 2)
        return tape.gradient(loss, w)

    x = vector(1.0, 2.0)
    close(gc.function(grads)(x), grads(x).numpy())


def test_a_tape_outside_gives_the_eager_gradients_of_every_order():
    """TF: a tape around a call of the function: first and second order and jacobian as eagerly."""
    cube = gc.function(lambda x: x * x * x)
    x = vector(1.0, 2.0)
    with gc.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = cube(x)
        dy = tape.gradient(y, x)
    close(dy, [3.0, 12.0])
    close(outer.gradient(dy, x), [6.0, 12.0])
    close(outer.jacobian(dy, x), np.diag([6.0, 12.0]))


def test_a_custom_gradient_around_a_call_sees_the_variables_it_reads():
    """TF's custom_gradient hands the variables its forward read to grad_fn; a gc.function call inside too."""
    v = gc.Variable(2.0)
    inner = gc.function(lambda x: x * v)
    x = gc.constant(1.5)
    inner(x)  # traced already: the call below must still report its variables

    @gc.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            assert variables is not None and len(variables) == 1 and variables[0] is v
            return dy * 3.0, [dy * 10.0]
        return inner(x), grad

    with gc.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    close(y, 3.0)
    dx, dv = tape.gradient(y, [x, v])
    close(dx, 3.0)
    close(dv, 10.0)


# ---- no value baked in -------------------------------------------------------------------------------


@pytest.mark.parametrize("use", [bool, float, int, lambda t: t.numpy()], ids=["bool", "float", "int", "numpy"])
def test_asking_a_traced_tensor_for_its_value_names_cond_and_while_loop(use):
    """gradcore's deviation from AutoGraph: no silent conversion, an error naming gc.cond / gc.while_loop."""
    @gc.function
    def f(x):
        use(x[0] > 0 if use is bool else x[0])
        return x

    with pytest.raises(gc.OperatorNotAllowedInGraphError, match="gc.cond") as info:
        f(vector(1.0, 2.0))
    assert isinstance(info.value, TypeError)
    assert "gc.while_loop" in str(info.value)


def test_a_python_if_on_a_traced_tensor_is_refused():
    """TF's AutoGraph would convert the `if`; gradcore refuses it (docs/function.md)."""
    @gc.function
    def f(x):
        if gc.reduce_sum(x) > 0:
            return x
        return -x

    with pytest.raises(gc.OperatorNotAllowedInGraphError, match="gc.cond"):
        f(vector(1.0))


def test_constants_may_be_read_on_the_host_inside():
    """A value made from constants alone is the same at every call, so reading it bakes nothing."""
    @gc.function
    def f(x):
        scale = float(gc.constant(2.0) * 3.0)
        return x * scale

    close(f(vector(1.0)), [6.0])


def test_a_host_check_runs_at_every_call_not_only_at_the_trace():
    """TF checks gather indices at run time: a later call with a bad index fails, with gradcore's error."""
    gather = gc.function(lambda p, i: gc.gather(p, i))
    p = vector(1.0, 2.0, 3.0)
    close(gather(p, gc.constant([2, 0])), [3.0, 1.0])
    with pytest.raises(gc.InvalidArgumentError, match="out of range"):
        gather(p, gc.constant([5, 0]))
    assert gather.experimental_get_tracing_count() == 1


def test_a_failed_check_leaves_the_variables_unchanged():
    """Every check comes before a variable is written, so a refused call changes nothing."""
    table = gc.Variable([1.0, 2.0])

    @gc.function
    def f(i):
        table.assign_add(gc.gather(table, i))
        return table.read_value()

    close(f(gc.constant([1, 0])), [3.0, 3.0])
    with pytest.raises(gc.InvalidArgumentError, match="out of range"):
        f(gc.constant([0, 7]))
    close(table.read_value(), [3.0, 3.0])


def test_random_ops_draw_fresh_numbers_at_every_call_as_eagerly():
    """TF: random ops inside a function give new numbers per call; gradcore's equal the eager sequence."""
    draw = gc.function(lambda: gc.random.normal([3]))
    gc.random.set_seed(11)
    traced = [draw().numpy() for _ in range(3)]
    gc.random.set_seed(11)
    eager = [gc.random.normal([3]).numpy() for _ in range(3)]
    np.testing.assert_array_equal(traced, eager)
    assert not np.array_equal(traced[0], traced[1])


def test_dropout_masks_change_from_call_to_call():
    """Keras' seeded Dropout draws a new mask per call, under tf.function too."""
    layer = gc.layers.Dropout(0.5, seed=3)
    apply = gc.function(lambda x: layer(x, training=True))
    x = gc.ones([64])
    first, second = apply(x).numpy(), apply(x).numpy()
    assert not np.array_equal(first, second)


# ---- compiling ----------------------------------------------------------------------------------------


def test_jit_compile_gives_the_same_values():
    """TF: jit_compile=True is accepted and computes the same values."""
    f = lambda x: gc.tanh(x) * 2.0 + gc.exp(-x)
    x = vector(0.5, -1.0, 2.0)
    compiled = gc.function(f, jit_compile=True)
    close(compiled(x), f(x).numpy())
    close(compiled(x), f(x).numpy())


def test_a_train_step_over_batches_traces_per_batch_shape_and_trains_as_eagerly():
    """TF: train_step over a dataset of batches 4, 4, 2 traces for shape 4 and 2 only, trains as eager."""
    def build():
        gc.random.set_seed(0)
        model = gc.Sequential([gc.layers.Dense(8, activation="relu"), gc.layers.Dense(3)])
        model(gc.zeros([1, 5]))
        return model, gc.optimizers.SGD(0.1), gc.metrics.SparseCategoricalAccuracy()

    def make_step(model, optimizer, accuracy):
        loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True)

        def train_step(x, y):
            with gc.GradientTape() as tape:
                logits = model(x, training=True)
                loss = loss_fn(y, logits)
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            accuracy.update_state(y, logits)
            return loss
        return train_step

    rng = np.random.default_rng(1)
    features = rng.normal(size=(10, 5)).astype(np.float32)
    labels = rng.integers(0, 3, size=10).astype(np.int32)
    batches = [(gc.constant(features[i:i + 4]), gc.constant(labels[i:i + 4])) for i in (0, 4, 8)]

    eager_parts = build()
    eager_step = make_step(*eager_parts)
    traced_parts = build()
    traced_step = gc.function(make_step(*traced_parts))
    for _ in range(2):
        for x, y in batches:
            close(traced_step(x, y), eager_step(x, y).numpy())
    for a, b in zip(traced_parts[0].variables, eager_parts[0].variables):
        close(a.read_value(), b.numpy())
    close(traced_parts[2].result(), eager_parts[2].result().numpy())
    assert traced_step.experimental_get_tracing_count() == 2


# ---- control flow inside a function -------------------------------------------------------------------


def test_cond_on_a_traced_predicate_takes_the_branch_of_each_call():
    """TF: tf.cond inside a function picks the branch at run time; one trace serves both."""
    f = gc.function(lambda x: gc.cond(gc.reduce_sum(x) > 0, lambda: x * 2.0, lambda: -x))
    close(f(vector(1.0, 2.0)), [2.0, 4.0])
    close(f(vector(-1.0, -2.0)), [1.0, 2.0])
    assert f.experimental_get_tracing_count() == 1


def test_cond_branches_that_disagree_on_shape_are_refused():
    """TF: both branches of a graph cond must give compatible outputs."""
    f = gc.function(lambda x: gc.cond(x[0] > 0, lambda: x, lambda: x[:1]))
    with pytest.raises(gc.ShapeError, match="both branches"):
        f(vector(1.0, 2.0))


def test_cond_assigning_a_variable_keeps_the_assign_of_the_taken_branch():
    """TF: an assign in a tf.cond branch happens only when that branch runs."""
    counter = gc.Variable(0.0)

    @gc.function
    def f(x):
        gc.cond(x > 0, lambda: counter.assign_add(x), lambda: counter.assign_sub(1.0))
        return counter.read_value()

    close(f(gc.constant(2.0)), 2.0)
    close(f(gc.constant(-2.0)), 1.0)
    close(f(gc.constant(5.0)), 6.0)


def test_a_tape_inside_differentiates_only_the_taken_branch():
    """TF: the gradient of tf.cond is the gradient of the branch taken at run time."""
    v = gc.Variable(2.0)

    def gradient(x):
        with gc.GradientTape() as tape:
            y = gc.cond(x > 0, lambda: v * x * x, lambda: gc.sin(v * x))
        return tape.gradient(y, v)

    compiled = gc.function(gradient)
    for x in (3.0, -1.0, 2.0, -0.5):
        expected = x * x if x > 0 else np.cos(2.0 * x) * x
        close(compiled(gc.constant(x)), expected)
    assert compiled.experimental_get_tracing_count() == 1


def test_a_data_dependent_while_loop_runs_its_trip_count_at_each_call():
    """TF guide: tf.while_loop(lambda i, acc: acc < 100., ...) inside a function; trip count per call."""
    @gc.function
    def powers(x):
        return gc.while_loop(lambda i, acc: acc < 100.0, lambda i, acc: (i + 1, acc * x),
                             (gc.constant(0), gc.constant(1.0)))

    count, value = powers(gc.constant(2.0))
    assert int(count.numpy()) == 7
    close(value, 128.0)
    count, value = powers(gc.constant(3.0))
    assert int(count.numpy()) == 5
    close(value, 243.0)
    assert powers.experimental_get_tracing_count() == 1


def test_a_tape_outside_differentiates_a_data_dependent_loop():
    """TF: a tape around the call differentiates a while_loop whose trip count depends on the data."""
    @gc.function
    def f(x):
        return gc.while_loop(lambda i, acc: acc < 100.0, lambda i, acc: (i + 1, acc * x), (gc.constant(0), x))[1]

    for x, trips in ((3.0, 4), (1.5, 11)):
        x = gc.constant(x)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        close(y, float(x.numpy()) ** (trips + 1))
        close(tape.gradient(y, x), (trips + 1) * float(x.numpy()) ** trips)


def test_a_tape_inside_differentiates_a_data_dependent_loop():
    """TF: a tape inside the function differentiates tf.while_loop, its trip count decided at run time."""
    v = gc.Variable(1.5)

    def grow(x):
        with gc.GradientTape() as tape:
            tape.watch(x)
            count, y = gc.while_loop(lambda i, y: gc.reduce_sum(y) < 50.0,
                                     lambda i, y: (i + 1, gc.sin(y) + y * x * v), (gc.constant(0), x))
            total = gc.reduce_sum(y)
        return count, total, tape.gradient(total, [x, v])

    compiled = gc.function(grow)
    for x in ([1.0, 2.0], [0.5, 1.5], [3.0, 4.0]):
        x = vector(*x)
        (count, total, grads), (eager_count, eager_total, eager_grads) = compiled(x), grow(x)
        assert int(count.numpy()) == int(eager_count.numpy())
        close(total, eager_total.numpy())
        for traced, eager in zip(grads, eager_grads):
            close(traced, eager.numpy())
    assert compiled.experimental_get_tracing_count() == 1


def test_a_first_call_that_traces_twice_draws_its_random_numbers_once():
    """The eager sequence holds even when creating slots makes the first call trace twice (TF traces twice too)."""
    def run(step):
        gc.random.set_seed(4)
        w, optimizer = gc.Variable([1.0, 2.0]), gc.optimizers.Adam(0.1)
        values = []
        for _ in range(3):
            values.append(step(w, optimizer).numpy())
        return values, w.numpy()

    def step(w, optimizer):
        noise = gc.random.normal([2])
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum(w * noise)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        return noise

    eager_values, eager_w = run(step)
    traced_values, traced_w = run(gc.function(step))
    np.testing.assert_array_equal(traced_values, eager_values)
    close(traced_w, eager_w)


# ---- the suite's checks under gc.function ------------------------------------------------------------
# Each check runs the same code eagerly and under gc.function and compares: the eager results
# are themselves checked against references elsewhere in the suite (test_native_oracles.py,
# test_layers_*.py, test_optim_trajectories.py, which also runs under gc.function).


def _composites():
    from .composites import COMPOSITES
    return [pytest.param(c, id=c.name) for c in COMPOSITES]


@pytest.mark.parametrize("composite", _composites())
def test_every_composite_gradient_is_the_same_under_gc_function(composite):
    from .native_namespaces import gradcore_namespace

    ns = gradcore_namespace()
    rng = np.random.default_rng(0)
    floats = [gc.constant(a) for a in composite.make_inputs(rng)]
    constants = [gc.constant(c) for c in composite.constants(rng)]

    def value_and_grads(*inputs):
        with gc.GradientTape() as tape:
            tape.watch(list(inputs))
            value = composite.fn(ns, *inputs, *constants)
        return value, tape.gradient(value, list(inputs), unconnected_gradients="zero")

    eager_value, eager_grads = value_and_grads(*floats)
    traced_value, traced_grads = gc.function(value_and_grads)(*floats)
    close(traced_value, eager_value.numpy(), dtype=gc.float64)
    for traced, eager in zip(traced_grads, eager_grads):
        close(traced, eager.numpy(), dtype=gc.float64)


LAYERS = {
    "dense": (lambda: gc.layers.Dense(4, activation="tanh"), [3, 5]),
    "conv2d": (lambda: gc.layers.Conv2D(3, 3, padding="same", activation="relu"), [2, 5, 5, 2]),
    "max_pool": (lambda: gc.layers.MaxPooling2D(), [2, 4, 4, 3]),
    "average_pool": (lambda: gc.layers.AveragePooling2D(), [2, 4, 4, 3]),
    "batch_norm": (lambda: gc.layers.BatchNormalization(), [6, 3]),
    "layer_norm": (lambda: gc.layers.LayerNormalization(), [4, 5]),
    "flatten_dense": (lambda: gc.Sequential([gc.layers.Flatten(), gc.layers.Dense(2)]), [2, 3, 4]),
    "activation": (lambda: gc.layers.Activation("softmax"), [3, 4]),
}


def _built(make, x):
    """A layer made and built on ``x`` with the global seed 1, so two of them start the same."""
    gc.random.set_seed(1)
    layer = make()
    layer(x)
    return layer


def _layer_step(layer, x):
    """Forward in training mode; gradients of sum(y^2) for the input and the weights."""
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = gc.reduce_sum(y * y)
    return y, tape.gradient(loss, [x] + layer.trainable_variables)


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_trains_the_same_under_gc_function(name):
    """Forward in training mode, gradients for the input and the weights, and the layer's own updates."""
    make, shape = LAYERS[name]
    x = gc.constant(np.random.default_rng(2).normal(size=shape).astype(np.float32))
    eager_layer, traced_layer = _built(make, x), _built(make, x)
    traced_step = gc.function(_layer_step)
    for _ in range(2):
        eager_y, eager_grads = _layer_step(eager_layer, x)
        traced_y, traced_grads = traced_step(traced_layer, x)
        close(traced_y, eager_y.numpy())
        for traced, eager in zip(traced_grads, eager_grads):
            close(traced, eager.numpy())
    for traced, eager in zip(traced_layer.variables, eager_layer.variables):
        close(traced.read_value(), eager.numpy())


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_trains_the_same_from_one_trace_for_every_batch_size(name):
    """TF: with a None batch size in the input_signature, one trace serves batches of every size; the
    forward pass, gradients and layer updates are the eager ones at each size."""
    make, shape = LAYERS[name]
    rng = np.random.default_rng(3)

    def batch(n):
        return gc.constant(rng.normal(size=[n] + shape[1:]).astype(np.float32))

    eager_layer, traced_layer = _built(make, batch(shape[0])), _built(make, batch(shape[0]))
    traced_step = gc.function(lambda x: _layer_step(traced_layer, x),
                              input_signature=[gc.TensorSpec([None] + shape[1:], gc.float32)])
    for n in (shape[0], shape[0] + 1, 1):
        x = batch(n)
        eager_y, eager_grads = _layer_step(eager_layer, x)
        traced_y, traced_grads = traced_step(x)
        close(traced_y, eager_y.numpy())
        for traced, eager in zip(traced_grads, eager_grads):
            close(traced, eager.numpy())
        # A batch of one breaks the comparisons with 1 the trace made (broadcasting): its own trace.
        assert traced_step.experimental_get_tracing_count() == (1 if n > 1 else 2)
    for traced, eager in zip(traced_layer.variables, eager_layer.variables):
        close(traced.read_value(), eager.numpy())


def test_a_program_that_fails_on_the_backend_raises_a_gradcore_error(monkeypatch):
    """An op's backend failure becomes a gradcore error (docs/errors.md); a compiled program's too."""
    f = gc.function(lambda x: x * 2.0)
    x = vector(1.0)
    f(x)
    concrete = next(iter(f._concrete.values()))

    def out_of_memory(*arrays):
        raise MemoryError("Unable to allocate 8 GiB")

    monkeypatch.setattr(concrete, "_run", out_of_memory)
    with pytest.raises(gc.ResourceExhaustedError, match="gc.function"):
        f(x)


def test_an_input_equal_to_a_constant_of_the_function_stays_an_input():
    """An input made from a Python number (whose array gradcore may share with the same number used
    as a constant inside) is still read at every call: k + 1 in the body is not k + i."""
    params = vector(1.0, 2.0)

    @gc.function
    def f(x, i):
        body = lambda k, acc: (k + 1, acc + gc.gather(params, i) * x)
        return gc.while_loop(lambda k, acc: k < 3, body, (gc.constant(0), gc.constant(0.0)))[1]

    close(f(gc.constant(2.0), gc.constant(1)), 12.0)
    close(f(gc.constant(1.0), gc.constant(0)), 3.0)


def test_a_host_check_in_the_branch_not_taken_does_not_run():
    """TF: only the taken branch of tf.cond runs; an index that would be out of range in the other
    branch is no error."""
    params = vector(1.0, 2.0)
    f = gc.function(lambda x, i: gc.cond(x > 0, lambda: gc.gather(params, i), lambda: x))
    close(f(gc.constant(1.0), gc.constant(1)), 2.0)
    close(f(gc.constant(-1.0), gc.constant(5)), -1.0)
    with pytest.raises(gc.InvalidArgumentError):
        f(gc.constant(1.0), gc.constant(5))
