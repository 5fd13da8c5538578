"""``gc.summary.scalar``, ``histogram``, ``text`` and ``image``: TensorBoard's summary_v2 ops for gc tensors.

Each checks its data, then hands ``writing.write`` a ``prepare`` that says which operands to
read on the host and how to encode them into the summary's tensor: the same tensor and plugin
metadata TensorBoard's own ops write, so TensorBoard shows the values under scalars,
histograms, text and images. ``data`` may be a gc tensor or Variable of any backend (read on the
host when the summary is written, also at every call of a gc.function) or a host value: a
Python number, a list, a NumPy array, strings for ``text``.
"""

import numpy as np

from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import DTypeError
from gradcore.summary.encoding import DEFAULT_BUCKET_COUNT, histogram_buckets, image_pixels, png_bytes
from gradcore.summary.tensorboard_api import tensorboard_api
from gradcore.summary.writing import write

_IMAGE_CHANNELS = (1, 2, 3, 4)  # grey, grey and alpha, RGB, RGBA


def scalar(name, data, step=None, description=None):
    """Write a scalar, cast to float32, under tag ``name`` at ``step`` (default: the thread's step).

    Returns a bool gc tensor: True when written, False with no default writer or when record_if
    says no. ``data`` of another shape than ``()`` is a ValueError even when nothing is recorded,
    as in TensorFlow."""
    api = "gc.summary.scalar"
    tb = tensorboard_api(api)
    operand = _operand(data)
    _require_numeric(api, operand)
    if _shape(operand) != ():
        raise ValueError(f"{api}: Expected scalar shape, saw shape: {_shape(operand)}.")
    metadata = tb.metadata["scalar"](display_name=None, description=description)

    def prepare():
        return [operand], lambda value: tb.make_tensor_proto(np.asarray(value, dtype=np.float32)), metadata

    return write(api, _tag(api, name, "scalar_summary"), step, prepare)


def histogram(name, data, step=None, buckets=None, description=None):
    """Write a histogram of ``data`` (any shape, cast to float64) in ``buckets`` (30) equal buckets:
    a ``[buckets, 3]`` tensor of (left edge, right edge, count) rows, as TensorBoard's
    ``histogram`` (edge cases in gradcore/summary/encoding.py). Returns as ``scalar``."""
    api = "gc.summary.histogram"
    tb = tensorboard_api(api)
    operand = _operand(data)
    _require_numeric(api, operand)
    metadata = tb.metadata["histogram"](display_name=None, description=description)

    def prepare():
        count = _bucket_count(api, buckets)
        return [operand], lambda values: tb.make_tensor_proto(histogram_buckets(values, count)), metadata

    return write(api, _tag(api, name, "histogram_summary"), step, prepare)


def text(name, data, step=None, description=None):
    """Write ``data``, a str or bytes or a (nested) list or array of them, as a text summary
    (Markdown in TensorBoard). Strings are stored as UTF-8. Returns as ``scalar``."""
    api = "gc.summary.text"
    tb = tensorboard_api(api)
    strings = _utf8_array(api, data)
    metadata = tb.metadata["text"](display_name=None, description=description)

    def prepare():
        return [strings], tb.make_tensor_proto, metadata

    return write(api, _tag(api, name, "text_summary"), step, prepare)


def image(name, data, step=None, max_outputs=3, description=None):
    """Write up to ``max_outputs`` images of ``data``, ``[k, h, w, c]`` with c in 1 to 4 (grey, grey
    and alpha, RGB, RGBA), floats in [0, 1] or uint8, each encoded as PNG: TensorBoard's image
    summary tensor ``[width, height, png_1, ...]``. Returns as ``scalar``."""
    api = "gc.summary.image"
    tb = tensorboard_api(api)
    metadata = tb.metadata["image"](display_name=None, description=description)

    def prepare():
        images = _checked_images(api, _operand(data), max_outputs)

        def encode(pixels):
            pixels = image_pixels(pixels)
            height, width = pixels.shape[1:3]
            pngs = [png_bytes(one, api) for one in pixels]
            return tb.make_tensor_proto(np.array([str(width).encode(), str(height).encode(), *pngs], dtype=object))

        return [images], encode, metadata

    return write(api, _tag(api, name, "image_summary"), step, prepare)


# ---- checking the arguments ------------------------------------------------------------------------


def _operand(data):
    """A gc tensor (a Variable read now), or the host value as a NumPy array."""
    if isinstance(data, Variable):
        return data.read_value()
    if isinstance(data, Tensor):
        return data
    return np.asarray(data)


def _shape(operand):
    return tuple(operand.shape)


def _kind(operand):
    """'float', 'int', 'uint', 'bool', or None for what is not a number (strings, objects)."""
    if isinstance(operand, Tensor):
        return operand.dtype.kind
    return {"f": "float", "i": "int", "u": "uint", "b": "bool"}.get(operand.dtype.kind)


def _require_numeric(api, operand):
    if _kind(operand) is None:
        raise DTypeError(f"{api}: data must be numbers, got an array of dtype {operand.dtype}; "
                         "pass a gc tensor or an array of numbers")


def _tag(api, name, default):
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{api}: name must be a str, got {name!r}")
    return name or default  # TensorFlow's default names, for an empty or missing name


def _bucket_count(api, buckets):
    if buckets is None:
        return DEFAULT_BUCKET_COUNT
    if isinstance(buckets, (bool, np.bool_)) or not isinstance(buckets, (int, np.integer)):
        raise TypeError(f"{api}: buckets must be an int, got {buckets!r}")
    return int(buckets)


def _utf8_array(api, data):
    """``data`` as an object array of UTF-8 bytes, the layout of a string TensorProto."""
    if isinstance(data, (Tensor, Variable)):
        raise DTypeError(f"{api}: data must be strings; a gc tensor holds numbers, got dtype {data.dtype.name}")
    array = np.asarray(data, dtype=object)
    encoded = np.empty(array.shape, dtype=object)
    for index, item in np.ndenumerate(array):
        if isinstance(item, str):
            item = item.encode("utf-8")
        elif isinstance(item, np.bytes_):
            item = bytes(item)
        if not isinstance(item, bytes):
            raise DTypeError(f"{api}: data must be strings (str or bytes, or lists or arrays of them), "
                             f"got {item!r}")
        encoded[index] = item
    return encoded


def _checked_images(api, images, max_outputs):
    """The first ``max_outputs`` of ``images`` (sliced before they go to the host), after TF's checks."""
    shape = _shape(images)
    if len(shape) != 4:
        raise ValueError(f"{api}: data must have rank 4 ([k, h, w, c]), got shape {shape}")
    if shape[3] not in _IMAGE_CHANNELS:
        raise ValueError(f"{api}: images must have 1, 2, 3 or 4 channels (grey, grey and alpha, RGB, RGBA), "
                         f"got shape {shape}")
    kind = _kind(images)
    if not (kind == "float" or (kind == "uint" and np.dtype(images.dtype.name) == np.uint8)):
        raise DTypeError(f"{api}: images must be floats in [0, 1] or uint8, got dtype {images.dtype}; "
                         "cast them with gc.cast")
    if isinstance(max_outputs, (bool, np.bool_)) or not isinstance(max_outputs, (int, np.integer)):
        raise TypeError(f"{api}: max_outputs must be an int, got {max_outputs!r}")
    if max_outputs < 0:
        raise ValueError(f"{api}: max_outputs must be non-negative, got {max_outputs}")
    return images[:int(max_outputs)]
