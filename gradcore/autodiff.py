"""``gc.autodiff``: TensorFlow's ``tf.autodiff`` names."""

from gradcore.engine.tape import GradientTape
