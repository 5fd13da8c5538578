"""``gc.random``: TensorFlow's ``tf.random`` names."""

from gradcore.ops.random_ops import normal, set_seed, truncated_normal, uniform
