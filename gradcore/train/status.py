"""What ``Checkpoint.restore`` returns: how well the checkpoint and the Python program matched.

The assertions and their messages are TensorFlow's (gradcore/conformance/test_checkpoint.py cites
each behaviour): ``assert_consumed`` wants every saved value used and every Python object
matched; ``assert_existing_objects_matched`` only the objects that exist now; and
``assert_nontrivial_match`` anything besides the save counter. Each returns the status.
"""

import logging

from gradcore.train.graph import saveables
from gradcore.train.restoring import identity_of

logger = logging.getLogger("gradcore")

_SHOWN = 10  # unmatched objects a message lists, as TensorFlow


class CheckpointLoadStatus:
    """The status of a restore from a checkpoint (values may still wait for their objects)."""

    def __init__(self, root, restoration, ignored=()):
        self._root = root
        self._restoration = restoration
        self._ignored = set(ignored)  # keys a read need not match (a save counter it did not create)
        self._partial_expected = False

    def _unmatched_objects(self):
        bound = self._restoration.bound
        return [target if not isinstance(target, tuple) else f"{type(target[0]).__name__} state {target[1]!r}"
                for key, target in saveables(self._root).items()
                if key not in self._ignored and identity_of(target) not in bound]

    def assert_existing_objects_matched(self):
        unmatched = self._unmatched_objects()
        if unmatched:
            raise AssertionError(
                f"Found {len(unmatched)} Python objects that were not bound to checkpointed values, likely due "
                f"to changes in the Python program. Showing {min(_SHOWN, len(unmatched))} of {len(unmatched)} "
                f"unmatched objects: {unmatched[:_SHOWN]}"
            )
        return self

    def assert_consumed(self):
        self.assert_existing_objects_matched()
        unresolved = sorted(self._restoration.unresolved)
        if unresolved:
            raise AssertionError(
                f"Unresolved object in checkpoint {self._restoration.file_prefix}: values with no Python object "
                f"to restore into: {unresolved[:_SHOWN]}{' ...' if len(unresolved) > _SHOWN else ''}"
            )
        return self

    def assert_nontrivial_match(self):
        if not self._restoration.bound - {identity_of(t) for k, t in saveables(self._root).items() if k in _TRIVIAL}:
            raise AssertionError(
                "Nothing except the root object matched a checkpointed value. Typically this means that the "
                f"checkpoint does not match the Python program. The following objects have no matching "
                f"checkpointed value: {self._unmatched_objects()[:_SHOWN]}"
            )
        return self

    def expect_partial(self):
        """Silence the warning about values left unused when the status is dropped."""
        self._partial_expected = True
        return self

    def run_restore_ops(self, session=None):
        """Nothing to run: values were restored eagerly (TensorFlow's graph-mode API)."""

    def initialize_or_restore(self, session=None):
        """Nothing to run: values were restored eagerly (TensorFlow's graph-mode API)."""

    def __del__(self):
        restoration = getattr(self, "_restoration", None)
        if restoration is not None and restoration.unresolved and not self._partial_expected:
            logger.warning(
                "gc.train.Checkpoint: %d values in %s were never restored into a Python object (%s ...). "
                "Call expect_partial() on the status to silence this when a partial restore is intended.",
                len(restoration.unresolved), restoration.file_prefix, sorted(restoration.unresolved)[:3])


#: Keys that do not count as a match of the Python program.
_TRIVIAL = {"save_counter"}


class InitializationOnlyStatus:
    """What ``restore(None)`` returns: nothing is restored, so every assertion fails (as TensorFlow)."""

    _MESSAGE = "No checkpoint specified (save_path=None); nothing is being restored."

    def assert_consumed(self):
        raise AssertionError(self._MESSAGE)

    assert_existing_objects_matched = assert_nontrivial_match = assert_consumed

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        raise AssertionError(
            "No checkpoint specified, so no restore ops are available (save_path=None to Saver.restore).")

    def initialize_or_restore(self, session=None):
        """Nothing to do: gradcore variables are initialized when created."""
