"""The PyTorch backend: kernels on ``torch.Tensor``, on the CPU and every CUDA device torch sees."""

from gradcore.backends.torch_backend.backend import TorchBackend

__all__ = ["TorchBackend"]
