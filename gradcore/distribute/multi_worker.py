"""``MultiWorkerMirroredStrategy``: one replica per worker process, collectives over torch.distributed.

The workers join from torchrun's environment or from TF_CONFIG (workers.py); a
process started alone has one worker, itself, as TensorFlow's strategy without
TF_CONFIG has. Its replica runs on the worker's device: its CUDA device under
torch with CUDA, else the CPU.
"""

import sys

from gradcore.distribute.strategy import Strategy


def is_chief():
    """Whether this process writes the files of its job (checkpoints, the state file): worker 0 of the
    group it joined, or a process on its own (TensorFlow's chief; docs/distribute.md, "Checkpoints")."""
    workers = sys.modules.get("gradcore.distribute.workers")  # imported once a multi-worker strategy is made
    group = None if workers is None else workers._joined
    return group is None or group.closed or group.rank == 0


class CollectiveAllReduceStrategy(Strategy):
    """TensorFlow's class name for ``MultiWorkerMirroredStrategy``."""

    def __init__(self, cluster_resolver=None, communication_options=None):
        from gradcore.distribute import workers  # imported here: it needs torch, only when a strategy is made

        group = workers.join()
        super().__init__([group.device if group is not None else "cpu"], group)


MultiWorkerMirroredStrategy = CollectiveAllReduceStrategy
