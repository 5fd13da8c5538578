"""The parts of the ``tensorboard`` package gc.summary writes with, imported when first needed.

``import gradcore`` never imports tensorboard (docs/summary.md, "Installing"): the package is
the optional extra ``gradcore[summary]``. Without it, the first summary call raises
``TBNotInstalledError``, as TensorFlow raises its namesake when tensorboard is missing.
"""

import types

from gradcore.errors import GradcoreError

INSTALL_HINT = "install it with: pip install 'gradcore[summary]'"


class TBNotInstalledError(GradcoreError, ImportError):
    """TensorBoard (or Pillow, which it depends on) is missing, so a summary cannot be written (TF's name)."""


def tensorboard_api(api):
    """Event, Summary and the plugins' metadata, from tensorboard; ``api`` names the caller in the error."""
    try:
        # The top-level import first: a package hidden from sys.modules fails here even when
        # its submodules were imported earlier.
        import tensorboard  # noqa: F401
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.histogram import metadata as histogram_metadata
        from tensorboard.plugins.image import metadata as image_metadata
        from tensorboard.plugins.scalar import metadata as scalar_metadata
        from tensorboard.plugins.text import metadata as text_metadata
        from tensorboard.summary.writer.record_writer import RecordWriter
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise TBNotInstalledError(
            f"{api}: TensorBoard is not installed, missing implementation for {api}; {INSTALL_HINT}"
        ) from exc
    return types.SimpleNamespace(
        Event=event_pb2.Event,
        SourceMetadata=event_pb2.SourceMetadata,
        Summary=summary_pb2.Summary,
        RecordWriter=RecordWriter,
        make_tensor_proto=tensor_util.make_tensor_proto,
        metadata={
            "scalar": scalar_metadata.create_summary_metadata,
            "histogram": histogram_metadata.create_summary_metadata,
            "text": text_metadata.create_summary_metadata,
            "image": image_metadata.create_summary_metadata,
        },
    )


def pillow_image_module(api):
    """``PIL.Image``, which encodes image summaries as PNG (tensorboard depends on Pillow)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise TBNotInstalledError(
            f"{api}: Pillow, which encodes images as PNG, is not installed; {INSTALL_HINT}"
        ) from exc
    return Image
