"""``gc.linalg``: TensorFlow's ``tf.linalg`` names."""

from gradcore.ops.clip_ops import global_norm
from gradcore.ops.linalg_ops import matmul, matrix_transpose
