"""Op cases marked ``relative``: forward values against the float64 reference with rtol alone.

test_ops.py checks every case with the table's rtol and atol. For a case whose outputs are far
below 1 (cases/tiny_cases.py: log1p, expm1, sin, tanh of 1e-30 .. 1e-10) the atol alone would
pass a result with no correct digit, so here the same comparison runs with atol = 0: the kernel
must keep the relative precision that NumPy's float64 log1p/expm1/sin/tanh have there.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

from .cases import all_cases, inputs_for
from .harness import reproduction, rounded, to_gradcore

RELATIVE = [pytest.param(c, d, id=f"{c.name}-{d}") for c in all_cases() if c.relative for d in c.dtypes]


def test_there_are_relative_cases():
    assert len(RELATIVE) >= 8  # log1p, expm1, sin and tanh, tiny and float16-small


@pytest.mark.parametrize("case, dtype", RELATIVE)
def test_forward_matches_reference_relatively(case, dtype):
    arrays = inputs_for(case)
    expected = np.asarray(case.reference(*rounded(arrays, dtype)))
    assert np.all(expected != 0), "a relative case needs non-zero reference values"
    out = case.fn(*to_gradcore(case, arrays, dtype))
    assert out.dtype is gc.as_dtype(dtype) and out.shape == expected.shape, reproduction(case, dtype)
    assert_allclose(out, expected, dtype=out.dtype, err_msg=reproduction(case, dtype) + " (rtol only)", relative=True)
