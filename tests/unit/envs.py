"""Which tox env runs a test: a backend-independent test runs in the numpy env only, to save CI time."""

import os

import pytest

numpy_env_only = pytest.mark.skipif(os.environ.get("GRADCORE_BACKEND", "numpy") != "numpy",
                                    reason="backend-independent: the numpy env runs it")
