"""The optimizers' fused update kernels compute exactly what ``update_step`` computes op by op.

Each rule of gc.optimizers runs, where it can, as one backend kernel for all the
variables of a dtype (``adam_update``, ``sgd_update`` ...: gradcore/optimizers/fused.py).
Here every rule and option runs the same steps three ways on the current backend: op
by op (a subclass that overrides ``update_step`` with the rule's own, which the
optimizer may not fuse), fused on the backend's kernel, and fused on the contract's
composite (``gc.force_composites()``). Variables and slots must agree bit for bit,
in float32 and float64. Counting kernel calls shows when the fused path is and is not taken.
"""

import collections

import numpy as np
import pytest

import gradcore as gc
from gradcore.errors import InvalidArgumentError
from gradcore.ops import kernels

from .test_optim_trajectories import OPTIONS, assert_trajectory, f32

UPDATE_KERNELS = {"SGD": "sgd_update", "Adam": "adam_update", "AdamW": "adam_update", "RMSprop": "rmsprop_update",
                  "Adagrad": "adagrad_update"}
SHAPES = [(3, 4), (5,), ()]  # a matrix, a vector and a scalar: the kernels take lists of any shapes
STEPS = 4
CASE_IDS = ["-".join([name, *(f"{k}={v}" for k, v in options.items())]) for name, options in OPTIONS]


def op_by_op(cls):
    """A subclass whose ``update_step`` is its own (the rule's, called as is): the optimizer cannot fuse it."""
    return type(f"OpByOp{cls.__name__}", (cls,), {"update_step": lambda self, g, v, lr: cls.update_step(self, g, v, lr)})


class KernelCounter:
    """An interceptor that counts kernel calls by name."""

    def __init__(self):
        self.calls = collections.Counter()

    def __call__(self, call, proceed):
        self.calls[call.kernel] += 1
        return proceed()


def train(cls, options, dtypes, mode="backend", seed=0):
    """STEPS steps of random gradients on SHAPES variables of each dtype in ``dtypes``: their values and
    the optimizer's slots as NumPy arrays, and the kernel calls. ``mode``: "backend" runs the backend's
    kernels, "composites" the contract's composite defaults."""
    rng = np.random.default_rng(seed)
    variables = [gc.Variable(rng.normal(size=s).astype(d.as_numpy_dtype), name=f"w{i}")
                 for i, (s, d) in enumerate((s, d) for d in dtypes for s in SHAPES)]
    optimizer = cls(learning_rate=0.05, **options)
    counter = KernelCounter()
    with kernels.intercepting(counter):
        for _ in range(STEPS):
            grads = [gc.constant(2.0 * rng.normal(size=v.shape).astype(v.dtype.as_numpy_dtype)) for v in variables]
            if mode == "composites":
                with gc.force_composites():
                    optimizer.apply_gradients(zip(grads, variables))
            else:
                optimizer.apply_gradients(zip(grads, variables))
    return [v.numpy() for v in variables + optimizer.variables], counter.calls


@pytest.mark.parametrize("mode", ["backend", "composites"])
@pytest.mark.parametrize("dtype", [gc.float32, gc.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("case", OPTIONS, ids=CASE_IDS)
def test_fused_steps_equal_the_op_by_op_steps_bit_for_bit(case, dtype, mode):
    name, options = case
    cls = getattr(gc.optimizers, name)
    fused, calls = train(cls, options, [dtype], mode)
    expected, op_calls = train(op_by_op(cls), options, [dtype])
    assert calls[UPDATE_KERNELS[name]] == STEPS and op_calls[UPDATE_KERNELS[name]] == 0
    assert calls["sqrt"] < op_calls["sqrt"] or name == "SGD"  # the rule's own ops are no longer per variable
    assert len(fused) == len(expected)
    for got, want in zip(fused, expected):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", list(UPDATE_KERNELS))
def test_one_kernel_call_per_step_and_variable_dtype(name):
    """Mixed float32 and float64 variables: the rule's kernel runs once per dtype per step, and the weight
    decay kernel once per dtype before it; the results are those of the op-by-op path."""
    cls = getattr(gc.optimizers, name)
    options = {"weight_decay": 0.01}
    fused, calls = train(cls, options, [gc.float32, gc.float64])
    expected, _ = train(op_by_op(cls), options, [gc.float32, gc.float64])
    assert calls[UPDATE_KERNELS[name]] == 2 * STEPS
    assert calls["weight_decay_update"] == 2 * STEPS
    for got, want in zip(fused, expected):
        np.testing.assert_array_equal(got, want)


def test_variables_excluded_from_weight_decay_are_left_out_of_the_decay_kernel():
    results = []
    for cls in (gc.optimizers.AdamW, op_by_op(gc.optimizers.AdamW)):
        w, b = gc.Variable(np.ones((2, 3)), name="kernel"), gc.Variable(np.ones(3), name="bias")
        optimizer = cls(0.1, weight_decay=0.5)
        optimizer.exclude_from_weight_decay(var_names=["bias"])
        counter = KernelCounter()
        with kernels.intercepting(counter):
            optimizer.apply_gradients([(gc.ones_like(w), w), (gc.ones_like(b), b)])
        results.append((w.numpy(), b.numpy(), counter.calls))
    (w_fused, b_fused, calls), (w_op, b_op, _) = results
    assert calls["adam_update"] == 1 and calls["weight_decay_update"] == 1  # for the kernel only
    np.testing.assert_array_equal(w_fused, w_op)
    np.testing.assert_array_equal(b_fused, b_op)
    # Adam's first step moves each weight by about lr = 0.1; the decay takes lr * 0.5 = 5% more off the kernel.
    np.testing.assert_allclose(b_fused, 0.9, rtol=1e-5)
    np.testing.assert_allclose(w_fused, 0.95 - 0.1, rtol=1e-5)


def test_a_subclass_that_overrides_update_step_keeps_its_own():
    """Keras' contract: a subclass's update_step is the rule. The optimizer must not fuse around it."""
    steps = []

    class Logged(gc.optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            steps.append(variable.name)
            super().update_step(gradient, variable, learning_rate)

    w = gc.Variable([1.0, 2.0], name="w")
    counter = KernelCounter()
    with kernels.intercepting(counter):
        Logged(0.1).apply_gradients([(gc.constant([0.5, -0.5]), w)])
    assert steps == ["w:0"] and counter.calls["adam_update"] == 0


def test_a_subclass_that_changes_only_the_step_size_still_fuses():
    """What fuses is update_step; the step's scalars are made by the (overridable) _step_size either way."""

    class Halved(gc.optimizers.Adam):
        def _step_size(self, learning_rate):
            return super()._step_size(learning_rate) * 0.5

    results = []
    for cls in (Halved, op_by_op(Halved)):
        w = gc.Variable([1.0, 2.0])
        counter = KernelCounter()
        with kernels.intercepting(counter):
            cls(0.1).apply_gradients([(gc.constant([0.5, -0.25]), w)])
        results.append((w.numpy(), counter.calls["adam_update"]))
    (fused, fused_calls), (op_path, op_calls) = results
    assert (fused_calls, op_calls) == (1, 0)
    np.testing.assert_array_equal(fused, op_path)
    np.testing.assert_allclose(fused, [1.0 - 0.05, 2.0 + 0.05], rtol=1e-5)


@pytest.mark.parametrize("dtype", [gc.float16, gc.bfloat16], ids=lambda d: d.name)
def test_half_precision_variables_take_the_op_by_op_path(dtype):
    fused, calls = train(gc.optimizers.Adam, {}, [dtype])
    expected, _ = train(op_by_op(gc.optimizers.Adam), {}, [dtype])
    assert calls["adam_update"] == 0
    for got, want in zip(fused, expected):
        np.testing.assert_array_equal(got, want)


def test_a_variable_listed_twice_is_updated_twice():
    """Two pairs for one variable are two updates, one after the other, as op by op (and in Keras)."""
    results = []
    for cls in (gc.optimizers.SGD, op_by_op(gc.optimizers.SGD)):
        w = gc.Variable([1.0, 2.0])
        counter = KernelCounter()
        with kernels.intercepting(counter):
            cls(0.5, momentum=0.9).apply_gradients([(gc.constant([1.0, 1.0]), w), (gc.constant([2.0, 2.0]), w)])
        results.append((w.numpy(), counter.calls["sgd_update"]))
    assert results[0][1] == 0 and results[1][1] == 0
    np.testing.assert_array_equal(results[0][0], results[1][0])
    # m = -0.5 * 1, w -= 0.5; then m = 0.9 * -0.5 - 0.5 * 2 = -1.45, w -= 1.45
    np.testing.assert_allclose(results[0][0], [1.0 - 0.5 - 1.45, 2.0 - 0.5 - 1.45], rtol=1e-6)


def test_an_open_tape_neither_records_the_fused_update_nor_stops_it():
    """The step runs with every tape paused (optimizer.py), so a tape kept open around it records
    nothing from it and the fused kernel is taken; later reads are recorded as usual."""
    w = gc.Variable([1.0, 2.0])
    optimizer = gc.optimizers.Adam(0.1)
    counter = KernelCounter()
    with gc.GradientTape(persistent=True) as tape:
        loss = gc.reduce_sum(w * w)
        grad = tape.gradient(loss, w)
        recorded = len(tape._nodes)
        with kernels.intercepting(counter):
            optimizer.apply_gradients([(grad, w)])
        assert len(tape._nodes) == recorded
        after = gc.reduce_sum(w * 3.0)
    assert counter.calls["adam_update"] == 1
    np.testing.assert_allclose(tape.gradient(after, w).numpy(), [3.0, 3.0])


def test_force_composites_runs_the_contract_composite_not_the_backend_kernel(monkeypatch, backend):
    own_calls = []
    original = backend.adam_update
    monkeypatch.setattr(backend, "adam_update", lambda *args: own_calls.append(1) or original(*args))
    w = gc.Variable([1.0, 2.0])
    optimizer = gc.optimizers.Adam(0.1)
    with gc.force_composites():
        optimizer.apply_gradients([(gc.constant([0.5, -0.5]), w)])
    assert own_calls == []
    optimizer.apply_gradients([(gc.constant([0.5, -0.5]), w)])
    assert own_calls == [1]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NumPy's inf / inf
def test_a_non_finite_result_under_check_numerics_names_the_kernel_and_writes_nothing():
    w = gc.Variable([1.0, 2.0])
    optimizer = gc.optimizers.Adam(0.1)
    optimizer.apply_gradients([(gc.constant([0.5, 0.5]), w)])
    before = [v.numpy() for v in [w, *optimizer.variables]]
    gc.debugging.enable_check_numerics()
    try:
        with pytest.raises(InvalidArgumentError, match="adam_update"):
            optimizer.apply_gradients([(gc.constant([np.inf, 0.5]), w)])
    finally:
        gc.debugging.disable_check_numerics()
    for value, old in zip([w, *optimizer.variables], before):
        np.testing.assert_array_equal(value.numpy(), old)


@pytest.mark.parametrize("case", OPTIONS, ids=CASE_IDS)
def test_composites_follow_the_keras_rules(case):
    """The trajectory suite's float64 Keras reference, on the contract's composites."""
    name, options = case
    with gc.force_composites():
        assert_trajectory(name, options, 0.05, lambda step: f32(0.05))
