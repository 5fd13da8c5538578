"""gradcore on each backend, side by side in one run with that backend's own autodiff.

    python benchmarks/bench_autodiff.py            # the table in the README
    python benchmarks/bench_autodiff.py --memory   # also: 1,000 MLP steps, memory must stay flat
    python benchmarks/bench_autodiff.py --quick    # one short repeat: checks it runs, measures nothing
    python benchmarks/bench_autodiff.py --compile  # also torch.compile: gc.function(jit_compile=True) and torch's

Workloads (bench_systems.py writes each once per system, the same math in float32):

- chain: 100 elementwise ops (tanh, exp, sin, multiply, add, repeated) on a
  64-vector, then a sum; forward plus gradient, reported per op in microseconds.
  On arrays this small the kernels cost little, so this measures autodiff overhead.
- mlp: one training step of a 784-256-256-10 ReLU MLP at batch 128: forward,
  softmax cross-entropy, gradient, SGD update; reported per step in milliseconds.
- mlp_adam: the same step with an Adam update (lr 1e-3): gc.optimizers.Adam,
  torch.optim.Adam, optax.adam under jax.jit, and a hand-written Adam for HIPS
  autograd and jax eager, which have none of their own.
- matmul: loss = sum(tanh(a @ b)) for 1024x1024 a and b, forward plus the
  gradients for a and b (three matmuls in all); milliseconds. The kernels cost
  nearly everything here, so gradcore should cost what its backend costs.

Systems: gradcore on numpy, torch and jax, eagerly and with each step under
gc.function (the step's data passed in as arguments, as a train_step gets its
batch); HIPS autograd (numpy's peer, as numpy has no autodiff of its own); torch
eager (torch.autograd, torch.optim); jax eager (jax.grad op by op, no jit);
jax.jit (each whole step compiled, with optax when installed). With --compile:
gc.function(jit_compile=True) on torch and torch.compile of the native forward
pass. Systems missing their library are skipped. Each ratio in RATIOS divides a
gradcore column by a peer; TARGETS are the budgets, and the run says which are
met. The first two calls of each step (for gc.function: its trace and compilation)
are timed on their own and reported after the table.

Repeats of the systems are interleaved, so machine noise hits all of them
alike, and the fastest repeat is reported: noise only ever adds time, so the
minimum is the best estimate of what the code itself costs (as timeit's
documentation advises).
"""

import contextlib
import gc as pygc
import importlib.metadata
import importlib.util
import os
import platform
import timeit
import tracemalloc
from typing import NamedTuple

import click
import numpy as np
from bench_systems import BATCH, CHAIN_OPS, CHAIN_SIZE, COMPILED_SYSTEMS, MATMUL_SIZE, MLP_SIZES, SYSTEMS

# Traced memory a run of training steps may gain: leaking even one 64-float tensor
# per step over 200 steps (about 85 KiB) exceeds it.
MEMORY_BOUND_KIB = 64

# Each gradcore column over the native autodiff of its backend (numpy has none: HIPS autograd stands in).
# Under gc.function: numpy against gradcore[numpy] eager (numpy has nothing compiled of its own), torch
# against torch eager, jax against jax.jit, torch's jit_compile against torch.compile.
RATIOS = [("gradcore[numpy]", "autograd"), ("gradcore[torch]", "torch"), ("gradcore[jax]", "jax"),
          ("gradcore[numpy]+function", "gradcore[numpy]"), ("gradcore[torch]+function", "torch"),
          ("gradcore[jax]+function", "jax.jit"), ("gradcore[torch]+jit", "torch.compile")]
# (subject, peer, workload method) -> the largest ratio allowed: the per-op path is what users feel
# (docs/architecture.md section 2), so each gradcore column must keep up with its native peer.
TARGETS = {
    ("gradcore[numpy]", "autograd", "chain_step"): 1.0,
    ("gradcore[torch]", "torch", "chain_step"): 2.0,
    ("gradcore[torch]", "torch", "mlp_step"): 1.3,
    ("gradcore[torch]", "torch", "mlp_adam_step"): 1.2,
    ("gradcore[numpy]", "autograd", "matmul_step"): 1.05,
    ("gradcore[torch]", "torch", "matmul_step"): 1.05,
    ("gradcore[jax]", "jax", "matmul_step"): 1.05,
    # gc.function: as fast as each backend's own compiled or native path (docs/function.md).
    ("gradcore[numpy]+function", "gradcore[numpy]", "chain_step"): 1 / 3,
    ("gradcore[numpy]+function", "gradcore[numpy]", "mlp_step"): 0.9,
    ("gradcore[torch]+function", "torch", "chain_step"): 1.0,
    ("gradcore[torch]+function", "torch", "mlp_step"): 1.0,
    ("gradcore[torch]+function", "torch", "mlp_adam_step"): 1.0,
    ("gradcore[jax]+function", "jax.jit", "chain_step"): 1.5,
    ("gradcore[jax]+function", "jax.jit", "mlp_step"): 1.1,
    ("gradcore[jax]+function", "jax.jit", "mlp_adam_step"): 1.1,
}


class Workload(NamedTuple):
    title: str
    method: str  # the System method that builds one step as a zero-argument callable
    unit: str
    scale: float  # seconds -> unit
    per: int  # what one step is divided by (ops per step for a per-op figure)


WORKLOADS = [
    Workload(f"chain of {CHAIN_OPS} elementwise ops, {CHAIN_SIZE}-vector, fwd+grad", "chain_step",
             "us/op", 1e6, CHAIN_OPS),
    Workload(f"MLP {'-'.join(map(str, MLP_SIZES))} train step, batch {BATCH}", "mlp_step",
             "ms/step", 1e3, 1),
    Workload(f"MLP {'-'.join(map(str, MLP_SIZES))} train step with Adam, batch {BATCH}", "mlp_adam_step",
             "ms/step", 1e3, 1),
    Workload(f"matmul {MATMUL_SIZE}x{MATMUL_SIZE}, sum(tanh(a@b)), fwd+grad", "matmul_step",
             "ms", 1e3, 1),
]


# ---- timing --------------------------------------------------------------------------------


def calibrate(step, min_seconds):
    """How many calls make one repeat last at least ``min_seconds``."""
    number = 1
    while True:
        elapsed = timeit.timeit(step, number=number)
        if elapsed >= min_seconds:
            return number
        number = max(number * 2, int(number * min_seconds / max(elapsed, 1e-9)) + 1)


def measure(steps, repeats, min_seconds):
    """Seconds per call of each step (its fastest repeat), the repeats of all steps interleaved."""
    numbers = {name: calibrate(step, min_seconds) for name, step in steps.items()}
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            samples[name].append(timeit.timeit(step, number=numbers[name]) / numbers[name])
    return {name: min(times) for name, times in samples.items()}


def run_benchmarks(systems, repeats, min_seconds):
    """({workload title: {system name: value in the workload's unit}}, {title: {name: first two calls in s}})."""
    results, first_calls = {}, {}
    for work in WORKLOADS:
        steps = {s.name: getattr(s, work.method)() for s in systems}
        # The first two calls, timed alone: imports, caches, first allocations, and for gc.function
        # and the jits, the trace and compilation (gc.function on numpy and torch traces on the first
        # call and compiles its program on the second).
        first_calls[work.title] = {name: timeit.timeit(step, number=2) for name, step in steps.items()}
        seconds = measure(steps, repeats, min_seconds)
        results[work.title] = {name: t * work.scale / work.per for name, t in seconds.items()}
    return results, first_calls


def present_ratios(names):
    return [(a, b) for a, b in RATIOS if a in names and b in names]


def format_table(results, systems):
    names = [s.name for s in systems]
    ratios = present_ratios(names)
    header = ["workload", "unit"] + names + [f"{a}/{b}" for a, b in ratios]
    rows = []
    for work in WORKLOADS:
        values = results[work.title]
        rows.append([work.title, work.unit] + [f"{values[n]:.4g}" for n in names]
                    + [f"{values[a] / values[b]:.2f}" for a, b in ratios])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


COMPILING = ("+function", "+jit", ".jit", ".compile")


def format_first_calls(first_calls, systems):
    """The first two calls of each compiling system, per workload: what tracing and compiling cost once."""
    names = [s.name for s in systems if s.name.endswith(COMPILING)]
    lines = ["first two calls (trace and compile), seconds: " + ", ".join(names)]
    for work in WORKLOADS:
        values = first_calls[work.title]
        lines.append(f"  {work.method.removesuffix('_step')}: " + ", ".join(f"{values[n]:.2f}" for n in names))
    return "\n".join(lines)


def format_targets(results, systems):
    """One line per target whose two systems ran: the ratio, the budget, met or missed."""
    ratios = present_ratios([s.name for s in systems])
    lines = []
    for work in WORKLOADS:
        values = results[work.title]
        for a, b in ratios:
            limit = TARGETS.get((a, b, work.method))
            if limit is not None:
                ratio = values[a] / values[b]
                verdict = "met" if ratio <= limit else "MISSED"
                lines.append(f"target {a}/{b} <= {limit:.2f} on {work.method.removesuffix('_step')}: "
                             f"{ratio:.2f} {verdict}")
    return "\n".join(lines)


# ---- threads -------------------------------------------------------------------------------


def configure_jax(threads):
    """Before jax starts its CPU client, which reads these settings once.

    One XLA thread when one is asked for. Synchronous dispatch: jax on CPU
    returns before its kernels finish, and gradcore[jax] has no
    block_until_ready, so without it a step's time would leave out its kernels.
    """
    if importlib.util.find_spec("jax") is None:
        return
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    import jax

    jax.config.update("jax_cpu_enable_async_dispatch", False)


@contextlib.contextmanager
def thread_limit(threads):
    """Cap BLAS (and torch's) threads: a multi-threaded matmul on a busy machine spins and its timings scatter."""
    if not threads:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch = importlib.import_module("torch") if importlib.util.find_spec("torch") else None
    torch_threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(threads)  # torch's own pool runs its matmuls; threadpoolctl cannot see it
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        if torch:
            torch.set_num_threads(torch_threads)


# ---- memory --------------------------------------------------------------------------------


def rss_mib():
    """Resident set size now (Linux /proc), in MiB; None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return None


def memory_growth(step, steps, warmup=20):
    """(traced Python KiB, RSS MiB) grown over ``steps`` calls after ``warmup`` calls.

    Tracing starts before the warm-up, so both readings count the arrays a step
    replaces (a Variable's new value is allocated by the step, under tracing).
    """
    tracemalloc.start()
    try:
        for _ in range(warmup):
            step()
        pygc.collect()
        rss_before, traced_before = rss_mib(), tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            step()
        pygc.collect()
        traced_after, rss_after = tracemalloc.get_traced_memory()[0], rss_mib()
    finally:
        tracemalloc.stop()
    rss = None if rss_before is None else rss_after - rss_before
    return (traced_after - traced_before) / 1024, rss


def available_systems(candidates):
    systems = []
    for system in candidates:
        reason = system.available()
        if reason:
            click.echo(f"skipping {system.name}: {reason}", err=True)
        else:
            systems.append(system)
    return systems


def versions():
    """The peers' libraries that are installed, with their versions."""
    found = []
    for name in ("torch", "jax", "autograd", "optax"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    return found


@click.command()
@click.option("--repeats", default=7, show_default=True, help="timed repeats per system (fastest reported)")
@click.option("--min-seconds", default=0.2, show_default=True, help="minimum length of one repeat")
@click.option("--quick", is_flag=True, help="one repeat of >= 0.01s: checks that every system runs")
@click.option("--blas-threads", default=1, show_default=True,
              help="BLAS, torch and XLA threads for every system; 0 keeps each library's default")
@click.option("--memory/--no-memory", default=False,
              help=f"also run MLP steps; exit 1 if traced memory grows over {MEMORY_BOUND_KIB} KiB")
@click.option("--memory-steps", default=1000, show_default=True)
@click.option("--compile", "with_compile", is_flag=True,
              help="also gc.function(jit_compile=True) on torch and torch.compile (minutes of compiling)")
def main(repeats, min_seconds, quick, blas_threads, memory, memory_steps, with_compile):
    """Time gradcore against its peers and print a Markdown table."""
    if quick:
        repeats, min_seconds = 1, 0.01
    configure_jax(blas_threads)
    systems = available_systems(SYSTEMS + (COMPILED_SYSTEMS if with_compile else []))
    click.echo(", ".join([f"Python {platform.python_version()}", f"NumPy {np.__version__}", *versions(),
                          platform.machine(), f"{os.cpu_count()} CPUs"])
               + f"; threads: {blas_threads or 'default'}; fastest of {repeats} interleaved repeats "
                 f"of >= {min_seconds}s each")
    with thread_limit(blas_threads):
        results, first_calls = run_benchmarks(systems, repeats, min_seconds)
    click.echo(format_table(results, systems))
    click.echo(format_targets(results, systems))
    click.echo(format_first_calls(first_calls, systems))
    if memory:
        traced, rss = memory_growth(SYSTEMS[0].mlp_step(), memory_steps)
        rss_text = "n/a" if rss is None else f"{rss:+.1f} MiB"
        click.echo(f"\nmemory, {memory_steps} MLP train steps on {SYSTEMS[0].name} with a non-persistent "
                   f"tape: traced Python memory {traced:+.1f} KiB, RSS {rss_text}")
        if traced > MEMORY_BOUND_KIB:
            raise click.ClickException(f"traced memory grew by more than {MEMORY_BOUND_KIB} KiB")


if __name__ == "__main__":
    main()
