"""The kernels the Array API standard lacks, composed from standard functions only.

Each function takes the namespace ``xp`` first and works on any conforming library.
None of them writes into an array (no ``__setitem__``), so they also run on libraries
whose arrays are immutable, such as JAX.
"""

import math

import array_api_compat

# ---- erf: Cephes' rational approximations (S. L. Moshier, public domain) --------------------
# The same ones SciPy compiles: relative error about 1e-16 in float64. For |x| <= 1,
# erf(x) = x T(x^2) / U(x^2); above, erf(|x|) = 1 - erfc(|x|), with
# erfc(x) = e^(-x^2) P(x) / Q(x) below 8 and e^(-x^2) R(x) / S(x) from 8 on. Q, U and S are
# monic (their leading coefficient 1 is left out of the tuples, as in Cephes' p1evl).

_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
      7.00332514112805075473e3, 5.55923013010394962768e4)
_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
      2.26290000613890934246e4, 4.92673942608635921086e4)
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
      4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
      9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
      9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
      1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
      6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
      1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _polynomial(x, coefficients):
    """Horner's rule, highest power first (Python floats keep x's dtype: they are weak scalars)."""
    result = x * coefficients[0] + coefficients[1]
    for c in coefficients[2:]:
        result = result * x + c
    return result


def _monic(x, coefficients):
    return _polynomial(x, (1.0,) + coefficients)


def erf(xp, x):
    """erf(x) for a real floating array, to about 1e-16 relative in float64."""
    zero, one = xp.zeros_like(x), xp.ones_like(x)
    a = xp.abs(x)
    inner = a <= 1  # False for NaN, which the last line puts back
    # Each branch only ever sees inputs in its own range, so neither overflows or makes NaN.
    xs = xp.where(inner, x, zero)
    zs = xs * xs
    small = xs * _polynomial(zs, _T) / _monic(zs, _U)
    # erfc(27) underflows to 0 in float64: clamping there changes nothing and keeps inf out.
    al = xp.where(inner, one, xp.clip(a, 1.0, 27.0))
    tail = xp.where(al < 8, _polynomial(al, _P) / _monic(al, _Q), _polynomial(al, _R) / _monic(al, _S))
    erfc = xp.exp(-(al * al)) * tail
    large = xp.where(x < 0, erfc - 1, 1 - erfc)
    return xp.where(xp.isnan(x), x, xp.where(inner, small, large))


# ---- padding and basic indexing -----------------------------------------------------------


def pad_axis(xp, x, axis, before, after, value):
    """``x`` with ``before`` and ``after`` elements of ``value`` added along ``axis`` (a concat)."""
    if not before and not after:
        return x
    parts = []
    for count in (before, after):
        shape = tuple(x.shape[:axis]) + (count,) + tuple(x.shape[axis + 1:])
        parts.append(xp.full(shape, value, dtype=x.dtype, device=_device(x)))
    return xp.concat([parts[0], x, parts[1]], axis=axis)


def canonical_key(key, shape):
    """The basic-indexing ``key`` in the form every conforming library must accept.

    Returns ``(flips, entries)``: ``x[key]`` equals ``flip(x, flips)[entries]``. ``entries``
    has one entry per axis of ``x`` (Ellipsis expanded, missing trailing axes filled), plus
    the ``None`` entries; integers are non-negative and slices have a positive step and
    in-bounds ends. The standard leaves negative steps on some libraries (torch) and
    out-of-bounds ends or partial keys unspecified (array_api_strict refuses them), but
    gradcore's keys are Python's.
    """
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis not in key:
        key = tuple(key) + (Ellipsis,)
    flips, entries, axis = [], [], 0
    for k in key:
        if k is None:
            entries.append(None)
        elif k is Ellipsis:
            entries.extend(slice(0, shape[axis + i], 1) for i in range(len(shape) - consumed))
            axis += len(shape) - consumed
        elif isinstance(k, slice):
            n = shape[axis]
            start, stop, step = k.indices(n)
            count = len(range(start, stop, step))
            if step < 0:  # the same elements, read forward from the flipped axis
                flips.append(axis)
                start, step = n - 1 - start, -step
            entries.append(slice(start, start + (count - 1) * step + 1, step) if count else slice(0, 0, 1))
            axis += 1
        else:
            entries.append(int(k) % shape[axis])
            axis += 1
    return tuple(flips), tuple(entries)


def basic_slice(xp, x, key):
    """``x[key]`` for a key of ints, slices, None and Ellipsis."""
    flips, entries = canonical_key(key, tuple(x.shape))
    if flips:
        x = xp.flip(x, axis=flips)
    return x[entries]


def slice_into_zeros(xp, update, shape, key):
    """Zeros of ``shape`` with ``update`` where ``basic_slice`` would read it: its adjoint.

    Built without writing into an array: each axis of ``update`` is spread to the slice's
    step by interleaving zeros, then padded with zeros to the axis's length.
    """
    flips, entries = canonical_key(key, tuple(shape))
    axis_entries = [e for e in entries if e is not None]  # None added axes of size 1: drop them
    counts = tuple(1 if isinstance(e, int) else len(range(e.start, e.stop, e.step)) for e in axis_entries)
    if 0 in counts:
        return xp.zeros(tuple(shape), dtype=update.dtype, device=_device(update))
    out = xp.reshape(update, counts)  # one axis per output axis, an integer's axis of size 1
    for axis, (e, count, n) in enumerate(zip(axis_entries, counts, shape)):
        start, step = (e, 1) if isinstance(e, int) else (e.start, e.step)
        if step > 1 and count > 1:
            out = _interleave_zeros(xp, out, axis, step)
        out = pad_axis(xp, out, axis, start, n - start - out.shape[axis], 0)
    return xp.flip(out, axis=flips) if flips else out


def _interleave_zeros(xp, x, axis, step):
    """``x`` with ``step - 1`` zeros after each element along ``axis``, less the trailing ones."""
    count = x.shape[axis]
    before, after = tuple(x.shape[:axis]), tuple(x.shape[axis + 1:])
    column = xp.reshape(x, before + (count, 1) + after)
    gaps = xp.zeros(before + (count, step - 1) + after, dtype=x.dtype, device=_device(x))
    spread = xp.reshape(xp.concat([column, gaps], axis=axis + 1), before + (count * step,) + after)
    keep = (slice(None),) * axis + (slice(0, (count - 1) * step + 1),) + (Ellipsis,)
    return spread[keep]


# ---- gathers and segment sums ---------------------------------------------------------------


def gather(xp, params, indices, axis):
    """``params`` indexed by ``indices`` along ``axis``: ``take`` wants 1-D indices, so flatten them."""
    flat = xp.take(params, xp.reshape(indices, (-1,)), axis=axis)
    shape = tuple(params.shape[:axis]) + tuple(indices.shape) + tuple(params.shape[axis + 1:])
    return xp.reshape(flat, shape)


def unsorted_segment_sum(xp, data, segment_ids, num_segments):
    """Rows of ``data`` summed by ``segment_ids``, with no scatter: a one-hot product.

    ``hits[s, m]`` says row m belongs to segment s. For finite floats ``hits @ rows`` is the
    sum (1 * v and 0 * v are exact; only the order of the additions can differ). Where the
    data has an inf or NaN, 0 * inf would put NaN into every other segment, and integer
    matmuls are not everywhere; there a masked sum over the rows does the same, exactly,
    at the cost of a [segments, rows, ...] temporary.
    """
    ids = xp.astype(xp.reshape(segment_ids, (-1,)), xp.int64)
    rest = tuple(data.shape[segment_ids.ndim:])
    rows = xp.reshape(data, (ids.shape[0], math.prod(rest)))
    segments = xp.arange(num_segments, dtype=xp.int64, device=_device(ids))
    hits = xp.reshape(segments, (-1, 1)) == xp.reshape(ids, (1, -1))  # ids out of range hit nothing
    if xp.isdtype(rows.dtype, "real floating") and bool(xp.all(xp.isfinite(rows))):
        out = xp.matmul(xp.astype(hits, rows.dtype), rows)
    else:
        picked = xp.where(hits[:, :, None], rows[None, :, :], xp.zeros((), dtype=rows.dtype, device=_device(rows)))
        out = xp.sum(picked, axis=1, dtype=rows.dtype)
    return xp.reshape(out, (num_segments,) + rest)


def _device(x):
    # array_api_compat.device, not x.device: NumPy's arrays have no .device before NumPy 2.0.
    return array_api_compat.device(x)
