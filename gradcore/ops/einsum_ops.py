"""einsum and tensordot, composed of transpose, reshape, diag_part, reduce_sum and matmul.

No kernel of their own: each pair of operands becomes one batched matmul, so
the gradient (and every higher one) comes from those ops' rules.
"""

import math
import string

from gradcore.engine.convert import to_tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import broadcast_to, reshape, transpose
from gradcore.ops.linalg_ops import diag_part, matmul
from gradcore.ops.operands import NUMERIC, check_kind, same_backend
from gradcore.ops.reduction_ops import reduce_sum

LETTERS = set(string.ascii_letters)
#: Labels for the axes an ellipsis stands for: not letters, so they never meet the user's.
_ELLIPSIS_LABELS = tuple(chr(0x3B1 + i) for i in range(24))


def einsum(equation, *inputs, **kwargs):
    """Einstein summation, as ``tf.einsum``: ``"ij,jk->ik"``, ``"...ij,...jk"``, ``"ii->i"``, ``"ij->"``.

    Without ``->`` the output is every label used once, alphabetically, after the ellipsis axes.
    """
    api = "gc.einsum"
    tensors = [to_tensor(x, op_name=api) for x in inputs]
    if not tensors:
        raise InvalidArgumentError(f"{api}: no inputs for the equation {equation!r}")
    same_backend(api, tensors)
    for t in tensors:
        if t.dtype is not tensors[0].dtype:
            raise InvalidArgumentError(f"{api}: inputs must share one dtype, got "
                                       f"{', '.join(u.dtype.name for u in tensors)}")
        check_kind(api, t, NUMERIC)
    terms, output = _parse(api, equation, tensors)
    sizes = _label_sizes(api, equation, terms, tensors)
    operands = [_without_repeats(t, list(term)) for t, term in zip(tensors, terms)]
    x, labels = operands[0]
    for i in range(1, len(operands)):
        later = set(output).union(*(term for _, term in operands[i + 1:]))
        x, labels = _contract(x, labels, *operands[i], keep=later, sizes=sizes)
    x, labels = _sum_unused(x, labels, set(output))
    return transpose(x, [labels.index(label) for label in output]) if labels != list(output) else x


def tensordot(a, b, axes, name=None):
    """Sum of products over ``axes`` of a and b: an int N (a's last N with b's first N) or a pair of lists."""
    api = "gc.tensordot"
    a, b = to_tensor(a, op_name=api), to_tensor(b, op_name=api)
    a_axes, b_axes = _tensordot_axes(api, axes, a.ndim, b.ndim)
    a_labels = list(string.ascii_letters[:a.ndim])
    b_labels = list(string.ascii_letters[a.ndim:a.ndim + b.ndim])
    for i, j in zip(a_axes, b_axes):
        if a.shape[i] != b.shape[j]:
            raise InvalidArgumentError(f"{api}: axis {i} of a {a.shape} and axis {j} of b {b.shape} are summed "
                                       f"together, so their sizes must match")
        b_labels[j] = a_labels[i]
    free = [l for i, l in enumerate(a_labels) if i not in a_axes] + [l for j, l in enumerate(b_labels)
                                                                     if j not in b_axes]
    return einsum(f"{''.join(a_labels)},{''.join(b_labels)}->{''.join(free)}", a, b)


def _tensordot_axes(api, axes, a_rank, b_rank):
    if isinstance(axes, int) or (hasattr(axes, "ndim") and axes.ndim == 0):
        n = int(axes)
        if not 0 <= n <= min(a_rank, b_rank):
            raise InvalidArgumentError(f"{api}: axes={n} must be in [0, {min(a_rank, b_rank)}] for inputs of "
                                       f"rank {a_rank} and {b_rank}")
        return list(range(a_rank - n, a_rank)), list(range(n))
    try:
        a_axes, b_axes = axes
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{api}: axes must be an int or a pair of axis lists, got {axes!r}") from None
    a_axes = [a_axes] if isinstance(a_axes, int) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, int) else list(b_axes)
    if len(a_axes) != len(b_axes):
        raise InvalidArgumentError(f"{api}: the two axis lists must have the same length, got {axes!r}")
    for rank, group in ((a_rank, a_axes), (b_rank, b_axes)):
        for i, axis in enumerate(group):
            if not -rank <= axis < rank:
                raise InvalidArgumentError(f"{api}: axis {axis} is out of range for an input of rank {rank}")
            group[i] = axis % rank
    return a_axes, b_axes


# ---- parsing -----------------------------------------------------------------------------------


def _parse(api, equation, tensors):
    """Each input's labels and the output's, with each ellipsis spelled out as one label per axis."""
    spec = equation.replace(" ", "")
    given_inputs, arrow, given_output = spec.partition("->")
    terms = given_inputs.split(",")
    if len(terms) != len(tensors):
        raise InvalidArgumentError(f"{api}: the equation {equation!r} names {len(terms)} inputs, got {len(tensors)}")
    ellipsis_ranks = [_ellipsis_rank(api, equation, term, t) for term, t in zip(terms, tensors)]
    widest = max(ellipsis_ranks)
    broadcast = _ELLIPSIS_LABELS[:widest]
    expanded = [term.replace("...", "".join(broadcast[widest - r:])) for term, r in zip(terms, ellipsis_ranks)]
    if not arrow:
        used = "".join(terms)
        given_output = ("..." if "..." in given_inputs else "") + "".join(
            sorted(label for label in set(used) if label in LETTERS and used.count(label) == 1))
    _check_labels(api, equation, given_output.replace("...", ""))
    output = given_output.replace("...", "".join(broadcast))
    if len(set(output)) != len(output) or not set(output) <= set("".join(expanded)):
        raise InvalidArgumentError(f"{api}: in {equation!r} each output label must appear once in the output "
                                   f"and in some input")
    return expanded, output


def _ellipsis_rank(api, equation, term, tensor):
    named = term.replace("...", "")
    _check_labels(api, equation, named)
    if term.count("...") > 1 or ("." in named):
        raise InvalidArgumentError(f"{api}: {term!r} in {equation!r} may hold one '...' and letters only")
    rank = tensor.ndim - len(named)
    if rank < 0 or (rank > 0 and "..." not in term) or rank > len(_ELLIPSIS_LABELS):
        raise InvalidArgumentError(f"{api}: {term!r} in {equation!r} does not fit an input of shape {tensor.shape}")
    return rank


def _check_labels(api, equation, labels):
    if not set(labels) <= LETTERS:
        raise InvalidArgumentError(f"{api}: labels must be letters a-z, A-Z (and '...'), got {equation!r}")


def _label_sizes(api, equation, terms, tensors):
    """Each label's size; ellipsis axes broadcast (size 1 meets any size), letters must agree."""
    sizes = {}
    for term, t in zip(terms, tensors):
        for label, n in zip(term, t.shape):
            known = sizes.setdefault(label, n)
            if known != n:
                if label in LETTERS or 1 not in (known, n):
                    shown = "..." if label not in LETTERS else label
                    raise InvalidArgumentError(f"{api}: in {equation!r} label {shown!r} has sizes {known} and {n}")
                sizes[label] = max(known, n)
    return sizes


# ---- evaluation ----------------------------------------------------------------------------------


def _without_repeats(x, labels):
    """Take the diagonal over each label repeated within one input (``"ii->i"``)."""
    while len(set(labels)) != len(labels):
        label = next(l for l in labels if labels.count(l) > 1)
        first = labels.index(label)
        second = labels.index(label, first + 1)
        rest = [i for i in range(len(labels)) if i not in (first, second)]
        x = diag_part(transpose(x, rest + [first, second]))
        labels = [labels[i] for i in rest] + [label]
    return x, labels


def _sum_unused(x, labels, keep):
    unused = [i for i, label in enumerate(labels) if label not in keep]
    if not unused:
        return x, labels
    return reduce_sum(x, unused), [label for label in labels if label not in set(labels[i] for i in unused)]


def _contract(x, x_labels, y, y_labels, keep, sizes):
    """x and y as one batched matmul: shared kept labels are its batch, shared others its inner axis."""
    x, x_labels = _sum_unused(x, x_labels, keep | set(y_labels))
    y, y_labels = _sum_unused(y, y_labels, keep | set(x_labels))
    batch = [l for l in x_labels if l in y_labels and l in keep]
    inner = [l for l in x_labels if l in y_labels and l not in keep]
    left = [l for l in x_labels if l not in y_labels]
    right = [l for l in y_labels if l not in x_labels]
    x = _arranged(x, x_labels, batch + left + inner, sizes)
    y = _arranged(y, y_labels, batch + inner + right, sizes)

    def count(labels):
        return math.prod(sizes[l] for l in labels)

    product = matmul(reshape(x, (count(batch), count(left), count(inner))),
                     reshape(y, (count(batch), count(inner), count(right))))
    out_labels = batch + left + right
    return reshape(product, tuple(sizes[l] for l in out_labels)), out_labels


def _arranged(x, labels, order, sizes):
    """x with its axes in ``order``, each broadcast to its label's full size (ellipsis axes of size 1)."""
    if labels != order:
        x = transpose(x, [labels.index(l) for l in order])
    full = tuple(sizes[l] for l in order)
    return broadcast_to(x, full) if x.shape != full else x
