"""``gc.optimizers``: Keras 3's optimizers and learning-rate schedules (``tf.keras.optimizers``).

``get``, ``serialize`` and ``deserialize`` are Keras 3's (keras/src/optimizers/__init__.py):
a name matches a class name in any case ("adam", "Adam", "ADAM"), and a config is the
``{"class_name": ..., "config": ...}`` dict ``serialize`` writes, so one written by Keras reads too.
"""

from gradcore.optimizers import schedules
from gradcore.optimizers.adagrad import Adagrad
from gradcore.optimizers.adam import Adam, AdamW
from gradcore.optimizers.optimizer import Optimizer
from gradcore.optimizers.rmsprop import RMSprop
from gradcore.optimizers.sgd import SGD

#: lower-case class name -> class; the abstract Optimizer is left out, as it cannot be made.
_BY_NAME = {cls.__name__.lower(): cls for cls in (SGD, Adagrad, Adam, AdamW, RMSprop)}


def serialize(optimizer):
    """``optimizer`` as a dict ``{"module", "class_name", "config", "registered_name"}``, as Keras writes it."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"gc.optimizers.serialize: expected a gc.optimizers.Optimizer, got {type(optimizer).__name__}"
        )
    return {"module": "gradcore.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The optimizer a ``serialize`` dict describes; classes of your own are found in ``custom_objects``.

    The built-in classes match ``class_name`` in any case; ``config`` is left unchanged.
    """
    if not isinstance(config, dict):
        raise TypeError(
            "gc.optimizers.deserialize: expected a dict {'class_name': ..., 'config': {...}}, as "
            f"gc.optimizers.serialize writes it, got {type(config).__name__}: {config!r}"
        )
    name = config.get("class_name")
    if not isinstance(name, str):
        raise ValueError(  # noqa: TRY004 - the argument is a dict, as it should be; its content is wrong
            f"gc.optimizers.deserialize: the dict has no 'class_name' string. Received: {config!r}"
        )
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(name.lower())
    if cls is None:
        raise ValueError(_unknown(config))
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name ("adam", "SGD" ...), a ``serialize`` dict, or an instance (returned as is).

    None stays None. Anything else, a class included, is a ValueError, as in Keras.
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() not in _BY_NAME:
            raise ValueError(_unknown(identifier))
        return _BY_NAME[identifier.lower()]()
    raise ValueError(_unknown(identifier))


def _unknown(identifier):
    return (
        f"Could not interpret optimizer identifier: {identifier!r}. gc.optimizers knows the names "
        f"{sorted(_BY_NAME)} (in any case), a dict {{'class_name': ..., 'config': {{...}}}} as "
        "gc.optimizers.serialize writes it, or an optimizer instance; docs/coverage.md lists the "
        "Keras optimizers gradcore does not have yet."
    )


__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "deserialize", "get", "schedules", "serialize"]
