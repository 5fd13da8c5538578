"""The pytest plugin behind the conformance suite: which backend, which device, and the verdict.

- ``--gradcore-backend NAME`` (else GRADCORE_BACKEND, else numpy) is the one backend the suite
  runs on; ``--gradcore-device DEV`` runs every test inside ``gc.device(DEV)``.
- Given ``--gradcore-backend`` and no paths, pytest collects the installed suite (this folder),
  so ``pytest -p gradcore.conformance --gradcore-backend NAME`` runs it from anywhere.
- A test that fails only because the backend declared a gap (``gc.UnimplementedError`` with a
  ``gap``: a dtype not in its ``dtypes``, a kernel in its ``unsupported_kernels``) is reported
  as ``unsupported``: neither failed nor passed, and counted (docs/writing-a-backend.md).
- ``--gradcore-xfails FILE`` lists tests expected to fail; an entry whose tests now pass is
  reported as stale (gradcore/conformance/expected_failures.py).
- At the end, a table of op x dtype (gradcore/conformance/report.py); ``--gradcore-report FILE``
  writes it as JSON (``.json``) or Markdown (``.md``).
"""

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import settings

import gradcore as gc
from gradcore.conformance import expected_failures, report
from gradcore.errors import BackendUnavailableError, UnimplementedError

SUITE_DIR = Path(__file__).resolve().parent
UNSUPPORTED = "unsupported"
_COUNTED = "gradcore-counted"  # the user property that carries (suite id, op rows, dtype) to the verdict


def pytest_addoption(parser):
    group = parser.getgroup("gradcore", "gradcore conformance suite")
    group.addoption("--gradcore-backend", default=None,
                    help="backend to run the conformance suite on [default: $GRADCORE_BACKEND, else numpy]")
    group.addoption("--gradcore-device", default=None, help="run every test inside gc.device(DEV), e.g. cuda:0")
    group.addoption("--gradcore-xfails", default=None, metavar="FILE",
                    help="tests expected to fail on this backend, one suite id or glob per line")
    group.addoption("--gradcore-report", default=None, metavar="FILE",
                    help="write the op x dtype summary to FILE (.json or .md)")


def pytest_configure(config):
    name = config.getoption("--gradcore-backend") or os.environ.get("GRADCORE_BACKEND") or "numpy"
    try:
        gc.set_backend(name)
    except BackendUnavailableError as exc:
        raise pytest.UsageError(str(exc)) from None
    # The property tests' budgets are fixed in the tests; no example database in the caller's directory.
    settings.register_profile("gradcore-conformance", database=None)
    settings.load_profile("gradcore-conformance")
    config.addinivalue_line("markers", "gradcore_dtype(name): the dtype a test runs in, for the summary table")
    xfails = config.getoption("--gradcore-xfails")
    expected = expected_failures.read(xfails) if xfails else expected_failures.ExpectedFailures()
    _check_report_path(config.getoption("--gradcore-report"))
    config.pluginmanager.register(Verdict(expected, config.getoption("--gradcore-report")), "gradcore-verdict")
    if config.getoption("--gradcore-backend") and config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args = [str(SUITE_DIR)]


def _check_report_path(path):
    if path and Path(path).suffix not in report.FORMATS:
        raise pytest.UsageError(f"--gradcore-report {path}: the name must end in one of {', '.join(report.FORMATS)}")


def pytest_ignore_collect(collection_path, config):
    """Cross-backend and native-oracle checks need a backend other than numpy to compare."""
    if collection_path.name in ("test_cross_backend.py", "test_native_oracles.py"):
        return gc.get_backend().name == "numpy" or None
    return None


def pytest_report_header(config):
    backend = gc.get_backend()
    device = config.getoption("--gradcore-device")
    return (f"gradcore backend: {backend.name} {backend.version()} devices={backend.devices()}"
            + (f" running on {device}" if device else ""))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure caused by a declared gap becomes an ``unsupported`` report (see the module docstring).

    The report carries what the verdict needs (suite id, op rows, dtype) as user properties,
    because under pytest-xdist it is made in a worker and counted in the controller.
    """
    rep = yield
    gap = _declared_gap(call.excinfo) if rep.failed and call.excinfo is not None else None
    if gap is not None:
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), item.location[1] or 0, f"{UNSUPPORTED}: {gap[0]} {gap[1]}")
        rep.user_properties.append((UNSUPPORTED, gap))
    if rep.when == "call" or not rep.passed:  # a setup that skipped or failed has no call; a teardown error counts
        rep.user_properties.append((_COUNTED, (suite_id(item), *report.placement(item))))
    return rep


def _declared_gap(excinfo):
    """The (kind, name) gap of the UnimplementedError behind a failure, if one is in its chain."""
    error, seen = excinfo.value, set()
    while error is not None and id(error) not in seen:
        if isinstance(error, UnimplementedError) and error.gap is not None:
            return error.gap
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def pytest_report_teststatus(report, config):
    if any(key == UNSUPPORTED for key, _ in getattr(report, "user_properties", ())):
        return UNSUPPORTED, "u", "UNSUPPORTED"
    return None


class Verdict:
    """The run's verdict: marks the expected failures, counts every report, prints the table.

    A plugin object per run. Under pytest-xdist the workers collect and run (``mark``) and the
    controller, which sees every report, counts and prints; without it one process does all.
    """

    def __init__(self, expected, report_path):
        self.results = report.Results()
        self.expected = expected
        self.report_path = report_path

    def pytest_collection_modifyitems(self, items):
        self.expected.mark(items, suite_id)

    def pytest_runtest_logreport(self, report):
        properties = dict(report.user_properties)
        if _COUNTED in properties:
            sid, rows, dtype = properties[_COUNTED]
            self.results.add(sid, rows, dtype, report, properties.get(UNSUPPORTED))
            self.expected.record(sid)

    def pytest_terminal_summary(self, terminalreporter):
        if not self.results.outcomes:
            return
        backend = gc.get_backend()
        summary = self.results.summary(backend, self.expected)
        terminalreporter.write_sep("=", f"gradcore conformance: {backend.name}")
        terminalreporter.write_line(report.format_text(summary))
        if self.report_path:
            report.write(summary, self.report_path)
            terminalreporter.write_line(f"report written to {self.report_path}")


def suite_id(item):
    """The item's id relative to the suite folder, the same wherever gradcore is installed."""
    path = Path(item.path)
    try:
        relative = path.resolve().relative_to(SUITE_DIR).as_posix()
    except ValueError:  # a test outside the suite (an author's own, run alongside it)
        relative = path.name
    return relative + item.nodeid[item.nodeid.index("::"):] if "::" in item.nodeid else relative


@pytest.fixture(autouse=True)
def run_on_device(request):
    """Every test inside ``gc.device(--gradcore-device)`` when one is given."""
    device = request.config.getoption("--gradcore-device")
    with gc.device(device) if device else contextlib.nullcontext():
        yield


@pytest.fixture
def backend():
    return gc.get_backend()


@pytest.fixture(params=["eager", "gc.function"])
def compiled(request):
    """``fn`` itself, or ``gc.function(fn)``: a check that takes this runs both ways (docs/function.md)."""
    return (lambda fn: fn) if request.param == "eager" else gc.function
