"""What the summary ops compute on the host: histogram buckets, image pixels, PNG bytes.

Each follows what TensorBoard's ``tensorboard/plugins/*/summary_v2.py`` computes with TensorFlow
ops, so a gradcore run looks in TensorBoard as the same run written by TensorFlow.
"""

import io

import numpy as np

from gradcore.summary.tensorboard_api import pillow_image_module

DEFAULT_BUCKET_COUNT = 30


def histogram_buckets(values, bucket_count):
    """A float64 ``[bucket_count, 3]`` array of rows (left edge, right edge, count), TensorBoard's layout.

    ``bucket_count`` equal buckets span [min, max]; a value on an inner edge goes to the bucket on
    its right, the maximum to the last bucket. Edge cases as TensorBoard: no values (or no
    buckets) give all-zero rows; values all equal give every edge at that value and every value
    counted in the last bucket. A negative ``bucket_count`` counts as zero.
    """
    bucket_count = max(0, bucket_count)
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    if data.size == 0 or bucket_count == 0:
        return np.zeros((bucket_count, 3))
    low, high = data.min(), data.max()
    counts = np.zeros(bucket_count)
    if high - low == 0:
        counts[-1] = data.size
        return np.stack([np.full(bucket_count, high), np.full(bucket_count, high), counts], axis=1)
    width = (high - low) / bucket_count
    with np.errstate(invalid="ignore"):  # NaN data: TensorFlow's cast gives no bucket either
        indices = np.minimum(np.floor((data - low) / width), bucket_count - 1)
    indices = indices[indices >= 0].astype(np.int64)
    counts += np.bincount(indices, minlength=bucket_count)[:bucket_count]
    edges = np.linspace(low, high, bucket_count + 1)
    edges[-1] = high  # exactly the maximum, whatever the rounding of linspace
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def image_pixels(images):
    """``images`` as uint8, as TensorFlow's ``convert_image_dtype(..., uint8, saturate=True)``:
    floats (meant to lie in [0, 1]) scale by 255.5, clip to [0, 255] and truncate; uint8 stays."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    scaled = images.astype(np.float64) * 255.5
    return np.clip(scaled, 0, 255).astype(np.uint8)


def png_bytes(pixels, api):
    """One ``[h, w, c]`` uint8 image (c: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA) encoded as PNG."""
    image_module = pillow_image_module(api)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]  # Pillow takes a grey image as [h, w]
    buffer = io.BytesIO()
    image_module.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return buffer.getvalue()
