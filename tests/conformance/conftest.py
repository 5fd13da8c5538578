"""The conformance suite lives in the package (gradcore/conformance), so that it ships in the wheel
and a third-party backend's author can run it (docs/writing-a-backend.md). This folder is its
runner in the repository: ``pytest tests/conformance[/test_x.py[::test_y]]`` runs the installed
suite's copy of those tests, on --gradcore-backend, else GRADCORE_BACKEND, else numpy.
"""

import importlib.util
from pathlib import Path

pytest_plugins = ["gradcore.conformance"]

HERE = Path(__file__).resolve().parent
# Found, not imported: pytest imports the plugin after this file, and only then rewrites its asserts.
SUITE_DIR = Path(importlib.util.find_spec("gradcore.conformance").submodule_search_locations[0]).resolve()


def pytest_configure(config):
    config.args = [_in_suite(arg) for arg in config.args]


def _in_suite(arg):
    """``arg`` with this folder's path replaced by the installed suite's (node ids keep their tail)."""
    path, sep, rest = arg.partition("::")
    resolved = Path(path).resolve()
    if resolved != HERE and HERE not in resolved.parents:
        return arg
    return str(SUITE_DIR / resolved.relative_to(HERE)) + sep + rest
