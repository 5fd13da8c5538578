"""``gc.autodiff``: TensorFlow's ``tf.autodiff`` names."""

from gradcore.engine import forward_rules  # noqa: F401 - registers the dedicated JVP rules of the hot ops
from gradcore.engine.forward import ForwardAccumulator
from gradcore.engine.tape import GradientTape
