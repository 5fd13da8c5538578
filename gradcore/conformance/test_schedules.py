"""gc.optimizers.schedules against their Keras 3 formulas, written here in float64 NumPy.

A schedule computes in float32, like Keras', so values are compared with the float32 entry
of the tolerance table.
"""

import math

import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

schedules = gc.optimizers.schedules
STEPS = list(range(0, 41, 3)) + [7, 10, 25, 100]


def exponential(step, initial, decay_steps, rate, staircase=False):
    p = step / decay_steps
    return initial * rate ** (math.floor(p) if staircase else p)


def polynomial(step, initial, decay_steps, end=0.0001, power=1.0, cycle=False):
    if cycle:
        decay_steps = decay_steps * (math.ceil(step / decay_steps) if step else 1)
    else:
        step = min(step, decay_steps)
    return (initial - end) * (1 - step / decay_steps) ** power + end


def inverse_time(step, initial, decay_steps, rate, staircase=False):
    p = step / decay_steps
    return initial / (1 + rate * (math.floor(p) if staircase else p))


def cosine(step, initial, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    if warmup_target is not None and step < warmup_steps:
        return initial + (warmup_target - initial) * step / warmup_steps
    start = initial if warmup_target is None else warmup_target
    fraction = min(step - warmup_steps, decay_steps) / decay_steps
    return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


def cosine_restarts(step, initial, first, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """Walk the periods one by one (the schedule finds its period with a logarithm)."""
    start, length, scale = 0.0, float(first), 1.0
    while step >= start + length:
        start, length, scale = start + length, length * t_mul, scale * m_mul
    fraction = (step - start) / length
    return initial * ((1 - alpha) * scale * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


CASES = {
    "exponential": (lambda: schedules.ExponentialDecay(0.1, 10, 0.5),
                    lambda s: exponential(s, 0.1, 10, 0.5)),
    "exponential-staircase": (lambda: schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
                              lambda s: exponential(s, 0.1, 10, 0.5, True)),
    "polynomial": (lambda: schedules.PolynomialDecay(0.1, 20, end_learning_rate=0.01, power=2.0),
                   lambda s: polynomial(s, 0.1, 20, 0.01, 2.0)),
    "polynomial-cycle": (lambda: schedules.PolynomialDecay(0.1, 20, power=0.5, cycle=True),
                         lambda s: polynomial(s, 0.1, 20, 0.0001, 0.5, True)),
    "inverse-time": (lambda: schedules.InverseTimeDecay(0.1, 5, 0.5),
                     lambda s: inverse_time(s, 0.1, 5, 0.5)),
    "inverse-time-staircase": (lambda: schedules.InverseTimeDecay(0.1, 5, 0.5, staircase=True),
                               lambda s: inverse_time(s, 0.1, 5, 0.5, True)),
    "cosine": (lambda: schedules.CosineDecay(0.1, 20, alpha=0.1), lambda s: cosine(s, 0.1, 20, 0.1)),
    "cosine-warmup": (lambda: schedules.CosineDecay(0.0, 20, alpha=0.1, warmup_target=0.2, warmup_steps=8),
                      lambda s: cosine(s, 0.0, 20, 0.1, 0.2, 8)),
    "cosine-warmup-0-steps": (lambda: schedules.CosineDecay(0.1, 20, warmup_target=0.2),
                              lambda s: cosine(s, 0.1, 20, 0.0, 0.2, 0)),
    "restarts": (lambda: schedules.CosineDecayRestarts(0.1, 10, alpha=0.05),
                 lambda s: cosine_restarts(s, 0.1, 10, alpha=0.05)),
    "restarts-constant-period": (lambda: schedules.CosineDecayRestarts(0.1, 7, t_mul=1.0, m_mul=0.5),
                                 lambda s: cosine_restarts(s, 0.1, 7, 1.0, 0.5)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_follows_its_formula(name):
    make, formula = CASES[name]
    schedule = make()
    for step in STEPS:
        value = schedule(step)
        assert value.dtype == gc.float32 and value.shape == ()
        assert_allclose(value, formula(step), err_msg=f"{name} at step {step}")


@pytest.mark.parametrize("name", list(CASES))
def test_step_may_be_a_variable_or_tensor_of_any_int_or_float_type(name):
    schedule = CASES[name][0]()
    expected = float(schedule(13))
    for step in (gc.Variable(13, dtype=gc.int64, trainable=False), gc.constant(13), gc.constant(13.0)):
        assert float(schedule(step)) == expected


def test_piecewise_constant_boundary_belongs_to_the_left_interval():
    schedule = schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    assert_allclose([float(schedule(s)) for s in range(6)], [1, 1, 1, 0.5, 0.5, 0.1], dtype=gc.float32)


def test_piecewise_constant_float_boundaries_are_truncated_for_integer_steps():
    # Keras casts the boundaries to the step's dtype: with an int step, 2.5 acts as 2.
    schedule = schedules.PiecewiseConstantDecay([2.5], [1.0, 0.5])
    assert [float(schedule(s)) for s in (2, 3)] == [1.0, 0.5]
    assert float(schedule(gc.constant(2.25))) == 1.0 and float(schedule(gc.constant(2.75))) == 0.5


def test_cosine_decay_is_flat_after_decay_steps():
    schedule = schedules.CosineDecay(1.0, 10, alpha=0.1)
    assert_allclose([float(schedule(s)) for s in (0, 5, 10, 20)], [1.0, 0.55, 0.1, 0.1], dtype=gc.float32)


@pytest.mark.parametrize("name", list(CASES))
def test_config_round_trip(name):
    schedule = CASES[name][0]()
    config = schedule.get_config()
    assert config["name"] == schedule.name
    rebuilt = type(schedule).from_config(config)
    assert rebuilt.get_config() == config
    assert float(rebuilt(17)) == float(schedule(17))


def test_config_lists_keras_arguments():
    assert schedules.CosineDecayRestarts(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0,
        "name": "SGDRDecay"}
    assert schedules.PiecewiseConstantDecay([1], [1.0, 0.5]).get_config() == {
        "boundaries": [1], "values": [1.0, 0.5], "name": "PiecewiseConstant"}


@pytest.mark.parametrize("make, argument", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
    (lambda: schedules.PolynomialDecay(0.1, -1), "decay_steps"),
    (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "decay_steps"),
    (lambda: schedules.CosineDecay(0.1, 0), "decay_steps"),
    (lambda: schedules.CosineDecayRestarts(0.1, 0), "first_decay_steps"),
])
def test_decay_steps_must_be_positive(make, argument):
    with pytest.raises(ValueError, match=f"Argument `{argument}` must be > 0"):
        make()


def test_piecewise_needs_one_more_value_than_boundaries():
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_a_subclass_must_define_call_and_config():
    class Incomplete(schedules.LearningRateSchedule):
        pass

    with pytest.raises(NotImplementedError, match="must override `__call__"):
        Incomplete()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        Incomplete().get_config()


def test_a_custom_schedule_drives_an_optimizer():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / gc.pow(2.0, gc.cast(step, gc.float32))

    optimizer = gc.optimizers.SGD(Halving())
    v = gc.Variable(0.0)
    for _ in range(3):
        optimizer.apply_gradients([(gc.constant(1.0), v)])
    assert float(v) == -1.75
