"""Convolution and pooling kernels over NHWC images, with their backward kernels."""

import torch
import torch.nn.functional as F


class WindowKernels:
    """torch's NCHW convolution and pooling kernels, called on NHWC tensors seen as channels_last."""

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

    # Depthwise: torch's grouped convolution with one group per input channel; TF's output
    # channel c * M + m is torch's channel m of group c, so the filters reshape without a copy.

    def depthwise_conv2d(self, x, filters, strides, dilations, padding):
        inner, outer = _split_padding(padding)
        groups = filters.shape[2]
        y = F.conv2d(_padded(_nchw(x), outer), _grouped(filters), stride=strides, padding=inner,
                     dilation=dilations, groups=groups)
        return _nhwc(y)

    def depthwise_conv2d_backprop_input(self, filters, dy, input_shape, strides, dilations, padding):
        inner, outer = _split_padding(padding)
        n, h, w, c = input_shape
        shape = (n, c, h + outer[2] + outer[3], w + outer[0] + outer[1])
        dx = torch.nn.grad.conv2d_input(shape, _grouped(filters), _nchw(dy), strides, inner, dilations, groups=c)
        return _nhwc(_crop(dx, outer))

    def depthwise_conv2d_backprop_filter(self, x, dy, filter_shape, strides, dilations, padding):
        inner, outer = _split_padding(padding)
        kh, kw, c, m = filter_shape
        x = _padded(_nchw(x), outer)
        dw = torch.nn.grad.conv2d_weight(x, (c * m, 1, kh, kw), _nchw(dy), strides, inner, dilations, groups=c)
        return dw.reshape(c, m, kh, kw).permute(2, 3, 0, 1)

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


def _grouped(filters):
    """Depthwise filters [KH, KW, C, M] as torch's grouped [C * M, 1, KH, KW]."""
    kh, kw, c, m = filters.shape
    return filters.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)


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
