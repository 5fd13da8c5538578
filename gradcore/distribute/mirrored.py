"""``MirroredStrategy`` and ``OneDeviceStrategy``: replicas on the devices of this process."""

import contextlib

from gradcore.distribute.strategy import Strategy
from gradcore.engine.convert import device as placed_on
from gradcore.errors import InvalidArgumentError
from gradcore.plugin import discovery as plugins


class MirroredStrategy(Strategy):
    """One replica per device; variables made in ``scope()`` have a copy on each, kept equal.

    ``devices=None`` takes every accelerator the backend sees (every CUDA device on torch,
    every jax device), else the CPU. Several replicas may name the CPU ("/cpu:0", "/cpu:1"):
    they are logical replicas of the host, as TensorFlow's logical CPUs are.
    """

    def __init__(self, devices=None, cross_device_ops=None):
        if devices is None:
            available = plugins.get_backend().devices()
            devices = [d for d in available if d != "cpu"] or ["cpu"]
        devices = list(devices)
        if not devices:
            raise InvalidArgumentError("gc.distribute.MirroredStrategy: devices must name at least one device")
        if len(set(devices)) != len(devices):
            raise InvalidArgumentError(f"gc.distribute.MirroredStrategy: a device is listed twice in {devices}")
        super().__init__(devices)


class OneDeviceStrategy(Strategy):
    """Everything on one device: ``run`` returns plain values, never PerReplica, and variables made in
    ``scope()`` are plain variables on that device."""

    _plain_variables = True

    def __init__(self, device):
        super().__init__([device])

    @contextlib.contextmanager
    def scope(self):
        with super().scope(), placed_on(self._devices[0]):
            yield self
