"""``gc.summary.experimental``: the thread's default summary step, as ``tf.summary.experimental``."""

from gradcore.summary.writer import get_step, set_step  # noqa: F401
