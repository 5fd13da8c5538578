"""``gc.Model`` (Keras' subclassing API) and ``gc.Sequential``.

There is no compile/fit: gradcore trains with GradientTape loops, so a model
is a layer that holds layers, plus ``layers``, ``build`` and ``summary``.
"""

import math
import os

from gradcore.layers.base import Layer


class Model(Layer):
    """A network defined by subclassing, as ``keras.Model``::

        class MLP(gc.Model):
            def __init__(self):
                super().__init__()
                self.hidden = gc.layers.Dense(64, activation="relu")
                self.dropout = gc.layers.Dropout(0.5)
                self.out = gc.layers.Dense(10)

            def call(self, x, training=False):
                return self.out(self.dropout(self.hidden(x)))

    ``model(x, training=True)`` reaches the Dropout even though ``call`` does not pass it on.
    """

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError(
                "gc.Model supports the subclassing API only (layers in __init__, the forward pass in call); "
                "the functional API Model(inputs, outputs) is not implemented: use gc.Sequential for a stack of layers"
            )
        super().__init__(**kwargs)

    @property
    def layers(self):
        """The layers held directly in the model's attributes, in assignment order."""
        return list(self._sublayers())

    def build(self, input_shape):
        """Create every weight now by calling the model once on zeros of ``input_shape`` (None -> 1), unrecorded."""
        self._run_on_zeros(input_shape)

    def _build_for(self, inputs):
        if type(self).build is not Model.build:
            return super()._build_for(inputs)
        # Nothing to create before the first call: the sublayers build themselves during it.
        self.built = True

    def save_weights(self, filepath, overwrite=True):
        """Write the model's weights (and its layers' state) to ``filepath`` in gradcore's checkpoint
        format (``filepath.index`` and ``filepath.data-00000-of-00001``; docs/checkpoints.md)."""
        from gradcore.train.checkpoint import Checkpoint
        from gradcore.train.format import checkpoint_exists

        if not overwrite and checkpoint_exists(os.fspath(filepath)):
            raise FileExistsError(f"{self.name}.save_weights: {filepath} exists and overwrite=False")
        return Checkpoint(root=self).write(filepath)

    def load_weights(self, filepath, skip_mismatch=False):
        """Restore weights written by ``save_weights``; weights not built yet are restored when built.

        Returns the load status (``assert_consumed()`` ... as ``gc.train.Checkpoint.restore``).
        """
        from gradcore.train.checkpoint import Checkpoint

        if skip_mismatch:
            raise NotImplementedError(f"{self.name}.load_weights: skip_mismatch=True is not supported")
        return Checkpoint(root=self).read(filepath)

    def summary(self, print_fn=print):
        """Print each layer's name, class and number of parameters, then the totals, as Keras (without output shapes)."""
        rows = [(f"{layer.name} ({type(layer).__name__})", str(layer.count_params()) if layer.built else "0 (unbuilt)")
                for layer in self.layers]
        width = max([len("Layer (type)")] + [len(name) for name, _ in rows]) + 4
        rule = "-" * (width + 14)
        lines = [f'Model: "{self.name}"', rule, f"{'Layer (type)':<{width}}{'Param #':>14}", rule]
        lines += [f"{name:<{width}}{count:>14}" for name, count in rows]
        trainable = sum(math.prod(v.shape) for v in self.trainable_weights)
        total = sum(math.prod(v.shape) for v in self.weights)
        lines += [rule, f"Total params: {total}", f"Trainable params: {trainable}",
                  f"Non-trainable params: {total - trainable}"]
        print_fn("\n".join(lines))


class Sequential(Model):
    """A stack of layers, each called on the previous one's output, as ``keras.Sequential``.

    If the first layer was given ``input_shape=`` (or ``input_dim=``), every layer is built as
    soon as it is added, so the weights exist before the first call (Keras does the same).
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._layers = []
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a gc.layers.Layer, got {type(layer).__name__} {layer!r}")
        self._layers.append(layer)
        input_shape = self._layers[0]._declared_input_shape
        if input_shape is not None:
            self._run_on_zeros(input_shape)

    def pop(self):
        """Remove and return the last layer."""
        if not self._layers:
            raise IndexError(f"Sequential {self.name!r} has no layers to pop")
        return self._layers.pop()

    def call(self, inputs):
        # Each layer inherits the training flag this model was called with (base.py): none is passed.
        for layer in self._layers:
            inputs = layer(inputs)
        return inputs
