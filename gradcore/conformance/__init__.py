"""The conformance suite: every backend gives the same values, gradients and errors.

It ships in the wheel so that the author of a third-party backend can run it against
their installed plugin (docs/writing-a-backend.md):

    gradcore conformance --backend NAME                 # the command: a verdict and a summary table
    pytest -p gradcore.conformance --gradcore-backend NAME   # the same suite from pytest, e.g. in CI

This module is the pytest plugin (gradcore/conformance/plugin.py); the test modules beside it
are the suite, and ``cases/`` holds the op cases they share. Importing it needs the ``test``
extra (pytest, hypothesis, SciPy).
"""

from gradcore.conformance.plugin import (
    SUITE_DIR,
    backend,
    compiled,
    pytest_addoption,
    pytest_configure,
    pytest_ignore_collect,
    pytest_report_header,
    pytest_report_teststatus,
    pytest_runtest_makereport,
    run_on_device,
)

__all__ = [
    "SUITE_DIR",
    "backend",
    "compiled",
    "pytest_addoption",
    "pytest_configure",
    "pytest_ignore_collect",
    "pytest_report_header",
    "pytest_report_teststatus",
    "pytest_runtest_makereport",
    "run_on_device",
]
