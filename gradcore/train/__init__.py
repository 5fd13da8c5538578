"""``gc.train``: checkpoints of the object graph (docs/checkpoints.md)."""

from gradcore.train.checkpoint import Checkpoint, latest_checkpoint
from gradcore.train.manager import CheckpointManager
from gradcore.train.status import CheckpointLoadStatus, InitializationOnlyStatus

__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "InitializationOnlyStatus", "latest_checkpoint"]
