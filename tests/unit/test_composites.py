"""The composite defaults of optional kernels (gradcore/plugin/contract.py) stay correct.

Each optional kernel is called twice on the same raw arrays: on a composite view
of a NumpyBackend (``composite_view``: its optional kernels are the contract's defaults),
and on a plain NumpyBackend (its own override, where it has one). Both must
agree with each other and with an independent float64 NumPy/SciPy reference,
within the tolerance table. A kernel added to OPTIONAL_KERNELS without inputs
here fails the test, so the composites cannot go untested.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from gradcore.backends.numpy_backend import NumpyBackend
from scipy import special

import gradcore as gc
from gradcore.plugin import linalg_composites
from gradcore.plugin.contract import OPTIONAL_KERNELS, Backend, composite_view
from gradcore.testing import assert_allclose
from gradcore.conformance.cases import conv_cases, conv_more_cases

DTYPES = (gc.float16, gc.bfloat16, gc.float32, gc.float64)


def normal(rng, *shape):
    return rng.normal(size=shape)


def positive(rng, *shape):
    return rng.uniform(0.5, 3.0, size=shape)


def away_from_zero(rng, *shape):
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def labels(rng, *shape):
    return rng.integers(0, 4, size=shape).astype(np.int32)


DTYPE = object()  # stands for the dtype under test among a kernel's extra arguments
CONV = ((2, 1), (1, 2), ((1, 1), (0, 2)))  # strides, dilations, padding
POOL = ((3, 3), (2, 2), ((1, 1), (0, 1)))  # ksize, strides, padding

# kernel -> (arrays(rng), extra arguments, float64 reference(*arrays, *extra)). Float arrays are
# cast to the dtype under test; integer arrays (labels, indices) keep their dtype.
KERNEL_CASES = {
    "zeros": (lambda rng: [], ((2, 3), DTYPE), lambda shape, dtype: np.zeros(shape)),
    "ones": (lambda rng: [], ((2, 3), DTYPE), lambda shape, dtype: np.ones(shape)),
    "square": (lambda rng: [normal(rng, 3, 4)], (), np.square),
    "rsqrt": (lambda rng: [positive(rng, 3, 4)], (), lambda x: 1 / np.sqrt(x)),
    "reciprocal": (lambda rng: [away_from_zero(rng, 3, 4)], (), np.reciprocal),
    "sigmoid": (lambda rng: [normal(rng, 3, 4) * 5], (), special.expit),
    "relu": (lambda rng: [normal(rng, 3, 4)], (), lambda x: np.maximum(x, 0)),
    "softplus": (lambda rng: [normal(rng, 3, 4) * 5], (), lambda x: np.logaddexp(0, x)),
    "reduce_mean": (lambda rng: [normal(rng, 3, 4, 2)], ((0, 2), False),
                    lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims)),
    "reduce_logsumexp": (lambda rng: [normal(rng, 3, 4) * 3], ((1,), True),
                         lambda x, axis, keepdims: special.logsumexp(x, axis=axis, keepdims=keepdims)),
    "softmax": (lambda rng: [normal(rng, 3, 4) * 3], (1,), lambda x, axis: special.softmax(x, axis=axis)),
    "log_softmax": (lambda rng: [normal(rng, 3, 4) * 3], (0,), lambda x, axis: special.log_softmax(x, axis=axis)),
    "stack": (lambda rng: [normal(rng, 3, 2), normal(rng, 3, 2)], (1,), lambda a, b, axis: np.stack([a, b], axis)),
    "tanh_grad": (lambda rng: [np.tanh(normal(rng, 3, 4)), normal(rng, 3, 4)], (), lambda y, dy: dy * (1 - y * y)),
    "sigmoid_grad": (lambda rng: [special.expit(normal(rng, 3, 4)), normal(rng, 3, 4)], (),
                     lambda y, dy: dy * y * (1 - y)),
    "relu_grad": (lambda rng: [away_from_zero(rng, 3, 4), normal(rng, 3, 4)], (),
                  lambda x, dy: np.where(x > 0, dy, 0.0)),
    "one_hot": (lambda rng: [labels(rng, 2, 3)], (4, DTYPE), lambda indices, depth, dtype: np.eye(depth)[indices]),
    "sparse_softmax_cross_entropy": (
        lambda rng: [normal(rng, 2, 3, 4) * 3, labels(rng, 2, 3)], (),
        lambda logits, y: -np.take_along_axis(special.log_softmax(logits, axis=-1), y[..., None], -1)[..., 0]),
    # Windows resolved as the core passes them: strides (2, 1), dilations (1, 2) and uneven explicit
    # padding for convolution; 3x3 windows, stride 2 and TF's SAME padding of 7x6 for pooling.
    "conv2d": (lambda rng: [normal(rng, 2, 7, 6, 3), normal(rng, 3, 2, 3, 4)], CONV,
               conv_cases.reference_conv2d),
    "conv2d_backprop_input": (lambda rng: [normal(rng, 3, 2, 3, 4), normal(rng, 2, 4, 6, 4)], ((2, 7, 6, 3),) + CONV,
                              conv_cases.reference_conv2d_backprop_input),
    "conv2d_backprop_filter": (lambda rng: [normal(rng, 2, 7, 6, 3), normal(rng, 2, 4, 6, 4)], ((3, 2, 3, 4),) + CONV,
                               conv_cases.reference_conv2d_backprop_filter),
    "max_pool2d": (conv_cases.distinct((2, 7, 6, 3)), POOL, conv_cases.reference_max_pool2d),
    "max_pool2d_grad": (lambda rng: conv_cases.distinct((2, 7, 6, 3))(rng) + [normal(rng, 2, 4, 3, 3)], POOL,
                        conv_cases.reference_max_pool2d_grad),
    "max_pool2d_grad_grad": (lambda rng: conv_cases.distinct((2, 7, 6, 3))(rng) + [normal(rng, 2, 7, 6, 3)], POOL,
                             conv_cases.reference_max_pool2d_grad_grad),
    "avg_pool2d": (lambda rng: [normal(rng, 2, 7, 6, 3)], POOL, conv_cases.reference_avg_pool2d),
    "avg_pool2d_grad": (lambda rng: [normal(rng, 2, 4, 3, 3)], ((2, 7, 6, 3),) + POOL,
                        conv_cases.reference_avg_pool2d_grad),
    # elementwise, the gamma family, any/all, scans (math_composites.py)
    "atan": (lambda rng: [normal(rng, 3, 4) * 3], (), np.arctan),
    "asin": (lambda rng: [np.tanh(normal(rng, 3, 4))], (), np.arcsin),
    "acos": (lambda rng: [np.tanh(normal(rng, 3, 4))], (), np.arccos),
    "atan2": (lambda rng: [normal(rng, 3, 4), normal(rng, 3, 4)], (), np.arctan2),
    "sinh": (lambda rng: [normal(rng, 3, 4)], (), np.sinh),
    "cosh": (lambda rng: [normal(rng, 3, 4)], (), np.cosh),
    "asinh": (lambda rng: [normal(rng, 3, 4) * 3], (), np.arcsinh),
    "acosh": (lambda rng: [positive(rng, 3, 4) + 1], (), np.arccosh),
    "atanh": (lambda rng: [np.tanh(normal(rng, 3, 4))], (), np.arctanh),
    "isinf": (lambda rng: [np.array([1.0, np.inf, -np.inf, np.nan])], (), np.isinf),
    "lgamma": (lambda rng: [positive(rng, 3, 4) - 1.2], (), special.gammaln),
    "digamma": (lambda rng: [positive(rng, 3, 4) - 1.2], (), special.psi),
    "polygamma": (lambda rng: [np.array([[0.0, 1.0], [2.0, 3.0]]), positive(rng, 2, 2)], (), special.polygamma),
    "reduce_any": (lambda rng: [rng.random((3, 4)) < 0.3], ((1,), False),
                   lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims)),
    "reduce_all": (lambda rng: [rng.random((3, 4)) < 0.7], (None, True),
                   lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims)),
    "cumsum": (lambda rng: [normal(rng, 3, 4)], (1, True, True),
               lambda x, axis, exclusive, reverse: np.flip(np.cumsum(np.flip(x, 1), 1), 1) - x),
    "cumprod": (lambda rng: [normal(rng, 3, 4)], (0, False, True),
                lambda x, axis, exclusive, reverse: np.flip(np.cumprod(np.flip(x, 0), 0), 0)),
    # depthwise convolution (nn_composites.py), with conv2d's strides, dilations and padding
    "depthwise_conv2d": (lambda rng: [normal(rng, 2, 7, 6, 3), normal(rng, 3, 2, 3, 2)], CONV,
                         conv_more_cases.reference_depthwise_conv2d),
    "depthwise_conv2d_backprop_input": (lambda rng: [normal(rng, 3, 2, 3, 2), normal(rng, 2, 4, 6, 6)],
                                        ((2, 7, 6, 3),) + CONV, conv_more_cases.reference_depthwise_conv2d_backprop_input),
    "depthwise_conv2d_backprop_filter": (lambda rng: [normal(rng, 2, 7, 6, 3), normal(rng, 2, 4, 6, 6)],
                                         ((3, 2, 3, 2),) + CONV,
                                         conv_more_cases.reference_depthwise_conv2d_backprop_filter),
    # sorting and segments (indexing_composites.py); these ids leave no segment empty
    "argsort": (lambda rng: [normal(rng, 3, 4)], (1, True),
                lambda x, axis, descending: np.argsort(-x, axis, kind="stable")),
    "unsorted_segment_max": (lambda rng: [normal(rng, 4, 2), np.array([2, 0, 1, 0], np.int32)], (3,),
                             lambda data, ids, n: np.stack([data[ids == s].max(0) for s in range(n)])),
}

# Kernels whose result has a dtype of its own whatever the input's (truth values, indices): compared exactly.
EXACT_RESULT = {"isinf": gc.bool, "reduce_any": gc.bool, "reduce_all": gc.bool, "argsort": gc.int64}

# The linear algebra kernels return tuples whose columns each library signs its own way, and get
# no half precision from the core: gradcore/conformance/test_linalg.py
# (test_backend_kernels_agree_with_the_composites) compares them on sign-invariant views.
COVERED_ELSEWHERE = set(linalg_composites.KERNELS)

# Kernels that take a list of arrays rather than arrays as separate arguments.
LIST_INPUT = {"stack"}


# ---- optimizer update kernels: lists of arrays in, a tuple of lists out -------------------------------

def _keras_sgd(w, g, m, lr, momentum, nesterov):
    if m is None:
        return [wi - gi * lr for wi, gi in zip(w, g)], None
    m = [mi * momentum - gi * lr for mi, gi in zip(m, g)]
    change = [mi * momentum - gi * lr for mi, gi in zip(m, g)] if nesterov else m
    return [wi + c for wi, c in zip(w, change)], m


def _keras_adam(w, g, m, v, v_hat, alpha, beta_1, beta_2, epsilon):
    m = [mi + (gi - mi) * (1 - beta_1) for mi, gi in zip(m, g)]
    v = [vi + (gi**2 - vi) * (1 - beta_2) for vi, gi in zip(v, g)]
    v_hat = None if v_hat is None else [np.maximum(h, vi) for h, vi in zip(v_hat, v)]
    used = v if v_hat is None else v_hat
    return [wi - mi * alpha / (np.sqrt(ui) + epsilon) for wi, mi, ui in zip(w, m, used)], m, v, v_hat


def _keras_rmsprop(w, g, v, a, b, lr, rho, momentum, epsilon):
    v = [rho * vi + (1 - rho) * gi**2 for vi, gi in zip(v, g)]
    a = None if a is None else [rho * ai + (1 - rho) * gi for ai, gi in zip(a, g)]
    den = [vi + epsilon for vi in v] if a is None else [vi - ai**2 + epsilon for vi, ai in zip(v, a)]
    inc = [lr * gi / np.sqrt(d) for gi, d in zip(g, den)]
    b = None if b is None else [momentum * bi + i for bi, i in zip(b, inc)]
    return [wi - i for wi, i in zip(w, inc if b is None else b)], v, a, b


def _keras_adagrad(w, g, acc, lr, epsilon):
    acc = [ai + gi**2 for ai, gi in zip(acc, g)]
    return [wi - lr * gi / np.sqrt(ai + epsilon) for wi, gi, ai in zip(w, g, acc)], acc


def _pair(make):
    """Two arrays, of shapes (3, 4) and (2,): the kernels take one list entry per variable."""
    return lambda rng: [make(rng, 3, 4), make(rng, 2)]


def _scalar(value):
    return lambda rng: np.array(value)


# kernel -> (argument makers: a list maker, a 0-d array maker, None, or a Python value; float64 reference)
UPDATE_CASES = {
    "sgd_update": [
        ((_pair(normal), _pair(normal), None, _scalar(0.1), 0.0, False), _keras_sgd),
        ((_pair(normal), _pair(normal), _pair(normal), _scalar(0.1), 0.9, True), _keras_sgd),
        ((_pair(normal), _pair(normal), _pair(normal), _scalar(0.1), 0.9, False), _keras_sgd),
    ],
    "adam_update": [
        ((_pair(normal), _pair(normal), _pair(normal), _pair(positive), None, _scalar(0.01), 0.9, 0.999, 1e-7),
         _keras_adam),
        ((_pair(normal), _pair(normal), _pair(normal), _pair(positive), _pair(positive), _scalar(0.01), 0.9, 0.99,
          0.1), _keras_adam),
    ],
    "rmsprop_update": [
        ((_pair(normal), _pair(normal), _pair(positive), None, None, _scalar(0.01), 0.9, 0.0, 1e-7), _keras_rmsprop),
        ((_pair(normal), _pair(normal), _pair(positive), _pair(lambda rng, *s: normal(rng, *s) * 0.1),
          _pair(normal), _scalar(0.01), 0.8, 0.5, 1e-3), _keras_rmsprop),
    ],
    "adagrad_update": [((_pair(normal), _pair(normal), _pair(positive), _scalar(0.1), 1e-7), _keras_adagrad)],
    "weight_decay_update": [((_pair(normal), _scalar(0.004)), lambda w, decay: [wi - wi * decay for wi in w])],
}


def _tree(fn, value):
    """``fn`` applied to every array in a (nested) list or tuple; other leaves as they are."""
    if isinstance(value, (list, tuple)):
        return type(value)(_tree(fn, v) for v in value)
    return fn(value) if isinstance(value, np.ndarray) or hasattr(value, "shape") else value


def _leaves(value):
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def call(backend, kernel, raws, extra):
    fn = getattr(backend, kernel)
    return fn(raws, *extra) if kernel in LIST_INPUT else fn(*raws, *extra)


def is_floating(array):
    """Whether ``array`` holds one of gradcore's floating dtypes.

    Asks gradcore, not NumPy's ``dtype.kind``: ml_dtypes' bfloat16 has kind "V", not "f".
    """
    return gc.as_dtype(array.dtype).is_floating


def as_input(array, dtype):
    """A float array rounded to ``dtype``; integer arrays unchanged."""
    return array.astype(dtype.as_numpy_dtype) if is_floating(array) else array


def widened(array):
    """A float array of any width as float64, for the reference (SciPy refuses bfloat16)."""
    return array.astype(np.float64) if is_floating(array) else array


@pytest.fixture(scope="module")
def backends():
    own = NumpyBackend()
    return composite_view(own), own


def test_the_composite_view_has_every_optional_kernel_default_and_leaves_the_backend_alone(backends):
    composite, own = backends
    before = dict(vars(own))
    for name in OPTIONAL_KERNELS:
        assert getattr(composite, name).__func__ is getattr(Backend, name), name
    assert own.sigmoid.__func__ is not Backend.sigmoid  # the backend keeps its override
    assert vars(own) == before


def test_every_optional_kernel_has_cases():
    for kernel in OPTIONAL_KERNELS:
        assert kernel in KERNEL_CASES or kernel in UPDATE_CASES or kernel in COVERED_ELSEWHERE, (
            f"optional kernel {kernel!r} has no inputs in KERNEL_CASES or UPDATE_CASES; add them")


@pytest.mark.parametrize("kernel", [k for k in OPTIONAL_KERNELS if k not in UPDATE_CASES and k not in COVERED_ELSEWHERE])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_composite_matches_the_numpy_override_and_a_reference(kernel, dtype, backends):
    make_arrays, extra, reference = KERNEL_CASES[kernel]
    composite, own = backends
    arrays = [as_input(a, dtype) for a in make_arrays(np.random.default_rng(0))]
    raws = [own.asarray(a, gc.as_dtype(a.dtype)) for a in arrays]
    extra = tuple(dtype if e is DTYPE else e for e in extra)
    from_composite = call(composite, kernel, raws, extra)
    from_override = call(own, kernel, raws, extra)
    expected = reference(*[widened(a) for a in arrays], *extra)
    for result in (from_composite, from_override):
        assert own.dtype_of(result) is EXACT_RESULT.get(kernel, dtype), (
            f"{kernel} returned {own.dtype_of(result)} for {dtype}")
        assert tuple(result.shape) == np.shape(expected)
    if kernel in EXACT_RESULT:
        np.testing.assert_array_equal(from_composite, expected, err_msg=f"{kernel} composite")
        np.testing.assert_array_equal(from_override, expected, err_msg=f"{kernel} override")
        return
    assert_allclose(from_composite, from_override.astype(np.float64), dtype=dtype, err_msg=f"{kernel} composite")
    assert_allclose(from_composite, expected, dtype=dtype, err_msg=f"{kernel} composite vs reference")
    assert_allclose(from_override, expected, dtype=dtype, err_msg=f"{kernel} override vs reference")


@pytest.mark.parametrize("kernel", list(UPDATE_CASES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_update_composite_matches_the_numpy_override_and_a_reference(kernel, dtype, backends):
    """Each optimizer rule, every option: the composite and NumPy's own kernel agree exactly (the same
    operations in the same order), and both agree with a float64 reference within the dtype's tolerance."""
    composite, own = backends
    for makers, reference in UPDATE_CASES[kernel]:
        rng = np.random.default_rng(0)
        arguments = tuple(m(rng) if callable(m) else m for m in makers)
        inputs = _tree(lambda a: as_input(a, dtype), arguments)
        raws = _tree(lambda a: own.asarray(a, dtype), inputs)
        before = [np.array(a) for a in _leaves(raws) if hasattr(a, "shape")]
        from_composite, from_override = getattr(composite, kernel)(*raws), getattr(own, kernel)(*raws)
        assert all(np.array_equal(a, b) for a, b in zip(before, [a for a in _leaves(raws) if hasattr(a, "shape")]))
        expected = reference(*_tree(widened, inputs))
        assert [x is None for x in _leaves(from_composite)] == [x is None for x in _leaves(expected)]
        for got_c, got_o, want in zip(_leaves(from_composite), _leaves(from_override), _leaves(expected)):
            if want is None:
                assert got_c is None and got_o is None
                continue
            assert own.dtype_of(got_c) is dtype and own.dtype_of(got_o) is dtype
            assert tuple(got_c.shape) == tuple(got_o.shape) == np.shape(want)
            np.testing.assert_array_equal(np.asarray(got_c), np.asarray(got_o), err_msg=f"{kernel} composite")
            assert_allclose(got_c, want, dtype=dtype, err_msg=f"{kernel} composite vs reference")


def test_logsumexp_composite_survives_infinite_rows(backends):
    composite, _ = backends
    x = np.array([[-np.inf, -np.inf], [0.0, np.inf], [1.0, 2.0]])
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf is the answer for a -inf row
        result = composite.reduce_logsumexp(composite.asarray(x, gc.float64), (1,), False)
        expected = special.logsumexp(x, axis=1)
    np.testing.assert_array_equal(result[:2], expected[:2])  # -inf and +inf rows, not NaN
    assert_allclose(result[2], expected[2], dtype=gc.float64)


def test_environment_switch_forces_composites_in_a_whole_process():
    code = textwrap.dedent("""
        import json
        import numpy as np
        import gradcore as gc
        backend = gc.get_backend()
        own_calls = []
        original = backend.sigmoid
        backend.sigmoid = lambda x: own_calls.append(1) or original(x)
        x = gc.constant([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.0]], dtype=gc.float64)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = gc.reduce_sum(gc.tanh(x) + gc.sigmoid(x))
        print(json.dumps({
            "forced": not own_calls,
            "sigmoid": gc.sigmoid(x).numpy().tolist(),
            "rsqrt": gc.math.rsqrt(gc.abs(x)).numpy().tolist(),
            "mean": gc.reduce_mean(x, axis=1).numpy().tolist(),
            "logsumexp": gc.reduce_logsumexp(x, axis=0).numpy().tolist(),
            "grad": tape.gradient(y, x).numpy().tolist(),
        }))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADCORE_")}
    env["GRADCORE_FORCE_COMPOSITES"] = "1"
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    x = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.0]])
    assert out["forced"] is True
    s = special.expit(x)
    assert_allclose(out["sigmoid"], s, dtype=gc.float64)
    assert_allclose(out["rsqrt"], 1 / np.sqrt(np.abs(x)), dtype=gc.float64)
    assert_allclose(out["mean"], x.mean(axis=1), dtype=gc.float64)
    assert_allclose(out["logsumexp"], special.logsumexp(x, axis=0), dtype=gc.float64)
    assert_allclose(out["grad"], (1 - np.tanh(x) ** 2) + s * (1 - s), dtype=gc.float64)  # tanh_grad, sigmoid_grad


def test_force_composites_is_scoped_to_its_block_and_thread(monkeypatch):
    """Inside ``gc.force_composites()`` ops skip the backend's own optional kernel; outside, and in
    other threads meanwhile, they use it again."""
    import threading

    backend = gc.get_backend()
    own_calls = []
    original = backend.sigmoid
    monkeypatch.setattr(backend, "sigmoid", lambda x: own_calls.append(1) or original(x))
    x = gc.constant([0.5, -2.0])
    other_thread_calls = []

    def in_another_thread():
        gc.sigmoid(x)
        other_thread_calls.append(len(own_calls))

    with gc.force_composites():
        inside = gc.sigmoid(x)
        assert own_calls == []
        worker = threading.Thread(target=in_another_thread)
        worker.start()
        worker.join(timeout=30)
    assert other_thread_calls == [1]
    gc.sigmoid(x)
    assert len(own_calls) == 2
    assert_allclose(inside, special.expit(np.array([0.5, -2.0])), dtype=gc.float32)
