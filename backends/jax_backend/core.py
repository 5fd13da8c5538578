"""Devices, version, and conversion between ``jax.Array`` and gradcore's dtypes."""

import jax
import jax.numpy as jnp
import numpy as np

from gradcore.engine import dtypes
from gradcore.plugin.contract import NeedsConcreteValues

_PLATFORM_NAMES = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "rocm": "cuda", "tpu": "tpu"}


def _device_name(device):
    """gradcore's name of a jax device: "cpu" for the first host device, "cpu:1" ... for the others
    (--xla_force_host_platform_device_count makes several: TensorFlow's logical CPUs)."""
    kind = _PLATFORM_NAMES.get(device.platform, device.platform)
    if kind == "cpu":
        return "cpu" if device.id == 0 else f"cpu:{device.id}"
    return f"{kind}:{device.id}"


class CoreKernels:
    """Every device ``jax.devices()`` lists, plus the host; arrays are ``jax.Array``."""

    def __init__(self):
        # jax_enable_x64 for the whole process: without it jax cannot hold float64 or int64
        # arrays at all. What changes for other jax code in the same process: Python scalars
        # and NumPy float64 arrays given to jax without a dtype become 64-bit instead of
        # 32-bit. gradcore always passes explicit dtypes, so its own results do not depend on it.
        jax.config.update("jax_enable_x64", True)
        self._devices = {}
        for d in jax.devices() + ([] if jax.devices()[0].platform == "cpu" else jax.devices("cpu")):
            self._devices.setdefault(_device_name(d), d)

    def devices(self):
        return list(self._devices)

    def default_device(self):
        return next(iter(self._devices))

    def version(self):
        return jax.__version__

    def compile_function(self, fn, jit_compile):
        """gc.function's recorded program as one XLA computation, whatever ``jit_compile`` says."""
        return jax.jit(fn)

    def trace_abstractly(self, fn, arrays):
        """``fn`` on jax tracers (jax.make_jaxpr): no kernel compiles or runs while gc.function traces."""
        def traced(*stand_ins):
            fn(*stand_ins)
            return ()

        try:
            # Ops on concrete values (constants, initial values of new variables) still run, so
            # only what depends on the stand-ins is abstract.
            with jax.ensure_compile_time_eval():
                jax.make_jaxpr(traced)(*arrays)
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError) as exc:
            raise NeedsConcreteValues(str(exc)) from exc

    def copy(self, x):
        return jnp.array(x, copy=True)

    def if_then_else(self, pred, true_fn, false_fn):
        return jax.lax.cond(pred, true_fn, false_fn)

    def while_loop(self, cond_fn, body_fn, loop_vars, maximum_iterations):
        if maximum_iterations is None:
            return jax.lax.while_loop(lambda v: cond_fn(*v), lambda v: body_fn(*v), tuple(loop_vars))

        def keep_going(state):
            count, values = state
            return jnp.logical_and(count < maximum_iterations, cond_fn(*values))

        def step(state):
            count, values = state
            return count + 1, body_fn(*values)

        return jax.lax.while_loop(keep_going, step, (0, tuple(loop_vars)))[1]

    def memory_capacity(self, device):
        if device.startswith("cpu"):
            return None
        stats = self._devices[device].memory_stats()  # None where the platform keeps no statistics
        return stats.get("bytes_limit") if stats else None

    def _place(self, array, device):
        return array if device is None else jax.device_put(array, self._devices[device])

    def asarray(self, value, dtype, device=None):
        return self._place(jnp.asarray(value, dtype=dtype.as_numpy_dtype), device)

    def to_numpy(self, x):
        return np.asarray(x)

    def dtype_of(self, x):
        return dtypes.as_dtype(x.dtype)

    def device_of(self, x):
        if isinstance(x, jax.core.Tracer):  # inside gc.function's jax.jit: placement is XLA's
            return self.default_device()
        return _device_name(next(iter(x.devices())))

    def cast(self, x, dtype):
        return x.astype(dtype.as_numpy_dtype)
