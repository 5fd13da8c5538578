"""Kernels on ``torch.Tensor``. Each method is one torch call or close to it.

TF32 is switched off when this backend loads, so float32 matmuls on Ampere and
later GPUs give float32 results, as on every other backend.
"""

import numpy as np
import torch
import torch.nn.functional as F
from gradcore.backends.torch_backend.indexing import positive_step_key

from gradcore.engine import dtypes
from gradcore.plugin.contract import Backend

_TO_TORCH = {
    dtypes.float16: torch.float16,
    dtypes.bfloat16: torch.bfloat16,
    dtypes.float32: torch.float32,
    dtypes.float64: torch.float64,
    dtypes.int8: torch.int8,
    dtypes.int16: torch.int16,
    dtypes.int32: torch.int32,
    dtypes.int64: torch.int64,
    dtypes.uint8: torch.uint8,
    dtypes.bool_: torch.bool,
}
_FROM_TORCH = {v: k for k, v in _TO_TORCH.items()}


def _all_axes(x, axis):
    # torch reads dim=None or an empty tuple as "every axis"; the core means None = all, () = none.
    return tuple(range(x.ndim)) if axis is None else axis


class TorchBackend(Backend):
    name = "torch"

    def __init__(self):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def devices(self):
        return ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]

    def version(self):
        return torch.__version__

    # ---- conversion and creation ---------------------------------------------------

    def asarray(self, value, dtype, device=None):
        target = _TO_TORCH[dtype]
        if type(value) in (float, int, bool):  # the common case of a scalar operand: skip NumPy
            return torch.full((), value, dtype=target, device=device or "cpu")
        if isinstance(value, torch.Tensor):
            return value.to(device=device or value.device, dtype=target)
        array = np.asarray(value)
        if array.dtype.kind == "V" or array.dtype.name == "bfloat16":  # ml_dtypes: go through float32
            array = array.astype(np.float32)
        if array.dtype.kind in "fiub" and array.dtype.byteorder not in "=|":
            array = array.astype(array.dtype.newbyteorder("="))
        return torch.as_tensor(array, device=device or "cpu").to(target)

    def to_numpy(self, x):
        x = x.detach().cpu()
        if x.dtype is torch.bfloat16:
            return x.float().numpy().astype(dtypes.bfloat16.as_numpy_dtype)
        return x.numpy()

    def dtype_of(self, x):
        return _FROM_TORCH[x.dtype]

    def device_of(self, x):
        return "cpu" if x.device.type == "cpu" else f"{x.device.type}:{x.device.index or 0}"

    def full(self, shape, value, dtype, device=None):
        return torch.full(tuple(shape), value, dtype=_TO_TORCH[dtype], device=device or "cpu")

    def arange(self, start, limit, delta, dtype, device=None):
        return torch.arange(start, limit, delta, dtype=_TO_TORCH[dtype], device=device or "cpu")

    def eye(self, num_rows, num_columns, dtype, device=None):
        return torch.eye(num_rows, num_columns, dtype=_TO_TORCH[dtype], device=device or "cpu")

    def cast(self, x, dtype):
        return x.to(_TO_TORCH[dtype])

    # ---- elementwise ------------------------------------------------------------------

    negative = staticmethod(torch.neg)
    abs = staticmethod(torch.abs)
    sign = staticmethod(torch.sign)
    sqrt = staticmethod(torch.sqrt)
    exp = staticmethod(torch.exp)
    log = staticmethod(torch.log)
    log1p = staticmethod(torch.log1p)
    expm1 = staticmethod(torch.expm1)
    sin = staticmethod(torch.sin)
    cos = staticmethod(torch.cos)
    tan = staticmethod(torch.tan)
    tanh = staticmethod(torch.tanh)
    erf = staticmethod(torch.special.erf)
    floor = staticmethod(torch.floor)
    ceil = staticmethod(torch.ceil)
    logical_not = staticmethod(torch.logical_not)
    isfinite = staticmethod(torch.isfinite)
    isnan = staticmethod(torch.isnan)
    square = staticmethod(torch.square)
    rsqrt = staticmethod(torch.rsqrt)
    reciprocal = staticmethod(torch.reciprocal)
    sigmoid = staticmethod(torch.sigmoid)
    relu = staticmethod(torch.relu)

    def round(self, x):
        return torch.round(x) if x.is_floating_point() else x

    def softplus(self, x):
        # F.softplus returns x itself above its threshold (20), off by log1p(e^-20) ~ 2e-9,
        # which float64 tolerances see; the stable exact form costs little more.
        return torch.clamp_min(x, 0) + torch.log1p(torch.exp(-torch.abs(x)))

    add = staticmethod(torch.add)
    subtract = staticmethod(torch.sub)
    multiply = staticmethod(torch.mul)
    divide = staticmethod(torch.div)
    floor_mod = staticmethod(torch.remainder)
    power = staticmethod(torch.pow)
    maximum = staticmethod(torch.maximum)
    minimum = staticmethod(torch.minimum)
    equal = staticmethod(torch.eq)
    not_equal = staticmethod(torch.ne)
    less = staticmethod(torch.lt)
    less_equal = staticmethod(torch.le)
    greater = staticmethod(torch.gt)
    greater_equal = staticmethod(torch.ge)
    logical_and = staticmethod(torch.logical_and)
    logical_or = staticmethod(torch.logical_or)
    where = staticmethod(torch.where)

    def floor_divide(self, x, y):
        return torch.div(x, y, rounding_mode="floor")

    # torch's own fused backward kernels: one launch instead of three.
    def tanh_grad(self, y, dy):
        return torch.ops.aten.tanh_backward(dy, y)

    def sigmoid_grad(self, y, dy):
        return torch.ops.aten.sigmoid_backward(dy, y)

    def relu_grad(self, x, dy):
        return torch.ops.aten.threshold_backward(dy, x, 0)  # one fused kernel, as torch's own ReLU

    # ---- reductions --------------------------------------------------------------------

    def reduce_sum(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.sum(x, dim=_all_axes(x, axis), keepdim=keepdims, dtype=x.dtype)

    def reduce_mean(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.mean(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def reduce_max(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.amax(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def reduce_min(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.amin(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def reduce_prod(self, x, axis, keepdims):
        # torch.prod takes one dim at a time; reduce the highest axes first so indices stay valid.
        for a in sorted(_all_axes(x, axis), reverse=True):
            x = torch.prod(x, dim=a, keepdim=keepdims, dtype=x.dtype)
        return x

    def reduce_logsumexp(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.logsumexp(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def argmax(self, x, axis):
        return torch.argmax(x, dim=axis)

    def argmin(self, x, axis):
        return torch.argmin(x, dim=axis)

    def softmax(self, x, axis):
        return torch.softmax(x, dim=axis)

    def log_softmax(self, x, axis):
        return torch.log_softmax(x, dim=axis)

    # ---- shapes and indexing -----------------------------------------------------------

    def reshape(self, x, shape):
        return torch.reshape(x, tuple(shape))

    def transpose(self, x, perm):
        return x.permute(*perm)

    def broadcast_to(self, x, shape):
        return torch.broadcast_to(x, tuple(shape))

    def concat(self, xs, axis):
        return torch.cat(list(xs), dim=axis)

    def stack(self, xs, axis):
        return torch.stack(list(xs), dim=axis)

    def tile(self, x, multiples):
        return torch.tile(x, tuple(multiples))

    def pad(self, x, paddings, constant_value):
        flat = [p for before_after in reversed(paddings) for p in before_after]
        return F.pad(x, flat, mode="constant", value=constant_value)

    def slice(self, x, key):
        flips, key = positive_step_key(key, tuple(x.shape))
        return (torch.flip(x, flips) if flips else x)[key]

    def slice_into_zeros(self, update, shape, key):
        flips, key = positive_step_key(key, tuple(shape))
        out = torch.zeros(tuple(shape), dtype=update.dtype, device=update.device)
        out[key] = update  # out is zeros, so writing into its flipped layout needs no flip first
        return torch.flip(out, flips) if flips else out

    def gather(self, params, indices, axis):
        flat = torch.index_select(params, axis, indices.reshape(-1).to(torch.int64))
        shape = tuple(params.shape[:axis]) + tuple(indices.shape) + tuple(params.shape[axis + 1:])
        return flat.reshape(shape)

    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        rest = tuple(data.shape[segment_ids.ndim:])
        out = torch.zeros((num_segments,) + rest, dtype=data.dtype, device=data.device)
        return out.index_add_(0, segment_ids.reshape(-1).to(torch.int64), data.reshape((-1,) + rest))

    # ---- linear algebra -----------------------------------------------------------------

    matmul = staticmethod(torch.matmul)

    # ---- convolution and pooling --------------------------------------------------------
    # x.permute(0, 3, 1, 2) of an NHWC tensor is an NCHW tensor in channels_last memory, which
    # torch's kernels take as it is. torch pads both sides alike: the part of TF's SAME padding
    # that only the bottom/right gets is added with F.pad around the call and cut off after.

    def conv2d(self, x, filters, strides, dilations, padding):
        inner, outer = _split_padding(padding)
        y = F.conv2d(_padded(_nchw(x), outer), _oihw(filters), stride=strides, padding=inner, dilation=dilations)
        return _nhwc(y)

    def conv2d_backprop_input(self, filters, dy, input_shape, strides, dilations, padding):
        inner, outer = _split_padding(padding)
        n, h, w, c = input_shape
        shape = (n, c, h + outer[2] + outer[3], w + outer[0] + outer[1])
        dx = torch.nn.grad.conv2d_input(shape, _oihw(filters), _nchw(dy), strides, inner, dilations)
        return _nhwc(_crop(dx, outer))

    def conv2d_backprop_filter(self, x, dy, filter_shape, strides, dilations, padding):
        inner, outer = _split_padding(padding)
        kh, kw, c, o = filter_shape
        x = _padded(_nchw(x), outer)
        dw = torch.nn.grad.conv2d_weight(x, (o, c, kh, kw), _nchw(dy), strides, inner, dilations)
        return dw.permute(2, 3, 1, 0)

    def max_pool2d(self, x, ksize, strides, padding):
        return _nhwc(_max_pool(x, ksize, strides, padding)[1])

    def max_pool2d_grad(self, x, dy, ksize, strides, padding):
        x, _, indices = _max_pool(x, ksize, strides, padding)
        inner, outer = _split_padding(padding)
        dx = torch.ops.aten.max_pool2d_with_indices_backward(
            _nchw(dy), x, ksize, strides, inner, (1, 1), False, indices
        )
        return _nhwc(_crop(dx, outer))

    def max_pool2d_grad_grad(self, x, g, ksize, strides, padding):
        _, y, indices = _max_pool(x, ksize, strides, padding)
        g = _padded(_nchw(g), _split_padding(padding)[1])  # the indices count positions in the padded plane
        n, c = indices.shape[:2]
        return _nhwc(g.reshape(n, c, -1).gather(2, indices.reshape(n, c, -1)).reshape(y.shape))

    def avg_pool2d(self, x, ksize, strides, padding):
        total = F.avg_pool2d(_padded(_nchw(x), _pad_spec(padding)), ksize, strides, divisor_override=1)
        return _nhwc(total / _window_counts(x, x.shape, ksize, strides, padding))

    def avg_pool2d_grad(self, dy, input_shape, ksize, strides, padding):
        spec = _pad_spec(padding)
        share = _nchw(dy) / _window_counts(dy, input_shape, ksize, strides, padding)
        n, h, w, c = input_shape
        padded = share.new_empty(1).expand(n, c, h + spec[2] + spec[3], w + spec[0] + spec[1])  # read for its shape
        dx = torch.ops.aten.avg_pool2d_backward(share, padded, ksize, strides, (0, 0), False, True, 1)
        return _nhwc(_crop(dx, spec))


# ---- layout and padding helpers of the convolution and pooling kernels -------------------------


def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


def _oihw(filters):
    return filters.permute(3, 2, 0, 1)


def _pad_spec(padding):
    """F.pad's (left, right, top, bottom) for the core's ((top, bottom), (left, right))."""
    (top, bottom), (left, right) = padding
    return (left, right, top, bottom)


def _split_padding(padding):
    """torch's symmetric (top, left) padding, and the F.pad spec of what is left over on one side."""
    (top, bottom), (left, right) = padding
    inner = (min(top, bottom), min(left, right))
    return inner, (left - inner[1], right - inner[1], top - inner[0], bottom - inner[0])


def _padded(x, spec, value=0.0):
    return F.pad(x, spec, value=value) if any(spec) else x


def _crop(x, spec):
    """An NCHW gradient with the rows and columns that F.pad(spec) added cut off."""
    left, right, top, bottom = spec
    return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]


def _max_pool(x, ksize, strides, padding):
    """(x padded to NCHW, the pooled NCHW maxima, their indices into the padded planes)."""
    inner, outer = _split_padding(padding)
    x = _padded(_nchw(x), outer, float("-inf"))
    y, indices = F.max_pool2d(x, ksize, strides, inner, return_indices=True)
    return x, y, indices


def _window_counts(like, input_shape, ksize, strides, padding):
    """[1, 1, Ho, Wo]: how many input (not padding) elements each pooling window covers."""
    ones = torch.ones((1, 1) + tuple(input_shape[1:3]), dtype=like.dtype, device=like.device)
    return F.avg_pool2d(_padded(ones, _pad_spec(padding)), ksize, strides, divisor_override=1)
