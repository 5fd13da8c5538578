"""The ``checkpoint`` file of a directory: which checkpoints it holds, newest last.

TensorFlow's text format, human-readable and read back by a new manager on the same
directory (docs/checkpoints.md, "The state file")::

    model_checkpoint_path: "ckpt-4"
    all_model_checkpoint_paths: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-4"
    all_model_checkpoint_timestamps: 1764612345.25
    all_model_checkpoint_timestamps: 1764612399.5
    last_preserved_timestamp: 1764612001.0

Paths inside the directory are written relative to it. The file is replaced atomically, so
a reader sees the old list or the new one, never a mixture.
"""

import json
import os
from dataclasses import dataclass, field

from gradcore.errors import DataLossError

STATE_FILE = "checkpoint"


@dataclass
class CheckpointState:
    latest: str | None = None  # the newest checkpoint's prefix
    paths: list = field(default_factory=list)  # every kept checkpoint's prefix, oldest first
    timestamps: list = field(default_factory=list)  # when each of ``paths`` was saved
    last_preserved_timestamp: float | None = None  # the newest kept by keep_checkpoint_every_n_hours


def state_path(directory, filename=None):
    return os.path.join(os.fspath(directory), filename or STATE_FILE)


def read_state(directory, filename=None):
    """The directory's state, or None when it has no state file; paths come back absolute."""
    path = state_path(directory, filename)
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except FileNotFoundError:
        return None
    state = CheckpointState()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        key, _, value = line.partition(":")
        try:
            value = json.loads(value.strip())
        except ValueError:
            raise DataLossError(f"gc.train: line {number} of the checkpoint state file {path} is not "
                                f"'key: value' ({line!r}); delete the file to start the list afresh") from None
        _set(state, key.strip(), value, directory)
    return state


def _set(state, key, value, directory):
    if key == "model_checkpoint_path":
        state.latest = os.path.join(os.fspath(directory), value)
    elif key == "all_model_checkpoint_paths":
        state.paths.append(os.path.join(os.fspath(directory), value))
    elif key == "all_model_checkpoint_timestamps":
        state.timestamps.append(float(value))
    elif key == "last_preserved_timestamp":
        state.last_preserved_timestamp = float(value)


def write_state(directory, state, filename=None):
    """Replace the directory's state file atomically (gradcore/train/format.py)."""
    from gradcore.train.format import atomic_write_text

    lines = []
    if state.latest is not None:
        lines.append(f"model_checkpoint_path: {json.dumps(_relative(state.latest, directory))}")
    lines += [f"all_model_checkpoint_paths: {json.dumps(_relative(p, directory))}" for p in state.paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in state.timestamps]
    if state.last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {state.last_preserved_timestamp!r}")
    atomic_write_text(state_path(directory, filename), "\n".join(lines) + "\n")


def _relative(path, directory):
    """``path`` relative to ``directory`` when it lies inside it, else as given."""
    path, directory = os.path.abspath(path), os.path.abspath(directory)
    return os.path.relpath(path, directory) if os.path.dirname(path) == directory else path
