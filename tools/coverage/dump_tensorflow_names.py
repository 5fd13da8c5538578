"""Write TensorFlow's public names, per namespace gradcore mirrors, to tensorflow_2_21_names.json.

Run once, with a real TensorFlow, in a throwaway environment (TensorFlow is never a
dependency of gradcore, and generate.py only reads the JSON this writes):

    python3.11 -m venv /tmp/tf
    /tmp/tf/bin/pip install 'tensorflow-cpu==2.21.*'
    /tmp/tf/bin/python tools/coverage/dump_tensorflow_names.py

The committed list came from tensorflow-cpu 2.21.0 (whose ``tf.keras`` is Keras 3.15.1) on
Linux x86-64, Python 3.11. A namespace's public names are ``dir(namespace)`` without the
names that start with an underscore and without the entries that are modules (``tf.math``
is a namespace of its own, not a name of ``tf``; ``tf.keras.optimizers.schedules`` is left
out the same way). For ``tf.data.Dataset`` the names are the class' public attributes: its
methods, static constructors and properties.
"""

import json
import sys
import types
from pathlib import Path

import tensorflow as tf

NAMESPACES = (
    "tf", "tf.math", "tf.linalg", "tf.nn", "tf.random", "tf.data.Dataset",
    "tf.keras.layers", "tf.keras.losses", "tf.keras.metrics", "tf.keras.optimizers",
)
OUTPUT = Path(__file__).with_name("tensorflow_2_21_names.json")


def resolve(dotted):
    """The object named ``tf.a.b`` ..."""
    target = tf
    for part in dotted.split(".")[1:]:
        target = getattr(target, part)
    return target


def public_names(namespace):
    return sorted(
        name for name in dir(namespace)
        if not name.startswith("_") and not isinstance(getattr(namespace, name), types.ModuleType)
    )


def main():
    if not tf.__version__.startswith("2.21."):
        sys.exit(f"expected TensorFlow 2.21, found {tf.__version__}; install tensorflow-cpu==2.21.*")
    listing = {
        "tensorflow": tf.__version__,
        "keras": tf.keras.__version__,
        "namespaces": {dotted: public_names(resolve(dotted)) for dotted in NAMESPACES},
    }
    OUTPUT.write_text(json.dumps(listing, indent=1) + "\n")
    print(f"wrote {OUTPUT} ({sum(map(len, listing['namespaces'].values()))} names)")


if __name__ == "__main__":
    main()
