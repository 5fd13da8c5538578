"""``gc.layers.Layer``: the Keras 3 layer contract on top of ``gc.Module``.

A layer creates its weights lazily: the first ``__call__`` hands the input
shape to ``build``, which calls ``add_weight``. ``__call__`` then resolves the
``training`` flag as Keras does (the explicit argument, else the flag of the
enclosing layer call, else the default in ``call``'s signature) and passes it
to ``call`` only if ``call`` takes a ``training`` argument; nested layers see
the resolved flag even when the outer ``call`` does not pass it on.

Weights are tracked as in ``gc.Module`` (attributes walked when asked), in
Keras' order: the layer's own trainable weights, its own non-trainable ones,
then each sublayer's, sublayers in assignment order. Freezing a layer
(``layer.trainable = False``) marks its weights and its sublayers' not
trainable, as Keras 3 does, so tapes stop watching them and they move to
``non_trainable_weights``.
"""

import functools
import inspect
import itertools
import threading

import numpy as np

from gradcore import initializers, regularizers
from gradcore.engine import dtypes, nest, thread_state
from gradcore.engine.convert import convert_to_tensor
from gradcore.engine.module import Module, camel_to_snake
from gradcore.engine.recording import paused
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import ShapeError
from gradcore.ops.creation_ops import zeros
from gradcore.ops.math_ops import cast


class _CallContext(threading.local):
    def __init__(self):
        self.training = None  # the flag resolved by the innermost layer call running now
        self.call_id = None  # which outermost call is running: add_loss keeps only that call's losses


_context = _CallContext()
thread_state.attribute(_context, "training")
thread_state.attribute(_context, "call_id")
_call_ids = itertools.count()
_name_counts = {}
# The read-then-write of a prefix's count must be one step, or layers made at once in
# several threads take the same name (and their weights and optimizer slots the same
# names). A lock rather than an itertools.count per prefix: the count's atomicity is a
# CPython GIL detail, not a guarantee (free-threaded builds drop it), and naming a layer
# is far off any hot path.
_name_lock = threading.Lock()


def _unique_name(base):
    """'dense', then 'dense_1', 'dense_2' ... for layers left unnamed, as Keras; safe across threads."""
    with _name_lock:
        count = _name_counts.get(base, 0)
        _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


class InputSpec:
    """What a layer accepts: an exact rank, a minimum rank, and sizes of given axes (Keras' InputSpec)."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})

    def accepts(self, shape):
        rank = len(shape)
        if (self.ndim is not None and rank != self.ndim) or (self.min_ndim is not None and rank < self.min_ndim):
            return False
        return all(-rank <= axis < rank and shape[axis] == size for axis, size in self.axes.items())

    def __str__(self):
        parts = [f"rank {self.ndim}"] if self.ndim is not None else []
        parts += [f"rank >= {self.min_ndim}"] if self.min_ndim is not None else []
        parts += [f"axis {axis} of size {size}" for axis, size in self.axes.items()]
        return " and ".join(parts) or "any shape"


def _marking_built(build):
    """``build`` that leaves the layer built, as Keras' does: a layer built by calling ``build``
    directly keeps its weights at its first call (test_layers_core.py,
    test_a_layer_built_directly_keeps_its_weights)."""

    @functools.wraps(build)
    def build_and_mark(self, *args, **kwargs):
        result = build(self, *args, **kwargs)
        self.built = True
        if self._build_input_shape is None and args:
            self._build_input_shape = args[0]
        return result

    return build_and_mark


class Layer(Module):
    """Base class of layers, as ``keras.Layer``: override ``build(input_shape)`` and ``call(inputs[, training])``."""

    _assignment_order = True
    _collection = list
    _call_accepts_training = False
    _default_training = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Read call's signature once per class, not per call.
        parameter = inspect.signature(cls.call).parameters.get("training")
        cls._call_accepts_training = parameter is not None
        default = None if parameter is None else parameter.default
        cls._default_training = None if default is inspect.Parameter.empty else default
        if "build" in cls.__dict__:
            cls.build = _marking_built(cls.__dict__["build"])

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, input_dim=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments {sorted(kwargs)}")
        # Assigned first, so that the walk in assignment order meets a layer's own weights
        # (trainable ones first) before anything else: Keras' weight order.
        self.__dict__.update(_own_trainable=[], _own_non_trainable=[])
        super().__init__(name=name)
        self._trainable = bool(trainable)
        self._dtype = dtypes.float32 if dtype is None else dtypes.as_dtype(dtype)
        self.built, self._build_input_shape = False, None
        self.input_spec = None
        self._regularized = []  # (weight, regularizer) pairs, evaluated when .losses is read
        self._call_losses, self._call_losses_id, self._last_call_id = [], None, None
        if input_dim is not None:
            input_shape = (input_dim,)
        # Keras' input_shape excludes the batch axis; Sequential builds from it (models.py).
        self._declared_input_shape = None if input_shape is None else (None, *input_shape)

    def _chosen_name(self, name):
        if name is None:
            return _unique_name(camel_to_snake(type(self).__name__))
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"{name!r} is not a valid layer name: it must be a string without '/'")
        return name

    def __setattr__(self, name, value):
        if isinstance(value, (Variable, Module)):
            if "_own_trainable" not in self.__dict__:
                raise RuntimeError(
                    f"{type(self).__name__}: call super().__init__() at the start of __init__, "
                    f"before assigning {name!r}"
                )
            if isinstance(value, Variable):
                self._track_variable(value)
            elif isinstance(value, Layer) and not self._trainable:
                value.trainable = False  # a frozen layer's sublayers are frozen too, whenever assigned
        super().__setattr__(name, value)

    # ---- properties ---------------------------------------------------------------------

    @property
    def dtype(self):
        """The dtype of the layer's weights; floating inputs are cast to it (Keras' autocast)."""
        return self._dtype

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freeze or unfreeze the layer, its weights and its sublayers (Keras 3)."""
        self._trainable = bool(value)
        for variable in self._own_trainable:
            variable.trainable = self._trainable
        for layer in self._sublayers():
            layer.trainable = value

    weights = Module.variables
    trainable_weights = Module.trainable_variables
    non_trainable_weights = Module.non_trainable_variables

    def _sublayers(self):
        """The layers held directly in this layer's attributes, in assignment order."""
        return self._flatten(_is_layer, recursive=False)

    # ---- weights ---------------------------------------------------------------------------

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, regularizer=None, name=None,
                   aggregation="none"):
        """Create, track and return a Variable named '<layer>/<name>', as ``keras.Layer.add_weight``.

        ``initializer`` defaults to 'glorot_uniform' for floating dtypes and 'zeros' otherwise;
        ``regularizer`` adds ``regularizer(weight)`` to ``layer.losses`` while the weight is trainable;
        ``aggregation`` says how replicas' writes combine under a distribution strategy.
        """
        dtype = self._dtype if dtype is None else dtypes.as_dtype(dtype)
        shape = () if shape is None else tuple(shape)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        value = initializers.get(initializer)(shape, dtype=dtype)
        variable = Variable(value, trainable=trainable, name=f"{self.name}/{name or 'variable'}", dtype=dtype,
                            aggregation=aggregation)
        self._track_variable(variable)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._regularized.append((variable, regularizer))
        return variable

    def _track_variable(self, variable):
        own = self._own_trainable if variable.trainable else self._own_non_trainable
        if not any(v is variable for v in self._own_trainable + self._own_non_trainable):
            own.append(variable)
        if not self._trainable:
            variable.trainable = False

    def get_weights(self):
        """The values of ``weights`` as NumPy arrays."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        """Assign NumPy arrays to ``weights``, in order; counts and shapes must match."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"set_weights on layer {self.name!r}: got {len(weights)} arrays, but the layer has "
                f"{len(own)} weights ({[v.name for v in own]})"
            )
        values = [np.asarray(w) for w in weights]
        for variable, value in zip(own, values):
            if value.shape != variable.shape:
                raise ShapeError(
                    f"set_weights on layer {self.name!r}: weight {variable.name!r} has shape "
                    f"{variable.shape}, the given array has shape {value.shape}"
                )
        for variable, value in zip(own, values):
            variable.assign(value.astype(variable.dtype.as_numpy_dtype))

    def count_params(self):
        return sum(int(np.prod(v.shape)) for v in self.weights)

    # ---- losses ---------------------------------------------------------------------------

    def add_loss(self, loss):
        """From inside ``call``: add a scalar to ``losses`` until the next call of the outermost layer."""
        if self._call_losses_id != self._last_call_id:
            self._call_losses, self._call_losses_id = [], self._last_call_id
        self._call_losses.append(loss)

    @property
    def losses(self):
        """The ``add_loss`` losses of the latest call, then the regularization penalties of the
        trainable weights, recomputed from their current values (so a tape records them)."""
        layers = [self, *self._flatten(_is_layer)]
        losses = [loss for layer in layers if layer._call_losses_id == self._last_call_id for loss in layer._call_losses]
        for layer in layers:
            losses += [regularizer(w) for w, regularizer in layer._regularized if w.trainable]
        return losses

    # ---- calling --------------------------------------------------------------------------

    def build(self, input_shape):
        """Create the layer's weights for inputs of ``input_shape``; the default creates none."""

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"layer {type(self).__name__} must implement call(self, inputs)")

    def __call__(self, inputs, *args, training=None, **kwargs):
        inputs = self._autocast(inputs)
        if self.input_spec is not None and isinstance(inputs, Tensor):
            self._check_input(inputs.shape)
        if not self.built:
            self._build_for(inputs)
        outer_training, outer_call = _context.training, _context.call_id
        if training is None:
            training = outer_training if outer_training is not None else self._default_training
        if training is not None and self._call_accepts_training:
            kwargs["training"] = training
        _context.training = training
        _context.call_id = self._last_call_id = next(_call_ids) if outer_call is None else outer_call
        try:
            return self.call(inputs, *args, **kwargs)
        finally:
            _context.training, _context.call_id = outer_training, outer_call

    def _build_for(self, inputs):
        shapes = nest.map_structure(lambda x: getattr(x, "shape", None), inputs)
        self.build(shapes)
        self._build_input_shape = shapes
        self.built = True

    def _check_input(self, shape):
        if not self.input_spec.accepts(shape):
            built = f", and was built for inputs of shape {self._build_input_shape}" if self.built else ""
            raise ShapeError(
                f"layer {self.name!r} ({type(self).__name__}) got an input of shape {shape}; "
                f"it expects {self.input_spec}{built}"
            )

    def _autocast(self, inputs):
        """Arrays become tensors, and floating inputs take the layer's floating dtype, as Keras."""
        if type(inputs) is Tensor and (inputs.dtype is self._dtype or not inputs.dtype.is_floating):
            return inputs
        return nest.map_structure(self._autocast_one, inputs)

    def _autocast_one(self, x):
        if not isinstance(x, (Tensor, Variable, np.ndarray, np.generic)):
            return x
        x = convert_to_tensor(x)
        if x.dtype.is_floating and self._dtype.is_floating and x.dtype is not self._dtype:
            x = cast(x, self._dtype)
        return x

    def _run_on_zeros(self, input_shape):
        """Create every weight by calling the layer once on zeros (a None size becomes 1), unrecorded."""
        shape = tuple(1 if n is None else n for n in input_shape)
        with paused():
            self(zeros(shape, self._dtype), training=False)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


def _is_layer(value):
    return isinstance(value, Layer)
