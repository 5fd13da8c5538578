"""Writing one summary: whether to record it, at which step, and its values read on the host.

``write`` is ``tf.summary.write`` for gradcore's summary ops (gradcore/summary/ops.py). It returns
a bool gc tensor: True when the summary is written, False when there is no default writer or
``record_if`` says no.

Values are read on the host through ``run_on_host`` (docs/function.md, "Host effects"): at
once when eager; inside ``gc.function`` the write is recorded and happens at every call of the
function, with that call's values, step and condition. What is not a tensor (a Python step, the
default writer) is fixed when the function is traced, as in TensorFlow (docs/summary.md,
"Inside gc.function").
"""

import contextlib

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.recording import state
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import DTypeError, InvalidArgumentError
from gradcore.ops.creation_ops import constant
from gradcore.ops.kernels import run_on_host
from gradcore.summary.writer import summary_state

NO_STEP = ("No step set. Please specify one either through the `step` argument or through "
           "gc.summary.experimental.set_step()")  # TensorFlow's message, with gradcore's names

@contextlib.contextmanager
def record_if(condition):
    """Within the block, summaries are written only when ``condition`` holds: a bool, a bool gc
    tensor, or a callable giving one, called each time a summary op runs."""
    saved = summary_state.is_recording
    summary_state.is_recording = condition
    try:
        yield
    finally:
        summary_state.is_recording = saved


def should_record_summaries():
    """A bool gc tensor: whether a summary op here would write (a default writer, and record_if's
    condition, True when none is set)."""
    if summary_state.writer is None:
        return _bool(False)
    condition = recording_condition("gc.summary.should_record_summaries")
    return condition if isinstance(condition, Tensor) else _bool(condition)


def recording_condition(api):
    """record_if's condition now: a Python bool, or a bool tensor the running gc.function computes."""
    condition = summary_state.is_recording
    if callable(condition) and not isinstance(condition, (Tensor, Variable)):
        condition = condition()
    if condition is None:
        return True
    if isinstance(condition, Variable):
        condition = condition.read_value()
    if isinstance(condition, Tensor):
        if not condition.dtype.is_bool:
            raise DTypeError(f"{api}: the record_if condition must be a bool tensor, got dtype "
                             f"{condition.dtype.name}; compare it, e.g. `step % 2 == 0`")
        if _traced(condition):
            return condition
        return bool(condition)
    return bool(condition)


def write(api, tag, step, prepare):
    """Write one summary to the thread's default writer; a bool gc tensor, as ``tf.summary.write``.

    ``prepare()`` runs only when the summary is recorded (TensorFlow defers histogram bucketing and
    image encoding the same way); it returns ``(operands, encode, metadata)``: ``operands`` are gc
    tensors (read on the host when written) and host values, ``encode(*host_values)`` gives the
    summary's TensorProto, ``metadata`` its plugin's SummaryMetadata.
    """
    writer = summary_state.writer
    if writer is None:
        return _bool(False)
    condition = recording_condition(api)
    if condition is False:
        return _bool(False)
    if step is None:
        step = summary_state.step
    if step is None:
        raise ValueError(f"{api}: {NO_STEP}")
    step = _step_operand(api, step)
    _refuse_inside_traced_branch(api)
    operands, encode, metadata = prepare()
    traced_condition = condition if isinstance(condition, Tensor) else None

    def emit(*values):
        """Runs on the host with the values of (step, condition, *operands)."""
        step_value, condition_value = values[:2]
        if traced_condition is not None and not bool(condition_value):
            return
        writer.write_summary(api, int(step_value), tag, encode(*values[2:]), metadata)

    _on_host(emit, [step, traced_condition, *operands])
    return _bool(True) if traced_condition is None else traced_condition


def _step_operand(api, step):
    """The step as a Python int, or an integer scalar gc tensor (a Variable is read now: inside
    gc.function that is at every call)."""
    if isinstance(step, Variable):
        step = step.read_value()
    if isinstance(step, Tensor):
        if not step.dtype.is_integer:
            raise DTypeError(f"{api}: the step must be an integer, got a tensor of dtype {step.dtype.name}; "
                             "use an int64 Variable or a Python int")
        if tuple(step.shape) != ():
            raise InvalidArgumentError(f"{api}: the step must be a scalar, got shape {tuple(step.shape)}")
        return step
    if isinstance(step, (int, np.integer)) and not isinstance(step, (bool, np.bool_)):
        return int(step)
    raise DTypeError(f"{api}: the step must be an int or an integer gc tensor or Variable, got {step!r}")


def _refuse_inside_traced_branch(api):
    """A write inside a gc.cond branch or gc.while_loop body that gc.function traces would run for
    every branch when traced (docs/summary.md, "Inside gc.function"): refused rather than wrong."""
    tracer = state.tracer
    if tracer is not None and tracer.in_branch_or_loop():
        raise NotImplementedError(
            f"{api}: a summary inside a gc.cond branch or gc.while_loop body traced by gc.function is not "
            "supported; write it after the branch, under gc.summary.record_if(condition) to choose when")


def _traced(tensor):
    """Whether ``tensor`` is computed by the gc.function being traced (no value yet)."""
    return state.tracer is not None and state.tracer.is_traced(tensor)


def _on_host(fn, operands):
    """Call ``fn`` with every operand's value: gc tensors as NumPy arrays, host values as given.

    Eagerly at once; inside gc.function at every call of the function, never while tracing
    (``run_on_host``). Only a mask is kept of the tensors, so a program does not hold its trace's
    arrays alive.
    """
    is_tensor = [isinstance(x, Tensor) for x in operands]
    host = [None if t else x for t, x in zip(is_tensor, operands)]
    tensors = [x for x in operands if isinstance(x, Tensor)]

    def run(*values):
        values = iter(values)
        fn(*(next(values) if t else x for t, x in zip(is_tensor, host)))

    run_on_host(run, *tensors)


def _bool(value):
    return constant(value, dtype=dtypes.bool_)
