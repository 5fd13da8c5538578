"""gradcore's ops. Importing this package registers every op's gradient rule."""

from gradcore.ops import (  # noqa: F401 - imported for their registrations
    array_ops,
    clip_ops,
    conv_ops,
    creation_ops,
    indexing_ops,
    linalg_ops,
    math_ops,
    nn_ops,
    operators,  # noqa: F401 - attaches Python operators to Tensor and Variable
    random_ops,
    reduction_ops,
)
