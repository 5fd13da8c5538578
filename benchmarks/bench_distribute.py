"""gradcore's all-reduce against torch.distributed's own, side by side, in 2 local workers on gloo.

    python benchmarks/bench_distribute.py                      # the table in docs/multi_worker.md
    python benchmarks/bench_distribute.py --quick              # one short repeat: checks it runs, measures nothing
    python benchmarks/bench_distribute.py --backends numpy,jax
    python benchmarks/bench_distribute.py --sizes 1 --no-scaling  # the 1 MB row and the 64-array rows only

The script starts itself twice, as workers 0 and 1 on 127.0.0.1 (torchrun's environment,
so gc.distribute's join() forms the group), one CPU thread each. In the workers:

- torch.distributed: ``dist.all_reduce(t)`` of a float32 tensor, in place, no copy:
  the floor gradcore's transport stands on.
- gradcore[numpy|torch|jax]: ``WorkerGroup.all_reduce([x], backend)`` of the same
  size, on that backend's raw array, which it may not write (gradcore's arrays are
  immutable): at 1 MB one swap of the whole arrays (gloo's all-to-all), at 16 and 64 MB
  the ring over torch.distributed's isend/irecv, both reading x where it lies
  (docs/multi_worker.md, "Large arrays"); the small arrays below go through one copy into
  a bucket. Results come back without a copy. The ratio to torch.distributed is the
  overhead; the target is <= 1.1.

Sizes: one array of 1, 16 and 64 MB; and 64 arrays of 16 KB (1 MB in all, like a small
model's gradients) two ways: one collective per array, and the whole list in one call,
which gradcore packs into one buffer per dtype (as DDP's buckets). torch.distributed
makes one call per array in both rows, so the second row shows what bucketing gains.

Repeats of all systems are interleaved, so machine noise hits them alike, and the order
turns from repeat to repeat, so no system is always timed first or last. Each repeat starts
behind a barrier, and both workers run the same calls in the same order, since every call is
a collective. The table gives each system's fastest repeat (noise only ever adds time) and
two overheads: the median over repeats of gradcore's time over the peer's in the same
repeat (a typical call, both systems under the same conditions), and in brackets the ratio
of the fastest repeats (best cases, which may come from different repeats). The target is
judged on the first; docs/multi_worker.md ("Measuring") says how the two differ here.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import time

import click
import numpy as np

MB = 2**20
SIZES_MB = (1, 16, 64)
DEFAULT_SIZES = ",".join(map(str, SIZES_MB))  # as --sizes takes them
SMALL_ARRAYS, SMALL_BYTES = 64, 16 * 1024
BYTES_PER_REPEAT = 16 * MB  # a repeat makes as many calls as move this much, at least one
BACKENDS = ("numpy", "torch", "jax")
TARGET_RATIO = 1.1
# At 1 MB one repeat's ratio to the peer ranged over 0.7-1.65 between its quartiles on the 2-core VM,
# and a median of 15 moved by about 0.15 from run to run (docs/multi_worker.md, "Measuring"); 48 is
# also a whole number of turns of the order for 3 and for 4 systems.
REPEATS = 48
WORKERS = 2
PEER = "torch.distributed"


# ---- in the workers ------------------------------------------------------------------------------


def single_array_workloads(group, backends, dist, torch, sizes_mb):
    """{title: {system: zero-argument step}} for one float32 array of each size."""
    from gradcore.engine import dtypes

    workloads = {}
    for size_mb in sizes_mb:
        count = size_mb * MB // 4
        peer = torch.zeros(count, dtype=torch.float32)  # zeros: summing in place keeps them zeros
        steps = {PEER: lambda t=peer: dist.all_reduce(t)}
        for backend in backends:
            array = backend.asarray(np.zeros(count, np.float32), dtypes.float32)
            steps[f"gradcore[{backend.name}]"] = lambda a=array, b=backend: group.all_reduce([a], b)
        workloads[f"{size_mb} MB float32"] = (steps, size_mb * MB)
    return workloads


def many_array_workloads(group, backends, dist, torch):
    """64 arrays of 16 KB: one call per array, then the list in one call (gradcore's bucket)."""
    from gradcore.engine import dtypes

    count = SMALL_BYTES // 4
    peers = [torch.zeros(count, dtype=torch.float32) for _ in range(SMALL_ARRAYS)]

    def peer_step():
        for tensor in peers:
            dist.all_reduce(tensor)

    each, bucketed = {PEER: peer_step}, {PEER: peer_step}
    for backend in backends:
        arrays = [backend.asarray(np.zeros(count, np.float32), dtypes.float32) for _ in range(SMALL_ARRAYS)]
        name = f"gradcore[{backend.name}]"
        each[name] = lambda xs=arrays, b=backend: [group.all_reduce([x], b) for x in xs]
        bucketed[name] = lambda xs=arrays, b=backend: group.all_reduce(xs, b)
    title = f"{SMALL_ARRAYS} arrays x {SMALL_BYTES // 1024} KB float32"
    return {f"{title}, one call each": (each, SMALL_ARRAYS * SMALL_BYTES),
            f"{title}, one call": (bucketed, SMALL_ARRAYS * SMALL_BYTES)}


def measure(group, steps, nbytes, repeats, quick):
    """{system: milliseconds per call in each repeat}: repeats interleaved, each behind a barrier.

    Each repeat starts one system further along than the last, so every system runs in every
    place of the order equally often: on the VM the system timed last in a repeat measured up
    to 0.2 above the others against the peer, whichever system it was.
    """
    calls = 1 if quick else max(1, BYTES_PER_REPEAT // nbytes)
    samples = {name: [] for name in steps}
    for name, step in steps.items():  # a warm-up call each: first allocations, gloo's first pairs
        step()
    names = list(steps)
    for repeat in range(repeats):
        turn = repeat % len(names)
        for name in names[turn:] + names[:turn]:
            step = steps[name]
            group.barrier()
            start = time.perf_counter()
            for _ in range(calls):
                step()
            samples[name].append((time.perf_counter() - start) / calls * 1e3)
    return samples


def run_worker(backend_names, repeats, quick, sizes_mb):
    """Measure every workload in this worker; worker 0 prints the results as one JSON line."""
    import torch
    import torch.distributed as dist

    from gradcore.distribute.workers import join
    from gradcore.errors import BackendUnavailableError
    from gradcore.plugin.discovery import load_backend

    torch.set_num_threads(1)  # two workers share the two cores of a small machine; one thread each
    backends = []
    for name in backend_names:
        try:
            backends.append(load_backend(name))
        except BackendUnavailableError as exc:
            if int(os.environ["RANK"]) == 0:
                print(f"skipping gradcore[{name}]: {exc}".splitlines()[0], file=sys.stderr)
    group = join()
    workloads = {**single_array_workloads(group, backends, dist, torch, sizes_mb),
                 **many_array_workloads(group, backends, dist, torch)}
    results = {title: measure(group, steps, nbytes, repeats, quick) for title, (steps, nbytes) in workloads.items()}
    if group.rank == 0:
        print("RESULTS " + json.dumps(results), flush=True)
    group.close()


# ---- scaling efficiency ----------------------------------------------------------------------------
# A compute-bound training step (an MLP's forward, gradient and Adam update under gc.function) under
# MultiWorkerMirroredStrategy, on 1 worker and on 2, with the same batch per worker (weak scaling):
# efficiency = step time on 1 worker / step time on 2, where 1.0 means the second worker's batch
# came for free.

SCALING_SIZES, SCALING_BATCH = (512, 1024, 1024, 10), 256


def run_scaling_worker(backend_name, repeats, quick):
    """Seconds per training step in this worker (worker 0 prints them as one JSON line)."""
    import torch

    os.environ["GRADCORE_BACKEND"] = backend_name
    import gradcore as gc

    torch.set_num_threads(1)
    gc.random.set_seed(0)
    strategy = gc.distribute.MultiWorkerMirroredStrategy()
    rng = np.random.default_rng(0)  # the same batch on every worker: only the time is measured
    x = gc.constant(rng.normal(size=(SCALING_BATCH, SCALING_SIZES[0])).astype(np.float32))
    y = gc.constant(rng.integers(0, SCALING_SIZES[-1], SCALING_BATCH))
    with strategy.scope():
        model = gc.Sequential([gc.layers.Dense(n, activation="relu") for n in SCALING_SIZES[1:-1]]
                              + [gc.layers.Dense(SCALING_SIZES[-1])])
        optimizer = gc.optimizers.Adam(1e-3)
    loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    global_batch = SCALING_BATCH * strategy.num_replicas_in_sync

    def replica_step(features, labels):
        with gc.GradientTape() as tape:
            loss = gc.nn.compute_average_loss(loss_fn(labels, model(features)), global_batch_size=global_batch)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    step = gc.function(lambda features, labels: strategy.run(replica_step, args=(features, labels)))
    step(x, y)
    step(x, y)  # traced and compiled
    steps = 1 if quick else 10
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            float(step(x, y))  # the host read waits for the step, on every backend
        times.append((time.perf_counter() - start) / steps)
    if gc.distribute.is_chief():
        print("RESULTS " + json.dumps({"seconds": min(times)}), flush=True)


# ---- in the parent -------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_workers(backend_names, repeats, quick, deadline_s, role="--worker", workers=WORKERS,
                sizes=DEFAULT_SIZES):
    """Start the workers, wait for them, and return worker 0's results."""
    port = free_port()
    command = [sys.executable, os.path.abspath(__file__), role, "--repeats", str(repeats),
               "--backends", ",".join(backend_names), "--sizes", sizes] + (["--quick"] if quick else [])
    processes = []
    for rank in range(workers):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(workers), LOCAL_RANK=str(rank),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True))
    try:
        outputs = [p.communicate(timeout=deadline_s)[0] for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    if any(p.returncode != 0 for p in processes):
        raise click.ClickException(f"a worker failed (exit codes {[p.returncode for p in processes]})")
    line = next(line for line in outputs[0].splitlines() if line.startswith("RESULTS "))
    return json.loads(line.removeprefix("RESULTS "))


def overhead(samples, system):
    """(median over repeats of system's time / the peer's in that repeat, fastest / fastest)."""
    ours, peer = samples[system], samples[PEER]
    return statistics.median(o / p for o, p in zip(ours, peer)), min(ours) / min(peer)


def format_table(results):
    systems = list(next(iter(results.values())))
    ours = [s for s in systems if s != PEER]
    header = ["all-reduce", *(f"{s} ms" for s in systems), *(f"{s}/{PEER}" for s in ours)]
    lines = [(f"ms: the fastest repeat; {', '.join(ours)} over {PEER}: the median of the repeats' ratios "
              f"(the ratio of the fastest repeats)"),
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for title, samples in results.items():
        cells = [f"{min(samples[s]):.3g}" for s in systems]
        cells += ["{:.2f} ({:.2f})".format(*overhead(samples, s)) for s in ours]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_targets(results):
    """The transport's overhead on one array against the target; the rows of many arrays show bucketing."""
    lines = []
    for title, samples in results.items():
        if not title.endswith(" MB float32"):
            continue
        for system in (s for s in samples if s != PEER):
            median, fastest = overhead(samples, system)
            verdict = "met" if median <= TARGET_RATIO else "MISSED"
            lines.append(f"target {system}/{PEER} <= {TARGET_RATIO} at {title.removesuffix(' float32')}: "
                         f"{median:.2f} {verdict} (fastest repeats: {fastest:.2f})")
    return "\n".join(lines)


@click.command()
@click.option("--repeats", default=REPEATS, show_default=True, help="timed repeats per system, interleaved")
@click.option("--quick", is_flag=True, help="one repeat of one call: checks that every system runs")
@click.option("--backends", default=",".join(BACKENDS), show_default=True,
              help="gradcore backends to time, comma-separated; those not installed are skipped")
@click.option("--sizes", default=DEFAULT_SIZES, show_default=True,
              help="sizes in MB of the single arrays summed, comma-separated")
@click.option("--no-scaling", is_flag=True, help="skip the scaling measurement")
@click.option("--deadline", default=600, show_default=True, help="seconds the workers may take in all")
@click.option("--worker", is_flag=True, hidden=True, help="run as one of the workers the parent starts")
@click.option("--scaling-worker", is_flag=True, hidden=True, help="run as a worker of the scaling measurement")
def main(repeats, quick, backends, sizes, no_scaling, deadline, worker, scaling_worker):
    """Time gradcore's all-reduce against torch.distributed's and print a Markdown table (milliseconds per call)."""
    names = [name for name in backends.split(",") if name]
    if quick:
        repeats = 1
    if worker:
        run_worker(names, repeats, quick, [int(size) for size in sizes.split(",") if size])
        return
    if scaling_worker:
        run_scaling_worker(names[0], repeats, quick)
        return
    import torch

    click.echo(f"torch {torch.__version__}, gloo, {WORKERS} workers on 127.0.0.1, 1 thread each, "
               f"{os.cpu_count()} CPUs; {repeats} interleaved repeats")
    results = run_workers(names, repeats, quick, deadline, sizes=sizes)
    click.echo(format_table(results))
    click.echo(format_targets(results))
    if not no_scaling:
        click.echo(format_scaling(measure_scaling(names[0], repeats, quick, deadline)))


def measure_scaling(backend_name, repeats, quick, deadline_s):
    """{workers: seconds per step} for 1 and 2 workers."""
    return {workers: run_workers([backend_name], repeats, quick, deadline_s, "--scaling-worker", workers)["seconds"]
            for workers in (1, WORKERS)}


def format_scaling(seconds):
    sizes = "-".join(map(str, SCALING_SIZES))
    one, two = seconds[1], seconds[WORKERS]
    return (f"\nscaling: MLP {sizes} training step (Adam, gc.function), batch {SCALING_BATCH} per worker, "
            f"MultiWorkerMirroredStrategy\n"
            f"| workers | ms per step | examples per second | efficiency |\n|---|---|---|---|\n"
            f"| 1 | {one * 1e3:.1f} | {SCALING_BATCH / one:.0f} | 1.00 |\n"
            f"| {WORKERS} | {two * 1e3:.1f} | {WORKERS * SCALING_BATCH / two:.0f} | {one / two:.2f} |")


if __name__ == "__main__":
    main()
