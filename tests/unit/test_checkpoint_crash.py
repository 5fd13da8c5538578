"""A save killed at any instant leaves the previous checkpoints whole (docs/checkpoint_format.md, "Crash safety").

A driver process (this file run as a script) forks writer processes that save
checkpoints in a loop the way CheckpointManager does: write ckpt-n, delete
ckpt-(n-2), rewrite the state file. The driver kills each writer with SIGKILL,
either at a random instant or just before its k-th file-system call, for every
k. The test then checks every trial's directory against reference files
written here, byte for byte: each file under a final name is exactly what a
finished save writes, the newest committed checkpoint reads back and verifies,
the one before it is still there, and leftover temporary files do not disturb
later reads and are removed by the next save of the same name.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from gradcore.train import format as checkpoint_format

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL (POSIX)"),
    # The files are NumPy arrays whatever the backend: one env runs it (the numpy one), to save CI time.
    pytest.mark.skipif(os.environ.get("GRADCORE_BACKEND", "numpy") != "numpy",
                       reason="backend-independent: the numpy env runs it"),
]

KEEP = 2  # the writer deletes ckpt-(n - KEEP) after saving ckpt-n, as CheckpointManager(max_to_keep=2)
RANDOM_TRIALS = 120
MAX_KILL_DELAY_S = 0.05  # several saves long: kills land in every phase of a save
WRITER_LIFETIME_S = 20  # a writer whose driver is gone stops by itself
DRIVER_TIMEOUT_S = 90


def arrays_for(n):
    """Checkpoint n's arrays: a function of n alone, so a reference copy can be written anywhere."""
    rng = np.random.default_rng(n)
    return {"dense/kernel": rng.standard_normal((64, 256), dtype=np.float32),
            "dense/bias": rng.standard_normal(256, dtype=np.float32),
            "embedding": rng.standard_normal((32, 64)).astype(ml_dtypes.bfloat16),
            "step": np.array(n, np.int64)}


def metadata_for(n):
    return {"backend": "numpy", "step": n}


def state_text(n):
    return f'model_checkpoint_path: "ckpt-{n}"\n'


def save(directory, n, arrays=None):
    """One step of the writer's loop: save ckpt-n, drop ckpt-(n-KEEP), record the state file."""
    checkpoint_format.write_checkpoint(os.path.join(directory, f"ckpt-{n}"), arrays or arrays_for(n),
                                       metadata_for(n))
    if n > KEEP:
        checkpoint_format.remove_checkpoint(os.path.join(directory, f"ckpt-{n - KEEP}"))
    checkpoint_format.atomic_write_text(os.path.join(directory, "checkpoint"), state_text(n))


# ---- the driver (runs in its own process) --------------------------------------------------


def run_writer(directory, ready_fd):
    """The forked writer: save forever, telling the driver once ckpt-1 is complete."""
    deadline = time.monotonic() + WRITER_LIFETIME_S
    n = 1
    while time.monotonic() < deadline:
        save(directory, n)
        if n == 1:
            os.write(ready_fd, b"1")
        n += 1


def fork(child, *args):
    """Run ``child(*args)`` in a forked process that can never return into the driver's code."""
    pid = os.fork()
    if pid == 0:
        try:
            child(*args)
            os._exit(0)
        except BaseException:  # noqa: BLE001 - whatever it is, the child must end here, saying why
            traceback.print_exc()
            os._exit(3)
    return pid


def killed_by_sigkill(pid):
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


def drive_random(root, trials, seed):
    """Kill a looping writer at a random instant after its first save, ``trials`` times."""
    rng = random.Random(seed)
    for trial in range(trials):
        directory = os.path.join(root, f"random-{trial}")
        os.mkdir(directory)
        read_fd, write_fd = os.pipe()
        pid = fork(run_writer, directory, write_fd)
        os.close(write_fd)
        started = os.read(read_fd, 1)
        os.close(read_fd)
        if started:
            time.sleep(rng.uniform(0, MAX_KILL_DELAY_S))
        os.kill(pid, signal.SIGKILL)
        killed, status = killed_by_sigkill(pid)
        if not (started and killed):
            sys.exit(f"writer of {directory} ended on its own (status {status}) before it was killed")


FILE_SYSTEM_CALLS = ("open", "fsync", "replace", "unlink", "write")


def die_at_call(k):
    """Make this process SIGKILL itself just before its k-th file-system call (or safetensors write)."""
    import safetensors

    count = [0]

    def counted(function):
        def call(*args, **kwargs):
            count[0] += 1
            if count[0] == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return function(*args, **kwargs)
        return call

    for name in FILE_SYSTEM_CALLS:
        setattr(os, name, counted(getattr(os, name)))
    safetensors.serialize_file = counted(safetensors.serialize_file)


def save_then_die(directory, k, overwrite):
    """Save ckpt-1 and ckpt-2, then die before call k of the next save (new arrays over ckpt-2 with ``overwrite``)."""
    save(directory, 1)
    save(directory, 2)
    die_at_call(k)
    if overwrite:
        checkpoint_format.write_checkpoint(os.path.join(directory, "ckpt-2"), arrays_for(102), metadata_for(2))
    else:
        save(directory, 3)


def drive_steps(root, overwrite):
    """Run save_then_die for k = 1, 2, ... until a save needs fewer than k calls; return how many it needs."""
    for k in range(1, 1000):
        directory = os.path.join(root, f"{'overwrite' if overwrite else 'steps'}-{k}")
        os.mkdir(directory)
        killed, status = killed_by_sigkill(fork(save_then_die, directory, k, overwrite))
        if not killed:
            if status != 0:
                sys.exit(f"writer of {directory} failed with status {status}")
            return k - 1  # every call of the save has been interrupted once
    sys.exit("a save made more than 1000 file-system calls")


def main(root, seed):
    drive_random(root, RANDOM_TRIALS, seed)
    counts = {"steps": drive_steps(root, overwrite=False), "overwrite": drive_steps(root, overwrite=True)}
    print(json.dumps(counts))


# ---- the checks (in the test process) ------------------------------------------------------


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """(root of the trials' directories, calls per save) after the driver has run every trial."""
    root = tmp_path_factory.mktemp("crashes")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    seed = random.randrange(2**32)
    done = subprocess.run([sys.executable, __file__, str(root), str(seed)], capture_output=True, text=True,
                          timeout=DRIVER_TIMEOUT_S, env=env, check=False)
    assert done.returncode == 0, f"driver failed (seed {seed}):\n{done.stdout}\n{done.stderr}"
    return root, json.loads(done.stdout.splitlines()[-1])


class References:
    """The files a finished save of checkpoint n (or of `arrays_for(variant)` as ckpt-n) leaves, by name."""

    def __init__(self, directory):
        self.directory = directory
        self.cache = {}

    def files(self, n, variant=None):
        key = (n, variant or n)
        if key not in self.cache:
            folder = self.directory / f"{n}-{variant or n}"
            folder.mkdir()
            prefix = folder / f"ckpt-{n}"
            checkpoint_format.write_checkpoint(prefix, arrays_for(variant or n), metadata_for(n))
            paths = [Path(checkpoint_format.index_path(prefix)), Path(checkpoint_format.data_path(prefix))]
            self.cache[key] = {path.name: path.read_bytes() for path in paths}
        return self.cache[key]


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    return References(tmp_path_factory.mktemp("references"))


def checkpoint_number(name):
    return int(name.removeprefix("ckpt-").split(".")[0])


def final_names(directory):
    return sorted(name for name in os.listdir(directory) if not name.startswith("."))


def committed(directory):
    return sorted(checkpoint_number(name) for name in final_names(directory) if name.endswith(".index"))


def assert_restorable(directory, n, variant=None):
    arrays, metadata = checkpoint_format.read_checkpoint(directory / f"ckpt-{n}")
    expected = arrays_for(variant or n)
    assert arrays.keys() == expected.keys() and metadata == metadata_for(n)
    for key, array in expected.items():
        assert arrays[key].dtype == array.dtype and arrays[key].tobytes() == array.tobytes(), key


def assert_consistent_after_kill(directory, references):
    """What a kill may leave: finished files only, the newest checkpoint whole, the previous one there."""
    numbers = committed(directory)
    assert numbers, f"{directory}: ckpt-1 was complete before the kill, and no checkpoint is left"
    newest = numbers[-1]
    for name in final_names(directory):
        if name == "checkpoint":
            text = (directory / name).read_text()
            assert text in (state_text(newest), state_text(newest - 1)), f"{directory}: state file {text!r}"
            continue
        expected = references.files(checkpoint_number(name))[name]
        assert (directory / name).read_bytes() == expected, f"{directory}/{name} is not what its save wrote"
    assert_restorable(directory, newest)
    if newest > 1:
        assert newest - 1 in numbers, f"{directory}: ckpt-{newest - 1} is gone"
        assert_restorable(directory, newest - 1)
    return newest


def temporaries(directory, start="."):
    return [name for name in os.listdir(directory) if name.startswith(start)]


def assert_the_next_saves_clean_up(directory, newest):
    """A restarted writer saves over whatever the killed one left; removing a checkpoint removes the rest.

    Returns the temporary folders the kill had left.
    """
    leftovers = temporaries(directory)
    save(directory, newest + 1)
    assert temporaries(directory, f".ckpt-{newest + 1}.") == temporaries(directory, ".checkpoint.") == []
    assert_restorable(directory, newest + 1)
    for n in {checkpoint_number(name) for name in final_names(directory) if name.startswith("ckpt-")}:
        checkpoint_format.remove_checkpoint(directory / f"ckpt-{n}")
    assert os.listdir(directory) == ["checkpoint"]
    return leftovers


def test_a_save_killed_at_a_random_instant_leaves_the_previous_checkpoints_whole(crashed, references):
    root, _ = crashed
    trials = sorted(root.glob("random-*"))
    assert len(trials) == RANDOM_TRIALS >= 100
    with_leftovers = 0
    for directory in trials:
        newest = assert_consistent_after_kill(directory, references)
        with_leftovers += bool(assert_the_next_saves_clean_up(directory, newest))
    # The kills really landed inside saves: some left a temporary file behind.
    assert with_leftovers > 0


def test_a_save_killed_before_any_of_its_file_system_calls_leaves_the_previous_checkpoints_whole(
        crashed, references):
    root, calls = crashed
    trials = sorted(root.glob("steps-*"), key=lambda p: int(p.name.split("-")[1]))
    assert calls["steps"] >= 8 and len(trials) == calls["steps"] + 1  # the last one ran to the end
    newest_seen = set()
    for directory in trials[:-1]:
        newest = assert_consistent_after_kill(directory, references)
        newest_seen.add(newest)
        assert newest in (2, 3)
        assert_the_next_saves_clean_up(directory, newest)
    assert newest_seen == {2, 3}  # killed before the commit and after it


def test_an_overwrite_killed_anywhere_leaves_the_old_or_the_new_checkpoint_or_none_never_a_mix(
        crashed, references):
    root, calls = crashed
    trials = sorted(root.glob("overwrite-*"), key=lambda p: int(p.name.split("-")[1]))
    assert len(trials) == calls["overwrite"] + 1
    outcomes = set()
    for directory in trials[:-1]:
        assert_restorable(directory, 1)
        assert (directory / "ckpt-1.index").read_bytes() == references.files(1)["ckpt-1.index"]
        names = {name for name in final_names(directory) if name.startswith("ckpt-2.")}
        old, new = references.files(2), references.files(2, variant=102)
        contents = {name: (directory / name).read_bytes() for name in names}
        assert all(contents[name] in (old[name], new[name]) for name in names)
        if "ckpt-2.index" in names:
            outcome = "old" if contents["ckpt-2.index"] == old["ckpt-2.index"] else "new"
            assert_restorable(directory, 2, variant=2 if outcome == "old" else 102)
        else:
            outcome = "none"
        outcomes.add(outcome)
    # Killed before the old index is removed, before the new one is in place, or while its rename is flushed.
    assert outcomes == {"old", "none", "new"}


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
