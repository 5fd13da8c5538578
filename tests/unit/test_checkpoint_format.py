"""The checkpoint file format round-trips every array and its metadata (docs/checkpoint_format.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

import gradcore as gc
from gradcore.errors import InvalidArgumentError, NotFoundError
from gradcore.train import files
from gradcore.train import format as checkpoint_format
from gradcore.train.format import (
    atomic_write_text,
    checkpoint_exists,
    data_path,
    index_path,
    read_checkpoint,
    read_index,
    remove_checkpoint,
    write_checkpoint,
)

NUMPY_DTYPES = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32,
                "float64": np.float64, "int8": np.int8, "int16": np.int16, "int32": np.int32,
                "int64": np.int64, "uint8": np.uint8, "bool": np.bool_}
SHAPES = [(), (0,), (3, 0, 2), (1,), (5, 7), (2, 3, 4)]
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_checkpoint.py"


def random_bits(dtype, shape, rng):
    """Arrays of every bit pattern the dtype has: NaNs with payloads, infinities, subnormals, -0.0."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    return rng.integers(0, 256, size=count * dtype.itemsize, dtype=np.uint8).view(dtype).reshape(shape)


def assert_same_bits(actual, expected):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert actual.tobytes() == expected.tobytes()


def test_file_names_are_tensorflows(tmp_path):
    assert data_path("dir/ckpt-1") == "dir/ckpt-1.data-00000-of-00001"
    assert index_path("dir/ckpt-1") == "dir/ckpt-1.index"
    assert write_checkpoint(tmp_path / "a" / "ckpt-7", {"v": np.ones(2)}, {"backend": "numpy"}) == str(
        tmp_path / "a" / "ckpt-7")
    assert sorted(os.listdir(tmp_path / "a")) == ["ckpt-7.data-00000-of-00001", "ckpt-7.index"]


@pytest.mark.parametrize("name", NUMPY_DTYPES)
def test_every_dtype_round_trips_bit_for_bit(tmp_path, name):
    rng = np.random.default_rng(sum(map(ord, name)))
    tensors = {f"t{i}": random_bits(NUMPY_DTYPES[name], shape, rng) for i, shape in enumerate(SHAPES)}
    write_checkpoint(tmp_path / "ckpt", tensors, {"backend": "numpy"})
    arrays, _ = read_checkpoint(tmp_path / "ckpt")
    assert arrays.keys() == tensors.keys()
    for key, tensor in tensors.items():
        assert_same_bits(arrays[key], tensor)
    assert read_index(tmp_path / "ckpt")["tensors"]["t4"]["dtype"] == name


# Bit patterns that a conversion through another dtype or a value comparison would lose.
SPECIAL_BITS = {
    np.float16: (np.uint16, [0x8000, 0x7E01, 0xFC01, 0x0001, 0x7C00]),  # -0.0, NaN payloads, subnormal, inf
    ml_dtypes.bfloat16: (np.uint16, [0x8000, 0x7FC1, 0xFF81, 0x0001, 0xFF80]),
    np.float32: (np.uint32, [0x80000000, 0x7FC00001, 0x7F800001, 0xFFFFFFFF, 0x00000001]),
    np.float64: (np.uint64, [0x8000000000000000, 0x7FF8000000000001, 0x7FF0000000000001, 0x1]),
}


@pytest.mark.parametrize("dtype", SPECIAL_BITS, ids=lambda d: np.dtype(d).name)
def test_nan_payloads_and_negative_zero_come_back_exactly(tmp_path, dtype):
    bits_dtype, bits = SPECIAL_BITS[dtype]
    tensor = np.array(bits, bits_dtype).view(dtype)
    scalar = np.array(bits[0], bits_dtype).view(dtype).reshape(())
    write_checkpoint(tmp_path / "ckpt", {"special": tensor, "scalar": scalar}, {"backend": "numpy"})
    arrays, _ = read_checkpoint(tmp_path / "ckpt")
    assert arrays["special"].view(bits_dtype).tolist() == bits
    assert arrays["scalar"].shape == () and arrays["scalar"].view(bits_dtype).item() == bits[0]


def test_any_layout_or_byte_order_is_stored_by_value(tmp_path):
    fortran = np.arange(12, dtype=np.float32).reshape(3, 4).T
    big_endian = np.array([1, -2, 3], dtype=">i4")
    write_checkpoint(tmp_path / "ckpt", {"f": fortran, "b": big_endian, "s": np.float64(2.5)},
                     {"backend": "numpy"})
    arrays, _ = read_checkpoint(tmp_path / "ckpt")
    assert arrays["f"].tolist() == [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]
    assert arrays["b"].dtype == np.int32 and arrays["b"].tolist() == [1, -2, 3]
    assert arrays["s"].shape == () and arrays["s"].item() == 2.5
    assert all(a.flags.writeable and a.flags.c_contiguous for a in arrays.values())


def test_the_data_file_is_plain_safetensors(tmp_path):
    from safetensors.numpy import load_file

    tensors = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array([True, False])}
    write_checkpoint(tmp_path / "ckpt", tensors, {"backend": "numpy"})
    loaded = load_file(data_path(tmp_path / "ckpt"))
    assert loaded["w"].tolist() == tensors["w"].tolist() and loaded["n"].tolist() == [True, False]


def test_metadata_round_trips_and_the_index_records_what_was_written(tmp_path):
    metadata = {"backend": "torch", "object_graph": {"nodes": [{"name": "v", "children": []}], "root": 0},
                "step": 12, "ratio": -0.0, "note": "naïve ✓", "flags": [True, None, 1.5e300]}
    tensors = {"v": np.zeros((2, 3), np.float32), "step": np.array(12, np.int64)}
    write_checkpoint(tmp_path / "ckpt", tensors, metadata)
    _, restored = read_checkpoint(tmp_path / "ckpt")
    assert restored == metadata and str(restored["ratio"]) == "-0.0"
    index = read_index(tmp_path / "ckpt")
    assert index["format_version"] == checkpoint_format.FORMAT_VERSION == 1
    assert index["gradcore_version"] == gc.__version__ and index["backend"] == "torch"
    assert {key: (entry["dtype"], entry["shape"]) for key, entry in index["tensors"].items()} == {
        "v": ("float32", [2, 3]), "step": ("int64", [])}
    assert index["metadata"] == {k: v for k, v in metadata.items() if k != "backend"}
    assert index["data_bytes"] == os.path.getsize(data_path(tmp_path / "ckpt"))
    write_checkpoint(tmp_path / "empty", {}, {"backend": None})  # an object graph without variables
    assert read_checkpoint(tmp_path / "empty") == ({}, {"backend": None})
    # The index is readable JSON, one line per tensor.
    text = Path(index_path(tmp_path / "ckpt")).read_text()
    assert json.loads(text)["tensors"]["v"]["shape"] == [2, 3]
    assert '  "v": {"crc32":' in text


@pytest.mark.parametrize("metadata, message", [
    ({}, "'backend'"), ({"backend": 3}, "'backend'"), (None, "'backend'"), ([("backend", "numpy")], "'backend'"),
    ({"backend": "numpy", "graph": {1, 2}}, "metadata entry 'graph' is not JSON"),
    ({"backend": "numpy", "loss": float("nan")}, "metadata entry 'loss' is not JSON"),
])
def test_metadata_that_is_not_json_is_refused_before_anything_is_written(tmp_path, metadata, message):
    with pytest.raises(InvalidArgumentError, match=message):
        write_checkpoint(tmp_path / "ckpt", {"v": np.ones(1)}, metadata)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("tensors, message", [
    ({"v": np.ones(2, np.uint16)}, "key 'v' has dtype uint16"),
    ({"v": np.ones(2, np.complex64)}, "key 'v' has dtype complex64"),
    ({"v": [1.0, 2.0]}, "key 'v' holds a list, not a NumPy array"),
    ({"__metadata__": np.ones(1)}, "key '__metadata__' is not allowed"),
    ({"": np.ones(1)}, "key '' is not allowed"),
    ({3: np.ones(1)}, "key 3 is not allowed"),
])
def test_arrays_gradcore_cannot_store_are_refused_naming_the_key(tmp_path, tensors, message):
    with pytest.raises(InvalidArgumentError, match=message):
        write_checkpoint(tmp_path / "ckpt", tensors, {"backend": "numpy"})
    assert not checkpoint_exists(tmp_path / "ckpt")


def test_exists_and_remove(tmp_path):
    prefix = tmp_path / "ckpt-1"
    assert not checkpoint_exists(prefix)
    write_checkpoint(prefix, {"v": np.ones(3)}, {"backend": "numpy"})
    assert checkpoint_exists(prefix)
    os.unlink(index_path(prefix))  # the index is the commit marker: a data file alone is no checkpoint
    assert not checkpoint_exists(prefix)
    remove_checkpoint(prefix)
    assert os.listdir(tmp_path) == []
    remove_checkpoint(prefix)  # nothing there: no error


def test_a_missing_checkpoint_is_tensorflows_not_found_error(tmp_path):
    prefix = str(tmp_path / "nope" / "ckpt")
    with pytest.raises(NotFoundError) as caught:
        read_checkpoint(prefix)
    assert str(caught.value).startswith(f"Error when restoring from checkpoint or SavedModel at {prefix}: ")
    assert f"Failed to find any matching files for {prefix}" in str(caught.value)
    assert str(caught.value).endswith("Please double-check that the path is correct. You may be missing the "
                                      "checkpoint suffix (e.g. the '-1' in 'path/to/ckpt-1').")
    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(NotFoundError, match="Failed to find any matching files"):
        read_index(prefix)


def test_writing_over_a_checkpoint_replaces_it(tmp_path):
    write_checkpoint(tmp_path / "ckpt", {"a": np.ones(3)}, {"backend": "numpy", "n": 1})
    write_checkpoint(tmp_path / "ckpt", {"b": np.zeros(2, np.int8)}, {"backend": "jax", "n": 2})
    arrays, metadata = read_checkpoint(tmp_path / "ckpt")
    assert list(arrays) == ["b"] and arrays["b"].tolist() == [0, 0] and metadata == {"backend": "jax", "n": 2}
    assert sorted(os.listdir(tmp_path)) == ["ckpt.data-00000-of-00001", "ckpt.index"]


def test_files_get_the_permissions_the_umask_gives(tmp_path):
    old = os.umask(0o022)
    try:
        write_checkpoint(tmp_path / "ckpt", {"a": np.ones(3)}, {"backend": "numpy"})
    finally:
        os.umask(old)
    modes = {name: os.stat(tmp_path / name).st_mode & 0o777 for name in os.listdir(tmp_path)}
    assert modes == {"ckpt.index": 0o644, "ckpt.data-00000-of-00001": 0o644}


def test_leftovers_of_a_killed_save_are_ignored_by_reads_and_removed_by_the_next_save(tmp_path):
    write_checkpoint(tmp_path / "ckpt-1", {"a": np.ones(3)}, {"backend": "numpy"})
    # What a save of ckpt-1 killed half way leaves: a private folder per file, here with junk in it.
    for name in ("ckpt-1.data-00000-of-00001", "ckpt-1.index", "ckpt-10.index"):
        leftover = tmp_path / f".{name}.tmp-0123456789abcdef"
        leftover.mkdir()
        (leftover / name).write_bytes(b"half written")
    assert read_checkpoint(tmp_path / "ckpt-1")[0]["a"].tolist() == [1, 1, 1]
    write_checkpoint(tmp_path / "ckpt-1", {"a": np.zeros(3)}, {"backend": "numpy"})
    assert sorted(os.listdir(tmp_path)) == [".ckpt-10.index.tmp-0123456789abcdef",  # another checkpoint's
                                            "ckpt-1.data-00000-of-00001", "ckpt-1.index"]
    remove_checkpoint(tmp_path / "ckpt-10")
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.data-00000-of-00001", "ckpt-1.index"]


def test_atomic_write_text_replaces_the_file_whole(tmp_path):
    path = tmp_path / "checkpoint"
    atomic_write_text(path, 'model_checkpoint_path: "ckpt-1"\n')
    atomic_write_text(path, 'model_checkpoint_path: "ckpt-2"\n')
    assert path.read_text() == 'model_checkpoint_path: "ckpt-2"\n'
    assert os.listdir(tmp_path) == ["checkpoint"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint"
    atomic_write_text(path, "old\n")

    def no_space(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "fsync_file", no_space)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(path, "new\n")
    with pytest.raises(OSError, match="No space left"):
        write_checkpoint(tmp_path / "ckpt", {"a": np.ones(3)}, {"backend": "numpy"})
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["checkpoint"]


def test_the_benchmark_prints_its_table(tmp_path):
    done = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--directory", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    table = [line for line in lines if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header == ["operation", "peer", "peer s", "peer MB/s", "gradcore s", "gradcore MB/s",
                      "gradcore/peer"]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    assert [row[:2] for row in rows] == [["save", "safetensors"], ["save", "safetensors+fsync"],
                                         ["load", "safetensors"]]
    for row in rows:
        peer_s, _, ours_s, _, ratio = map(float, row[2:])
        assert peer_s > 0 and ours_s > 0 and ratio == pytest.approx(ours_s / peer_s, rel=0.05, abs=0.01)
    assert sum(line.startswith("target gradcore/safetensors <= 1.20 on ") for line in lines) == 2
    assert os.listdir(tmp_path) == []
