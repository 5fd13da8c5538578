"""``gc.summary``: TensorBoard summaries, as TensorFlow 2's ``tf.summary`` (docs/summary.md).

Summaries go to a writer's TensorBoard event file through the ``tensorboard`` package (the extra
``gradcore[summary]``), imported at the first summary call, never by ``import gradcore``.
This module only re-exports; the code lives in the modules named below.
"""

from gradcore.summary import experimental  # noqa: F401
from gradcore.summary.ops import histogram, image, scalar, text  # noqa: F401
from gradcore.summary.tensorboard_api import TBNotInstalledError  # noqa: F401
from gradcore.summary.writer import SummaryWriter, create_file_writer, flush  # noqa: F401
from gradcore.summary.writing import record_if, should_record_summaries  # noqa: F401
