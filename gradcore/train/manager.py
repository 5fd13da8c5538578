"""``gc.train.CheckpointManager``: numbered saves in one directory, the oldest deleted.

As ``tf.train.CheckpointManager`` (gradcore/conformance/test_checkpoint.py cites each behaviour):
``max_to_keep`` newest checkpoints are kept, older ones deleted unless
``keep_checkpoint_every_n_hours`` preserves one; with a ``step_counter`` and
``checkpoint_interval`` a save comes only every so many steps. The list lives in the
directory's state file (gradcore/train/state_file.py), so a new manager on the same
directory carries on from it (docs/checkpoints.md, "CheckpointManager").
"""

import collections
import os
import time

from gradcore.distribute.multi_worker import is_chief
from gradcore.train.checkpoint import latest_checkpoint
from gradcore.train.state_file import CheckpointState, read_state, write_state


class CheckpointManager:
    """Saves ``checkpoint`` to ``directory/checkpoint_name-N``, keeping the newest ``max_to_keep``."""

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None, init_fn=None):
        if max_to_keep is not None and (isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int)
                                        or max_to_keep <= 0):
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_every_seconds = None if keep_checkpoint_every_n_hours is None else keep_checkpoint_every_n_hours * 3600.0
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._last_checkpoint_step = None
        self._init_fn = init_fn
        self._recover_state()

    def _recover_state(self):
        state = read_state(self._directory)
        now = time.time()
        if state is None:
            self._latest_checkpoint, self._last_preserved_timestamp = None, now
            self._kept = collections.OrderedDict()
            return
        self._latest_checkpoint = state.latest
        self._last_preserved_timestamp = state.last_preserved_timestamp or now
        # The clock went back: start preserving from now.
        self._last_preserved_timestamp = min(self._last_preserved_timestamp, now)
        timestamps = state.timestamps if len(state.timestamps) == len(state.paths) else [now] * len(state.paths)
        self._kept = collections.OrderedDict(zip(state.paths, timestamps))

    # ---- what it holds ----------------------------------------------------------------------

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoint_interval(self):
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self):
        """The newest checkpoint's prefix, or None before the first save."""
        return self._latest_checkpoint

    @property
    def checkpoints(self):
        """The prefixes the manager keeps, oldest first."""
        return list(self._kept)

    # ---- saving ---------------------------------------------------------------------------------

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Save a new checkpoint and return its prefix; None when the step interval says not yet."""
        step = None if self._step_counter is None else int(_value(self._step_counter))
        if (self._checkpoint_interval is not None and check_interval and self._last_checkpoint_step is not None
                and step < self._last_checkpoint_step + self._checkpoint_interval):
            return None
        counter = self._checkpoint.save_counter.assign_add(1)
        number = int(counter.numpy()) if checkpoint_number is None else int(checkpoint_number)
        path = self._checkpoint.write(f"{self._prefix}-{number}")
        self._last_checkpoint_step = step
        self._kept.pop(path, None)
        self._kept[path] = time.time()
        self._latest_checkpoint = path
        self._sweep()
        self._record_state()
        return path

    def _sweep(self):
        """Delete the oldest checkpoints beyond ``max_to_keep``, keeping one every n hours."""
        from gradcore.train.format import remove_checkpoint

        if self._max_to_keep is None:
            return
        while len(self._kept) > self._max_to_keep:
            path, timestamp = self._kept.popitem(last=False)
            if self._keep_every_seconds is not None and (
                    timestamp - self._keep_every_seconds >= self._last_preserved_timestamp):
                self._last_preserved_timestamp = timestamp  # kept on disk, dropped from the list
                continue
            if is_chief():
                remove_checkpoint(path)

    def _record_state(self):
        if not is_chief():
            return
        write_state(self._directory, CheckpointState(
            latest=self._latest_checkpoint, paths=list(self._kept), timestamps=list(self._kept.values()),
            last_preserved_timestamp=self._last_preserved_timestamp))

    # ---- restoring -------------------------------------------------------------------------------

    def restore_or_initialize(self):
        """Restore the newest checkpoint and return its prefix; without one, call ``init_fn`` and return None."""
        latest = latest_checkpoint(self._directory) if self._latest_checkpoint else None
        if latest is not None:
            self._checkpoint.restore(latest)
            return latest
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self):
        """Nothing to wait for: saves are synchronous."""


def _value(counter):
    """A step counter's value: a Variable or tensor is read, a Python int taken as it is."""
    return counter.numpy() if hasattr(counter, "numpy") else counter
