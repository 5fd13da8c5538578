"""gc.optimizers behaviour as Keras 3's optimizers show it, and the tape contract.

Left out: EMA and gradient accumulation (gradcore refuses them as not implemented yet), and
behaviour inside tf.function or a tf.distribute strategy.

The update formulas themselves are checked in test_optim_trajectories.py (float64 NumPy
reference) and test_optim_oracles.py (torch.optim / optax).
"""


import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

opt = gc.optimizers
ALL = [opt.SGD, opt.Adam, opt.AdamW, opt.RMSprop, opt.Adagrad]


def names(optimizer):
    """Variable names without gradcore's ':0' suffix, as Keras 3 prints them."""
    return [v.name.removesuffix(":0") for v in optimizer.variables]


# ---- variables, iterations, return value -------------------------------------------------------

def test_variable_names_and_iterations_dtype():
    optimizer = opt.Adam()
    optimizer.apply_gradients([(gc.constant([1.0, 2.0]), gc.Variable([1.0, 2.0], name="w"))])
    assert names(optimizer) == ["iteration", "learning_rate", "w_0_momentum", "w_0_velocity"]
    assert optimizer.iterations.dtype == gc.int64 and not optimizer.iterations.trainable
    assert all(not v.trainable for v in optimizer.variables)


@pytest.mark.parametrize("make, slots", [
    (lambda: opt.SGD(momentum=0.9), ["momentum"]),
    (lambda: opt.Adam(amsgrad=True), ["momentum", "velocity", "velocity_hat"]),
    (lambda: opt.RMSprop(centered=True, momentum=0.5), ["velocity", "momentum", "average_gradient"]),
    (lambda: opt.Adagrad(), ["accumulator"]),
], ids=["SGD", "Adam", "RMSprop", "Adagrad"])
def test_slots_are_made_like_their_variable(make, slots):
    optimizer = make()
    w = gc.Variable(np.ones((2, 3)), name="dense/kernel")
    b = gc.Variable(np.ones(3, np.float32), name="bias")
    optimizer.build([w, b])
    # Keras interleaves a variable's slots when it adds them together (add_optimizer_variables).
    made = names(optimizer)[2:]
    assert sorted(made) == sorted(f"{v}_0_{s}" for v in ("dense_kernel", "bias") for s in slots)
    for slot in optimizer.variables[2:]:
        reference = w if slot.name.startswith("dense") else b
        assert (slot.shape, slot.dtype, slot.backend, slot.device) == (reference.shape, reference.dtype,
                                                                     reference.backend, reference.device)


def test_adagrad_accumulators_start_at_the_initial_value():
    optimizer = opt.Adagrad(initial_accumulator_value=0.25)
    optimizer.build([gc.Variable(np.zeros(3))])
    np.testing.assert_array_equal(optimizer.variables[-1].numpy(), [0.25, 0.25, 0.25])


def test_apply_gradients_returns_iterations_after_the_increment():
    optimizer = opt.SGD(0.1)
    v = gc.Variable([1.0])
    result = optimizer.apply_gradients([(gc.constant([1.0]), v)])
    assert result is optimizer.iterations and int(result) == 1
    optimizer.apply_gradients([(gc.constant([1.0]), v)])
    assert int(optimizer.iterations) == 2


def test_variables_is_a_new_list():
    optimizer = opt.SGD()
    optimizer.variables.clear()
    assert len(optimizer.variables) == 2


def test_empty_gradient_list_is_a_no_op():
    optimizer = opt.SGD()
    assert optimizer.apply_gradients([]) is optimizer.iterations  # gradcore's deviation: Keras raises
    assert optimizer.apply([]) is None
    assert int(optimizer.iterations) == 0 and not optimizer.built


# ---- missing gradients ------------------------------------------------------------------------

def test_all_gradients_none_is_an_error():
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.SGD().apply_gradients([(None, gc.Variable([1.0]))])


def test_some_gradients_none_warns_and_skips_them():
    v, v2 = gc.Variable([1.0]), gc.Variable([1.0], name="v2")
    optimizer = opt.SGD(1.0)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['Variable:0'\]"):
        optimizer.apply_gradients([(None, v), (gc.constant([1.0]), v2)])
    assert v.numpy().tolist() == [1.0] and v2.numpy().tolist() == [0.0]
    assert int(optimizer.iterations) == 1


# ---- clipping ----------------------------------------------------------------------------------

@pytest.mark.parametrize("pair", [("clipnorm", "clipvalue"), ("clipnorm", "global_clipnorm"),
                                  ("clipvalue", "global_clipnorm")])
def test_only_one_clipping_argument_may_be_set(pair):
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set"):
        opt.SGD(**{pair[0]: 0.1, pair[1]: 0.1})


def step_of(optimizer, grads, values):
    variables = [gc.Variable(v) for v in values]
    optimizer.apply_gradients(zip(grads, variables))
    return [v.numpy() - np.asarray(x) for v, x in zip(variables, values)]


def test_clipnorm_clips_each_gradient():
    (step,) = step_of(opt.SGD(1.0, clipnorm=1.0), [gc.constant([100.0, 100.0])], [[0.0, 0.0]])
    assert_allclose(step, [-(0.5 ** 0.5)] * 2, dtype=gc.float32)


def test_clipvalue_clips_each_element():
    (step,) = step_of(opt.SGD(1.0, clipvalue=1.0), [gc.constant([100.0, -0.5])], [[0.0, 0.0]])
    assert_allclose(step, [-1.0, 0.5], dtype=gc.float32)


def test_global_clipnorm_ignores_none_gradients():
    variables = [gc.Variable([0.0]), gc.Variable([0.0]), gc.Variable([0.0])]
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.SGD(1.0, global_clipnorm=1.0).apply_gradients(
            zip([gc.constant([3.0]), None, gc.constant([4.0])], variables))
    assert_allclose(np.concatenate([v.numpy() for v in variables]), [-0.6, 0.0, -0.8], dtype=gc.float32)


@pytest.mark.parametrize("argument", ["clipnorm", "clipvalue", "global_clipnorm"])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_clipping_needs_a_positive_value(argument, value):
    (step,) = step_of(opt.SGD(1.0, **{argument: value}), [gc.constant([100.0])], [[0.0]])
    assert step.tolist() == [-100.0]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf - inf, on purpose
def test_global_clipnorm_with_an_infinite_gradient_gives_nan():
    (step,) = step_of(opt.SGD(1.0, global_clipnorm=1.0), [gc.constant([np.inf, 1.0])], [[0.0, 0.0]])
    assert np.isnan(step).all()


# ---- constructor arguments -----------------------------------------------------------------------

@pytest.mark.parametrize("momentum", [-1.0, 2.0, 1.5, "0.5", None])
def test_momentum_must_lie_between_0_and_1(momentum):
    with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]"):
        opt.SGD(momentum=momentum)


@pytest.mark.parametrize("momentum", [0, 1, np.float32(0.5), 0.9])
def test_ints_and_numpy_momentum_are_accepted(momentum):
    # Keras rejects ints here; gradcore accepts them (docs/deviations.md, "Optimizer constructors
    # take ints and NumPy scalars").
    assert opt.SGD(momentum=momentum).momentum == float(momentum)


@pytest.mark.parametrize("learning_rate", [1, np.float32(0.5), np.float64(0.5), np.int64(2)])
def test_ints_and_numpy_learning_rates_are_accepted(learning_rate):
    # Keras rejects 1 and np.float32(0.1); gradcore accepts them (docs/deviations.md).
    optimizer = opt.SGD(learning_rate)
    assert optimizer.learning_rate.dtype == gc.float32
    assert float(optimizer.learning_rate) == float(np.float32(learning_rate))


@pytest.mark.parametrize("learning_rate", ["0.1", None, [0.1], True])
def test_other_learning_rates_are_rejected(learning_rate):
    with pytest.raises(ValueError, match="Argument `learning_rate` should be float, or an instance of "
                                         "LearningRateSchedule, or a callable"):
        opt.SGD(learning_rate)


def test_adamw_needs_a_weight_decay():
    with pytest.raises(ValueError, match="Argument `weight_decay` must be a float. Received: weight_decay=None"):
        opt.AdamW(weight_decay=None)


@pytest.mark.parametrize("cls", ALL)
def test_unknown_arguments_are_rejected(cls):
    with pytest.raises(ValueError, match=r"Argument\(s\) not recognized: \{'foo': 1\}"):
        cls(foo=1)
    with pytest.raises(ValueError, match=r"Argument\(s\) not recognized: \{'lr': 0.1\}"):
        cls(lr=0.1)


def test_decay_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="Argument `decay` is no longer supported and will be ignored."):
        optimizer = opt.SGD(decay=0.1)
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.01)


@pytest.mark.parametrize("argument", [{"use_ema": True}, {"gradient_accumulation_steps": 2}])
def test_unimplemented_options_say_so(argument):
    with pytest.raises(NotImplementedError, match="not implemented yet"):
        opt.Adam(**argument)


# ---- which variables ------------------------------------------------------------------------------

def test_unknown_variable_is_refused_by_name():
    optimizer = opt.Adam()
    optimizer.apply_gradients([(gc.constant([1.0]), gc.Variable([1.0], name="known"))])
    stranger = gc.Variable([1.0], name="stranger")
    with pytest.raises(ValueError, match=r"Unknown variable: 'stranger:0'.*originally built with"):
        optimizer.apply_gradients([(gc.constant([1.0]), stranger)])
    assert stranger.numpy().tolist() == [1.0] and int(optimizer.iterations) == 1


def test_apply_without_variables_needs_a_built_optimizer():
    optimizer = opt.SGD(1.0)
    with pytest.raises(ValueError, match=r"must already be built.*Call `optimizer.build\(trainable_variables\)`"):
        optimizer.apply([gc.constant([1.0])])
    v, w = gc.Variable([1.0]), gc.Variable([2.0])
    optimizer.build([v, w])
    optimizer.apply([gc.constant([1.0]), gc.constant([0.5])])
    assert (v.numpy().tolist(), w.numpy().tolist()) == ([0.0], [1.5])
    with pytest.raises(ValueError, match="Received a list of 1 gradients, but the optimizer is tracking 2"):
        optimizer.apply([gc.constant([1.0])])


def test_build_twice_keeps_the_first_slots():
    optimizer = opt.Adam()
    v = gc.Variable([1.0])
    optimizer.build([v])
    optimizer.build([v, gc.Variable([2.0])])
    assert len(optimizer.variables) == 4


# ---- weight decay ------------------------------------------------------------------------------------

def test_weight_decay_is_decoupled_and_uses_the_pre_update_value():
    v = gc.Variable(2.0)
    opt.SGD(1.0, weight_decay=0.004).apply_gradients([(gc.constant(0.0), v)])
    assert_allclose(v, 1.992)
    v = gc.Variable(2.0)
    opt.SGD(0.1, weight_decay=0.5).apply_gradients([(gc.constant(1.0), v)])
    assert_allclose(v, 1.8)


@pytest.mark.parametrize("cls", ALL)
def test_exclude_from_weight_decay_by_name_or_variable(cls):
    zero = gc.constant(0.0)
    var1, var2, var3 = gc.Variable(2.0), gc.Variable(2.0, name="exclude"), gc.Variable(2.0)
    cls(learning_rate=1.0, weight_decay=0.004).apply_gradients([(zero, var1)])
    second = cls(learning_rate=1.0, weight_decay=0.004)
    second.exclude_from_weight_decay(var_names=["exclude"])
    second.apply_gradients([(zero, var1), (zero, var2)])
    third = cls(learning_rate=1.0, weight_decay=0.004)
    third.exclude_from_weight_decay(var_list=[var3])
    third.apply_gradients([(zero, var1), (zero, var3)])
    assert_allclose(var1, 1.9760959)
    assert var2.numpy() == 2.0 and var3.numpy() == 2.0


def test_exclusions_must_come_before_build():
    optimizer = opt.SGD(weight_decay=0.1)
    optimizer.build([gc.Variable(1.0)])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        optimizer.exclude_from_weight_decay(var_names=["bias"])


# ---- learning rate -------------------------------------------------------------------------------------

def test_schedule_is_evaluated_before_the_increment():
    optimizer = opt.SGD(opt.schedules.ExponentialDecay(1.0, 1, 0.5))
    v = gc.Variable(0.0)
    trajectory = []
    for _ in range(3):
        optimizer.apply_gradients([(gc.constant(1.0), v)])
        trajectory.append(float(v))
    assert trajectory == [-1.0, -1.5, -1.75]
    assert float(optimizer.learning_rate) == 0.125
    assert names(optimizer) == ["iteration"]


def test_callable_learning_rate_is_called_without_arguments():
    optimizer = opt.SGD(lambda: 0.1)
    v = gc.Variable(1.0)
    optimizer.apply_gradients([(gc.constant(1.0), v)])
    assert_allclose(v, 0.9)
    assert float(optimizer.learning_rate) == 0.1


def test_learning_rate_is_settable_unless_scheduled():
    optimizer = opt.SGD(0.1)
    optimizer.learning_rate = 0.3
    assert_allclose(optimizer.learning_rate, 0.3)
    optimizer.learning_rate = np.float64(0.25)
    assert float(optimizer.variables[1]) == 0.25
    scheduled = opt.SGD(opt.schedules.ExponentialDecay(1.0, 1, 0.5))
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule` object.*not settable"):
        scheduled.learning_rate = 0.3


def test_setting_a_schedule_replaces_the_learning_rate_variable():
    optimizer = opt.SGD(0.1)
    optimizer.learning_rate = opt.schedules.PiecewiseConstantDecay([0], [1.0, 0.5])
    assert names(optimizer) == ["iteration"]
    v = gc.Variable(0.0)
    for _ in range(2):
        optimizer.apply_gradients([(gc.constant(1.0), v)])
    assert float(v) == -1.5


# ---- dtypes, loss scaling, configs -------------------------------------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_gradient_is_cast_to_the_variable_dtype(cls):
    v = gc.Variable(np.array([1.0, 2.0]))
    cls(0.5).apply_gradients([(gc.constant([1.0, -1.0], dtype=gc.float32), v)])
    assert v.dtype == gc.float64 and v.numpy()[0] < 1.0 and v.numpy()[1] > 2.0


def test_loss_scale_factor_unscales_gradients():
    optimizer = opt.SGD(1.0, loss_scale_factor=1024)
    (step,) = step_of(optimizer, [gc.constant([1024.0, 2048.0])], [[1.0, 2.0]])
    assert step.tolist() == [-1.0, -2.0]
    assert float(optimizer.scale_loss(gc.constant(1.0))) == 1024.0
    assert opt.SGD().scale_loss(3.0) == 3.0


@pytest.mark.parametrize("make", [
    lambda: opt.SGD(0.5, momentum=0.25, nesterov=True, weight_decay=0.004),
    lambda: opt.Adam(0.5, beta_1=0.5, beta_2=0.75, epsilon=1e-5, amsgrad=True, clipnorm=1.0),
    lambda: opt.AdamW(0.5, weight_decay=0.008, global_clipnorm=2.0),
    lambda: opt.RMSprop(0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True, clipvalue=3.0),
    lambda: opt.Adagrad(0.5, initial_accumulator_value=0.2, epsilon=1e-5, name="mine"),
], ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_config_round_trip(make):
    optimizer = make()
    config = optimizer.get_config()
    assert config["learning_rate"] == 0.5
    assert type(optimizer).from_config(config).get_config() == config


# ---- the tape contract --------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_a_step_inside_an_open_tape_records_nothing(cls):
    w = gc.Variable(np.array([1.0, -2.0, 3.0]), name="w")
    grad = gc.constant([2.0, -4.0, 6.0], dtype=gc.float64)
    optimizer = cls(0.1, weight_decay=0.01, clipnorm=1.0)
    with gc.GradientTape() as tape:
        loss = gc.reduce_sum(gc.square(w))
        nodes, watched = len(tape._nodes), [id(v) for v in tape.watched_variables()]
        for _ in range(2):
            optimizer.apply_gradients([(grad, w)])
        assert len(tape._nodes) == nodes
        assert [id(v) for v in tape.watched_variables()] == watched
    # What was recorded before the step is intact: d loss / dw at the old value.
    assert tape.gradient(loss, w).numpy().tolist() == [2.0, -4.0, 6.0]
    # And the values are the ones a tape-free run gives.
    expected = gc.Variable(np.array([1.0, -2.0, 3.0]), name="w")
    fresh = cls(0.1, weight_decay=0.01, clipnorm=1.0)
    for _ in range(2):
        fresh.apply_gradients([(grad, expected)])
    np.testing.assert_array_equal(w.numpy(), expected.numpy())
    assert np.all(w.numpy() != [1.0, -2.0, 3.0])
