"""Damaged and forged checkpoint files are refused, naming the file, before they can cost memory or run code.

The forgeries are consistent where an attacker can make them so: when a test
changes the data file, it also rewrites the index to match (its size and its
own checksum), so the check under test is the one that must catch it
(docs/checkpoint_format.md, "Integrity").
"""

import json
import os
import pickle
import signal
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from gradcore.errors import DataLossError, NotFoundError
from gradcore.train.format import data_path, index_path, read_checkpoint, read_index, write_checkpoint

# What reading a refused checkpoint may allocate at its peak: a few Python objects per byte of JSON
# parsed, never a size the files declare.
BASE_MEMORY_BYTES = 256 << 10
MEMORY_PER_FILE_BYTE = 16


@pytest.fixture
def prefix(tmp_path):
    prefix = str(tmp_path / "ckpt-1")
    write_checkpoint(prefix, {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(2, np.float32),
                              "flag": np.array([True, False])}, {"backend": "numpy", "graph": {"v": 1}})
    return prefix


def load_index(prefix):
    return json.loads(Path(index_path(prefix)).read_text())


def save_index(prefix, index):
    """Write an index with a valid checksum of its own, as a forger would."""
    body = {name: value for name, value in index.items() if name != "index_crc32"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    Path(index_path(prefix)).write_text(json.dumps(dict(body, index_crc32=zlib.crc32(canonical.encode()))))


def safetensors_bytes(header, data):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def forge_data(prefix, content, **index_changes):
    """Put ``content`` in place of the data file and make the index agree with its size."""
    Path(data_path(prefix)).write_bytes(content)
    index = load_index(prefix)
    index.update(data_bytes=len(content), **index_changes)
    save_index(prefix, index)


def forge_header(prefix, header, data, tensors=None):
    """A safetensors file with this header; the index lists ``tensors`` (default: what the header says)."""
    if tensors is None:
        tensors = {key: {"dtype": _NAME[entry["dtype"]], "shape": entry["shape"], "crc32": 0}
                   for key, entry in header.items()}
    forge_data(prefix, safetensors_bytes(header, data), tensors=tensors)


_NAME = {"F32": "float32", "F16": "float16", "I64": "int64", "BOOL": "bool", "U8": "uint8"}


def refused(prefix, *fragments, error=DataLossError):
    """Reading ``prefix`` fails with ``error``, naming the file and each fragment; returns the message."""
    with pytest.raises(error) as caught:
        read_checkpoint(prefix)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_an_intact_checkpoint_reads(prefix):
    arrays, metadata = read_checkpoint(prefix)
    assert arrays["w"].tolist() == [[0, 1, 2], [3, 4, 5]] and metadata == {"backend": "numpy", "graph": {"v": 1}}


@pytest.mark.parametrize("length", [0, 1, 2**64 - 1, 2**63, 10**9], ids=str)
def test_a_header_length_beyond_the_file_is_refused(prefix, length):
    forge_data(prefix, struct.pack("<Q", length) + b'{"w":{}}' + b"\0" * 64)
    refused(prefix, data_path(prefix), f"declares a {length}-byte header")


def test_a_header_that_is_not_json_is_refused(prefix):
    forge_data(prefix, safetensors_bytes({}, b"")[:8] + b"\xff\xfe" + b"\0" * 8)
    refused(prefix, data_path(prefix), "header")
    deep = b"[" * 200_000 + b"]" * 200_000  # a parser that recurses would overflow the stack
    forge_data(prefix, struct.pack("<Q", len(deep)) + deep)
    refused(prefix, data_path(prefix), "does not hold valid JSON")


def assert_refused_within_memory(prefix, *fragments):
    file_bytes = os.path.getsize(data_path(prefix)) + os.path.getsize(index_path(prefix))
    tracemalloc.start()
    try:
        refused(prefix, *fragments)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    bound = BASE_MEMORY_BYTES + MEMORY_PER_FILE_BYTE * file_bytes
    assert peak < bound, f"reading a refused {file_bytes}-byte checkpoint allocated {peak} bytes"


def test_reading_allocates_the_arrays_once_and_the_measurement_sees_them(tmp_path):
    """The control for the bounds below: tracemalloc counts NumPy's buffers, and a read costs one copy."""
    arrays = {"big": np.ones(1 << 20, np.float32), "small": np.ones(10, np.float32)}  # 4 MiB
    write_checkpoint(tmp_path / "ckpt", arrays, {"backend": "numpy"})
    tracemalloc.start()
    try:
        restored, _ = read_checkpoint(tmp_path / "ckpt")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert restored["big"].nbytes <= peak < restored["big"].nbytes + BASE_MEMORY_BYTES


def test_huge_declared_shapes_are_refused_without_allocating_them(prefix):
    # 2**40 float32 elements (4 TiB) declared, 16 bytes present: offsets that match the file ...
    huge = {"w": {"dtype": "F32", "shape": [2**20, 2**20], "data_offsets": [0, 16]}}
    forge_header(prefix, huge, b"\0" * 16)
    assert_refused_within_memory(prefix, data_path(prefix), "key 'w'", "needs 4398046511104 bytes")
    # ... or offsets that match the shape and lie outside the file.
    huge["w"]["data_offsets"] = [0, 4 * 2**40]
    forge_header(prefix, huge, b"\0" * 16)
    assert_refused_within_memory(prefix, data_path(prefix), "key 'w'", "outside the 16 bytes of data")
    # An index that declares a huge shape the data file does not have.
    index = load_index(prefix)
    index["tensors"]["w"]["shape"] = [2**40]
    save_index(prefix, index)
    assert_refused_within_memory(prefix)


def test_a_whole_file_of_huge_declarations_costs_no_more_than_its_size(prefix):
    header = {f"t{i}": {"dtype": "F32", "shape": [2**31, 2**31], "data_offsets": [0, 2**64 - 1]}
              for i in range(1000)}
    forge_header(prefix, header, b"")
    assert_refused_within_memory(prefix, data_path(prefix), "key 't")


@pytest.mark.parametrize("offsets, problem", [
    ([[0, 8], [4, 12]], "data starts at byte 4, not at 8: arrays overlap"),
    ([[0, 8], [0, 8]], "data starts at byte 0, not at 8: arrays overlap"),
    ([[0, 8], [12, 20]], "data starts at byte 12, not at 8"),
    ([[4, 12], [12, 20]], "data starts at byte 4, not at 0"),
], ids=["overlap", "alias", "gap", "hole-at-start"])
def test_overlapping_or_gapped_offsets_are_refused(prefix, offsets, problem):
    header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": offsets[0]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": offsets[1]}}
    forge_header(prefix, header, b"\0" * max(end for _, end in offsets))
    refused(prefix, data_path(prefix), problem)


def test_trailing_bytes_after_the_last_array_are_refused(prefix):
    forge_header(prefix, {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 12)
    refused(prefix, data_path(prefix), "4 bytes after its last array")


@pytest.mark.parametrize("entry", [
    {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]},
    {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]},
    {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]},
    {"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]},
    {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]},
    {"dtype": "F32", "shape": [2], "data_offsets": [0]},
    {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]},
    {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": 1},
    [1, 2],
], ids=["negative", "bool", "float", "rank65", "complex", "one-offset", "reversed", "extra-field", "list"])
def test_malformed_header_entries_are_refused(prefix, entry):
    forge_header(prefix, {"a": entry}, b"\0" * 8, tensors={"a": {"dtype": "float32", "shape": [2], "crc32": 0}})
    refused(prefix, data_path(prefix), "key 'a'")


def test_duplicate_keys_in_the_header_are_refused(prefix):
    raw = b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    forge_data(prefix, struct.pack("<Q", len(raw)) + raw + b"\0",
               tensors={"a": {"dtype": "uint8", "shape": [1], "crc32": zlib.crc32(b"\0")}})
    refused(prefix, data_path(prefix), "duplicate names ['a']")


def test_a_changed_byte_fails_its_checksum(prefix):
    content = bytearray(Path(data_path(prefix)).read_bytes())
    content[-1] ^= 0x01  # the last byte of the last array, whichever key it is
    Path(data_path(prefix)).write_bytes(bytes(content))
    message = refused(prefix, data_path(prefix), "do not match their checksum")
    assert "key '" in message


def test_a_changed_checksum_in_the_index_is_refused(prefix):
    index = load_index(prefix)
    index["tensors"]["w"]["crc32"] ^= 1
    save_index(prefix, index)
    refused(prefix, data_path(prefix), "key 'w'", "checksum")


def test_an_index_changed_without_its_own_checksum_is_refused(prefix):
    text = Path(index_path(prefix)).read_text().replace('{"graph":{"v":1}}', '{"graph":{"v":2}}')
    assert '"v":2' in text
    Path(index_path(prefix)).write_text(text)
    with pytest.raises(DataLossError, match="does not match its own checksum") as caught:
        read_index(prefix)
    assert index_path(prefix) in str(caught.value)


@pytest.mark.parametrize("change, fragments", [
    (lambda t: t.update(other=t.pop("w")), ["keys ['other'] only in the index", "keys ['w'] only in the data"]),
    (lambda t: t.pop("w"), ["keys ['w'] only in the data"]),
    (lambda t: t["w"].update(shape=[3, 2]), ["key 'w'", "float32 [2, 3], but the index says float32 [3, 2]"]),
    (lambda t: t["w"].update(dtype="int32"), ["key 'w'", "but the index says int32 [2, 3]"]),
], ids=["renamed", "missing", "shape", "dtype"])
def test_an_index_that_lists_other_keys_dtypes_or_shapes_is_refused(prefix, change, fragments):
    index = load_index(prefix)
    change(index["tensors"])
    save_index(prefix, index)
    refused(prefix, data_path(prefix), *fragments)


def test_a_bool_array_holding_other_bytes_is_refused(prefix):
    data = bytes([2])
    forge_header(prefix, {"flag": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]}}, data,
                 tensors={"flag": {"dtype": "bool", "shape": [1], "crc32": zlib.crc32(data)}})
    refused(prefix, data_path(prefix), "key 'flag'", "bytes other than 0 and 1")


class _TouchesMarker:
    """A pickle payload: unpickling it creates ``path``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_pickle_in_place_of_the_data_file_is_never_unpickled(prefix, tmp_path):
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(_TouchesMarker(proof)))
    assert proof.exists()  # the payload does run when unpickled
    marker = tmp_path / "marker"
    payload = pickle.dumps(_TouchesMarker(marker))
    Path(data_path(prefix)).write_bytes(payload)
    refused(prefix, data_path(prefix))
    forge_data(prefix, payload)  # the index agrees with its size: the header check must refuse it
    refused(prefix, data_path(prefix), "header")
    np.save(tmp_path / "array.npy", np.array([_TouchesMarker(marker)], dtype=object), allow_pickle=True)
    forge_data(prefix, (tmp_path / "array.npy").read_bytes())
    refused(prefix, data_path(prefix))
    assert not marker.exists()


@pytest.mark.parametrize("which", [data_path, index_path], ids=["data", "index"])
def test_a_symlink_in_place_of_a_file_is_refused(prefix, tmp_path, which):
    target = tmp_path / "elsewhere"
    os.replace(which(prefix), target)  # the very same bytes, reached through a link
    os.symlink(target, which(prefix))
    refused(prefix, which(prefix), "symbolic link")


@pytest.mark.parametrize("which", [data_path, index_path], ids=["data", "index"])
def test_a_directory_or_fifo_in_place_of_a_file_is_refused(prefix, which):
    os.unlink(which(prefix))
    os.mkdir(which(prefix))
    refused(prefix, which(prefix), "not a regular file")
    os.rmdir(which(prefix))
    os.mkfifo(which(prefix))

    def hung(*args):
        raise AssertionError("opening the FIFO blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        refused(prefix, which(prefix), "not a regular file")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_truncated_data_files_are_refused(prefix):
    content = Path(data_path(prefix)).read_bytes()
    for size in (0, 4, 8, 20, len(content) - 1):
        Path(data_path(prefix)).write_bytes(content[:size])
        refused(prefix, data_path(prefix), f"is {size} bytes but its index says {len(content)}")
        forge_data(prefix, content[:size])  # the index agrees: the header and offsets must catch it
        refused(prefix, data_path(prefix))
        forge_data(prefix, content)


def test_a_truncated_index_is_refused(prefix):
    text = Path(index_path(prefix)).read_text()
    Path(index_path(prefix)).write_text(text[: len(text) // 2])
    refused(prefix, index_path(prefix), "does not hold valid JSON")
    Path(index_path(prefix)).write_text("")
    refused(prefix, index_path(prefix))


def test_an_index_of_a_future_format_is_refused(prefix):
    index = load_index(prefix)
    index["format_version"] = 2
    save_index(prefix, index)
    refused(prefix, index_path(prefix), "format version 2", "reads version 1")


def test_a_missing_data_file_is_not_found(prefix):
    os.unlink(data_path(prefix))
    message = refused(prefix, data_path(prefix), "incomplete", error=NotFoundError)
    assert message.startswith(f"Error when restoring from checkpoint or SavedModel at {prefix}: ")


def test_a_missing_index_is_not_found_even_with_the_data_there(prefix):
    os.unlink(index_path(prefix))
    refused(prefix, f"Failed to find any matching files for {prefix}", index_path(prefix), error=NotFoundError)
