"""Checkpoint save and restore throughput: gradcore's format next to plain safetensors.

    python benchmarks/bench_checkpoint.py            # 100 MB of float32 arrays, the table in docs/checkpoint_format.md
    python benchmarks/bench_checkpoint.py --quick    # 1 MB, one repeat: checks it runs, measures nothing

The arrays are shaped like a model's: an embedding and four dense kernels make
almost all of the bytes, a hundred bias and norm vectors and a few scalars
make most of the keys. Systems:

- safetensors: ``safetensors.numpy.save_file`` / ``load_file`` of the same arrays;
- safetensors+fsync: the same save followed by an fsync of the file, i.e. what
  a save costs once it is on disk (gradcore's save always is: it flushes its
  two files and their directory, docs/checkpoint_format.md "Crash safety");
- gradcore: ``write_checkpoint`` / ``read_checkpoint`` (gradcore/train/format.py),
  which also compute and verify a CRC-32 per array and write the JSON index;
- gradcore without fsync: a diagnostic save with ``os.fsync`` stubbed out, to
  show what the format costs apart from flushing (never how gradcore runs).

Each timed save writes to names whose old files were deleted beforehand, for
every system alike. Repeats are interleaved so machine noise hits all systems
alike, and the fastest repeat is reported (noise only ever adds time). The
target is gradcore's time at most 1.2x safetensors' for save and for load.
"""

import contextlib
import os
import platform
import tempfile
import time

import click
import numpy as np

from gradcore.train import format as checkpoint_format
from gradcore.train.files import fsync_file

TARGET = 1.2  # gradcore's time over safetensors', save and load
SMALL_VECTORS = 100
SCALARS = 8


def model_arrays(megabytes, seed=0):
    """float32 arrays of about ``megabytes`` MB: 24 w^2 floats in five matrices, plus small vectors."""
    width = max(8, round((megabytes * 1e6 / 4 / 24) ** 0.5))
    rng = np.random.default_rng(seed)
    shapes = {"embedding": (8 * width, width)}
    shapes.update({f"dense_{i}/kernel": (width, 4 * width) for i in range(4)})
    shapes.update({f"layer_{i}/bias": (width,) for i in range(SMALL_VECTORS)})
    shapes.update({f"scalar_{i}": () for i in range(SCALARS)})
    return {key: rng.standard_normal(shape, dtype=np.float32) for key, shape in shapes.items()}


class Files:
    """The paths each system writes to, deleted before every timed save."""

    def __init__(self, directory):
        self.safetensors = os.path.join(directory, "plain.safetensors")
        self.prefix = os.path.join(directory, "ckpt-1")

    def clear(self, system):
        if system == "gradcore":
            checkpoint_format.remove_checkpoint(self.prefix)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.safetensors)


@contextlib.contextmanager
def no_fsync():
    """Diagnostic only: os.fsync does nothing, to show what the format costs apart from flushing."""
    real = os.fsync
    os.fsync = lambda fd: None
    try:
        yield
    finally:
        os.fsync = real


def operations(arrays, paths):
    """{(operation, system): a zero-argument callable}; each load reads what its system's save wrote."""
    from safetensors.numpy import load_file, save_file

    def save_and_fsync():
        save_file(arrays, paths.safetensors)
        fsync_file(paths.safetensors)

    def save_without_fsync():
        with no_fsync():
            checkpoint_format.write_checkpoint(paths.prefix, arrays, {"backend": "numpy"})

    return {
        ("save", "safetensors"): lambda: save_file(arrays, paths.safetensors),
        ("save", "safetensors+fsync"): save_and_fsync,
        ("save", "gradcore"): lambda: checkpoint_format.write_checkpoint(paths.prefix, arrays, {"backend": "numpy"}),
        ("save", "gradcore without fsync"): save_without_fsync,
        ("load", "safetensors"): lambda: load_file(paths.safetensors),
        ("load", "gradcore"): lambda: checkpoint_format.read_checkpoint(paths.prefix),
    }


def measure(arrays, directory, repeats):
    """{(operation, system): fastest seconds}, the repeats of all systems interleaved."""
    paths = Files(directory)
    steps = operations(arrays, paths)
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for (operation, system), step in steps.items():
            if operation == "save":
                paths.clear("gradcore" if system.startswith("gradcore") else system)
            start = time.perf_counter()
            step()
            samples[(operation, system)].append(time.perf_counter() - start)
    return {name: min(times) for name, times in samples.items()}


ROWS = [("save", "safetensors"), ("save", "safetensors+fsync"), ("load", "safetensors")]
HEADER = ["operation", "peer", "peer s", "peer MB/s", "gradcore s", "gradcore MB/s", "gradcore/peer"]


def format_table(seconds, megabytes):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for operation, peer in ROWS:
        ours, theirs = seconds[(operation, "gradcore")], seconds[(operation, peer)]
        row = [operation, peer, f"{theirs:.4g}", f"{megabytes / theirs:.0f}", f"{ours:.4g}",
               f"{megabytes / ours:.0f}", f"{ours / theirs:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def format_targets(seconds):
    lines = []
    for operation in ("save", "load"):
        ratio = seconds[(operation, "gradcore")] / seconds[(operation, "safetensors")]
        lines.append(f"target gradcore/safetensors <= {TARGET:.2f} on {operation}: {ratio:.2f} "
                     f"{'met' if ratio <= TARGET else 'MISSED'}")
    fsync = seconds[("save", "safetensors+fsync")] - seconds[("save", "safetensors")]
    lines.append(f"fsync of the data file alone: {fsync:.4g} s (safetensors+fsync minus safetensors)")
    unflushed = seconds[("save", "gradcore without fsync")]
    lines.append(f"diagnostic, gradcore save with os.fsync stubbed out: {unflushed:.4g} s, "
                 f"{unflushed / seconds[('save', 'safetensors')]:.2f}x safetensors")
    return "\n".join(lines)


@click.command()
@click.option("--megabytes", default=100.0, show_default=True, help="size of the array set")
@click.option("--repeats", default=5, show_default=True, help="interleaved repeats (fastest reported)")
@click.option("--directory", default=None, help="where the files go (default: the system's temporary folder)")
@click.option("--quick", is_flag=True, help="1 MB, one repeat: checks that everything runs")
def main(megabytes, repeats, directory, quick):
    """Time gradcore's checkpoint format against plain safetensors and print a Markdown table."""
    import safetensors

    if quick:
        megabytes, repeats = 1.0, 1
    arrays = model_arrays(megabytes)
    size_mb = sum(a.nbytes for a in arrays.values()) / 1e6
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        seconds = measure(arrays, folder, repeats)
    click.echo(f"Python {platform.python_version()}, NumPy {np.__version__}, safetensors {safetensors.__version__}, "
               f"{os.cpu_count()} CPUs; {len(arrays)} float32 arrays, {size_mb:.1f} MB; fastest of {repeats} "
               f"interleaved repeats")
    click.echo(format_table(seconds, size_mb))
    click.echo(format_targets(seconds))


if __name__ == "__main__":
    main()
