"""gc.layers.Layer's contract, gc.Model and gc.Sequential (Keras 3 semantics).

Lazy build, the training flag's resolution (explicit, else the enclosing call's, else
call's default) and its propagation, freezing, Keras' weight order, get/set_weights,
and gradients of whole models against central finite differences in float64.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import FD_STEP, assert_fd_close

rng = np.random.default_rng(2)


# ---- build ------------------------------------------------------------------------------------


class Scale(gc.layers.Layer):
    """Multiplies by a weight vector over the last axis; records the shape build received."""

    def build(self, input_shape):
        self.seen_shape = input_shape
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs):
        return inputs * self.w


def test_build_runs_once_on_the_first_call_with_the_input_shape():
    layer = Scale()
    assert not layer.built and layer.weights == []
    layer(np.ones((2, 3), np.float32))
    assert layer.built and layer.seen_shape == (2, 3) and layer.w.shape == (3,)
    first = layer.w
    layer(np.ones((2, 3), np.float32))
    assert layer.w is first


def test_add_weight_defaults():
    layer = gc.layers.Layer(name="holder")
    w = layer.add_weight(shape=(30, 20))
    assert w.dtype is gc.float32 and w.trainable and w.name == "holder/variable:0"
    assert np.abs(w.numpy()).max() <= np.sqrt(6 / 50)  # glorot_uniform for floats
    counter = layer.add_weight(dtype=gc.int64, trainable=False, name="count")
    assert counter.shape == () and counter.numpy() == 0  # zeros for other dtypes
    assert layer.weights == [w, counter] and layer.non_trainable_weights == [counter]


def test_unnamed_layers_get_unique_snake_case_names():
    first, second = gc.layers.BatchNormalization(), gc.layers.BatchNormalization()
    assert first.name.startswith("batch_normalization") and second.name.startswith("batch_normalization")
    assert first.name != second.name
    assert gc.layers.Conv2D(1, 1, name="stem").name == "stem"
    with pytest.raises(ValueError, match="without '/'"):
        gc.layers.Dense(1, name="a/b")


def test_model_build_creates_the_weights_without_recording():
    model = gc.Sequential([gc.layers.Dense(4), gc.layers.BatchNormalization(), gc.layers.Dense(2)])
    with gc.GradientTape() as tape:
        model.build((None, 3))
    assert [v.shape for v in model.trainable_weights] == [(3, 4), (4,), (4,), (4,), (4, 2), (2,)]
    assert tape._nodes == []
    np.testing.assert_array_equal(model.layers[1].moving_mean.numpy(), np.zeros(4))  # inference: no update


def test_sequential_with_an_input_shape_is_built_as_layers_are_added():
    model = gc.Sequential([gc.layers.Dense(5, input_shape=(3,))])
    assert model.layers[0].kernel.shape == (3, 5)
    model.add(gc.layers.Dense(2))
    assert model.layers[1].kernel.shape == (5, 2)
    assert gc.Sequential([gc.layers.Dense(5, input_dim=7)]).layers[0].kernel.shape == (7, 5)


def test_sequential_add_pop_and_type_check():
    model = gc.Sequential()
    first, second = gc.layers.Dense(2), gc.layers.Dense(3)
    model.add(first)
    model.add(second)
    assert model.layers == [first, second]
    assert model.pop() is second and model.layers == [first]
    with pytest.raises(TypeError, match="expected a gc.layers.Layer"):
        model.add(lambda x: x)


# ---- the training flag --------------------------------------------------------------------------


class Probe(gc.layers.Layer):
    """Remembers the training flag its call received."""

    def call(self, inputs, training=None):
        self.seen = training
        return inputs


class Passive(gc.Model):
    """A model whose call takes no training argument and passes none on."""

    def __init__(self):
        super().__init__()
        self.probe = Probe()

    def call(self, inputs):
        return self.probe(inputs)


class Outer(gc.Model):
    def __init__(self):
        super().__init__()
        self.passive = Passive()
        self.forced_off = Probe()
        self.after = Probe()

    def call(self, inputs, training=False):
        x = self.passive(inputs)
        x = self.forced_off(x, training=False)
        return self.after(x)


@pytest.mark.parametrize("training", [True, False])
def test_the_flag_given_to_the_outer_call_reaches_nested_layers(training):
    model = Outer()
    model(gc.ones((1, 2)), training=training)
    assert model.passive.probe.seen is training  # Passive.call never passes it on
    assert model.after.seen is training
    assert model.forced_off.seen is False  # an explicit flag wins for that call only


def test_without_a_flag_the_outer_calls_default_is_used():
    model = Outer()
    model(gc.ones((1, 2)))
    assert model.passive.probe.seen is False  # Outer.call's default training=False
    probe = Probe()
    probe(gc.ones((1, 2)))
    assert probe.seen is None  # nothing to inherit: call's own default


def test_the_flag_is_passed_only_to_calls_that_take_it():
    Passive()(gc.ones((1, 2)), training=True)  # Passive.call(inputs) would raise on training=


def test_sequential_passes_the_flag_to_dropout():
    model = gc.Sequential([gc.layers.Dropout(0.5, seed=1)])
    x = np.ones((10, 10), np.float32)
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()


# ---- weights, order and freezing -----------------------------------------------------------------


class TwoBranches(gc.Model):
    def __init__(self):
        super().__init__()
        self.zeta = gc.layers.Dense(2, name="zeta")  # assigned first: listed first (Keras)
        self.alpha = gc.layers.BatchNormalization(name="alpha")
        self.again = [self.zeta]
        self.scale = gc.Variable(np.ones(2, np.float32), name="scale")

    def call(self, x, training=False):
        return self.alpha(self.zeta(x)) * self.scale


def test_weights_in_keras_order_own_first_then_sublayers_in_assignment_order():
    model = TwoBranches()
    model(gc.ones((3, 4)))
    assert [v.name for v in model.weights] == [
        "scale:0", "zeta/kernel:0", "zeta/bias:0",
        "alpha/gamma:0", "alpha/beta:0", "alpha/moving_mean:0", "alpha/moving_variance:0"]
    assert [v.name for v in model.trainable_variables] == [
        "scale:0", "zeta/kernel:0", "zeta/bias:0", "alpha/gamma:0", "alpha/beta:0"]
    assert model.layers == [model.zeta, model.alpha]
    assert isinstance(model.trainable_variables, list)  # Keras answers with lists


def test_freezing_a_layer_moves_its_weights_to_non_trainable_and_the_tape_stops_watching():
    model = TwoBranches()
    x = gc.ones((3, 4))
    model(x)
    model.zeta.trainable = False
    assert [v.name for v in model.trainable_weights] == ["scale:0", "alpha/gamma:0", "alpha/beta:0"]
    assert model.zeta.kernel.trainable is False and "zeta/kernel:0" in [v.name for v in model.non_trainable_weights]
    with gc.GradientTape() as tape:
        loss = gc.reduce_sum(model(x, training=True))
    assert tape.gradient(loss, model.zeta.kernel) is None
    model.zeta.trainable = True
    assert len(model.trainable_weights) == 5
    assert model.alpha.moving_mean.trainable is False  # never trainable, so not unfrozen


def test_freezing_a_model_freezes_everything_below_including_weights_created_later():
    model = TwoBranches()
    model.trainable = False
    model(gc.ones((3, 4)))  # builds the sublayers while frozen
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 7
    assert model.zeta.trainable is False
    model.trainable = True
    assert len(model.trainable_weights) == 5


def test_get_and_set_weights_round_trip_with_count_and_shape_checks():
    model = gc.Sequential([gc.layers.Dense(3), gc.layers.Dense(2)])
    model(np.ones((1, 4), np.float32))
    values = [rng.standard_normal(v.shape).astype(np.float32) for v in model.weights]
    model.set_weights(values)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="got 1 arrays, but the layer has 4 weights"):
        model.set_weights(values[:1])
    with pytest.raises(gc.ShapeError, match=r"has shape \(4, 3\), the given array has shape \(3, 4\)"):
        model.set_weights([values[0].T] + values[1:])


def test_summary_lists_layers_and_parameter_counts():
    model = gc.Sequential([gc.layers.Dense(4, input_shape=(3,), name="d1"), gc.layers.BatchNormalization(name="bn")],
                          name="tiny")
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "tiny"' in text and "d1 (Dense)" in text and "bn (BatchNormalization)" in text
    assert "Total params: 32" in text and "Trainable params: 24" in text and "Non-trainable params: 8" in text


# ---- errors ------------------------------------------------------------------------------------


def test_forgetting_super_init_is_a_clear_error():
    class Forgetful(gc.Model):
        def __init__(self):
            self.dense = gc.layers.Dense(2)

    with pytest.raises(RuntimeError, match=r"call super\(\).__init__\(\)"):
        Forgetful()


def test_the_functional_api_and_unknown_arguments_are_refused():
    with pytest.raises(NotImplementedError, match="subclassing API only"):
        gc.Model(inputs=None, outputs=None)
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        gc.layers.Dense(2, kernal_initializer="zeros")


# ---- gradients against finite differences --------------------------------------------------------


def assert_gradients_match_finite_differences(model, x, loss_of_output):
    """The tape's gradient along a random direction vs central differences of the loss (float64)."""

    def loss():
        return loss_of_output(model(x, training=True)) + sum(model.losses)

    loss()  # build
    variables = model.trainable_variables
    with gc.GradientTape() as tape:
        value = loss()
    grads = tape.gradient(value, variables)
    directions = [rng.standard_normal(v.shape) for v in variables]
    start = [v.numpy() for v in variables]

    def shifted(sign):
        for v, s, d in zip(variables, start, directions):
            v.assign(s + sign * FD_STEP * d)
        return float(loss())

    numeric = (shifted(+1) - shifted(-1)) / (2 * FD_STEP)
    analytic = sum(float(np.sum(g.numpy() * d)) for g, d in zip(grads, directions))
    assert_fd_close(analytic, numeric)
    assert all(g is not None for g in grads)


def test_mlp_gradients_match_finite_differences():
    f64 = {"dtype": gc.float64}
    model = gc.Sequential([
        gc.layers.Dense(5, activation="tanh", kernel_regularizer=gc.regularizers.L2(0.1), **f64),
        gc.layers.BatchNormalization(**f64),
        gc.layers.LayerNormalization(**f64),
        gc.layers.Dense(3, activation="softmax", bias_regularizer=gc.regularizers.L1(0.05), **f64),
    ])
    x, targets = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    assert_gradients_match_finite_differences(model, x, lambda y: gc.reduce_sum(y * targets))


def test_embedding_model_gradients_match_finite_differences():
    model = gc.Sequential([gc.layers.Embedding(7, 4, dtype=gc.float64), gc.layers.Flatten(dtype=gc.float64),
                           gc.layers.Dense(2, activation="sigmoid", dtype=gc.float64)])
    ids = np.array([[1, 3, 3], [6, 0, 1]])
    assert_gradients_match_finite_differences(model, ids, lambda y: gc.reduce_sum(gc.square(y)))


def test_cnn_gradients_match_finite_differences():
    f64 = {"dtype": gc.float64}
    model = gc.Sequential([
        gc.layers.Conv2D(3, 3, padding="same", activation="tanh", **f64),
        gc.layers.MaxPooling2D(**f64),
        gc.layers.Conv2D(2, (2, 2), strides=(1, 1), **f64),
        gc.layers.AveragePooling2D(pool_size=(1, 2), **f64),
        gc.layers.Flatten(**f64),
        gc.layers.Dense(2, **f64),
    ])
    x = rng.standard_normal((2, 6, 8, 2))
    assert_gradients_match_finite_differences(model, x, lambda y: gc.reduce_sum(gc.sin(y)))



def test_model_frozen_at_construction_freezes_sublayers_assigned_later():
    class Frozen(gc.Model):
        def __init__(self):
            super().__init__(trainable=False)
            self.dense = gc.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    model = Frozen()
    model(gc.ones([2, 4]))
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 2
