"""docs/coverage.md is what tools/coverage/generate.py makes from gradcore's names today."""

import importlib.util
import json
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    """tools/coverage/generate.py as a module (tools/ is not a package; tox runs these tests outside the tree)."""
    spec = importlib.util.spec_from_file_location("coverage_generate", ROOT / "tools" / "coverage" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _generator()


def test_the_page_is_up_to_date():
    diff = generate.stale_diff(generate.render(generate.load_tensorflow_names()))
    assert not diff, (
        f"docs/coverage.md is stale (gradcore's public names changed since it was generated); "
        f"regenerate it with `{generate.COMMAND}` from the repository root and commit it.\n{diff}"
    )


def test_the_listing_is_tensorflow_2_21_and_covers_every_mirrored_namespace():
    listing = json.loads((ROOT / "tools" / "coverage" / "tensorflow_2_21_names.json").read_text())
    assert listing["tensorflow"].startswith("2.21.")
    assert list(listing["namespaces"]) == list(generate.GRADCORE_NAMESPACES)
    for namespace, names in listing["namespaces"].items():
        assert names == sorted(set(names)) and names, namespace
        assert not any(name.startswith("_") for name in names), namespace


def test_a_name_counts_when_it_exists_and_is_not_a_module():
    namespace = types.SimpleNamespace(relu=lambda x: x, newaxis=None, math=types.ModuleType("math"))
    assert generate.has_name(namespace, "relu")
    assert generate.has_name(namespace, "newaxis")  # present although its value is None
    assert not generate.has_name(namespace, "math")  # a module by the same name is not TF's function
    assert not generate.has_name(namespace, "gelu")


def test_the_page_marks_what_gradcore_has_and_counts_the_share():
    listing = {"tensorflow": "2.21.0", "keras": "3.15.1",
               "namespaces": {"tf": ["GradientTape", "not_in_gradcore"], "tf.keras.optimizers": ["Adam"]}}
    page = generate.render(listing)
    assert "| `tf.GradientTape` | `gc.GradientTape` |" in page
    assert "| `tf.not_in_gradcore` | - |" in page
    assert "| `tf.keras.optimizers.Adam` | `gc.optimizers.Adam` |" in page
    assert "| `tf` | `gc` | 1 | 2 | 50% |" in page
    assert "| all | | 2 | 3 | 66% |" in page
    assert generate.render(listing) == page  # deterministic
