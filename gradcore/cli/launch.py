"""``gradcore launch -n N script.py [args...]``: N workers of a script on this machine (docs/multi_worker.md).

It is torch's own launcher, torchrun (``python -m torch.distributed.run``), with what one
machine needs filled in: the store on 127.0.0.1 at a free port, and the workers' sockets
on the loopback interface. torchrun replaces this process, so signals reach it directly
and its exit status is the command's: non-zero when any worker fails, after torchrun has
stopped the others and named the failed rank.
"""

import importlib.util
import os
import socket
import sys

import click

LOOPBACK_INTERFACES = ("lo", "lo0")  # Linux, macOS


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (torchrun's store takes it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun_command(nproc, script, script_args, port, max_restarts):
    """The torchrun command line: one node, ``nproc`` workers, the store at 127.0.0.1:``port``."""
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", str(nproc),
            "--master-addr", "127.0.0.1", "--master-port", str(port), "--max-restarts", str(max_restarts),
            script, *script_args]


def worker_environment(timeout, environ=None):
    """The workers' environment: the collective timeout, and gloo kept on the loopback interface."""
    env = dict(os.environ if environ is None else environ)
    if timeout is not None:
        env["GRADCORE_COLLECTIVE_TIMEOUT"] = f"{timeout:g}"
    if "GLOO_SOCKET_IFNAME" not in env:
        # Without it gloo binds to whatever address the host name resolves to; every worker
        # runs here, so loopback reaches them all and nothing listens beyond this machine.
        names = {name for _, name in socket.if_nameindex()} if hasattr(socket, "if_nameindex") else set()
        loopback = next((name for name in LOOPBACK_INTERFACES if name in names), None)
        if loopback:
            env["GLOO_SOCKET_IFNAME"] = loopback
    return env


def default_nproc():
    """One worker per CUDA device, else one."""
    import torch

    return torch.cuda.device_count() or 1


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-n", "--nproc", type=click.IntRange(min=1), default=None,
              help="Number of workers [default: one per CUDA device, else 1].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds a collective may take before the workers fail (sets $GRADCORE_COLLECTIVE_TIMEOUT; "
                   "gradcore's default is 300).")
@click.option("--max-restarts", type=click.IntRange(min=0), default=0, show_default=True,
              help="Restart all workers this many times after a failure (torchrun's --max-restarts).")
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
def launch(nproc, timeout, max_restarts, script, script_args):
    """Run SCRIPT in NPROC worker processes on this machine, through torchrun.

    Each worker finds the others through torchrun's environment (gc.distribute's
    MultiWorkerMirroredStrategy joins them). Arguments after SCRIPT go to the script.
    Exits with a non-zero status if any worker fails.
    """
    if importlib.util.find_spec("torch") is None:
        raise click.ClickException("gradcore launch runs workers with torch.distributed, and torch is not "
                                   "installed; install it with: pip install 'gradcore[distribute]'")
    command = torchrun_command(nproc or default_nproc(), script, script_args, free_port(), max_restarts)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, worker_environment(timeout))
