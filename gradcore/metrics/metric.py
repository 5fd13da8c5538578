"""The Metric base class (Keras 3's ``keras.metrics.Metric``): streaming state in Variables.

A metric accumulates statistics in non-trainable Variables with ``update_state``
and reads them with ``result``. Both run with recording paused (installed on every
subclass, user subclasses too): a metric is bookkeeping, so a tape open around a
training step must not record its ops or keep its intermediate arrays alive.
"""

import functools

import numpy as np

from gradcore.engine import dtypes, tracking
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import paused
from gradcore.engine.variables import Variable
from gradcore.errors import InvalidArgumentError, ShapeError
from gradcore.losses import _snake_case
from gradcore.ops.array_ops import broadcast_to
from gradcore.ops.creation_ops import ones, zeros, zeros_like
from gradcore.ops.kernels import check_on_host
from gradcore.ops.math_ops import cast
from gradcore.ops.operands import broadcast_shape


class Metric:
    """Base class: subclasses create variables with ``add_variable`` and define
    ``update_state(...)`` and ``result()``; ``reset_state`` zeroes every variable."""

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self._dtype = dtypes.as_dtype(dtype or dtypes.float32)
        self._variables = []

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for method in ("update_state", "result"):
            if method in vars(cls):
                setattr(cls, method, _untaped(vars(cls)[method]))

    @property
    def dtype(self):
        """The dtype of the state and of ``result()`` (float32 unless given)."""
        return self._dtype

    @property
    def variables(self):
        """The state variables, in the order they were added."""
        return list(self._variables)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, name=None):
        """A new non-trainable state variable, zeros (or ones, or ``initializer(shape, dtype)``) to start."""
        shape, dtype = tuple(shape), dtypes.as_dtype(dtype or self._dtype)
        starts = {"zeros": zeros, "ones": ones}
        initial = starts[initializer](shape, dtype) if initializer in starts else initializer(shape, dtype)
        # Each replica of a strategy counts into its own copy; a read outside strategy.run adds them up.
        variable = Variable(initial, trainable=False, name=name, dtype=dtype, synchronization="on_read",
                            aggregation="sum")
        self._variables.append(variable)
        if tracking.waiting:  # a checkpoint restore may wait for it (docs/checkpoints.md)
            tracking.child_added(self._variables, str(len(self._variables) - 1), variable)
        return variable

    def _trackable_children(self):
        return {"variables": self._variables}

    add_weight = add_variable  # Keras 3 has both names

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        """Zero every state variable. (Keras 3 has no ``reset_states``.)"""
        for variable in self._variables:
            variable.assign(zeros_like(variable))

    def __call__(self, *args, **kwargs):
        """``update_state(...)`` then ``result()``."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self._dtype.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<gc.metrics.{type(self).__name__} name={self.name!r}>"

    # ---- for subclasses ------------------------------------------------------------------------

    @property
    def _label(self):
        """How errors name this metric: gc.metrics.Precision('precision')."""
        return f"gc.metrics.{type(self).__name__}({self.name!r})"

    def _values(self, values):
        """``values`` as a tensor of the metric's dtype."""
        return cast(to_tensor(values, op_name=self._label), self._dtype)

    def _sample_weight(self, sample_weight):
        """``sample_weight`` as a tensor of the metric's dtype, or None.

        A NaN weight is an error: it would make the accumulated state NaN for good, so every
        later result would be NaN too, far from the batch that caused it.
        """
        if sample_weight is None:
            return None
        weights = self._values(sample_weight)
        check_on_host(functools.partial(_refuse_nan_weights, self._label, weights.shape), weights)
        return weights

    def _broadcast_weights(self, weights, shape):
        """``weights`` broadcast to ``shape``, or a ShapeError naming the metric."""
        try:
            fits = broadcast_shape(weights.shape, tuple(shape), self._label) == tuple(shape)
        except ShapeError:
            fits = False
        if not fits:
            raise ShapeError(
                f"{self._label}: sample_weight of shape {weights.shape} does not broadcast to shape {shape}"
            )
        return broadcast_to(weights, shape)


def _untaped(method):
    @functools.wraps(method)
    def run_paused(self, *args, **kwargs):
        with paused():
            return method(self, *args, **kwargs)

    return run_paused


def _refuse_nan_weights(label, shape, weights):
    """Checked on the host so every backend raises the same error."""
    nan = np.isnan(weights)
    if nan.any():
        position = tuple(int(i) for i in np.argwhere(nan)[0]) if nan.ndim else ()
        raise InvalidArgumentError(
            f"{label}: sample_weight has a NaN at position {position} (shape {shape}); "
            f"a NaN would poison the metric's state. Use a weight of 0 to leave a sample out"
        )
