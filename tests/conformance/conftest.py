"""Runs the conformance suite against ONE backend: --gradcore-backend, else GRADCORE_BACKEND, else numpy."""

import os

import pytest

import gradcore as gc


def pytest_addoption(parser):
    parser.addoption("--gradcore-backend", default=None, help="backend to run the conformance suite on")


def pytest_configure(config):
    name = config.getoption("--gradcore-backend") or os.environ.get("GRADCORE_BACKEND") or "numpy"
    gc.set_backend(name)


def pytest_ignore_collect(collection_path, config):
    """Cross-backend and native-oracle checks need a backend other than numpy to compare."""
    if collection_path.name in ("test_cross_backend.py", "test_native_oracles.py"):
        return gc.get_backend().name == "numpy"
    return None


def pytest_report_header(config):
    backend = gc.get_backend()
    return f"gradcore backend: {backend.name} {backend.version()} devices={backend.devices()}"


@pytest.fixture
def backend():
    return gc.get_backend()


@pytest.fixture(params=["eager", "gc.function"])
def compiled(request):
    """``fn`` itself, or ``gc.function(fn)``: a check that takes this runs both ways (docs/function.md)."""
    return (lambda fn: fn) if request.param == "eager" else gc.function
