"""``optimizer.minimize`` / ``compute_gradients`` and ``gc.optimizers.get`` / ``serialize`` / ``deserialize``.

TF 2.21's ``tf.keras`` (Keras 3.15) has no ``minimize``; gradcore's is tf_keras 2.21's
(Keras 2): the tape + ``apply_gradients`` path it must equal bit for bit, its None return
value, a callable ``var_list`` called after the loss, and a Tensor loss refused without its
tape. ``get`` and friends are Keras 3's, with errors that list the names gradcore knows.
"""

import numpy as np
import pytest

import gradcore as gc

opt = gc.optimizers
STEPS = 2


def quadratic(w, b):
    """A loss with a different gradient per element, so a step that mixes them up shows."""
    return gc.reduce_sum(gc.square(w * gc.constant([1.0, -2.0, 3.0]) + b))


def weights():
    return gc.Variable([0.5, -1.0, 2.0], name="w"), gc.Variable(0.25, name="b")


def tape_and_apply_gradients(optimizer, w, b):
    """The path minimize stands for, written out as a TF 2 custom training loop."""
    with gc.GradientTape() as tape:
        loss = optimizer.scale_loss(quadratic(w, b))
    optimizer.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))


def state(optimizer, *variables):
    return [v.numpy() for v in (*variables, *optimizer.variables)]


def assert_same_state(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


# ---- minimize ---------------------------------------------------------------------------------------

def test_minimize_takes_the_step_of_the_tape_and_apply_gradients():
    """minimize lives in the base class, so one optimizer with slots shows it for all."""
    expected_optimizer, (w0, b0) = opt.Adam(0.1, amsgrad=True), weights()
    for _ in range(STEPS):
        tape_and_apply_gradients(expected_optimizer, w0, b0)
    optimizer, (w, b) = opt.Adam(0.1, amsgrad=True), weights()
    for _ in range(STEPS):
        assert optimizer.minimize(lambda: quadratic(w, b), [w, b]) is None  # tf_keras returns None
    assert int(optimizer.iterations.numpy()) == STEPS
    assert_same_state(state(optimizer, w, b), state(expected_optimizer, w0, b0))


def test_minimize_with_a_tensor_loss_uses_the_tape_that_computed_it():
    expected_optimizer, (w0, b0) = opt.SGD(0.1, momentum=0.5), weights()
    tape_and_apply_gradients(expected_optimizer, w0, b0)
    optimizer, (w, b) = opt.SGD(0.1, momentum=0.5), weights()
    with gc.GradientTape() as tape:
        loss = quadratic(w, b)
    optimizer.minimize(loss, [w, b], tape=tape)
    assert_same_state(state(optimizer, w, b), state(expected_optimizer, w0, b0))


def test_a_callable_loss_runs_under_the_tape_given():
    optimizer, (w, b) = opt.SGD(0.1), weights()
    tape = gc.GradientTape(persistent=True)
    optimizer.minimize(lambda: quadratic(w, b), [w, b], tape=tape)
    assert {id(v) for v in tape.watched_variables()} == {id(w), id(b)}


def test_a_callable_var_list_is_read_after_the_loss_made_the_variables():
    """A layer builds its weights on its first call, inside the loss: var_list must wait for it."""
    x = gc.constant([[1.0, 2.0], [-1.0, 0.5]])
    layer = gc.layers.Dense(3)
    optimizer = opt.SGD(0.1)
    optimizer.minimize(lambda: gc.reduce_mean(gc.square(layer(x))), lambda: layer.trainable_variables)
    assert layer.built and optimizer.built  # built on the layer's variables, so var_list was read after the loss

    reference = opt.SGD(0.1)  # from where the layer is now, one step both ways
    kernel, bias = gc.Variable(layer.kernel.numpy()), gc.Variable(layer.bias.numpy())
    with gc.GradientTape() as tape:
        loss = gc.reduce_mean(gc.square(gc.matmul(x, kernel) + bias))
    reference.apply_gradients(zip(tape.gradient(loss, [kernel, bias]), [kernel, bias]))
    optimizer.minimize(lambda: gc.reduce_mean(gc.square(layer(x))), lambda: layer.trainable_variables)
    np.testing.assert_array_equal(layer.kernel.numpy(), kernel.numpy())
    np.testing.assert_array_equal(layer.bias.numpy(), bias.numpy())


def test_a_listed_non_trainable_variable_is_watched_and_moved():
    w = gc.Variable(3.0, trainable=False)
    opt.SGD(0.5).minimize(lambda: gc.square(w), [w])
    assert float(w.numpy()) == 3.0 - 0.5 * 6.0


def test_loss_scale_factor_leaves_the_step_unchanged():
    """minimize scales the loss it computes, apply_gradients divides the gradients back (exact for 2^k)."""
    expected_optimizer, (w0, b0) = opt.SGD(0.1), weights()
    tape_and_apply_gradients(expected_optimizer, w0, b0)
    optimizer, (w, b) = opt.SGD(0.1, loss_scale_factor=1024.0), weights()
    optimizer.minimize(lambda: quadratic(w, b), [w, b])
    np.testing.assert_array_equal(w.numpy(), w0.numpy())
    np.testing.assert_array_equal(b.numpy(), b0.numpy())


def test_minimize_inside_gc_function_steps_as_the_traced_tape_and_apply_gradients():
    """Both traced: a compiled program may round differently from the eager ops (XLA fuses them)."""
    optimizer, (w, b) = opt.Adam(0.1), weights()
    step = gc.function(lambda: optimizer.minimize(lambda: quadratic(w, b), [w, b]))
    expected_optimizer, (w0, b0) = opt.Adam(0.1), weights()
    expected_step = gc.function(lambda: tape_and_apply_gradients(expected_optimizer, w0, b0))
    for _ in range(STEPS):
        step()
        expected_step()
    assert_same_state(state(optimizer, w, b), state(expected_optimizer, w0, b0))


def test_compute_gradients_pairs_each_variable_with_its_gradient_or_none():
    w, unused = gc.Variable([1.0, 2.0]), gc.Variable(5.0)
    pairs = opt.SGD().compute_gradients(lambda: gc.reduce_sum(gc.square(w)), [w, unused])
    assert [v is expected for (_, v), expected in zip(pairs, [w, unused])] == [True, True]
    np.testing.assert_array_equal(pairs[0][0].numpy(), [2.0, 4.0])
    assert pairs[1][0] is None


# ---- minimize: errors, each raised before anything moves -----------------------------------------------

def test_a_tensor_loss_without_its_tape_is_an_error():
    optimizer, (w, b) = opt.SGD(0.1), weights()
    with pytest.raises(ValueError, match=r"SGD.compute_gradients: `tape` is required when a `Tensor` loss is passed"):
        optimizer.minimize(quadratic(w, b), [w, b])
    assert float(b.numpy()) == 0.25 and int(optimizer.iterations.numpy()) == 0


def test_var_list_is_required():
    with pytest.raises(ValueError, match=r"`var_list` is required"):
        opt.SGD().minimize(lambda: gc.constant(1.0), None)


def test_a_tensor_in_var_list_is_an_error():
    w, x = gc.Variable(1.0), gc.constant(2.0)
    optimizer = opt.SGD(0.1)
    with pytest.raises(TypeError, match=r"SGD.minimize: `var_list` must hold gc.Variable objects, but item 1 is a"):
        optimizer.minimize(lambda: w * x, [w, x])
    assert float(w.numpy()) == 1.0 and int(optimizer.iterations.numpy()) == 0


def test_no_gradient_for_any_variable_is_an_error_and_for_some_a_warning():
    w, unused = gc.Variable(1.0, name="w"), gc.Variable(1.0, name="unused")
    optimizer = opt.SGD(0.5)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        optimizer.minimize(lambda: gc.constant(2.0), [unused])
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['unused:0'\]"):
        optimizer.minimize(lambda: gc.square(w), [w, unused])
    assert float(w.numpy()) == 0.0 and float(unused.numpy()) == 1.0


# ---- get -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("adam", opt.Adam), ("Adam", opt.Adam), ("ADAM", opt.Adam), ("sgd", opt.SGD), ("SGD", opt.SGD),
    ("rmsprop", opt.RMSprop), ("RMSProp", opt.RMSprop), ("adamw", opt.AdamW), ("Adagrad", opt.Adagrad),
])
def test_get_a_name_in_any_case_makes_that_optimizer_with_its_defaults(name, cls):
    optimizer = opt.get(name)
    assert type(optimizer) is cls
    assert optimizer.get_config() == cls().get_config()


def test_get_returns_an_optimizer_as_is_and_none_as_none():
    optimizer = opt.SGD()
    assert opt.get(optimizer) is optimizer
    assert opt.get(None) is None


def test_get_a_config_dict():
    optimizer = opt.get({"class_name": "Adam", "config": {"learning_rate": 0.5, "beta_1": 0.8}})
    assert type(optimizer) is opt.Adam and optimizer.beta_1 == 0.8
    assert optimizer.get_config()["learning_rate"] == 0.5


def test_get_reads_what_keras_serialize_writes():
    """keras.optimizers.serialize(SGD(ExponentialDecay(0.1, 10, 0.5))) in Keras 3.15.1 (TF 2.21), name kept."""
    schedule = {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": False,
                           "name": "ExponentialDecay"}, "registered_name": None}
    written_by_keras = {"module": "keras.optimizers", "class_name": "SGD", "config": {
        "name": "sgd_2", "learning_rate": schedule, "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
        "loss_scale_factor": None, "gradient_accumulation_steps": None, "momentum": 0.0, "nesterov": False,
    }, "registered_name": None}
    optimizer = opt.get(written_by_keras)
    assert type(optimizer) is opt.SGD and optimizer.name == "sgd_2"
    assert isinstance(optimizer._learning_rate, opt.schedules.ExponentialDecay)
    assert optimizer._learning_rate.get_config() == schedule["config"]
    assert written_by_keras["config"]["learning_rate"] is schedule  # the caller's dict is not rewritten


@pytest.mark.parametrize("identifier", ["foo", "optimizer", opt.Adam, 3, {"class_name": "Nadam", "config": {}}],
                         ids=["unknown", "abstract", "class", "int", "unknown-dict"])
def test_get_anything_else_is_a_value_error_naming_it_and_the_known_names(identifier):
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier") as raised:
        opt.get(identifier)
    assert repr(identifier) in str(raised.value)
    assert "['adagrad', 'adam', 'adamw', 'rmsprop', 'sgd']" in str(raised.value)


# ---- serialize / deserialize ---------------------------------------------------------------------------

def test_serialize_deserialize_round_trip():
    optimizer = opt.Adam(opt.schedules.CosineDecay(0.5, 10), beta_2=0.75, clipnorm=1.0, name="mine")
    serialized = opt.serialize(optimizer)
    assert (serialized["module"], serialized["class_name"], serialized["registered_name"]) == (
        "gradcore.optimizers", "Adam", None)
    assert serialized["config"]["learning_rate"]["class_name"] == "CosineDecay"
    rebuilt = opt.deserialize(serialized)
    assert type(rebuilt) is opt.Adam and rebuilt.get_config() == optimizer.get_config()
    assert opt.serialize(rebuilt) == serialized


def test_deserialize_finds_your_own_classes_in_custom_objects():
    class Halving(opt.schedules.LearningRateSchedule):
        _config_keys = ("rate",)

        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return self.rate / 2

    class MySGD(opt.SGD):
        pass

    serialized = opt.serialize(MySGD(Halving(0.5)))
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        opt.deserialize(serialized)
    with pytest.raises(ValueError, match=r"learning rate schedule 'Halving'.*custom_objects"):
        opt.deserialize(serialized, custom_objects={"MySGD": MySGD})
    rebuilt = opt.deserialize(serialized, custom_objects={"MySGD": MySGD, "Halving": Halving})
    assert type(rebuilt) is MySGD and rebuilt._learning_rate.rate == 0.5


def test_serialize_and_deserialize_refuse_what_they_cannot_read():
    with pytest.raises(TypeError, match="gc.optimizers.serialize: expected a gc.optimizers.Optimizer, got int"):
        opt.serialize(3)
    with pytest.raises(TypeError, match=r"gc.optimizers.deserialize: expected a dict \{'class_name'.*got str"):
        opt.deserialize("adam")
    with pytest.raises(ValueError, match=r"gc.optimizers.deserialize: the dict has no 'class_name' string"):
        opt.deserialize({"config": {}})
