"""gc.data.Dataset follows tf.data's documented behaviour on every backend.

Expected values come from NumPy and from tf.data's documentation: slicing
along the first axis, the shuffle buffer (an element leaves at most
buffer_size - 1 places early), batch remainders, cardinality rules.
"""

import collections
import gc as python_gc
import threading
import time

import numpy as np
import pytest

import gradcore as gc
from gradcore.data import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset


def values(dataset):
    """Every element as NumPy (structures kept), from a fresh epoch."""
    return list(dataset.as_numpy_iterator())


def scalars(dataset):
    return [v.item() for v in values(dataset)]


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "gradcore-prefetch"]


# ---- sources ----------------------------------------------------------------------------------


def test_from_tensor_slices_slices_the_first_axis_and_keeps_the_dtype():
    images = np.arange(24, dtype=np.float64).reshape(4, 2, 3)
    elements = list(Dataset.from_tensor_slices(images))
    assert len(elements) == 4
    for row, element in zip(images, elements):
        assert isinstance(element, gc.Tensor) and element.backend is gc.get_backend()
        assert element.dtype is gc.float64 and element.shape == (2, 3)
        np.testing.assert_array_equal(element.numpy(), row)


@pytest.mark.parametrize("source, dtype", [([1, 2, 3], gc.int32), ([1.0, 2.0, 3.0], gc.float32), ([True, False, True], gc.bool)])
def test_python_lists_are_one_component_with_constant_dtypes(source, dtype):
    elements = list(Dataset.from_tensor_slices(source))
    assert [e.dtype for e in elements] == [dtype] * 3
    assert [e.numpy().item() for e in elements] == source


def test_tuples_and_dicts_are_structures():
    features = {"x": np.arange(6, dtype=np.float32).reshape(3, 2), "id": gc.constant([7, 8, 9])}
    labels = np.array([0, 1, 0], dtype=np.int64)
    elements = values(Dataset.from_tensor_slices((features, labels)))
    assert len(elements) == 3
    (first_features, first_label) = elements[0]
    assert set(first_features) == {"x", "id"}
    np.testing.assert_array_equal(first_features["x"], [0.0, 1.0])
    assert first_features["id"] == 7 and first_label == 0
    np.testing.assert_array_equal(elements[2][0]["x"], [4.0, 5.0])


def test_namedtuples_are_rebuilt():
    Pair = collections.namedtuple("Pair", "x y")
    element = next(iter(Dataset.from_tensor_slices(Pair(np.zeros(2), np.ones(2)))))
    assert type(element) is Pair and float(element.y) == 1.0


def test_mismatched_first_dimensions_name_the_shapes():
    with pytest.raises(gc.InvalidArgumentError, match=r"\(3, 2\).*\(2,\)"):
        Dataset.from_tensor_slices((np.zeros((3, 2)), np.zeros(2)))


def test_a_scalar_component_cannot_be_sliced():
    with pytest.raises(gc.InvalidArgumentError, match="scalar"):
        Dataset.from_tensor_slices((np.zeros(3), 1.0))


def test_the_source_is_copied():
    data = np.arange(3, dtype=np.float32)
    dataset = Dataset.from_tensor_slices(data)
    data[0] = 100.0
    assert scalars(dataset) == [0.0, 1.0, 2.0]


def test_from_tensors_is_one_whole_element():
    dataset = Dataset.from_tensors((np.arange(6).reshape(2, 3), 5.0))
    assert int(dataset.cardinality()) == 1
    ((matrix, number),) = values(dataset)
    np.testing.assert_array_equal(matrix, np.arange(6).reshape(2, 3))
    assert number == 5.0


@pytest.mark.parametrize("args", [(5,), (2, 10, 3), (10, 0, -4), (3, 3)])
def test_range_matches_python_range(args):
    dataset = Dataset.range(*args)
    assert scalars(dataset) == list(range(*args))
    assert int(dataset.cardinality()) == len(range(*args))
    assert all(e.dtype is gc.int64 for e in dataset)


def test_range_takes_a_dtype_and_refuses_a_zero_step():
    assert [e.dtype for e in Dataset.range(2, dtype=gc.float32)] == [gc.float32] * 2
    with pytest.raises(gc.InvalidArgumentError, match="Dataset.range"):
        Dataset.range(0, 5, 0)


def test_a_dataset_is_reiterable():
    dataset = Dataset.from_tensor_slices(np.arange(4)).map(lambda x: x * 2)
    assert scalars(dataset) == scalars(dataset) == [0, 2, 4, 6]


def test_elements_are_made_on_the_backend_active_where_iteration_happens():
    dataset = Dataset.range(3).map(lambda x: x + 1)
    with gc.backend_scope("numpy") as numpy_backend:
        assert all(e.backend is numpy_backend for e in dataset)
    assert all(e.backend is gc.get_backend() for e in dataset)


# ---- shuffle ----------------------------------------------------------------------------------


def test_shuffle_is_a_permutation_and_seeded_shuffles_agree():
    first = scalars(Dataset.range(100).shuffle(10, seed=7))
    assert sorted(first) == list(range(100)) and first != list(range(100))
    assert scalars(Dataset.range(100).shuffle(10, seed=7)) == first


def test_shuffle_only_picks_from_its_buffer():
    # The element at output position p is among the first p + buffer_size inputs.
    buffer_size = 4
    order = scalars(Dataset.range(200).shuffle(buffer_size, seed=1))
    assert all(value < position + buffer_size for position, value in enumerate(order))
    assert scalars(Dataset.range(20).shuffle(1, seed=1)) == list(range(20))


def test_reshuffle_each_iteration():
    reshuffled = Dataset.range(50).shuffle(50, seed=3)
    assert scalars(reshuffled) != scalars(reshuffled)
    fixed = Dataset.range(50).shuffle(50, seed=3, reshuffle_each_iteration=False)
    assert scalars(fixed) == scalars(fixed)
    unseeded = Dataset.range(50).shuffle(50, reshuffle_each_iteration=False)
    assert scalars(unseeded) == scalars(unseeded)


def test_shuffle_then_repeat_reshuffles_each_repetition():
    order = scalars(Dataset.range(30).shuffle(30, seed=2).repeat(2))
    assert sorted(order[:30]) == sorted(order[30:]) == list(range(30))
    assert order[:30] != order[30:]


def test_shuffle_refuses_an_empty_buffer():
    with pytest.raises(gc.InvalidArgumentError, match="buffer_size"):
        Dataset.range(3).shuffle(0)


# ---- batch ------------------------------------------------------------------------------------


def test_batch_stacks_structures_and_keeps_the_remainder():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.int32)
    batches = values(Dataset.from_tensor_slices({"x": x, "y": y}).batch(4))
    assert [b["x"].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in batches]), x)
    np.testing.assert_array_equal(batches[2]["y"], [8, 9])
    assert int(Dataset.from_tensor_slices(y).batch(4).cardinality()) == 3


def test_drop_remainder():
    dataset = Dataset.range(10).batch(4, drop_remainder=True)
    assert [b.tolist() for b in values(dataset)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert int(dataset.cardinality()) == 2


def test_batching_mapped_elements_stacks_tensors():
    dataset = Dataset.range(5).map(lambda i: (gc.cast(i, gc.float32) * 0.5, i)).batch(2)
    batches = values(dataset)
    np.testing.assert_array_equal(batches[0][0], np.array([0.0, 0.5], np.float32))
    np.testing.assert_array_equal(batches[2][1], [4])
    assert batches[0][0].dtype == np.float32


def test_batching_elements_of_different_shapes_names_them():
    ragged = Dataset.range(1, 4).map(lambda n: gc.ones([int(n)]))
    with pytest.raises(gc.InvalidArgumentError, match=r"component 0.*\(1,\).*\(2,\)"):
        list(ragged.batch(3))


def test_batched_shuffle_matches_the_unbatched_order():
    data = np.arange(23) * 10
    def pipeline():
        return Dataset.from_tensor_slices(data).shuffle(6, seed=11)
    flat = scalars(pipeline())
    batched = [b.tolist() for b in values(pipeline().batch(5))]
    assert batched == [flat[i:i + 5] for i in range(0, 23, 5)]
    through_map = [b.tolist() for b in values(pipeline().map(lambda v: v).batch(5))]
    assert through_map == batched


def test_batch_size_must_be_positive():
    with pytest.raises(gc.InvalidArgumentError, match="batch_size"):
        Dataset.range(3).batch(0)


def test_batching_a_digits_sized_set_takes_milliseconds():
    images = np.random.default_rng(0).random((1797, 8, 8), dtype=np.float32)
    labels = np.arange(1797)
    dataset = Dataset.from_tensor_slices((images, labels)).shuffle(1797, seed=0).batch(32)
    start = time.perf_counter()
    batches = list(dataset)
    elapsed = time.perf_counter() - start
    assert len(batches) == 57 and elapsed < 0.5, f"{len(batches)} batches took {elapsed:.3f} s"
    seen = np.concatenate([labels.numpy() for _, labels in batches])
    assert sorted(seen.tolist()) == list(range(1797))
    first_images, first_labels = batches[0]
    np.testing.assert_array_equal(first_images.numpy(), images[first_labels.numpy()])


# ---- map and filter ---------------------------------------------------------------------------


def test_map_spreads_tuples_and_passes_dicts_whole():
    pairs = Dataset.from_tensor_slices((np.array([1.0, 2.0]), np.array([10.0, 20.0])))
    assert scalars(pairs.map(lambda a, b: a + b)) == [11.0, 22.0]
    records = Dataset.from_tensor_slices({"a": np.array([1, 2]), "b": np.array([3, 4])})
    assert scalars(records.map(lambda r: r["a"] * r["b"])) == [3, 8]


def test_map_functions_get_tensors_and_may_return_python_values():
    def check(x):
        assert isinstance(x, gc.Tensor) and x.backend is gc.get_backend()
        return x, 1.5
    ((x, constant),) = values(Dataset.range(1).map(check))
    assert x == 0 and constant == 1.5 and constant.dtype == np.float32


def test_filter_keeps_what_the_predicate_accepts():
    dataset = Dataset.range(10).filter(lambda x: x % 3 == 0)
    assert scalars(dataset) == [0, 3, 6, 9]
    assert int(dataset.cardinality()) == UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="unknown"):
        len(dataset)


# ---- prefetch ---------------------------------------------------------------------------------


def test_prefetch_yields_the_same_elements_from_a_background_thread():
    threads = set()

    def note_thread(x):
        threads.add(threading.current_thread().name)
        return x * 2

    dataset = Dataset.range(20).map(note_thread).prefetch(3)
    assert scalars(dataset) == [2 * i for i in range(20)]
    assert threads == {"gradcore-prefetch"}
    assert scalars(Dataset.range(5).prefetch(AUTOTUNE)) == list(range(5))
    assert not prefetch_threads()


def test_prefetch_producer_errors_are_raised_in_the_consumer():
    def fail_at_three(x):
        if int(x) == 3:
            raise ValueError("element three is bad")
        return x

    seen = []
    with pytest.raises(ValueError, match="element three is bad"):
        for element in Dataset.range(10).map(fail_at_three).prefetch(2):
            seen.append(int(element))
    assert seen == [0, 1, 2]
    assert not prefetch_threads()


def test_prefetch_thread_stops_when_iteration_stops_early():
    dataset = Dataset.range(1000).prefetch(2)
    for element in dataset:
        if int(element) == 5:
            break
    python_gc.collect()
    assert not prefetch_threads()
    iterator = iter(Dataset.range(10**6).repeat().prefetch(1))
    next(iterator)
    assert len(prefetch_threads()) == 1
    del iterator
    python_gc.collect()
    assert not prefetch_threads()


def test_prefetch_works_under_the_consumers_backend_scope():
    seen = []
    dataset = Dataset.range(3).map(lambda x: seen.append(gc.get_backend()) or x).prefetch(1)
    with gc.backend_scope("numpy") as numpy_backend:
        elements = list(dataset)
    assert seen == [numpy_backend] * 3 and all(e.backend is numpy_backend for e in elements)


# ---- cache, repeat, take, skip, enumerate ------------------------------------------------------


def test_cache_is_filled_by_the_first_complete_epoch():
    calls = []
    dataset = Dataset.range(4).map(lambda x: calls.append(1) or x).cache()
    next(iter(dataset))  # an epoch left early keeps nothing
    calls.clear()
    assert scalars(dataset) == [0, 1, 2, 3] and len(calls) == 4
    assert scalars(dataset) == [0, 1, 2, 3] and len(calls) == 4


def test_cache_after_shuffle_replays_the_first_order():
    dataset = Dataset.range(20).shuffle(20, seed=5).cache()
    assert scalars(dataset) == scalars(dataset)


def test_repeat():
    assert scalars(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    forever = Dataset.range(3).repeat()
    assert int(forever.cardinality()) == INFINITE_CARDINALITY
    assert scalars(forever.take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert scalars(Dataset.range(0).repeat()) == []
    with pytest.raises(TypeError, match="infinite"):
        len(forever)


def test_take_and_skip():
    dataset = Dataset.range(6)
    assert scalars(dataset.take(2)) == [0, 1] and len(dataset.take(2)) == 2
    assert scalars(dataset.take(-1)) == list(range(6))
    assert scalars(dataset.skip(4)) == [4, 5] and len(dataset.skip(4)) == 2
    assert scalars(dataset.skip(-1)) == [] and len(dataset.skip(10)) == 0
    assert len(dataset.repeat().take(9)) == 9


def test_enumerate():
    pairs = values(Dataset.from_tensor_slices(np.array([5.0, 6.0])).enumerate(start=3))
    assert [(int(i), float(v)) for i, v in pairs] == [(3, 5.0), (4, 6.0)]
    assert pairs[0][0].dtype == np.int64


def test_as_numpy_iterator_gives_arrays_the_caller_may_write_to():
    dataset = Dataset.from_tensor_slices(np.zeros((2, 2), np.float32))
    first = next(dataset.as_numpy_iterator())
    assert isinstance(first, np.ndarray)
    first[0] = 9.0
    np.testing.assert_array_equal(next(dataset.as_numpy_iterator()), [0.0, 0.0])


def test_cardinality_of_a_pipeline():
    images = np.zeros((1797, 8, 8), np.float32)
    dataset = Dataset.from_tensor_slices(images).shuffle(100).batch(32).prefetch(AUTOTUNE)
    assert int(dataset.cardinality()) == 57 and len(dataset) == 57
    assert dataset.cardinality().dtype is gc.int64
