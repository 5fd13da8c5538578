"""The namespace ``ns`` that composites.py is written against, for gradcore, torch and jax.

Each entry is the framework's own function (the oracle's code path shares nothing
with gradcore's), with gradcore's argument conventions: axis arguments, TF-style
argument order for the losses, ``leaky_relu`` slope 0.2 and exact ``gelu``.
"""

from types import SimpleNamespace

import numpy as np

import gradcore as gc


def gradcore_namespace():
    return SimpleNamespace(
        matmul=gc.matmul, transpose=gc.transpose, reshape=gc.reshape, concat=gc.concat, stack=gc.stack,
        tile=gc.tile, pad=gc.pad, gather=lambda x, i, axis: gc.gather(x, i, axis=axis), where=gc.where,
        reduce_sum=gc.reduce_sum, reduce_mean=gc.reduce_mean, reduce_max=gc.reduce_max,
        logsumexp=gc.reduce_logsumexp, maximum=gc.maximum, minimum=gc.minimum,
        tanh=gc.tanh, sin=gc.sin, cos=gc.cos, exp=gc.exp, log=gc.math.log, sqrt=gc.sqrt, abs=gc.abs,
        square=gc.square, erf=gc.math.erf, log1p=gc.math.log1p, expm1=gc.math.expm1, sigmoid=gc.sigmoid,
        relu=gc.nn.relu, softplus=gc.nn.softplus, elu=gc.nn.elu, gelu=gc.nn.gelu,
        leaky_relu=lambda x: gc.nn.leaky_relu(x, alpha=0.2),
        softmax=lambda x, axis: gc.nn.softmax(x, axis=axis), log_softmax=lambda x, axis: gc.nn.log_softmax(x, axis=axis),
        sparse_xent=lambda labels, logits: gc.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
        sigmoid_xent=lambda labels, logits: gc.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits),
        clip_by_value=gc.clip_by_value, clip_by_norm=gc.clip_by_norm,
        constant=gc.constant,
    )


def torch_namespace():
    import torch
    import torch.nn.functional as F

    def reduce(fn):
        def reduced(x, axis=None, keepdims=False):
            return fn(x) if axis is None else fn(x, dim=axis, keepdim=keepdims)
        return reduced

    def clip_by_norm(t, clip):
        return t * clip / torch.clamp_min(torch.sqrt(torch.sum(t * t)), clip)

    return SimpleNamespace(
        matmul=torch.matmul, transpose=lambda x, perm: x.permute(*perm), reshape=torch.reshape,
        concat=lambda xs, axis: torch.cat(xs, dim=axis), stack=lambda xs, axis: torch.stack(xs, dim=axis),
        tile=torch.tile, pad=lambda x, p: F.pad(x, [q for pair in reversed(p) for q in pair]),
        gather=lambda x, i, axis: torch.index_select(x, axis, i.reshape(-1)).reshape(
            x.shape[:axis] + i.shape + x.shape[axis + 1:]),
        where=torch.where, reduce_sum=reduce(torch.sum), reduce_mean=reduce(torch.mean),
        reduce_max=lambda x, axis: torch.amax(x, dim=axis), logsumexp=lambda x, axis: torch.logsumexp(x, dim=axis),
        maximum=lambda x, y: torch.maximum(x, torch.as_tensor(y, dtype=x.dtype)),
        minimum=lambda x, y: torch.minimum(x, torch.as_tensor(y, dtype=x.dtype)),
        tanh=torch.tanh, sin=torch.sin, cos=torch.cos, exp=torch.exp, log=torch.log, sqrt=torch.sqrt,
        abs=torch.abs, square=torch.square, erf=torch.erf, log1p=torch.log1p, expm1=torch.expm1,
        sigmoid=torch.sigmoid, relu=torch.relu, softplus=F.softplus, elu=F.elu, gelu=F.gelu,
        leaky_relu=lambda x: F.leaky_relu(x, 0.2), softmax=lambda x, axis: torch.softmax(x, axis),
        log_softmax=lambda x, axis: torch.log_softmax(x, axis),
        sparse_xent=lambda labels, logits: F.cross_entropy(logits, labels, reduction="none"),
        sigmoid_xent=lambda labels, logits: F.binary_cross_entropy_with_logits(logits, labels, reduction="none"),
        clip_by_value=lambda x, lo, hi: torch.clamp(x, lo, hi), clip_by_norm=clip_by_norm,
        constant=lambda a: torch.as_tensor(np.asarray(a)),
    )


def jax_namespace():
    import jax
    import jax.numpy as jnp

    def reduce(fn):
        return lambda x, axis=None, keepdims=False: fn(x, axis=axis, keepdims=keepdims)

    def sparse_xent(labels, logits):
        return -jnp.take_along_axis(jax.nn.log_softmax(logits, -1), labels[:, None], axis=-1)[:, 0]

    def clip_by_norm(t, clip):
        return t * clip / jnp.maximum(jnp.sqrt(jnp.sum(t * t)), clip)

    return SimpleNamespace(
        matmul=lambda a, b: jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST), transpose=jnp.transpose,
        reshape=jnp.reshape, concat=lambda xs, axis: jnp.concatenate(xs, axis), stack=lambda xs, axis: jnp.stack(xs, axis),
        tile=jnp.tile, pad=lambda x, p: jnp.pad(x, p), gather=lambda x, i, axis: jnp.take(x, i, axis=axis),
        where=jnp.where, reduce_sum=reduce(jnp.sum), reduce_mean=reduce(jnp.mean),
        reduce_max=lambda x, axis: jnp.max(x, axis=axis), logsumexp=lambda x, axis: jax.nn.logsumexp(x, axis=axis),
        maximum=jnp.maximum, minimum=jnp.minimum, tanh=jnp.tanh, sin=jnp.sin, cos=jnp.cos, exp=jnp.exp, log=jnp.log,
        sqrt=jnp.sqrt, abs=jnp.abs, square=jnp.square, erf=jax.scipy.special.erf, log1p=jnp.log1p, expm1=jnp.expm1,
        sigmoid=jax.nn.sigmoid, relu=jax.nn.relu, softplus=jax.nn.softplus, elu=jax.nn.elu,
        gelu=lambda x: jax.nn.gelu(x, approximate=False), leaky_relu=lambda x: jax.nn.leaky_relu(x, 0.2),
        softmax=lambda x, axis: jax.nn.softmax(x, axis=axis), log_softmax=lambda x, axis: jax.nn.log_softmax(x, axis=axis),
        sparse_xent=sparse_xent,
        sigmoid_xent=lambda labels, logits: jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits))),
        clip_by_value=jnp.clip, clip_by_norm=clip_by_norm, constant=jnp.asarray,
    )
