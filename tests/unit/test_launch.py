"""``gradcore launch`` (gradcore/cli/launch.py): the torchrun command, the workers' environment, the exit status."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from gradcore.cli import launch as launching
from gradcore.cli import main
from tests.unit.envs import numpy_env_only


def test_the_command_is_torchrun_on_one_node_at_127_0_0_1_with_the_script_args_passed_through():
    command = launching.torchrun_command(3, "train.py", ("--epochs", "2", "-n", "5"), 29555, 1)
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    options = dict(zip(command[3:-5:2], command[4:-5:2]))
    assert options == {"--nnodes": "1", "--nproc-per-node": "3", "--master-addr": "127.0.0.1",
                       "--master-port": "29555", "--max-restarts": "1"}
    assert command[-5:] == ["train.py", "--epochs", "2", "-n", "5"]


def test_the_free_port_can_be_bound_on_127_0_0_1():
    port = launching.free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # raises if something holds it


def test_the_workers_get_the_timeout_and_gloo_stays_on_loopback():
    env = launching.worker_environment(12.5, environ={"PATH": "/bin"})
    assert env["GRADCORE_COLLECTIVE_TIMEOUT"] == "12.5" and env["PATH"] == "/bin"
    if sys.platform == "linux":
        assert env["GLOO_SOCKET_IFNAME"] == "lo"
    kept = launching.worker_environment(None, environ={"GLOO_SOCKET_IFNAME": "eth1"})
    assert kept == {"GLOO_SOCKET_IFNAME": "eth1"}


def test_options_after_the_script_belong_to_the_script(monkeypatch, tmp_path):
    """click must not read the script's -n or --timeout as launch's own: capture what would be executed."""
    script = tmp_path / "train.py"
    script.write_text("")
    captured = {}
    monkeypatch.setattr(launching.os, "execve", lambda path, args, env: captured.update(args=args, env=env))
    result = CliRunner().invoke(main, ["launch", "-n", "2", "--timeout", "30", str(script), "-n", "7", "--timeout"])
    assert result.exit_code == 0, result.output
    assert captured["args"][-4:] == [str(script), "-n", "7", "--timeout"]
    assert captured["args"][captured["args"].index("--nproc-per-node") + 1] == "2"
    assert captured["env"]["GRADCORE_COLLECTIVE_TIMEOUT"] == "30"


def test_bad_options_and_a_missing_script_are_refused(tmp_path):
    assert CliRunner().invoke(main, ["launch", "-n", "0", "x.py"]).exit_code == 2
    missing = CliRunner().invoke(main, ["launch", "-n", "2", str(tmp_path / "absent.py")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_without_torch_launch_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # find_spec("torch") then finds nothing
    script = tmp_path / "train.py"
    script.write_text("")
    result = CliRunner().invoke(main, ["launch", "-n", "2", str(script)])
    assert result.exit_code == 1
    assert "pip install 'gradcore[distribute]'" in result.output


@numpy_env_only
def test_a_failing_worker_fails_the_launch_and_every_worker_gets_the_args(tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "args.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        # One write per line: the workers share the pipe, and print's separate writes can interleave.
        sys.stdout.write(f"worker {os.environ['RANK']} {os.environ['WORLD_SIZE']} {sys.argv[1:]}\\n")
        sys.stdout.flush()
        sys.exit(3 if os.environ["RANK"] == "1" else 0)
    """))
    command = [sys.executable, "-c", "from gradcore.cli import main; main()", "launch", "-n", "2", str(script),
               "--lr", "0.1", "-n", "4"]
    done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")})
    assert done.returncode != 0
    for rank in (0, 1):
        assert f"worker {rank} 2 ['--lr', '0.1', '-n', '4']" in done.stdout
    assert "exitcode  : 3" in done.stderr
