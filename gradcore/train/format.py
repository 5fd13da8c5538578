"""The checkpoint file format: named arrays in safetensors, described by a JSON index.

A checkpoint at ``prefix`` is two files with TensorFlow's names
(docs/checkpoint_format.md has the full layout):

- ``{prefix}.data-00000-of-00001``: the arrays, a safetensors file;
- ``{prefix}.index``: JSON: the format and gradcore versions, the writing
  backend, each key's dtype, shape and CRC-32, the caller's metadata, and a
  CRC-32 of the index itself.

The data file is written first and the index last, each atomically
(gradcore/train/files.py): a checkpoint exists once its index does. Reading
trusts neither file: the safetensors header is checked against the file's real
size before any array is allocated, then against the index, and every array's
bytes against its checksum, so a truncated, corrupted or tampered checkpoint
fails with a DataLossError naming the file and the key, and memory never grows
by more than the files' real sizes. Nothing is ever unpickled.
"""

import concurrent.futures
import contextlib
import functools
import json
import math
import os
import struct
import zlib
from typing import NamedTuple

import numpy as np

from gradcore.engine import dtypes
from gradcore.errors import DataLossError, GradcoreError, InvalidArgumentError, NotFoundError
from gradcore.train import files
from gradcore.train.files import atomic_write_text

__all__ = ["FORMAT_VERSION", "atomic_write_text", "checkpoint_exists", "data_path", "index_path",
           "read_checkpoint", "read_index", "remove_checkpoint", "write_checkpoint"]

FORMAT_VERSION = 1
CHECKSUM = "crc32"  # zlib's CRC-32: the fastest checksum in the standard library (docs/checkpoint_format.md)
MAX_HEADER_BYTES = 100_000_000  # the bound the safetensors library itself puts on a header
MAX_INDEX_BYTES = 1 << 28  # an object graph of a million variables fits many times over
MAX_RANK = 64  # NumPy's limit
MAX_DIMENSION = 2**63 - 1  # an int64 shape entry, as TensorFlow's
READ_CHUNK_BYTES = 1 << 20  # each piece is checksummed while it is still in the CPU's cache

# gradcore's dtype names are also the names safetensors' writer takes; the header stores these codes.
_CODE_BY_NAME = {"float16": "F16", "bfloat16": "BF16", "float32": "F32", "float64": "F64", "int8": "I8",
                 "int16": "I16", "int32": "I32", "int64": "I64", "uint8": "U8", "bool": "BOOL"}
_NAME_BY_CODE = {code: name for name, code in _CODE_BY_NAME.items()}
_HEADER_FIELDS = {"dtype", "shape", "data_offsets"}
_RESERVED_KEY = "__metadata__"  # safetensors' own entry in the header


def data_path(prefix):
    """The data file of the checkpoint at ``prefix`` (TensorFlow's name)."""
    return f"{os.fspath(prefix)}.data-00000-of-00001"


def index_path(prefix):
    """The index file of the checkpoint at ``prefix`` (TensorFlow's name)."""
    return f"{os.fspath(prefix)}.index"


def checkpoint_exists(prefix):
    """Whether both files are there; a damaged one is reported when read, not hidden here."""
    return os.path.lexists(index_path(prefix)) and os.path.lexists(data_path(prefix))


def remove_checkpoint(prefix):
    """Delete both files (missing ones ignored), the index first so no half checkpoint remains."""
    files.remove_durably(index_path(prefix))  # flushed: the data must never outlive it on disk the other way
    with contextlib.suppress(FileNotFoundError):
        os.unlink(data_path(prefix))
    for path in (index_path(prefix), data_path(prefix)):
        files.remove_stale_temporaries(path)


# ---- writing -------------------------------------------------------------------------------


def write_checkpoint(prefix, tensors, metadata):
    """Write ``tensors`` (key -> NumPy array) and ``metadata`` at ``prefix``; return ``prefix``.

    ``metadata["backend"]`` names the writing backend (None when no array has
    one, e.g. a checkpoint of an empty object graph); its other entries must
    be JSON and come back from read_checkpoint as JSON parses them.
    """
    prefix = os.fspath(prefix)
    arrays = {key: _storable(prefix, key, value) for key, value in tensors.items()}
    backend, extra = _split_metadata(prefix, metadata)
    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    # Un-commit an older checkpoint at this prefix first: its index must never describe the new data.
    files.remove_durably(index_path(prefix))
    checksums = _write_data(data_path(prefix), arrays)
    import gradcore

    index = {
        "format_version": FORMAT_VERSION,
        "gradcore_version": gradcore.__version__,
        "backend": backend,
        "checksum": CHECKSUM,
        "data_bytes": os.stat(data_path(prefix)).st_size,
        "tensors": {key: {"dtype": array.dtype.name, "shape": list(array.shape), CHECKSUM: checksums[key]}
                    for key, array in arrays.items()},
        "metadata": extra,
    }
    files.atomic_write_bytes(index_path(prefix), _encode_index(index))
    return prefix


def _storable(prefix, key, value):
    """``value`` as a C-contiguous little-endian array of a gradcore dtype (safetensors' byte order)."""
    if not isinstance(key, str) or not key or key == _RESERVED_KEY:
        raise InvalidArgumentError(f"Saving checkpoint {prefix}: key {key!r} is not allowed; keys are "
                                   f"non-empty strings other than {_RESERVED_KEY!r}.")
    if not isinstance(value, (np.ndarray, np.generic)):
        raise InvalidArgumentError(f"Saving checkpoint {prefix}: key {key!r} holds a {type(value).__name__}, "
                                   f"not a NumPy array; convert tensors with .numpy() first.")
    try:
        dtype = dtypes.as_dtype(value.dtype)
    except GradcoreError:
        raise InvalidArgumentError(f"Saving checkpoint {prefix}: key {key!r} has dtype {value.dtype}, which "
                                   f"gradcore does not have; cast it to one of {', '.join(_CODE_BY_NAME)}.") from None
    return np.asarray(value, dtype=dtype.as_numpy_dtype.newbyteorder("<"), order="C")


def _split_metadata(prefix, metadata):
    """(backend name, the other entries), checked to be JSON now rather than half way through a save."""
    if not (isinstance(metadata, dict) and "backend" in metadata
            and isinstance(metadata["backend"], (str, type(None)))):
        raise InvalidArgumentError(f"Saving checkpoint {prefix}: metadata must be a dict whose 'backend' "
                                   f"entry names the writing backend (None if no variable has one), "
                                   f"got {metadata!r}.")
    backend = metadata["backend"]
    extra = {name: value for name, value in metadata.items() if name != "backend"}
    for name, value in extra.items():
        try:
            json.dumps({name: value}, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise InvalidArgumentError(f"Saving checkpoint {prefix}: metadata entry {name!r} is not JSON "
                                       f"({error}); pass strings, numbers, lists and dicts.") from None
    return backend, extra


def _write_data(path, arrays):
    """Write the safetensors file atomically; return each key's CRC-32, computed meanwhile."""
    from safetensors import TensorSpec, serialize_file

    specs = {key: TensorSpec(dtype=array.dtype.name, shape=list(array.shape), data_ptr=array.ctypes.data,
                             data_len=array.nbytes) for key, array in arrays.items()}
    files.remove_stale_temporaries(path)
    # Both the checksums and serialize_file release the GIL: computing them in a thread hides their cost.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        checksums = pool.submit(lambda: {key: _crc32(array) for key, array in arrays.items()})
        with files.atomic_file(path) as temporary:
            serialize_file(specs, temporary)  # reads the arrays, which `arrays` keeps alive meanwhile
        return checksums.result()


def _crc32(array):
    return zlib.crc32(array.reshape(-1).view(np.uint8))


def _canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _encode_index(body):
    """The index's bytes: JSON with one line per field and per tensor, and a CRC-32 of its canonical form."""
    body = dict(body, index_crc32=zlib.crc32(_canonical_json(body).encode()))
    tensors = ",\n".join(f"  {json.dumps(key)}: {_canonical_json(entry)}" for key, entry in body["tensors"].items())
    fields = [f" {json.dumps(name)}: {_canonical_json(value)}" for name, value in sorted(body.items())
              if name != "tensors"]
    tensors = "{\n" + tensors + "\n }" if tensors else "{}"
    return ("{\n" + ",\n".join(fields) + ',\n "tensors": ' + tensors + "\n}\n").encode()


# ---- reading -------------------------------------------------------------------------------


class HeaderEntry(NamedTuple):
    """One array as the safetensors header declares it; offsets count from the end of the header."""

    dtype: str  # gradcore's name
    shape: tuple
    begin: int
    end: int


def read_index(prefix):
    """The verified index of the checkpoint at ``prefix``: versions, backend, tensors, metadata."""
    prefix = os.fspath(prefix)
    path = index_path(prefix)
    with _open(prefix, path, f"Failed to find any matching files for {prefix}: there is no index file "
                             f"{path}.") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_INDEX_BYTES:
            raise _lost(prefix, path, f"is {size} bytes, more than any index ({MAX_INDEX_BYTES})")
        body = _parse_json(prefix, path, _read_exactly(prefix, path, f, size))
    _check_index(prefix, path, body)
    return body


def read_checkpoint(prefix):
    """(arrays by key, metadata as written) of the checkpoint at ``prefix``, every byte verified."""
    prefix = os.fspath(prefix)
    index = read_index(prefix)
    path = data_path(prefix)
    with _open(prefix, path, f"Failed to find the data file {path} that the index {index_path(prefix)} "
                             f"lists: the checkpoint is incomplete.") as f:
        size = os.fstat(f.fileno()).st_size
        if size != index["data_bytes"]:
            raise _lost(prefix, path, f"is {size} bytes but its index says {index['data_bytes']}")
        entries, data_start = _read_header(prefix, path, f, size)
        _match_index(prefix, path, index["tensors"], entries)
        in_file_order = sorted(entries, key=lambda key: entries[key].begin)
        arrays = {key: _read_array(prefix, path, f, key, entries[key], data_start,
                                   index["tensors"][key][CHECKSUM]) for key in in_file_order}
    return {key: arrays[key] for key in index["tensors"]}, {"backend": index["backend"], **index["metadata"]}


def _open(prefix, path, missing):
    try:
        return files.open_regular_file(path)
    except FileNotFoundError:
        raise _not_found(prefix, missing) from None
    except files.NotARegularFileError as error:
        raise _lost(prefix, path, f"is refused: {error}; checkpoints are read from regular files only") from None


def _read_exactly(prefix, path, f, size):
    data = bytearray(size)
    _read_into(prefix, path, f, memoryview(data))
    return bytes(data)


def _read_into(prefix, path, f, view):
    filled = 0
    while filled < len(view):
        count = f.readinto(view[filled:])
        if not count:
            raise _lost(prefix, path, f"ended after {f.tell()} bytes, before the {len(view) - filled} more "
                                      f"it should hold: it was truncated")
        filled += count


def _parse_json(prefix, path, raw):
    """A JSON object from ``raw``: duplicate names, NaN and Infinity refused (a reader could disagree)."""

    def no_duplicates(pairs):
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate names {sorted({n for n in names if names.count(n) > 1})[:5]}")
        return dict(pairs)

    def no_constants(name):
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _lost(prefix, path, f"does not hold valid JSON where it should ({error})") from None
    if not isinstance(value, dict):
        raise _lost(prefix, path, f"holds a JSON {type(value).__name__} where an object should be")
    return value


def _check_index(prefix, path, body):
    """Check the index's own checksum, then every field's type, so later code can trust it."""
    stored = body.pop("index_crc32", None)
    if stored != zlib.crc32(_canonical_json(body).encode()):
        raise _lost(prefix, path, "does not match its own checksum (index_crc32)")
    if body.get("format_version") != FORMAT_VERSION:
        raise _lost(prefix, path, f"is in checkpoint format version {body.get('format_version')!r} (gradcore "
                                  f"{body.get('gradcore_version')}); this gradcore reads version "
                                  f"{FORMAT_VERSION}: read it with the gradcore that wrote it")
    fields = {"gradcore_version": str, "backend": (str, type(None)), "checksum": str, "data_bytes": int, "tensors": dict,
              "metadata": dict}
    for name, kind in fields.items():
        if name not in body or not isinstance(body[name], kind):
            raise _lost(prefix, path, f"field {name!r} is missing or of the wrong type")
    if body["checksum"] != CHECKSUM:
        raise _lost(prefix, path, f"uses checksum {body['checksum']!r}; this gradcore knows {CHECKSUM!r}")
    for key, entry in body["tensors"].items():
        if not (isinstance(entry, dict) and set(entry) == {"dtype", "shape", CHECKSUM}
                and entry["dtype"] in _CODE_BY_NAME and _is_shape(entry["shape"])
                and _is_int(entry[CHECKSUM]) and 0 <= entry[CHECKSUM] < 2**32):
            raise _lost(prefix, path, f"key {key!r}: entry {entry!r} is not a dtype, shape and {CHECKSUM}")


def _is_int(value):
    return type(value) is int  # bool is an int subclass, and True is no size


def _is_shape(value):
    return (isinstance(value, list) and len(value) <= MAX_RANK
            and all(_is_int(d) and 0 <= d <= MAX_DIMENSION for d in value))


def _read_header(prefix, path, f, size):
    """({key: HeaderEntry}, where the data starts), every entry checked against the file's real size."""
    if size < 8:
        raise _lost(prefix, path, f"is {size} bytes, too short for the 8-byte header length")
    (length,) = struct.unpack("<Q", _read_exactly(prefix, path, f, 8))
    if not 2 <= length <= min(MAX_HEADER_BYTES, size - 8):
        raise _lost(prefix, path, f"declares a {length}-byte header, but only {size - 8} bytes follow the "
                                  f"length field (and a header may have at most {MAX_HEADER_BYTES})")
    header = _parse_json(prefix, path, _read_exactly(prefix, path, f, length))
    extra = header.pop(_RESERVED_KEY, {})
    if not (isinstance(extra, dict) and all(isinstance(v, str) for v in extra.values())):
        raise _lost(prefix, path, f"header entry {_RESERVED_KEY!r} is not a map of strings")
    data_bytes = size - 8 - length
    entries = {key: _header_entry(prefix, path, key, value, data_bytes) for key, value in header.items()}
    _check_layout(prefix, path, entries, data_bytes)
    return entries, 8 + length


def _header_entry(prefix, path, key, value, data_bytes):
    if not (isinstance(value, dict) and set(value) == _HEADER_FIELDS and value["dtype"] in _NAME_BY_CODE
            and _is_shape(value["shape"]) and isinstance(value["data_offsets"], list)
            and len(value["data_offsets"]) == 2 and all(_is_int(o) for o in value["data_offsets"])):
        raise _lost(prefix, path, f"key {key!r}: header entry {value!r} is not a known dtype, a shape and "
                                  f"two offsets")
    name, shape, (begin, end) = _NAME_BY_CODE[value["dtype"]], tuple(value["shape"]), value["data_offsets"]
    if not 0 <= begin <= end <= data_bytes:
        raise _lost(prefix, path, f"key {key!r}: offsets [{begin}, {end}] lie outside the {data_bytes} "
                                  f"bytes of data")
    declared = math.prod(shape) * _numpy_dtype(name).itemsize
    if end - begin != declared:
        raise _lost(prefix, path, f"key {key!r}: {name} {list(shape)} needs {declared} bytes, but its offsets "
                                  f"span {end - begin}")
    return HeaderEntry(name, shape, begin, end)


def _check_layout(prefix, path, entries, data_bytes):
    """The arrays must tile the data exactly: an overlap or a gap means a forged or damaged header."""
    position = 0
    for key in sorted(entries, key=lambda k: (entries[k].begin, entries[k].end)):
        if entries[key].begin != position:
            raise _lost(prefix, path, f"key {key!r}: data starts at byte {entries[key].begin}, not at "
                                      f"{position}: arrays overlap or leave a gap")
        position = entries[key].end
    if position != data_bytes:
        raise _lost(prefix, path, f"has {data_bytes - position} bytes after its last array")


def _match_index(prefix, path, described, entries):
    """The index and the data file must name the same keys with the same dtypes and shapes."""
    only_index, only_data = sorted(set(described) - set(entries)), sorted(set(entries) - set(described))
    if only_index or only_data:
        raise _lost(prefix, path, f"holds other keys than its index {index_path(prefix)}: keys "
                                  f"{only_index[:5]} only in the index, keys {only_data[:5]} only in the data")
    for key, entry in entries.items():
        expected = (described[key]["dtype"], tuple(described[key]["shape"]))
        if (entry.dtype, entry.shape) != expected:
            raise _lost(prefix, path, f"key {key!r}: holds {entry.dtype} {list(entry.shape)}, but the index "
                                      f"says {expected[0]} {list(expected[1])}")


def _read_array(prefix, path, f, key, entry, data_start, checksum):
    """Read one array (its size already bounded by the file's) and verify its bytes."""
    array = np.empty(entry.shape, _numpy_dtype(entry.dtype))
    raw = memoryview(array.reshape(-1).view(np.uint8))
    f.seek(data_start + entry.begin)
    crc = 0
    for start in range(0, len(raw), READ_CHUNK_BYTES):
        piece = raw[start:start + READ_CHUNK_BYTES]
        _read_into(prefix, path, f, piece)
        crc = zlib.crc32(piece, crc)
    if crc != checksum:
        raise _lost(prefix, path, f"key {key!r}: the bytes do not match their checksum ({CHECKSUM} {crc}, the "
                                  f"index says {checksum})")
    if entry.dtype == "bool" and array.size and array.view(np.uint8).max() > 1:
        raise _lost(prefix, path, f"key {key!r}: a bool array holds bytes other than 0 and 1")
    return array


@functools.cache
def _numpy_dtype(name):
    return dtypes.as_dtype(name).as_numpy_dtype.newbyteorder("<")


# ---- errors --------------------------------------------------------------------------------


def _not_found(prefix, detail):
    return NotFoundError(
        f"Error when restoring from checkpoint or SavedModel at {prefix}: {detail}\nPlease double-check "
        f"that the path is correct. You may be missing the checkpoint suffix (e.g. the '-1' in "
        f"'path/to/ckpt-1')."
    )


def _lost(prefix, path, problem):
    return DataLossError(
        f"Error when restoring from checkpoint at {prefix}: {path} {problem}. The file was truncated, "
        f"corrupted or changed after it was written; restore an earlier checkpoint."
    )
