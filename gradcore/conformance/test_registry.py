"""The gradient registry, as tf.RegisterGradient and tf.no_gradient behave in eager TensorFlow.

gradient_override_map is graph-only in TF and gradcore has none (docs/deviations.md,
"No gradient_override_map"): only its absence and the eager lookup by op type are checked.

User ops are made here the way gradcore's own ops are: one kernel call, a
Tensor, and ``record`` when a tape is recording. Every registration a test
makes is removed again with ``registry.unregister``.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.engine import registry
from gradcore.engine.recording import record, state
from gradcore.testing import assert_allclose


def close(actual, expected, dtype=gc.float32):
    assert actual is not None, "expected a gradient, got None"
    assert_allclose(actual, np.asarray(expected, dtype=np.float64), dtype=dtype)


def user_op(op_type, *inputs, attrs=None):
    """x * y (or x * x) recorded as an op of type ``op_type``."""
    x, y = inputs if len(inputs) == 2 else (inputs[0], inputs[0])
    backend = x.backend
    z = gc.Tensor(backend.multiply(x._value, y._value), x.dtype, backend)
    if state.recording:
        record(op_type, tuple(inputs), (z,), attrs)
    return z


@pytest.fixture
def op_type(request):
    """A fresh op type name, unregistered after the test."""
    name = f"TestUserOp{request.node.name}"
    yield name
    registry.unregister(name)


def test_registering_a_name_twice_is_a_key_error(op_type):
    gc.RegisterGradient(op_type)(lambda op, dy: dy)
    with pytest.raises(KeyError, match=f"Registering two gradient with name '{op_type}'! \\(Previous registration"):
        gc.RegisterGradient(op_type)(lambda op, dy: dy)  # TF: a name registered twice is a KeyError


def test_registering_a_builtin_op_again_is_a_key_error():
    with pytest.raises(KeyError, match="Registering two gradient with name 'Square'!"):
        gc.RegisterGradient("Square")(lambda op, dy: dy)  # TF: built-in op names are taken too
    x = gc.constant(3.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = gc.square(x)
    close(t.gradient(y, x), 6.0)  # the original rule is still in place


def test_no_gradient_twice_is_a_key_error_naming_the_first_registration(op_type):
    gc.no_gradient(op_type)
    with pytest.raises(KeyError, match=f"Registering two gradient with name '{op_type}'! .*test_registry.py:\\d+"):
        gc.no_gradient(op_type)


@pytest.mark.parametrize("register", [gc.RegisterGradient, gc.no_gradient])
def test_op_type_must_be_a_string(register):
    with pytest.raises(TypeError, match="op_type must be a string"):  # TF's message
        register(123)


def test_gradient_function_sees_inputs_outputs_and_attributes(op_type):
    seen = {}

    @gc.RegisterGradient(op_type)
    def _grad(op, dz):
        seen.update(type=op.type, inputs=op.inputs, outputs=op.outputs, scale=op.get_attr("scale"))
        x, y = op.inputs
        return dz * y, dz * x  # TF: fn(op, *dys) returns one gradient per input

    x, y = gc.constant(2.0), gc.constant(3.0)
    with gc.GradientTape() as t:
        t.watch([x, y])
        z = user_op(op_type, x, y, attrs={"scale": 7})
    dx, dy = t.gradient(z, [x, y])
    close(dx, 3.0)
    close(dy, 2.0)
    assert seen["type"] == op_type and seen["scale"] == 7
    assert seen["inputs"][0] is x and seen["inputs"][1] is y and seen["outputs"][0] is z


def test_get_attr_of_a_missing_attribute_is_a_value_error(op_type):
    @gc.RegisterGradient(op_type)
    def _grad(op, dz):
        return op.get_attr("nope")

    x = gc.constant(2.0)
    with gc.GradientTape() as t:
        t.watch(x)
        z = user_op(op_type, x)
    with pytest.raises(ValueError, match=f"op {op_type} has no attribute 'nope'"):
        t.gradient(z, x)


def test_none_gradient_for_one_input(op_type):
    gc.RegisterGradient(op_type)(lambda op, dz: (dz * op.inputs[1], None))  # TF: None allowed
    x, y = gc.constant(2.0), gc.constant(3.0)
    with gc.GradientTape() as t:
        t.watch([x, y])
        z = user_op(op_type, x, y)
    dx, dy = t.gradient(z, [x, y])
    close(dx, 3.0)
    assert dy is None


def test_user_rules_are_differentiable(op_type):
    gc.RegisterGradient(op_type)(lambda op, dz: dz * 2.0 * op.inputs[0])  # d x^2 = 2x, written with ops
    x = gc.constant(3.0)
    with gc.GradientTape() as outer:
        outer.watch(x)
        with gc.GradientTape() as inner:
            inner.watch(x)
            z = user_op(op_type, x)
        dz = inner.gradient(z, x)
    close(dz, 6.0)
    close(outer.gradient(dz, x), 2.0)


def test_wrong_number_of_gradients_names_the_op(op_type):
    gc.RegisterGradient(op_type)(lambda op, dz: dz)
    x, y = gc.constant(2.0), gc.constant(3.0)
    with gc.GradientTape() as t:
        t.watch([x, y])
        z = user_op(op_type, x, y)
    with pytest.raises(ValueError, match=f"gradient function for op {op_type} returned 1 gradients for 2 inputs"):
        t.gradient(z, [x, y])


def test_gradient_of_the_wrong_shape_names_the_op(op_type):
    gc.RegisterGradient(op_type)(lambda op, dz: gc.reduce_sum(dz))
    x = gc.constant([1.0, 2.0])
    with gc.GradientTape() as t:
        t.watch(x)
        z = user_op(op_type, x)
    pattern = f"op {op_type} returned a gradient of shape \\(\\) for an input of shape \\(2,\\)"
    with pytest.raises(gc.ShapeError, match=pattern):
        t.gradient(z, x)


def test_unregistered_op_is_a_lookup_error_at_gradient_time(op_type):
    x = gc.constant(2.0)
    with gc.GradientTape(persistent=True) as t:
        t.watch(x)
        z = user_op(op_type, x)  # recording an unregistered op is fine ...
        unrelated = gc.constant(1.0) * 2.0
    with pytest.raises(LookupError, match=f"gradient registry has no entry for: {op_type}"):
        t.gradient(z, x)  # ... differentiating through it is not, as in TF
    assert t.gradient(unrelated, x) is None  # ops off the path are never looked up


def test_no_gradient_op_gives_none(op_type):
    gc.no_gradient(op_type)
    x = gc.constant(2.0)
    with gc.GradientTape(persistent=True) as t:
        t.watch(x)
        z = user_op(op_type, x)
        w = z + x
    assert t.gradient(z, x) is None  # TF: no_gradient means None (an unregistered op: LookupError)
    close(t.gradient(w, x), 1.0)  # other paths still contribute


def test_registered_op_types_and_unregister(op_type):
    gc.RegisterGradient(op_type)(lambda op, dz: dz)
    assert op_type in registry.registered_op_types()
    assert op_type not in registry.registered_op_types(gradcore_only=True)
    assert "Square" in registry.registered_op_types(gradcore_only=True)
    registry.unregister(op_type)
    assert op_type not in registry.registered_op_types()
    with pytest.raises(LookupError):
        registry.get_gradient_function(op_type)


def test_the_eager_tape_looks_up_the_op_type_itself(op_type):
    # TF: in eager TensorFlow only the op's own type selects its rule
    # (gradient_override_map is ignored; gradcore has none). A rule registered under
    # another name does not change what gc.square's gradient is.
    gc.RegisterGradient(op_type)(lambda op, dy: dy * 100.0)
    x = gc.constant(3.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = gc.square(x)
    close(t.gradient(y, x), 6.0)
    assert not hasattr(gc, "gradient_override_map")
