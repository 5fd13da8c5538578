"""The ``gradcore`` command: what is installed and which backends can run, and a demo.

``gradcore info`` lists every registered backend, built-in or from a third-party
distribution, with its version, whether it can be used (and why not) and its
devices. Asking for devices loads each available backend, which importing
gradcore never does; a backend that fails to load is reported, not raised.

``gradcore demo`` trains a small CNN on scikit-learn's digits (gradcore/cli/demo.py).

``gradcore launch -n N script.py`` runs N workers of a script through torchrun (gradcore/cli/launch.py).

``gradcore conformance --backend NAME`` runs the conformance suite on a backend (gradcore/cli/conformance.py).
"""

import os
import time

import click

from gradcore import __version__
from gradcore.cli import demo as digits_demo  # the name demo is the command's
from gradcore.cli.conformance import conformance
from gradcore.cli.launch import launch
from gradcore.errors import BackendUnavailableError, GradcoreError
from gradcore.plugin import discovery as plugins

COLUMNS = ("backend", "origin", "version", "status", "devices")


def backend_rows():
    """One dict per backend and failed plugin, loading the available backends to ask for devices."""
    return [_backend_row(spec) for spec in plugins.discover().values()]


def _backend_row(spec):
    devices = _devices(spec)  # first: a failed load() becomes the reason read next
    reason = spec.unavailable_reason()
    return {
        "backend": spec.name,
        "origin": spec.origin,
        "version": _text_or_error(spec.version, "version()"),
        "status": "available" if reason is None else f"unavailable: {reason}",
        "devices": devices,
    }


def _devices(spec):
    if spec.try_load() is not None:
        return "-"
    return _text_or_error(lambda: ", ".join(spec.instance.devices()) or "-", "devices()")


def _text_or_error(call, what):
    """call()'s result as text, or what it raised: one broken backend must not break the table."""
    try:
        return str(call())
    except Exception as exc:  # noqa: BLE001 - reported in the table instead
        return f"{what} raised {plugins.describe_exception(exc)}"


def format_table(rows):
    widths = {c: max([len(c)] + [len(r[c]) for r in rows]) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in COLUMNS).rstrip() for r in rows]
    return "\n".join(lines)


@click.group()
@click.version_option(__version__, prog_name="gradcore")
def main():
    """gradcore: TensorFlow 2's eager autodiff on swappable array backends."""


@main.command()
def info():
    """List the registered backends: origin, version, availability and devices."""
    click.echo(f"gradcore {__version__}")
    autoload = plugins.describe_autoload()
    if autoload:
        click.echo(autoload)
    click.echo(f"default backend: {_default_backend()}\n")
    click.echo(format_table(backend_rows()))


@main.command()
@click.option("--epochs", type=click.IntRange(min=1), default=digits_demo.EPOCHS, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the split, the weights and the shuffle.")
@click.option("--backend", default=None, help="numpy, torch, jax ... [default: $GRADCORE_BACKEND, else numpy]")
@click.option("--require-accuracy", type=click.FloatRange(0, 1), is_flag=False,
              flag_value=digits_demo.TARGET_ACCURACY, default=None, metavar="[FRACTION]",
              help=f"Exit with status 1 if the final validation accuracy is below FRACTION "
                   f"(given bare: {digits_demo.TARGET_ACCURACY}).")
@click.option("--eager", is_flag=True, help="Run train_step and test_step op by op, without gc.function.")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="Where the run's checkpoints and TensorBoard summaries go [default: runs/digits-<time>].")
@click.option("--resume", "resume_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Continue the run in this directory where it stopped (its seed and epochs).")
def demo(epochs, seed, backend, require_accuracy, eager, run_dir, resume_dir):
    """Train a small CNN on scikit-learn's 8x8 digits with a custom training loop.

    After every epoch it saves a checkpoint and writes TensorBoard summaries to the run
    directory; `gradcore demo --resume DIR` continues a run that stopped.
    """
    if resume_dir is not None:
        run_dir = resume_dir
        seed, epochs = digits_demo.read_run_settings(run_dir, seed, epochs)
    elif run_dir is None:
        run_dir = os.path.join("runs", time.strftime("digits-%Y%m%d-%H%M%S"))
    try:
        digits_demo.write_run_settings(run_dir, seed, epochs)
        result = digits_demo.run(epochs=epochs, seed=seed, backend=backend, echo=click.echo, eager=eager,
                                 run_dir=run_dir)
    except (BackendUnavailableError, ImportError, GradcoreError) as exc:
        raise click.ClickException(str(exc)) from None
    if result.history:
        click.echo(f"validation accuracy {result.val_accuracy:.2%} after {epochs} epochs "
                   f"in {result.seconds:.1f} s on the {result.backend} backend")
    else:
        click.echo(f"the run in {run_dir} has finished its {epochs} epochs")
    click.echo(f"checkpoints and summaries in {run_dir}: tensorboard --logdir {run_dir}")
    if require_accuracy is not None and result.val_accuracy < require_accuracy:
        click.echo(f"below the required {require_accuracy:.2%}", err=True)
        raise SystemExit(1)


main.add_command(launch)
main.add_command(conformance)


def _default_backend():
    chosen = os.environ.get(plugins.ENV_VAR)
    if chosen:
        return f"{chosen} (from ${plugins.ENV_VAR})"
    return f"{plugins.DEFAULT_BACKEND} (set ${plugins.ENV_VAR} or call gc.set_backend to change)"


if __name__ == "__main__":
    main()
