"""``gc.layers``: Keras 3's layers (``tf.keras.layers.X`` -> ``gc.layers.X``).

The base class and its contract are in base.py; ``gc.Model`` and
``gc.Sequential`` live in models.py and are exported at the top level.
"""

from gradcore.layers.base import InputSpec, Layer  # noqa: F401
from gradcore.layers.convolutional import Conv2D
from gradcore.layers.core import Activation, Dense, Dropout, Embedding, Flatten  # noqa: F401
from gradcore.layers.normalization import BatchNormalization, LayerNormalization  # noqa: F401
from gradcore.layers.pooling import AveragePool2D, AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D  # noqa: F401

Convolution2D = Conv2D  # Keras' long spelling
