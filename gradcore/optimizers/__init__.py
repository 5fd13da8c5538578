"""``gc.optimizers``: Keras 3's optimizers and learning-rate schedules (``tf.keras.optimizers``)."""

from gradcore.optimizers import schedules
from gradcore.optimizers.adagrad import Adagrad
from gradcore.optimizers.adam import Adam, AdamW
from gradcore.optimizers.optimizer import Optimizer
from gradcore.optimizers.rmsprop import RMSprop
from gradcore.optimizers.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "schedules"]
