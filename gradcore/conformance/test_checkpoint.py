"""gc.train.Checkpoint and CheckpointManager, as tf.train's (the tf.train.Checkpoint and
CheckpointManager API documentation and TensorFlow's checkpoint tests); each test names the
behaviour it mirrors. Expected values come from the program, never from the checkpoint code.
"""

import os

import numpy as np
import pytest

import gradcore as gc
from gradcore.train import format as checkpoint_format


def files_of(directory):
    return sorted(os.listdir(directory))


# ---- Checkpoint: save, write, restore, read -------------------------------------------------


def test_save_numbers_the_prefix_and_records_the_latest(tmp_path):
    """TF: two saves give ckpt-1, ckpt-2; save_counter 2; TF's file names; latest_checkpoint is the 2nd."""
    ck = gc.train.Checkpoint(v=gc.Variable(1.0))
    first, second = ck.save(tmp_path / "ckpt"), ck.save(tmp_path / "ckpt")
    assert (first, second) == (str(tmp_path / "ckpt-1"), str(tmp_path / "ckpt-2"))
    assert int(ck.save_counter.numpy()) == 2 and ck.save_counter.dtype == gc.int64
    assert files_of(tmp_path) == ["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index",
                                  "ckpt-2.data-00000-of-00001", "ckpt-2.index"]
    assert gc.train.latest_checkpoint(tmp_path) == second


def test_write_writes_exactly_the_prefix_and_no_state(tmp_path):
    """TF: write returns exactly the path; save_counter stays 0 (unmade); no state file, latest is None."""
    ck = gc.train.Checkpoint(v=gc.Variable(1.0))
    assert ck.write(tmp_path / "w") == str(tmp_path / "w")
    assert "checkpoint" not in files_of(tmp_path)
    assert gc.train.latest_checkpoint(tmp_path) is None
    assert int(ck.save_counter.numpy()) == 0


def test_restore_puts_the_saved_value_back_and_statuses_chain(tmp_path):
    """TF: save, assign 5, restore(path).assert_consumed(): v is 1 again; the methods return the status."""
    v = gc.Variable(1.0)
    ck = gc.train.Checkpoint(v=v)
    path = ck.save(tmp_path / "ckpt")
    v.assign(5.0)
    status = ck.restore(path)
    assert isinstance(status, gc.train.CheckpointLoadStatus)
    assert status.assert_consumed() is status
    assert status.assert_existing_objects_matched() is status and status.assert_nontrivial_match() is status
    assert float(v.numpy()) == 1.0


def test_restore_into_a_new_object_graph_with_the_same_names(tmp_path):
    """TF: a new graph with the same structure restores; assert_consumed passes (save_counter made too)."""
    module = gc.Module()
    module.w = gc.Variable([1.0, 2.0])
    path = gc.train.Checkpoint(m=module, step=gc.Variable(7, dtype=gc.int64)).save(tmp_path / "ckpt")

    fresh = gc.Module()
    fresh.w = gc.Variable([0.0, 0.0])
    step = gc.Variable(0, dtype=gc.int64)
    ck = gc.train.Checkpoint(m=fresh, step=step)
    ck.restore(path).assert_consumed()
    np.testing.assert_array_equal(fresh.w.numpy(), [1.0, 2.0])
    assert int(step.numpy()) == 7 and int(ck.save_counter.numpy()) == 1


def test_an_object_not_in_the_checkpoint_fails_consumed_and_existing_but_not_nontrivial(tmp_path):
    """TF: an extra Python variable: assert_consumed and assert_existing_objects_matched raise
    "Found 1 Python objects that were not bound to checkpointed values ..."; assert_nontrivial_match passes."""
    path = gc.train.Checkpoint(v=gc.Variable(1.0)).save(tmp_path / "ckpt")
    status = gc.train.Checkpoint(v=gc.Variable(0.0), w=gc.Variable(0.0)).restore(path)
    for assertion in (status.assert_consumed, status.assert_existing_objects_matched):
        with pytest.raises(AssertionError, match="Found 1 Python objects that were not bound to checkpointed values"):
            assertion()
    status.assert_nontrivial_match()


def test_a_partial_restore_fails_consumed_only_and_expect_partial_returns_the_status(tmp_path):
    """TF: values with no Python object: assert_consumed fails, assert_existing_objects_matched passes."""
    path = gc.train.Checkpoint(v=gc.Variable(1.0), w=gc.Variable(2.0)).save(tmp_path / "ckpt")
    v = gc.Variable(0.0)
    status = gc.train.Checkpoint(v=v).restore(path)
    with pytest.raises(AssertionError, match="Unresolved object in checkpoint"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    assert status.expect_partial() is status
    assert float(v.numpy()) == 1.0


def test_restore_none_restores_nothing_and_every_assertion_fails():
    """TF: restore(None) gives an InitializationOnlyStatus; its assertions raise; expect_partial works."""
    status = gc.train.Checkpoint(v=gc.Variable(1.0)).restore(None)
    assert isinstance(status, gc.train.InitializationOnlyStatus)
    for assertion in (status.assert_consumed, status.assert_existing_objects_matched, status.assert_nontrivial_match):
        with pytest.raises(AssertionError, match=r"No checkpoint specified \(save_path=None\); nothing is being restored."):
            assertion()
    assert status.expect_partial() is status


def test_read_of_a_written_checkpoint_is_consumed_but_restore_is_not(tmp_path):
    """TF: a checkpoint from write: read(p).assert_consumed() passes; restore(p).assert_consumed() fails,
    since restore makes save_counter, which the written checkpoint lacks."""
    path = gc.train.Checkpoint(v=gc.Variable(3.0)).write(tmp_path / "w")
    gc.train.Checkpoint(v=gc.Variable(0.0)).read(path).assert_consumed()
    with pytest.raises(AssertionError, match="Found 1 Python objects"):
        gc.train.Checkpoint(v=gc.Variable(0.0)).restore(path).assert_consumed()


def test_restoring_a_missing_checkpoint_is_not_found_with_tensorflows_hint(tmp_path):
    """TF: restore('.../nope/ckpt') raises NotFoundError naming the path and the missing '-1' suffix."""
    with pytest.raises(gc.errors.NotFoundError, match="You may be missing the checkpoint suffix"):
        gc.train.Checkpoint(v=gc.Variable(1.0)).restore(tmp_path / "nope" / "ckpt")


def test_a_variable_created_after_restore_gets_its_value_when_created(tmp_path):
    """TF doc: restore into Checkpoint(m=Module()), then m.v = Variable(0.): m.v is the saved 7.0;
    assert_consumed passes afterwards."""
    saved = gc.Module()
    saved.v = gc.Variable(7.0)
    path = gc.train.Checkpoint(m=saved).save(tmp_path / "ckpt")
    module = gc.Module()
    status = gc.train.Checkpoint(m=module).restore(path)
    module.v = gc.Variable(0.0)
    assert float(module.v.numpy()) == 7.0
    status.assert_consumed()


def test_a_non_trackable_argument_is_refused():
    """TF: Checkpoint(a=1) raises ValueError "`Checkpoint` was expecting a to be a trackable object ..."."""
    with pytest.raises(ValueError, match="`Checkpoint` was expecting a to be a trackable object"):
        gc.train.Checkpoint(a=1)


def test_a_keyword_argument_that_root_already_has_is_refused():
    """TF: Checkpoint(m, child=B) where m.child exists raises ValueError."""
    root = gc.Module()
    root.child = gc.Variable(1.0)
    with pytest.raises(ValueError, match="Cannot create a Checkpoint with keyword argument child if root.child already exists."):
        gc.train.Checkpoint(root, child=gc.Variable(2.0))


def test_save_inside_a_function_is_refused_and_write_writes_at_every_call(tmp_path):
    """TF: Checkpoint.save() inside tf.function raises NotImplementedError pointing at write(); write inside
    a function writes each call's values."""
    v = gc.Variable(1.0)
    ck = gc.train.Checkpoint(v=v)

    @gc.function
    def save():
        return ck.save(str(tmp_path / "ckpt"))

    with pytest.raises(NotImplementedError, match="Consider using gc.train.Checkpoint.write"):
        save()

    @gc.function
    def step(x):
        v.assign_add(x)
        ck.write(str(tmp_path / "w"))
        return v.read_value()

    for x, expected in ((1.0, 2.0), (2.5, 4.5)):
        step(gc.constant(x))
        arrays, _ = checkpoint_format.read_checkpoint(str(tmp_path / "w"))
        assert float(arrays["v"]) == expected


def test_optimizer_state_round_trips_and_slots_made_later_are_restored(tmp_path):
    """Keras/TF: Checkpoint(v=v, opt=Adam) restores v, opt.iterations and the slots, even when the
    restoring optimizer makes its slots only at its first apply_gradients after the restore."""
    def step(v, opt):
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum(v * v * v)
        opt.apply_gradients([(tape.gradient(loss, v), v)])

    v, opt = gc.Variable([1.0, -2.0]), gc.optimizers.Adam(0.1)
    for _ in range(3):
        step(v, opt)
    path = gc.train.Checkpoint(v=v, opt=opt).save(tmp_path / "ckpt")
    step(v, opt)
    expected = v.numpy()

    v2, opt2 = gc.Variable([0.0, 0.0]), gc.optimizers.Adam(0.1)
    status = gc.train.Checkpoint(v=v2, opt=opt2).restore(path)
    assert int(opt2.iterations.numpy()) == 3
    step(v2, opt2)  # makes the slots: they take the saved values as they appear
    status.assert_consumed()
    np.testing.assert_array_equal(v2.numpy(), expected)
    assert int(opt2.iterations.numpy()) == 4


def test_a_value_that_does_not_fit_its_variable_changes_nothing(tmp_path):
    """A saved shape or dtype that does not fit is an InvalidArgumentError naming the key; no variable
    changes, not even those that would fit (restores are checked before anything is written)."""
    path = gc.train.Checkpoint(a=gc.Variable(1.0), b=gc.Variable([1.0, 2.0])).save(tmp_path / "ckpt")
    a, b = gc.Variable(9.0), gc.Variable([9.0, 9.0, 9.0])
    with pytest.raises(gc.InvalidArgumentError, match="'b'"):
        gc.train.Checkpoint(a=a, b=b).restore(path)
    assert float(a.numpy()) == 9.0
    with pytest.raises(gc.InvalidArgumentError, match="dtype"):
        gc.train.Checkpoint(a=gc.Variable(1, dtype=gc.int32)).read(path)


def test_save_weights_and_load_weights_restore_a_model_even_before_it_is_built(tmp_path):
    """Keras: model.save_weights(path) / load_weights(path); weights restored when the model builds."""
    def model():
        return gc.Sequential([gc.layers.Dense(4, activation="relu"), gc.layers.BatchNormalization(), gc.layers.Dense(2)])

    x = gc.constant(np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32))
    saved = model()
    saved(x, training=True)
    saved.save_weights(str(tmp_path / "weights"))
    expected = saved(x).numpy()

    loaded = model()
    status = loaded.load_weights(str(tmp_path / "weights"))
    np.testing.assert_array_equal(loaded(x).numpy(), expected)
    status.assert_consumed()


# ---- CheckpointManager ---------------------------------------------------------------------------


def manager_for(tmp_path, **kwargs):
    ck = gc.train.Checkpoint(v=gc.Variable(1.0))
    kwargs.setdefault("max_to_keep", 3)
    return ck, gc.train.CheckpointManager(ck, str(tmp_path), **kwargs)


def test_manager_keeps_the_newest_and_deletes_the_rest(tmp_path):
    """TF: max_to_keep=3, 4 saves: ckpt-1..4 returned; checkpoints == [2, 3, 4]; ckpt-1's files gone."""
    _, manager = manager_for(tmp_path)
    paths = [manager.save() for _ in range(4)]
    assert paths == [str(tmp_path / f"ckpt-{n}") for n in range(1, 5)]
    assert manager.checkpoints == paths[1:]
    assert not any(name.startswith("ckpt-1.") for name in files_of(tmp_path))
    assert manager.latest_checkpoint == paths[-1] == gc.train.latest_checkpoint(tmp_path)


@pytest.mark.parametrize("max_to_keep, error", [(0, ValueError), (-1, ValueError)])
def test_manager_refuses_a_max_to_keep_that_is_not_positive(tmp_path, max_to_keep, error):
    """TF: max_to_keep=0 raises "Expected a positive integer or `None` for `max_to_keep`, got 0."; omitted: TypeError."""
    with pytest.raises(error, match=f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}."):
        manager_for(tmp_path, max_to_keep=max_to_keep)
    with pytest.raises(TypeError):
        gc.train.CheckpointManager(gc.train.Checkpoint(v=gc.Variable(1.0)), str(tmp_path))


def test_manager_without_a_limit_keeps_everything_until_a_later_one_has_one(tmp_path):
    """TF: max_to_keep=None keeps all; a later manager with max_to_keep=3 on the directory sees all 4
    and deletes down to 3 at its next save."""
    ck, manager = manager_for(tmp_path, max_to_keep=None)
    paths = [manager.save() for _ in range(4)]
    later = gc.train.CheckpointManager(ck, str(tmp_path), max_to_keep=3)
    assert later.checkpoints == paths
    newest = later.save()
    assert later.checkpoints == paths[2:] + [newest]
    assert not any(name.startswith(("ckpt-1.", "ckpt-2.")) for name in files_of(tmp_path))


def test_manager_interval_needs_a_step_counter_and_saves_every_interval(tmp_path):
    """TF: checkpoint_interval without step_counter is a ValueError; with interval 2, steps 0,1,2,2,3 give
    ckpt-1, None, ckpt-2, None, None, and save(check_interval=False) then ckpt-3."""
    with pytest.raises(ValueError, match="`step_counter` should be passed if `checkpoint_interval` is not None."):
        manager_for(tmp_path, checkpoint_interval=2)
    step = gc.Variable(0, dtype=gc.int64)
    _, manager = manager_for(tmp_path, step_counter=step, checkpoint_interval=2)
    results = []
    for value in (0, 1, 2, 2, 3):
        step.assign(value)
        results.append(manager.save())
    results.append(manager.save(check_interval=False))
    names = [None if r is None else os.path.basename(r) for r in results]
    assert names == ["ckpt-1", None, "ckpt-2", None, None, "ckpt-3"]


def test_manager_checkpoint_number_and_name(tmp_path):
    """TF: save(checkpoint_number=32) with checkpoint_name="model" gives model-32; save_counter still 1."""
    ck, manager = manager_for(tmp_path, checkpoint_name="model")
    assert manager.save(checkpoint_number=32) == str(tmp_path / "model-32")
    assert int(ck.save_counter.numpy()) == 1


def test_restore_or_initialize(tmp_path):
    """TF: with no checkpoint, restore_or_initialize calls init_fn and returns None; after a save it
    restores the latest and returns its path."""
    calls = []
    ck, manager = manager_for(tmp_path, init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]
    path = manager.save()
    ck._children["v"].assign(9.0)
    assert manager.restore_or_initialize() == path and calls == [1]
    assert float(ck._children["v"].numpy()) == 1.0


def test_the_state_file_is_readable_and_a_new_manager_recovers_the_list(tmp_path):
    """TF: the directory's `checkpoint` file starts `model_checkpoint_path: "ckpt-4"` and lists the kept
    ones with relative paths; a new manager on the directory has the same list and latest."""
    ck, manager = manager_for(tmp_path)
    for _ in range(4):
        manager.save()
    text = (tmp_path / "checkpoint").read_text()
    assert text.startswith('model_checkpoint_path: "ckpt-4"\n')
    assert 'all_model_checkpoint_paths: "ckpt-3"' in text and "ckpt-1" not in text
    again = gc.train.CheckpointManager(ck, str(tmp_path), max_to_keep=3)
    assert again.checkpoints == manager.checkpoints and again.latest_checkpoint == manager.latest_checkpoint


def test_keep_checkpoint_every_n_hours_preserves_one_leaving_the_window(tmp_path, monkeypatch):
    """TF: with keep_checkpoint_every_n_hours=1.5, a checkpoint leaving the max_to_keep window stays on disk
    (dropped from `checkpoints`) when it is >= 1.5 h after the last preserved one."""
    clock = [10_000.0]
    monkeypatch.setattr("gradcore.train.manager.time.time", lambda: clock[0])
    _, manager = manager_for(tmp_path, max_to_keep=1, keep_checkpoint_every_n_hours=1.5)
    first = manager.save()  # at 10000 s: the window start
    clock[0] += 2 * 3600
    second = manager.save()  # first leaves the window; it is not 1.5 h after the last preserved (10000): deleted
    clock[0] += 2 * 3600
    manager.save()  # second leaves; 2 h after 10000 -> 1.5 h passed: preserved on disk
    assert not checkpoint_format.checkpoint_exists(first)
    assert checkpoint_format.checkpoint_exists(second) and second not in manager.checkpoints


def test_latest_checkpoint_of_an_empty_directory_is_none(tmp_path):
    """TF: tf.train.latest_checkpoint(empty_dir) is None."""
    assert gc.train.latest_checkpoint(tmp_path) is None


# ---- across backends ------------------------------------------------------------------------------


def _available_backends():
    from gradcore.plugin.discovery import discover

    return [name for name, spec in discover().items() if spec.unavailable_reason() is None]


def _random_bits(dtype, rng):
    """Values of every kind a dtype holds, NaN and -0.0 among the floats, made from raw bits."""
    numpy_dtype = dtype.as_numpy_dtype
    if dtype == gc.bool:
        return rng.integers(0, 2, size=(2, 3)).astype(bool)
    raw = rng.integers(0, 256, size=6 * numpy_dtype.itemsize, dtype=np.uint8).view(numpy_dtype).reshape(2, 3)
    if dtype.is_floating:
        raw = raw.copy()
        raw.flat[0], raw.flat[1] = np.nan, -0.0
    return raw


@pytest.mark.parametrize("writer", ["this backend", "numpy"])
def test_a_checkpoint_moves_between_backends_bit_for_bit(tmp_path, writer):
    """A checkpoint written on one backend restores on every other available one, every dtype both
    support, bit for bit (docs/checkpoints.md, "Across backends")."""
    source = gc.get_backend().name if writer == "this backend" else "numpy"
    rng = np.random.default_rng(5)
    with gc.backend_scope(source):
        supported = [d for d in gc.dtypes.ALL if d.name in gc.get_backend().dtypes]
        values = {d.name: _random_bits(d, rng) for d in supported}
        saved = {name: gc.Variable(array, dtype=gc.as_dtype(name)) for name, array in values.items()}
        path = gc.train.Checkpoint(**{f"v_{name}": v for name, v in saved.items()}).save(tmp_path / "ckpt")
    for target in _available_backends():
        with gc.backend_scope(target):
            supported_there = set(gc.get_backend().dtypes)
            restored = {name: gc.Variable(np.zeros_like(array), dtype=saved[name].dtype)
                        for name, array in values.items() if name in supported_there}
            status = gc.train.Checkpoint(**{f"v_{name}": v for name, v in restored.items()}).restore(path)
            status.expect_partial().assert_existing_objects_matched()
            for name, variable in restored.items():
                assert variable.backend.name == target
                got = variable.numpy()
                assert got.dtype == values[name].dtype
                assert got.tobytes() == values[name].tobytes(), (source, target, name)


def test_a_corrupted_checkpoint_is_refused_before_any_variable_changes(tmp_path):
    """A flipped byte in the data file is a DataLossError naming the file; the variables keep their values."""
    a, b = gc.Variable([1.0, 2.0]), gc.Variable([3.0, 4.0])
    path = gc.train.Checkpoint(a=a, b=b).save(tmp_path / "ckpt")
    data = checkpoint_format.data_path(path)
    with open(data, "r+b") as file:
        file.seek(-1, os.SEEK_END)
        last = file.read(1)[0]
        file.seek(-1, os.SEEK_END)
        file.write(bytes([last ^ 0xFF]))  # the last byte of the last array
    a.assign([9.0, 9.0])
    b.assign([9.0, 9.0])
    with pytest.raises(gc.errors.DataLossError, match="data-00000-of-00001"):
        gc.train.Checkpoint(a=a, b=b).restore(path)
    np.testing.assert_array_equal(a.numpy(), [9.0, 9.0])
    np.testing.assert_array_equal(b.numpy(), [9.0, 9.0])
