"""``gc.random``: TensorFlow's ``tf.random`` names."""

from gradcore.ops.random_ops import get_global_generator, normal, set_seed, truncated_normal, uniform
