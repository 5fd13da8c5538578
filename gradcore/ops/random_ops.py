"""Random tensors: normal, uniform and truncated normal, as ``tf.random``.

Numbers are drawn on the host by NumPy's counter-based Philox generator,
rounded to the requested dtype there, and only then moved to the backend with
``asarray``: every backend gets bit-identical values for the same seed.

Seeds are stateless, a deliberate deviation from TensorFlow. In TF an op seed
starts a sequence, so two calls with ``seed=1`` give different values. Here an
explicit ``seed`` alone decides the values, so two calls with ``seed=1`` give
the same ones (like ``tf.random.stateless_normal``). With ``seed=None`` values
come from one global generator, which ``set_seed`` restarts: after
``set_seed(s)`` the sequence of such calls is reproducible, as in TF.

Parameters (mean, stddev, minval, maxval) are read as values: the ops record
nothing, so no gradient reaches them. For a trainable mean or scale write
``mean + stddev * gc.random.normal(shape)`` (the reparameterisation trick).
"""

import operator

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import current_device
from gradcore.engine.sizes import NeedsKnownSizes, Size
from gradcore.errors import DTypeError, InvalidArgumentError, ShapeError
from gradcore.ops.kernels import host_values
from gradcore.ops.operands import new_shape
from gradcore.plugin import discovery as plugins

#: A truncated normal re-draws samples further than this many standard deviations from the mean.
TRUNCATION = 2.0


def _generator(seed):
    try:
        key = operator.index(seed)
    except TypeError:
        raise InvalidArgumentError(f"gc.random: seed must be an int or None, got {seed!r}") from None
    # Philox keys are unsigned: a negative (int64) seed keeps its two's-complement bits.
    return np.random.Generator(np.random.Philox(key=key % 2**64))


_global_generator = np.random.Generator(np.random.Philox())  # OS entropy until set_seed


_global_seed = None  # the last set_seed's, for seeds derived from it
_seeds_derived = 0


def set_seed(seed):
    """Restart the global generator that ops with ``seed=None`` draw from, as ``tf.random.set_seed``."""
    global _global_generator, _global_seed, _seeds_derived
    _global_generator = _generator(seed)
    _global_seed, _seeds_derived = operator.index(seed) % 2**64, 0


def derived_seed():
    """A seed for something given none that draws its own numbers (``Dataset.shuffle``): after
    ``set_seed``, the next of a sequence fixed by the global seed, so every run of a seeded program
    gets the same ones, as TensorFlow derives op seeds; before it, fresh entropy. The global
    generator's own numbers are left alone."""
    global _seeds_derived
    if _global_seed is None:
        return np.random.SeedSequence().entropy % 2**64
    _seeds_derived += 1
    return int(np.random.SeedSequence([_global_seed, _seeds_derived]).generate_state(1, np.uint64)[0])


class GlobalGenerator:
    """A handle on the generator ops with ``seed=None`` draw from (``set_seed`` restarts it).

    Trackable: a checkpoint holding it saves the generator's position, so a resumed run draws
    the numbers an uninterrupted one would (docs/checkpoints.md, "Exact resume").
    """

    def _trackable_children(self):
        return {}

    def _trackable_state(self):
        # Philox: a counter, a key and a buffer of draws, uint64 words kept as int64 bits (a checkpoint
        # holds gradcore's dtypes only).
        state = _global_generator.bit_generator.state
        words = {"counter": state["state"]["counter"], "key": state["state"]["key"], "buffer": state["buffer"],
                 "position": [state["buffer_pos"], state["has_uint32"], state["uinteger"]]}
        return {name: np.asarray(value, np.uint64).view(np.int64) for name, value in words.items()}

    def _restore_trackable_state(self, name, value):
        value = np.asarray(value, np.int64).view(np.uint64)
        generator = _global_generator.bit_generator
        state = generator.state
        if name == "position":
            state["buffer_pos"], state["has_uint32"], state["uinteger"] = (int(v) for v in value)
        elif name == "buffer":
            state["buffer"] = value
        else:
            state["state"][name] = value
        generator.state = state


_global_handle = GlobalGenerator()


def get_global_generator():
    """The global generator's handle (``tf.random.get_global_generator``): put it in a checkpoint."""
    return _global_handle


def _source(seed):
    """The generator a draw uses; ``seed`` may be a function giving a new seed at each draw (Dropout's)."""
    if callable(seed):
        seed = seed()
    return _global_generator if seed is None else _generator(seed)


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples of N(mean, stddev^2) of ``shape``; an explicit ``seed`` alone decides them (module doc)."""
    api = "gc.random.normal"
    dtype = _float_dtype(api, dtype)
    shape = _host_shape(api, shape, dtype)
    mean, stddev = _parameter(api, "mean", mean, shape), _stddev(api, stddev, shape)
    return _moved(api, lambda: mean + stddev * _source(seed).standard_normal(shape), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples, re-drawn until within 2 standard deviations of the mean, as TF's."""
    api = "gc.random.truncated_normal"
    dtype = _float_dtype(api, dtype)
    shape = _host_shape(api, shape, dtype)
    mean, stddev = _parameter(api, "mean", mean, shape), _stddev(api, stddev, shape)
    return _moved(api, lambda: mean + stddev * _truncated(_source(seed), shape), dtype)


def _truncated(source, shape):
    z = np.asarray(source.standard_normal(shape))
    outside = np.abs(z) > TRUNCATION
    while outside.any():
        z[outside] = source.standard_normal(int(outside.sum()))
        outside = np.abs(z) > TRUNCATION
    return z


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Samples uniform in [minval, maxval); maxval defaults to 1 for floats and is required for ints.

    Unlike TF, ``minval < maxval`` is also checked for floats (TF's output would leave the range).
    """
    api = "gc.random.uniform"
    dtype = dtypes.as_dtype(dtype)
    shape = _host_shape(api, shape, dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise DTypeError(f"{api}: dtype must be floating-point or integer, got {dtype.name}")
    if maxval is None:
        if dtype.is_integer:
            raise InvalidArgumentError(f"{api}: maxval must be given for integer dtype {dtype.name}")
        maxval = 1.0
    low, high = _parameter(api, "minval", minval, shape), _parameter(api, "maxval", maxval, shape)
    if np.any(low >= high):
        raise InvalidArgumentError(f"{api}: need minval < maxval, got minval={minval!r}, maxval={maxval!r}")
    if dtype.is_integer:
        _check_integer_range(api, low, high, dtype)
        return _moved(api, lambda: _source(seed).integers(low.astype(np.int64), high.astype(np.int64), size=shape),
                      dtype)
    return _moved(api, lambda: _uniform_floats(_source(seed), low, high, shape, dtype), dtype)


def _uniform_floats(source, low, high, shape, dtype):
    values = (low + (high - low) * source.random(shape)).astype(dtype.as_numpy_dtype)
    # Rounding to the dtype can carry a value up to maxval itself: step back below it.
    top = high.astype(dtype.as_numpy_dtype)
    return np.where(values >= top, np.nextafter(top, np.full_like(top, -np.inf)), values)


def _check_integer_range(api, low, high, dtype):
    if np.any(low != np.floor(low)) or np.any(high != np.floor(high)):
        raise InvalidArgumentError(f"{api}: minval and maxval must be whole numbers for dtype {dtype.name}")
    info = np.iinfo(dtype.as_numpy_dtype)
    if np.any(low < info.min) or np.any(high - 1 > info.max):
        raise InvalidArgumentError(f"{api}: [minval, maxval) must lie within the range of {dtype.name}")


def _host_shape(api, shape, dtype):
    """The shape of the draw, refused if its float64 host values cannot fit in host memory.

    A shape with an unknown size of a gc.function trace is refused before anything is drawn, so
    the trace made for the call's own shape draws what the eager program would.
    """
    if any(type(n) is Size for n in (shape if isinstance(shape, (list, tuple)) else ())):
        raise NeedsKnownSizes(f"{api}: random numbers of a shape with an unknown size")
    return new_shape(api, shape, dtype, plugins.get_backend(), "cpu", itemsize=8)


def _float_dtype(api, dtype):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise DTypeError(f"{api}: dtype must be floating-point, got {dtype.name}")
    return dtype


def _parameter(api, what, value, shape):
    """``value`` (a number, array or Tensor) as float64 NumPy values that broadcast to ``shape``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{api}: {what} must be a number or an array of numbers, got {value!r}") from None
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ShapeError(f"{api}: {what} of shape {array.shape} does not broadcast to the shape {shape}") from None


def _stddev(api, value, shape):
    stddev = _parameter(api, "stddev", value, shape)
    if np.any(stddev < 0):
        raise InvalidArgumentError(f"{api}: stddev must be non-negative, got {value!r}")
    return stddev


def _moved(api, draw, dtype):
    """Values ``draw()`` makes on the host, rounded to ``dtype`` there, then handed to the backend:
    the same bits everywhere. Under ``gc.function`` the draw is repeated at every call."""
    return host_values(api, plugins.get_backend(), dtype, current_device(),
                       lambda: np.asarray(draw()).astype(dtype.as_numpy_dtype))
