"""Every script in examples/ runs as a user would run it and prints the right numbers.

Each runs in its own interpreter on the backend GRADCORE_BACKEND names (numpy by
default), and the test reads the numbers back from what it printed.
"""

import ast
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name, *args):
    """The script's stdout; ``args`` (e.g. "--epochs", "1") keep the training examples small."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def printed(output, label):
    """The value printed as ``label = VALUE`` (a number or a nested list), parsed."""
    match = re.search(rf"(?:^|, ){re.escape(label)} = (.+?)(?:, [\w/| -]+ = |$)", output, re.MULTILINE)
    assert match, f"{label!r} not printed in:\n{output}"
    return ast.literal_eval(match.group(1).strip())


def test_every_example_has_a_test():
    tested = {"gradient_basics.py", "linear_regression.py", "hessian.py", "jacobian.py",
              "gradient_clipping.py", "custom_training_loop.py", "gan.py", "style_transfer_loss.py",
              "gradient_debugging.py", "clip_global_norm.py",
              "distributed_training.py"}  # tested in test_distributed_training.py
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_gradient_basics():
    out = run_example("gradient_basics.py")
    assert printed(out, "dy/dw") == pytest.approx(42.0)
    assert printed(out, "dy/dx") == pytest.approx(28.0)
    assert printed(out, "dy/db") == pytest.approx(14.0)


def test_linear_regression_recovers_w_and_b():
    out = run_example("linear_regression.py")
    w, b = printed(out, "fitted W"), printed(out, "b")
    assert abs(w - 3.0) < 0.1 and abs(b - 2.0) < 0.1, out
    first_loss = float(re.search(r"epoch  0: .* loss=([\d.]+)", out).group(1))
    last_loss = float(re.findall(r"loss=([\d.]+)", out)[-1])
    assert last_loss < first_loss / 2, out


def test_hessian_from_nested_tapes():
    out = run_example("hessian.py")
    assert printed(out, "gradient") == pytest.approx([4.0, 5.0])  # [2x0 + x1, x0 + 2x1] at (1, 2)
    np.testing.assert_allclose(printed(out, "hessian"), [[2.0, 1.0], [1.0, 2.0]], atol=1e-6)


def test_jacobian_of_sigmoid_is_its_analytic_diagonal():
    out = run_example("jacobian.py")
    s = 1.0 / (1.0 + np.exp(-np.linspace(-3.0, 3.0, 7)))
    np.testing.assert_allclose(printed(out, "diagonal"), s * (1 - s), atol=1e-6)
    assert printed(out, "max |jacobian - analytic|") < 1e-6
    assert "shape [7, 7]" in out


def test_gradient_clipping_clips_the_backward_pass():
    out = run_example("gradient_clipping.py")
    assert printed(out, "unclipped gradient") == pytest.approx(4.0)
    assert printed(out, "clipped gradient") == pytest.approx(2.0)  # TF's guide: 0.5 * 2v


def test_custom_training_loop_learns_and_resets_its_metrics_each_epoch():
    out = run_example("custom_training_loop.py", "--epochs", "3", "--steps", "10")
    assert "2 regularization losses" in out  # the L2 penalties reach sum(model.losses)
    epochs = re.findall(r"^epoch (\d): train loss = ([\d.]+), train accuracy = ([\d.]+), "
                        r"validation accuracy = ([\d.]+)$", out, re.MULTILINE)
    assert [int(e[0]) for e in epochs] == [0, 1, 2], out
    losses = [float(e[1]) for e in epochs]
    assert losses[0] > losses[1] > losses[2], out  # per-epoch means: a metric never reset would lag behind
    assert float(epochs[-1][3]) > 0.7, out  # four classes: chance is 0.25


def test_gan_moves_the_generated_mean_to_the_target():
    out = run_example("gan.py", "--steps", "200")
    target = printed(out, "target mean")
    start, end = printed(out, "initial generated mean"), printed(out, "final generated mean")
    assert abs(end - target) < 0.25 * abs(start - target), out


def test_style_transfer_lowers_the_style_loss_as_its_weight_grows():
    out = run_example("style_transfer_loss.py", "--epochs", "3", "--steps", "10")
    weights = [(float(s), float(c)) for s, c in re.findall(r"weights style ([\d.e+-]+) content ([\d.e+-]+):", out)]
    assert len(weights) == 3, out
    assert weights[0][0] < weights[1][0] < weights[2][0] and weights[0][1] > weights[1][1] > weights[2][1], out
    assert printed(out, "final style loss") < 0.5 * printed(out, "initial style loss"), out
    final_content_loss = float(re.search(r"^final style loss = .*, content loss = (\S+)$", out, re.MULTILINE).group(1))
    assert final_content_loss > 0, out  # the image did move away from its content


def test_gradient_debugging_prints_layer_norms_and_names_the_log():
    out = run_example("gradient_debugging.py", "--steps", "5")
    steps = re.findall(r"^step +\d+: loss = ([\d.]+), \|grad first\| = ([\d.]+), \|grad last\| = ([\d.]+)$",
                       out, re.MULTILINE)
    assert len(steps) == 5, out
    assert all(float(first) > 0 and float(last) > 0 for _, first, last in steps), out
    assert float(steps[-1][0]) < float(steps[0][0]), out
    assert "the buggy loss without checking = nan" in out
    caught = re.search(r"^check_numerics caught: .*?: (\S+) \(kernel '(\w+)'", out, re.MULTILINE)
    assert caught and caught.groups() == ("gc.math.log", "log"), out
    assert "in buggy_loss: return -gc.reduce_mean(gc.math.log(predictions))" in out  # the user's line


def test_clip_global_norm_caps_the_norm_and_tames_the_loss():
    out = run_example("clip_global_norm.py", "--epochs", "2", "--steps", "8")
    unclipped = float(re.search(r"^without clipping: .*, last loss = (\S+)$", out, re.MULTILINE).group(1))
    assert not math.isfinite(unclipped), out
    steps = [tuple(map(float, s)) for s in re.findall(
        r"loss = ([\d.]+), global norm before = ([\d.]+), after = ([\d.]+)$", out, re.MULTILINE)]
    assert len(steps) == 16, out
    clip = 5.0  # CLIP_NORM in the script
    assert all(after <= clip * (1 + 1e-5) for _, _, after in steps), out
    assert any(before > clip for _, before, _ in steps), out  # clipping had something to do
    assert steps[-1][0] < 0.1 * steps[0][0], out


# The training examples run their steps under gc.function unless given --eager; both must print
# the same numbers. They are printed with 4 decimals, so two values equal to float32 rounding may
# still differ by one unit in the last printed digit. A compiled step rounds differently from the
# op-by-op one (XLA fuses on jax) and training compounds it, so the runs are kept short.
PRINTED_UNIT = 1e-4


@pytest.mark.parametrize("name, args", [
    ("linear_regression.py", ()),
    ("custom_training_loop.py", ("--epochs", "2", "--steps", "10")),
    ("gan.py", ("--steps", "20")),
])
def test_training_examples_print_the_same_numbers_with_and_without_gc_function(name, args):
    compiled, eager = run_example(name, *args), run_example(name, *args, "--eager")
    numbers = [re.findall(r"-?\d+\.\d+", out) for out in (compiled, eager)]
    assert len(numbers[0]) == len(numbers[1]) > 0, (compiled, eager)
    np.testing.assert_allclose(np.asarray(numbers[0], float), np.asarray(numbers[1], float), rtol=0,
                               atol=PRINTED_UNIT * 1.01, err_msg=f"{compiled}\n{eager}")
