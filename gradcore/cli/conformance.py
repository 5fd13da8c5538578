"""``gradcore conformance``: the conformance suite against any installed backend, with a verdict.

It runs the suite that ships in the wheel (gradcore/conformance) through pytest, isolated
from the configuration of the directory it is started in, prints pytest's progress, then
the op x dtype table and the counts (gradcore/conformance/report.py), and exits with
pytest's status: 0 when every test passed or was declared unsupported by the backend.
"""

import importlib.util
import os

import click

from gradcore.errors import BackendUnavailableError
from gradcore.plugin import discovery as plugins


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--backend", default=None, help="The backend to check [default: $GRADCORE_BACKEND, else numpy].")
@click.option("--device", default=None, help="Run every test inside gc.device(DEVICE), e.g. cuda:0.")
@click.option("-k", "keyword", default=None, metavar="EXPR", help="Only tests matching EXPR, as pytest -k.")
@click.option("--report", type=click.Path(dir_okay=False), default=None,
              help="Also write the summary to this file: .json or .md.")
@click.option("--xfails", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Expected failures: one suite id (or pattern with *) per line; entries that pass are reported stale.")
@click.option("-n", "--workers", default=None, metavar="N|auto",
              help="Run the tests in N processes (pytest-xdist); auto: one per CPU core.")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def conformance(backend, device, keyword, report, xfails, workers, pytest_args):
    """Run the conformance suite on a backend and print a summary table (op x dtype).

    Exits non-zero if any test fails. Arguments after the options go to pytest
    (e.g. -x, --tb=line, --hypothesis-seed=0).
    """
    backend = backend or os.environ.get(plugins.ENV_VAR) or plugins.DEFAULT_BACKEND
    try:
        plugins.load_backend(backend)
    except BackendUnavailableError as exc:
        raise click.ClickException(str(exc)) from None
    needed = ("pytest", "hypothesis", "scipy", *(("xdist",) if workers else ()))
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(
            f"the conformance suite needs the test extra ({', '.join(missing)} missing): pip install 'gradcore[test]'")
    import pytest

    # Found, not imported: pytest must import the suite itself to rewrite its asserts.
    suite = importlib.util.find_spec("gradcore.conformance").submodule_search_locations[0]
    args = [suite, "-p", "gradcore.conformance", "--gradcore-backend", backend,
            *_isolated(suite), *_optional(device, keyword, report, xfails, workers), *pytest_args]
    raise SystemExit(int(pytest.main(args)))


def _isolated(suite_dir):
    """Ignore the caller's pytest configuration (an unrelated pyproject's addopts) and cache."""
    return ["-c", os.devnull, "--rootdir", suite_dir, "-p", "no:cacheprovider", "--import-mode=importlib",
            "-q", "-ra"]


def _optional(device, keyword, report, xfails, workers):
    pairs = (("--gradcore-device", device), ("-k", keyword), ("--gradcore-report", report),
             ("--gradcore-xfails", xfails), ("-n", workers))
    return [part for flag, value in pairs if value is not None for part in (flag, value)]
