"""``gc.layers``: Keras 3's layers (``tf.keras.layers.X`` -> ``gc.layers.X``).

The base class and its contract are in base.py; ``gc.Model`` and
``gc.Sequential`` live in models.py and are exported at the top level.
"""

from gradcore.layers.base import InputSpec, Layer  # noqa: F401
from gradcore.layers.convolutional import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D
from gradcore.layers.core import Activation, Dense, Dropout, Embedding, Flatten  # noqa: F401
from gradcore.layers.normalization import BatchNormalization, LayerNormalization  # noqa: F401
from gradcore.layers.pooling import (  # noqa: F401
    AveragePool2D,
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)

# Keras' long spellings
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
