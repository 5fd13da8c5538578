"""The real TensorBoard server reads what gc.summary writes (docs/summary.md).

A small run is written through gc.summary, ``python -m tensorboard.main`` serves it on
127.0.0.1, and its HTTP API (the endpoints TensorBoard's own frontend calls) must list each tag
under its plugin and give the loss curve back with the right steps and values. The server runs
in a process group of its own, is always killed, and the whole test is bounded in time.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from gradcore import summary

TEST_DEADLINE_SECONDS = 60
LOSS_STEPS = list(range(6))


def expected_loss(step):
    return 2.0 * 0.5**step  # a made-up, decreasing loss curve


def write_run(run_dir):
    """A training-like run: a scalar loss per step, and one histogram, image and text."""
    writer = summary.create_file_writer(str(run_dir))
    with writer.as_default():
        for step in LOSS_STEPS:
            summary.scalar("loss", expected_loss(step), step=step)
        summary.histogram("weights", np.linspace(-1.0, 1.0, 20), step=5)
        summary.image("samples", np.full((1, 4, 4, 3), 0.5), step=5)
        summary.text("notes", "written by gradcore", step=5)
    writer.close()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def tensorboard_server(logdir, log_path):
    """``tensorboard.main`` serving ``logdir`` on a free port of 127.0.0.1; yields its base URL.

    Killed on the way out with its process group (TensorBoard starts a data server beside it)."""
    port = free_port()
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--port", str(port),
               "--host", "127.0.0.1"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        stop_process_group(server)


def stop_process_group(server):
    """End the group this test started (by its id): politely, then for sure."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, sig)
        try:
            server.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def get_json(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def poll_json(base, path, ready, deadline, server, log_path):
    """GET ``base + path`` until ``ready(answer)``; fails with the server's log at the deadline."""
    last = None
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"tensorboard exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            last = get_json(base + path, timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            if ready(last):
                return last
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError) as exc:
            last = exc  # not listening yet, or still loading
        time.sleep(0.2)
    raise AssertionError(f"tensorboard gave no answer to {path} in time (last: {last!r}):\n{log_path.read_text()}")


def assert_server_shows_scalars(logdir, run, tag, steps, values, tmp_path, deadline,
                                plugins=("scalars", "histograms", "images", "text")):
    """Serve ``logdir``; ``/data/plugin/scalars/scalars`` must give (step, value) rows for ``run``/``tag``;
    returns the run's tags under each of ``plugins``."""
    log_path = tmp_path / "tensorboard.log"
    query = urllib.parse.urlencode({"run": run, "tag": tag})
    with tensorboard_server(logdir, log_path) as (base, server):
        rows = poll_json(base, f"/data/plugin/scalars/scalars?{query}",
                         lambda answer: isinstance(answer, list) and len(answer) >= len(steps),
                         deadline, server, log_path)
        assert [row[1] for row in rows] == list(steps)  # rows are [wall_time, step, value]
        np.testing.assert_allclose([row[2] for row in rows], values, rtol=1e-6)
        tags = {plugin: poll_json(base, f"/data/plugin/{plugin}/tags", lambda answer: run in answer,
                                  deadline, server, log_path)[run]
                for plugin in plugins}
        return tags


def test_tensorboard_serves_the_loss_curve_gc_summary_wrote(tmp_path):
    deadline = time.monotonic() + TEST_DEADLINE_SECONDS
    logdir = tmp_path / "logs"
    write_run(logdir / "train")
    tags = assert_server_shows_scalars(logdir, "train", "loss", LOSS_STEPS,
                                       [np.float32(expected_loss(s)) for s in LOSS_STEPS], tmp_path, deadline)
    assert set(tags["scalars"]) == {"loss"}
    assert set(tags["histograms"]) == {"weights"}
    assert set(tags["images"]) == {"samples"}
    assert set(tags["text"]) == {"notes"}


def test_tensorboard_serves_the_demos_loss_curve(tmp_path):
    """`gradcore demo`'s run directory, served by TensorBoard: its epoch loss curve, the learning rate
    and gradient norm scalars, and the weight histograms (docs/checkpoints.md, README)."""
    import io

    from gradcore.cli import demo

    deadline = time.monotonic() + TEST_DEADLINE_SECONDS
    logdir = tmp_path / "runs"
    result = demo.run(epochs=2, seed=0, limit=160, backend="numpy", echo=lambda line: None,
                      progress_file=io.StringIO(), run_dir=str(logdir / "digits"))
    losses = [np.float32(epoch["loss"]) for epoch in result.history]
    tags = assert_server_shows_scalars(logdir, "digits", "epoch/loss", [1, 2], losses, tmp_path, deadline,
                                       plugins=("scalars", "histograms"))
    assert {"epoch/val_accuracy", "epoch/learning_rate", "gradient_global_norm"} <= set(tags["scalars"])
    assert any(tag.startswith("weights/") for tag in tags["histograms"])
