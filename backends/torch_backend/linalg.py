"""Linear algebra kernels: the batched matrix product."""

import torch


class LinalgKernels:
    """``torch.matmul``; float32 stays float32 on GPUs because CoreKernels switches TF32 off."""

    matmul = staticmethod(torch.matmul)
