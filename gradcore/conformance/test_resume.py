"""Exact resume: a run killed after a checkpoint and resumed from it gives the uninterrupted run's
losses and weights bit for bit (docs/checkpoints.md, "Exact resume"): the weights, the optimizer's
slots and step count, the metric, the global random generator (Dropout's masks) and the dataset's
position all come back. Each run is a fresh process (resume_program.py), killed with SIGKILL.
"""

import os
import signal
import subprocess
import sys

import pytest

PROGRAM = os.path.join(os.path.dirname(__file__), "resume_program.py")
STEPS, KILL_AFTER = 9, 4


def run(directory, *arguments, expect_kill=False):
    result = subprocess.run([sys.executable, PROGRAM, str(directory), str(STEPS), *arguments],
                            capture_output=True, text=True, timeout=240, env=os.environ.copy(), check=False)
    if expect_kill:
        assert result.returncode == -signal.SIGKILL, result.stderr
    else:
        assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("mode", ["eager", "gc.function"])
def test_a_killed_and_resumed_run_equals_an_uninterrupted_one_bit_for_bit(tmp_path, mode):
    flags = ["--function"] if mode == "gc.function" else []
    uninterrupted = run(tmp_path / "whole", *flags)
    before = run(tmp_path / "crashed", *flags, "--kill-after", str(KILL_AFTER), expect_kill=True)
    after = run(tmp_path / "crashed", *flags)
    assert len(uninterrupted) == STEPS + 1 and uninterrupted[-1].startswith("weights ")
    assert before == uninterrupted[:KILL_AFTER]
    assert after == uninterrupted[KILL_AFTER:]
