"""gc.data's wider tf.data surface: from_generator, zip, range, padded_batch, unbatch,
interleave, flat_map, element_spec, cardinality, a parallel map and AUTOTUNE.

Expected values are those tf.data's documentation gives (the interleave and padded_batch
examples are TensorFlow's own). Thread tests wait on observable counters with bounded
waits, never on timing alone.
"""

import gc as python_gc
import random
import threading
import time

import numpy as np
import pytest

import gradcore as gc
from gradcore.data import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, autotune

Spec = gc.TensorSpec


def values(dataset):
    return list(dataset.as_numpy_iterator())


def scalars(dataset):
    return [v.item() for v in values(dataset)]


def cardinality(dataset):
    return int(dataset.cardinality())


def eventually(condition, timeout=5.0):
    """Poll ``condition`` until true or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.001)
    return condition()


def when(condition, action):
    """A thread that runs ``action`` once ``condition`` holds (or after a bounded wait)."""
    def run():
        eventually(condition)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def threads_back_to(count):
    python_gc.collect()
    return eventually(lambda: threading.active_count() <= count)


def test_cardinality_constants_are_tensorflows():
    assert (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, AUTOTUNE) == (-1, -2, -1)
    assert gc.data.INFINITE_CARDINALITY == -1 and gc.data.UNKNOWN_CARDINALITY == -2


# ---- from_generator -----------------------------------------------------------------------------


def pairs(count):
    for i in range(count):
        yield i, np.arange(i, dtype=np.float32)


def test_from_generator_checks_elements_and_reports_the_signature():
    signature = (Spec((), gc.int32), Spec([None], gc.float32))
    dataset = Dataset.from_generator(pairs, args=(3,), output_signature=signature)
    assert dataset.element_spec == signature
    assert cardinality(dataset) == UNKNOWN_CARDINALITY
    got = values(dataset)
    assert [int(i) for i, _ in got] == [0, 1, 2] and got[2][1].tolist() == [0.0, 1.0]
    assert got[0][0].dtype == np.int32 and got[0][1].dtype == np.float32
    assert len(values(dataset)) == 3  # each pass calls the generator again


def test_from_generator_passes_args_as_numpy_values():
    seen = []
    dataset = Dataset.from_generator(lambda n, name: seen.append((n, name)) or iter(range(int(n))),
                                     args=(gc.constant(2), "file.txt"), output_signature=Spec((), gc.int64))
    assert scalars(dataset) == [0, 1]
    assert isinstance(seen[0][0], np.ndarray) and seen[0][1] == b"file.txt"


def test_from_generator_deprecated_types_and_shapes():
    dataset = Dataset.from_generator(lambda: iter([(1, [2.0, 3.0])]), output_types=(gc.int64, gc.float32),
                                     output_shapes=((), (2,)))
    assert dataset.element_spec == (Spec((), gc.int64), Spec((2,), gc.float32))
    unknown = Dataset.from_generator(lambda: iter([[1, 2]]), output_types=gc.int64)
    assert unknown.element_spec.shape is None and values(unknown)[0].tolist() == [1, 2]


def test_from_generator_refuses_a_mismatched_element_at_that_element():
    dataset = Dataset.from_generator(lambda: iter([[1.0, 2.0], [3.0, 4.0], [5.0]]),
                                     output_signature=Spec([2], gc.float32))
    seen = []
    with pytest.raises(gc.InvalidArgumentError, match=r"shape \(1,\) where an element of shape \(2,\)"):
        for element in dataset:
            seen.append(element.numpy().tolist())
    assert seen == [[1.0, 2.0], [3.0, 4.0]]
    wrong_structure = Dataset.from_generator(lambda: iter([1]), output_signature=(Spec(()), Spec(())))
    with pytest.raises(gc.InvalidArgumentError, match="did not match the expected structure"):
        values(wrong_structure)


def test_from_generator_argument_errors():
    with pytest.raises(TypeError, match="callable"):
        Dataset.from_generator([1, 2], output_types=gc.int64)
    with pytest.raises(TypeError, match="output_signature` argument or the `output_types"):
        Dataset.from_generator(lambda: iter([]))
    with pytest.raises(TypeError, match="can not be used together"):
        Dataset.from_generator(lambda: iter([]), output_types=gc.int64, output_signature=Spec(()))
    with pytest.raises(TypeError, match="list"):
        Dataset.from_generator(lambda: iter([]), output_signature=[Spec(())])


# ---- zip ----------------------------------------------------------------------------------------


def test_zip_nests_as_given_and_stops_with_the_shortest():
    a, b, c = Dataset.range(1, 4), Dataset.range(4, 7), Dataset.range(7, 9)
    assert values(Dataset.zip(a, b)) == values(Dataset.zip((a, b))) == values(Dataset.zip(datasets=(a, b)))
    nested = values(Dataset.zip((a, (b, c))))
    assert [(int(x), (int(y), int(z))) for x, (y, z) in nested] == [(1, (4, 7)), (2, (5, 8))]
    records = Dataset.zip({"x": a, "y": b})
    assert records.element_spec == {"x": Spec((), gc.int64), "y": Spec((), gc.int64)}
    assert [(int(r["x"]), int(r["y"])) for r in values(records)] == [(1, 4), (2, 5), (3, 6)]


def test_zip_cardinality_follows_tensorflow():
    finite, forever = Dataset.range(5), Dataset.range(2).repeat()
    unknown = Dataset.range(5).filter(lambda x: x > 1)
    assert cardinality(Dataset.zip(finite, Dataset.range(3))) == 3
    assert cardinality(Dataset.zip(finite, forever)) == 5
    assert cardinality(Dataset.zip(forever, forever)) == INFINITE_CARDINALITY
    assert cardinality(Dataset.zip(finite, unknown)) == UNKNOWN_CARDINALITY


def test_zip_refuses_what_is_not_a_structure_of_datasets():
    with pytest.raises(TypeError, match="tuple"):
        Dataset.zip([Dataset.range(1), Dataset.range(1)])
    with pytest.raises(TypeError, match="int"):
        Dataset.zip((Dataset.range(1), 3))
    with pytest.raises(TypeError, match="at least one"):
        Dataset.zip()


# ---- range --------------------------------------------------------------------------------------


def test_range_output_type_spec_and_argument_errors():
    floats = Dataset.range(1, 5, 2, output_type=gc.float32)
    assert floats.element_spec == Spec((), gc.float32) and scalars(floats) == [1.0, 3.0]
    assert Dataset.range(3).element_spec == Spec((), gc.int64)
    with pytest.raises(ValueError, match="1 to 3"):
        Dataset.range()
    with pytest.raises(TypeError, match="integers"):
        Dataset.range(2.5)
    with pytest.raises(gc.InvalidArgumentError, match="non-zero"):
        Dataset.range(0, 4, 0)


# ---- padded_batch and unbatch -------------------------------------------------------------------


def ragged():
    """TensorFlow's padded_batch example: element n is n repeated n times."""
    return Dataset.range(1, 5).map(lambda n: gc.fill([int(n)], n))


def test_padded_batch_pads_to_the_longest_in_each_batch():
    batches = values(ragged().padded_batch(2))
    assert [b.tolist() for b in batches] == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    assert batches[0].dtype == np.int64
    assert ragged().padded_batch(2).element_spec == Spec((None, None), gc.int64)


def test_padded_batch_shapes_values_and_remainder():
    dataset = ragged().padded_batch(3, padded_shapes=[5], padding_values=gc.constant(-1, gc.int64),
                                    drop_remainder=True)
    assert [b.tolist() for b in values(dataset)] == [[[1, -1, -1, -1, -1], [2, 2, -1, -1, -1], [3, 3, 3, -1, -1]]]
    assert dataset.element_spec == Spec((3, 5), gc.int64) and cardinality(dataset) == 1
    assert cardinality(Dataset.range(7).padded_batch(3)) == 3
    pairs_ = Dataset.zip(ragged(), Dataset.range(4)).padded_batch(2, padded_shapes=([None], []))
    (first, labels) = values(pairs_)[0]
    assert first.tolist() == [[1, 0], [2, 2]] and labels.tolist() == [0, 1]


def test_padded_batch_errors():
    with pytest.raises(TypeError, match="int32 does not match type int64"):
        values(ragged().padded_batch(2, padding_values=-1))  # a Python int is int32, as in TensorFlow
    with pytest.raises(gc.InvalidArgumentError, match="smaller size than the input element"):
        values(ragged().padded_batch(2, padded_shapes=[1]))
    with pytest.raises(gc.InvalidArgumentError, match="ranks differ"):
        values(ragged().padded_batch(2, padded_shapes=[4, 4]))
    with pytest.raises(ValueError, match="scalars"):
        ragged().padded_batch(2, padding_values=np.zeros(2))


def test_unbatch_splits_every_component():
    batched = Dataset.from_tensor_slices((np.arange(6).reshape(3, 2), np.arange(3) * 10)).batch(2)
    dataset = batched.unbatch()
    assert [(int(x[0]), int(y)) for x, y in values(dataset)] == [(0, 0), (2, 10), (4, 20)]
    assert dataset.element_spec == (Spec((2,), gc.int64), Spec((), gc.int64))
    assert cardinality(dataset) == UNKNOWN_CARDINALITY  # a short last batch may come
    assert cardinality(Dataset.range(10).batch(2, drop_remainder=True).unbatch()) == 10
    assert cardinality(Dataset.from_tensors(np.zeros((4, 2))).unbatch()) == 4


def test_unbatch_errors():
    mismatched = Dataset.from_tensors((np.zeros(2), np.zeros(3))).unbatch()
    with pytest.raises(gc.InvalidArgumentError, match="Component 0 had size 2 but component 1 had size 3"):
        values(mismatched)
    with pytest.raises(gc.InvalidArgumentError, match="scalar component"):
        values(Dataset.range(3).unbatch())


# ---- interleave and flat_map --------------------------------------------------------------------

TF_INTERLEAVE_EXAMPLE = [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5]


def repeated_six_times(x):
    return Dataset.from_tensors(x).repeat(6)


def test_interleave_follows_tensorflows_cycle():
    dataset = Dataset.range(1, 6).interleave(repeated_six_times, cycle_length=2, block_length=4)
    assert scalars(dataset) == TF_INTERLEAVE_EXAMPLE
    assert cardinality(dataset) == UNKNOWN_CARDINALITY
    assert dataset.element_spec == Spec((), gc.int64)


def test_parallel_interleave_keeps_the_order_and_its_threads():
    before = threading.active_count()
    dataset = Dataset.range(1, 6).interleave(repeated_six_times, cycle_length=2, block_length=4,
                                             num_parallel_calls=AUTOTUNE, deterministic=True)
    assert scalars(dataset) == TF_INTERLEAVE_EXAMPLE
    iterator = iter(dataset)
    next(iterator)
    del iterator
    assert threads_back_to(before)


def test_interleave_argument_errors():
    with pytest.raises(gc.InvalidArgumentError, match="less than or equal to cycle_length"):
        Dataset.range(3).interleave(repeated_six_times, cycle_length=2, num_parallel_calls=3)
    with pytest.raises(gc.InvalidArgumentError, match="block_length"):
        Dataset.range(3).interleave(repeated_six_times, cycle_length=2, block_length=0)
    with pytest.raises(TypeError, match="must return a gc.data.Dataset"):
        values(Dataset.range(3).interleave(lambda x: x, cycle_length=1))


def test_flat_map_concatenates_the_datasets():
    dataset = Dataset.range(4).flat_map(lambda n: Dataset.range(n))
    assert scalars(dataset) == [0, 0, 1, 0, 1, 2]
    assert cardinality(dataset) == UNKNOWN_CARDINALITY
    rows = Dataset.from_tensor_slices(np.arange(6).reshape(3, 2)).flat_map(Dataset.from_tensor_slices)
    assert scalars(rows) == list(range(6)) and rows.element_spec == Spec((), gc.int64)


# ---- element_spec and cardinality through the transformations -----------------------------------


def test_element_spec_follows_each_transformation():
    source = Dataset.from_tensor_slices({"x": np.zeros((5, 3), np.float32), "y": np.arange(5)})
    assert source.element_spec == {"x": Spec((3,), gc.float32), "y": Spec((), gc.int64)}
    assert source.batch(2).element_spec["x"] == Spec((None, 3), gc.float32)
    assert source.batch(2, drop_remainder=True).element_spec["y"] == Spec((2,), gc.int64)
    assert source.shuffle(5).repeat().prefetch(1).element_spec == source.element_spec
    index, element = source.enumerate().element_spec
    assert index == Spec((), gc.int64) and element == source.element_spec
    mapped = source.map(lambda r: (gc.reduce_sum(r["x"]), gc.concat([r["x"], r["x"]], 0)))
    assert mapped.element_spec == (Spec((), gc.float32), Spec((6,), gc.float32))


def test_cardinality_through_each_transformation():
    six = Dataset.range(6)
    assert cardinality(six.map(lambda x: x, num_parallel_calls=2)) == 6
    assert cardinality(six.prefetch(AUTOTUNE)) == 6
    assert cardinality(six.padded_batch(4)) == 2
    assert cardinality(six.flat_map(Dataset.from_tensors)) == UNKNOWN_CARDINALITY
    assert cardinality(six.repeat().map(lambda x: x)) == INFINITE_CARDINALITY
    assert cardinality(Dataset.from_generator(lambda: iter([]), output_types=gc.int64).repeat()) == INFINITE_CARDINALITY


# ---- parallel map -------------------------------------------------------------------------------


def test_parallel_map_keeps_the_input_order_on_several_threads():
    names = set()
    rng = random.Random(0)
    delays = [rng.uniform(0, 0.004) for _ in range(24)]

    def slow_double(x):
        names.add(threading.current_thread().name)
        time.sleep(delays[int(x)])
        return x * 2

    assert scalars(Dataset.range(24).map(slow_double, num_parallel_calls=4)) == [2 * i for i in range(24)]
    assert names and all(name.startswith("gradcore-map") for name in names)
    unordered = scalars(Dataset.range(24).map(slow_double, num_parallel_calls=4, deterministic=False))
    assert sorted(unordered) == [2 * i for i in range(24)]


def test_parallel_map_raises_an_error_at_its_element():
    def fail_at_five(x):
        time.sleep(0.001 * (7 - int(x) % 7))  # later elements finish first
        if int(x) == 5:
            raise ValueError("element five is bad")
        return x

    seen = []
    with pytest.raises(ValueError, match="element five is bad"):
        for element in Dataset.range(12).map(fail_at_five, num_parallel_calls=3):
            seen.append(int(element))
    assert seen == [0, 1, 2, 3, 4]


def test_parallel_map_works_under_the_consumers_backend():
    dataset = Dataset.range(4).map(lambda x: gc.cast(x, gc.float32) + 1.0, num_parallel_calls=2)
    with gc.backend_scope("numpy") as numpy_backend:
        elements = list(dataset)
    assert all(e.backend is numpy_backend for e in elements)
    assert [float(e) for e in elements] == [1.0, 2.0, 3.0, 4.0]


def test_parallel_map_threads_end_with_their_iterator():
    before = threading.active_count()
    for element in Dataset.range(1000).map(lambda x: x, num_parallel_calls=3):
        if int(element) == 4:
            break
    assert threads_back_to(before)
    iterator = iter(Dataset.range(10**6).map(lambda x: x, num_parallel_calls=3).prefetch(2))
    next(iterator)
    assert threading.active_count() > before
    del iterator
    assert threads_back_to(before)


def test_num_parallel_calls_must_be_positive_or_autotune():
    with pytest.raises(gc.InvalidArgumentError, match="num_parallel_calls"):
        Dataset.range(3).map(lambda x: x, num_parallel_calls=0)


# ---- AUTOTUNE -----------------------------------------------------------------------------------


def test_autotuned_map_adds_calls_while_the_consumer_waits(monkeypatch):
    monkeypatch.setattr(autotune, "available_cpus", lambda: 3)
    gate = threading.Event()
    dataset = Dataset.range(12).map(lambda x: gate.wait(5) and x, num_parallel_calls=AUTOTUNE)
    node = dataset._node
    when(lambda: node.parallelism is not None and node.parallelism.waits >= 1, gate.set)
    assert scalars(dataset) == list(range(12))
    parallelism = node.parallelism
    assert parallelism.maximum == 3 and parallelism.waits >= 1
    assert parallelism.limit == min(3, 1 + parallelism.waits) >= 2


def test_autotuned_prefetch_grows_its_buffer_when_a_burst_drains_it():
    permits = threading.Semaphore(0)
    dataset = Dataset.range(100).map(lambda x: permits.acquire(timeout=5) and x).prefetch(AUTOTUNE)
    node = dataset._node
    iterator = iter(dataset)

    def next_after_a_wait():
        """The next element, produced only once the consumer has found the buffer empty."""
        waits = 0 if node.buffer is None else node.buffer.waits
        when(lambda: node.buffer is not None and node.buffer.waits > waits, permits.release)
        return int(next(iterator))

    assert next_after_a_wait() == 0  # the buffer held its bound, 1: it has been full
    assert next_after_a_wait() == 1 and node.buffer.limit == 2  # found empty after being full: doubled
    permits.release(2)
    assert eventually(lambda: len(node.buffer) == 2)
    assert [int(next(iterator)), int(next(iterator))] == [2, 3]
    assert next_after_a_wait() == 4 and node.buffer.limit == 4
    permits.release(100)  # the producer must not sit in acquire() while the iterator closes
    del iterator
    python_gc.collect()


def test_autotuned_prefetch_stays_small_for_a_steady_consumer():
    dataset = Dataset.range(20).prefetch(AUTOTUNE)
    iterator = iter(dataset)
    assert int(next(iterator)) == 0
    buffer = dataset._node.buffer
    for expected in range(1, 20):
        assert eventually(lambda: len(buffer) >= 1)
        assert int(next(iterator)) == expected
    assert buffer.limit == 1
    del iterator
