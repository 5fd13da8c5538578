"""``gc.train.Checkpoint``: save and restore an object graph, as ``tf.train.Checkpoint``.

The checkpoint's children are the objects it is given (``Checkpoint(model=m, optimizer=o)``)
and a ``save_counter`` made on first use. ``write`` saves every value reachable from them
(gradcore/train/graph.py) to ``prefix.index`` and ``prefix.data-00000-of-00001``
(gradcore/train/format.py: safetensors, no pickle, crash-safe); ``save`` numbers the prefix
and records it in the directory's state file. ``restore`` and ``read`` put the values back,
now or when their objects are created (gradcore/train/restoring.py); see docs/checkpoints.md.
"""

import os

from gradcore.distribute.multi_worker import is_chief
from gradcore.engine import dtypes
from gradcore.engine.module import is_trackable
from gradcore.engine.recording import state as recording_state
from gradcore.engine.variables import Variable
from gradcore.train.graph import children_of, saveables
from gradcore.train.restoring import Restoration
from gradcore.train.state_file import CheckpointState, read_state, write_state
from gradcore.train.status import CheckpointLoadStatus, InitializationOnlyStatus

_SAVE_IN_FUNCTION = (
    "Calling gc.train.Checkpoint.save() from a function is not supported, as save() modifies saving "
    "metadata that a gc.function program cannot update. Consider using gc.train.Checkpoint.write(), a "
    "lower-level API which does not update metadata. gc.train.latest_checkpoint and related APIs will not "
    "see this checkpoint."
)  # TensorFlow's message, with gradcore's names


class Checkpoint:
    """Groups trackable objects (models, optimizers, metrics, variables ...) for saving and restoring."""

    def __init__(self, root=None, **kwargs):
        for name, value in kwargs.items():
            if not is_trackable(value) and not isinstance(value, (list, dict, tuple)):
                raise ValueError(
                    f"`Checkpoint` was expecting {name} to be a trackable object (an object derived from "
                    f"`Trackable`), got {value!r}. If you believe this object should be trackable (i.e. it is "
                    f"part of the gradcore Python API and manages state), please open an issue."
                )
            if root is not None and hasattr(root, name):
                raise ValueError(
                    f"Cannot create a Checkpoint with keyword argument {name} if root.{name} already exists.")
        self._root = root
        self._children = dict(kwargs)
        self._save_counter = None

    def _trackable_children(self):
        children = {} if self._root is None else dict(children_of(self._root))
        children.update(self._children)
        if self._save_counter is not None:
            children["save_counter"] = self._save_counter
        return children

    @property
    def save_counter(self):
        """How many times ``save`` ran: an int64 Variable, made on first use (as TensorFlow)."""
        if self._save_counter is None:
            self._save_counter = Variable(0, trainable=False, name="save_counter", dtype=dtypes.int64)
        return self._save_counter

    # ---- saving ---------------------------------------------------------------------------

    def write(self, file_prefix):
        """Write the checkpoint to exactly ``file_prefix`` (no numbering, no state file); return it.

        Inside gc.function it writes at every call of the function, with that call's values.
        """
        file_prefix = os.fspath(file_prefix)
        values = saveables(self)
        if recording_state.tracer is not None:
            return self._write_at_every_call(file_prefix, values)
        _write(file_prefix, {key: _value_of(target) for key, target in values.items()}, _backend_name(values))
        return file_prefix

    def _write_at_every_call(self, file_prefix, values):
        from gradcore.ops.kernels import run_on_host

        variables = {key: target for key, target in values.items() if isinstance(target, Variable)}
        others = {key: _value_of(target) for key, target in values.items() if key not in variables}
        backend = _backend_name(values)

        def write_now(*arrays):
            _write(file_prefix, {**others, **dict(zip(variables, arrays))}, backend)

        run_on_host(write_now, *(v.read_value() for v in variables.values()))
        return file_prefix

    def save(self, file_prefix):
        """Write to ``file_prefix-N`` (N the new ``save_counter``) and make it the directory's latest."""
        if recording_state.tracer is not None:
            raise NotImplementedError(_SAVE_IN_FUNCTION)
        number = int(self.save_counter.assign_add(1).numpy())
        path = self.write(f"{os.fspath(file_prefix)}-{number}")
        directory = os.path.dirname(os.path.abspath(path))
        if is_chief():
            write_state(directory, CheckpointState(latest=path, paths=[path]))
        return path

    # ---- restoring -------------------------------------------------------------------------

    def restore(self, save_path):
        """Restore from ``save_path`` (a prefix from ``save``/``write``); the save counter is made
        first, so it is restored too. ``None`` restores nothing (an ``InitializationOnlyStatus``)."""
        if save_path is None:
            return InitializationOnlyStatus()
        self.save_counter  # noqa: B018 - made now, as TensorFlow, so it is restored and counts as an object
        return self._restore(save_path)

    def read(self, save_path):
        """Restore from ``save_path`` without making the save counter (for checkpoints from ``write``)."""
        return self._restore(save_path)

    def _restore(self, save_path):
        from gradcore.train.format import read_checkpoint

        save_path = os.fspath(save_path)
        values, _ = read_checkpoint(save_path)
        restoration = Restoration(values, save_path)
        restoration.restore(self)
        return CheckpointLoadStatus(self, restoration)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest complete checkpoint recorded in ``checkpoint_dir``, or None."""
    from gradcore.train.format import checkpoint_exists

    state = read_state(checkpoint_dir, latest_filename)
    if state is None or state.latest is None or not checkpoint_exists(state.latest):
        return None
    return state.latest


def _value_of(target):
    if isinstance(target, Variable):
        return target.numpy()
    obj, name = target
    return obj._trackable_state()[name]


def _backend_name(values):
    for target in values.values():
        if isinstance(target, Variable):
            return target.backend.name
    return None


def _write(file_prefix, arrays, backend):
    from gradcore.train.format import write_checkpoint

    if is_chief():  # every worker reads the values (a sync-on-read read is a collective); one writes
        write_checkpoint(file_prefix, arrays, {"backend": backend})
