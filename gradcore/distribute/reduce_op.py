"""``gc.distribute.ReduceOp``: how values of the replicas combine."""

import enum


class ReduceOp(enum.Enum):
    """SUM or MEAN; strings name them too, in any case (``"sum"``, ``"MEAN"``), as in TensorFlow."""

    SUM = "SUM"
    MEAN = "MEAN"

    @classmethod
    def parse(cls, value):
        """``value`` as a ReduceOp: a member, or its name in any case; else TensorFlow's ValueError."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise ValueError(f"{value!r} is not a valid ReduceOp; use gc.distribute.ReduceOp.SUM or MEAN "
                         "(or the strings 'SUM', 'MEAN')")
