"""Op factories: the common shapes of op, so each op is one line.

Every op does the same four things: convert its inputs, apply the core's dtype
and shape rules (never the backend's), call ONE backend kernel through the
choke point ``kernels.run_kernel`` and, only if some tape is recording, note
the op.
"""

from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.tensor import Tensor
from gradcore.ops.kernels import run_binary_kernel, run_unary_kernel
from gradcore.ops.operands import FLOAT, NUMERIC, broadcast_shape, check_kind, operands


def unary_op(op_type, kernel, kinds=FLOAT, result_dtype=None, api=None, doc=None):
    """An elementwise op of one input whose kernel is ``backend.<kernel>``."""
    api = api or f"gc.{kernel}"

    def op(x, name=None):
        if type(x) is not Tensor:
            x = to_tensor(x, op_name=api)
        if x._dtype.kind not in kinds:
            check_kind(api, x, kinds)
        y = run_unary_kernel(api, x._backend, kernel, result_dtype or x._dtype, x._value)
        if state.recording:
            record(op_type, (x,), (y,))
        return y

    op.__name__ = op.__qualname__ = api.rsplit(".", 1)[-1]
    op.__doc__ = doc
    return op


def binary_op(op_type, kernel, kinds=NUMERIC, result_dtype=None, api=None, doc=None):
    """An elementwise op of two broadcasting inputs whose kernel is ``backend.<kernel>``."""
    api = api or f"gc.{kernel}"

    def op(x, y, name=None):
        x, y = operands(x, y, api)
        if x._dtype.kind not in kinds:
            check_kind(api, x, kinds)
        xv, yv = x._value, y._value
        if xv.shape != yv.shape:
            broadcast_shape(tuple(xv.shape), tuple(yv.shape), api)
        z = run_binary_kernel(api, x._backend, kernel, result_dtype or x._dtype, xv, yv)
        if state.recording:
            record(op_type, (x, y), (z,))
        return z

    op.__name__ = op.__qualname__ = api.rsplit(".", 1)[-1]
    op.__doc__ = doc
    return op


def backward_op(op_type, kernel):
    """A backward op f(y, dy): a derivative computed from the forward output by one kernel.

    As TensorFlow's TanhGrad and friends: one kernel launch instead of a composite of three, and
    a registered gradient rule of its own, so higher orders still work (docs/architecture.md section 5).
    """
    api = f"gc.{kernel}"

    def op(y, dy):
        z = run_binary_kernel(api, y._backend, kernel, dy._dtype, y._value, dy._value)
        if state.recording:
            record(op_type, (y, dy), (z,))
        return z

    op.__name__ = op.__qualname__ = kernel
    return op


