"""gc.distribute: TensorFlow's strategy API on this backend, the rows of TF_SEMANTICS.md 1.15.

Two logical CPU replicas (``MirroredStrategy(["/cpu:0", "/cpu:1"])``) stand in for two
devices, as TensorFlow's logical CPUs do, so every check runs without a GPU. Each test
names the TensorFlow behaviour (tf.distribute) it mirrors.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.errors import InvalidArgumentError
from gradcore.testing import assert_allclose

D = gc.distribute
CUDA = [d for d in gc.get_backend().devices() if d.startswith("cuda")]
needs_cuda = pytest.mark.skipif(not CUDA, reason="the backend lists no CUDA device here")


@pytest.fixture
def mirrored():
    return D.MirroredStrategy(["/cpu:0", "/cpu:1"])


def replica_id_plus_one():
    return gc.cast(D.get_replica_context().replica_id_in_sync_group, gc.float32) + 1.0


def values(results):
    return [np.asarray(r).tolist() for r in results]


# ---- the strategies and their contexts --------------------------------------------------------


def test_default_strategy_has_one_replica_and_is_not_a_strategy_in_scope():
    """TF: get_strategy() outside every scope is _DefaultDistributionStrategy, 1 replica, has_strategy() False."""
    strategy = D.get_strategy()
    assert type(strategy).__name__ == "_DefaultDistributionStrategy"
    assert strategy.num_replicas_in_sync == 1
    assert D.has_strategy() is False and D.in_cross_replica_context() is False
    assert D.get_replica_context() is not None  # the default replica context
    assert float(strategy.run(lambda x: x * 2.0, args=(gc.constant(3.0),))) == 6.0


def test_one_device_strategy_returns_plain_tensors():
    """TF: OneDeviceStrategy.run returns a plain Tensor 6.0; reduce SUM is 6.0; local results (6.0,)."""
    strategy = D.OneDeviceStrategy("/cpu:0")
    result = strategy.run(lambda x: x * 2.0, args=(gc.constant(3.0),))
    assert isinstance(result, gc.Tensor) and float(result) == 6.0
    assert float(strategy.reduce("SUM", result, axis=None)) == 6.0
    assert values(strategy.experimental_local_results(result)) == [6.0]
    with strategy.scope():
        v = gc.Variable(1.0)
    assert type(v) is gc.Variable and v.device == "cpu"


def test_logical_cpus_are_the_backends_host_devices_where_it_has_several(mirrored):
    """TF's logical CPUs: jax with --xla_force_host_platform_device_count has "cpu:1" (the tox jax env
    sets it); numpy and torch run both replicas on the host."""
    result = mirrored.run(lambda: gc.constant(1.0))
    second = "cpu:1" if "cpu:1" in gc.get_backend().devices() else "cpu"
    assert [t.device for t in result.values] == ["cpu", second]
    with mirrored.scope():
        v = gc.Variable(1.0)
    assert [c.device for c in mirrored.experimental_local_results(v)] == ["cpu", second]
    with gc.device("/cpu:1"):
        assert gc.constant(1.0).device == second


def test_mirrored_run_gives_per_replica_values_and_reduces_them(mirrored):
    """TF: run returning replica_id + 1 gives PerReplica (1., 2.); SUM 3.0; "MEAN" and "mean" 1.5."""
    result = mirrored.run(replica_id_plus_one)
    assert isinstance(result, D.PerReplica)
    assert values(mirrored.experimental_local_results(result)) == [1.0, 2.0]
    assert float(mirrored.reduce(D.ReduceOp.SUM, result, axis=None)) == 3.0
    assert float(mirrored.reduce("MEAN", result, axis=None)) == 1.5
    assert float(mirrored.reduce("mean", result, axis=None)) == 1.5
    assert mirrored.num_replicas_in_sync == 2


def test_reduce_along_an_axis_counts_every_replicas_elements(mirrored):
    """TF: per-replica [0,1,2,3] and [4,5,6,7]: SUM axis=None [4,6,8,10], SUM axis=0 28, MEAN axis=0 3.5."""
    per_replica = mirrored.run(lambda: gc.range(4, dtype=gc.float32)
                               + 4.0 * gc.cast(D.get_replica_context().replica_id_in_sync_group, gc.float32))
    assert values([mirrored.reduce("SUM", per_replica, axis=None)]) == [[4.0, 6.0, 8.0, 10.0]]
    assert float(mirrored.reduce("SUM", per_replica, axis=0)) == 28.0
    assert float(mirrored.reduce("MEAN", per_replica, axis=0)) == 3.5


def test_all_reduce_inside_run_gives_every_replica_the_sum(mirrored):
    """TF: ctx.all_reduce("sum", replica_id + 1) inside run: each replica gets 3.0."""
    result = mirrored.run(lambda: D.get_replica_context().all_reduce("sum", replica_id_plus_one()))
    assert values(mirrored.experimental_local_results(result)) == [3.0, 3.0]


def test_all_reduce_of_a_structure_and_its_mean(mirrored):
    def fn():
        ctx = D.get_replica_context()
        return ctx.all_reduce("MEAN", {"a": replica_id_plus_one(), "b": [replica_id_plus_one() * 10.0]})

    result = mirrored.run(fn)
    assert values(mirrored.experimental_local_results(result["a"])) == [1.5, 1.5]
    assert values(mirrored.experimental_local_results(result["b"][0])) == [15.0, 15.0]


def test_all_reduce_is_differentiable(mirrored):
    """TF: the gradient of an all-reduce SUM is the all-reduce SUM of the gradients."""

    def fn():
        x = replica_id_plus_one()
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = D.get_replica_context().all_reduce("sum", x * x)  # x0^2 + x1^2 on each replica
        return tape.gradient(y, x)

    grads = mirrored.run(fn)  # each replica's dy is 1, summed over 2 replicas: 2, times 2x
    assert values(mirrored.experimental_local_results(grads)) == [4.0, 8.0]


def test_variables_in_scope_are_mirrored(mirrored):
    """TF: a Variable made in scope() is a MirroredVariable with one component per replica; outside, plain."""
    with mirrored.scope():
        v = gc.Variable(1.0)
    w = gc.Variable(1.0)
    assert isinstance(v, D.MirroredVariable) and isinstance(v, gc.Variable)
    assert len(mirrored.experimental_local_results(v)) == 2
    assert type(w) is gc.Variable
    v.assign(5.0)  # cross-replica: every copy
    assert values(mirrored.experimental_local_results(v)) == [5.0, 5.0]


def test_a_replicas_write_to_a_mirrored_variable_needs_an_aggregation(mirrored):
    """TF: assigning a MirroredVariable inside run with aggregation NONE is refused; MEAN combines."""
    with mirrored.scope():
        plain = gc.Variable(0.0)
        averaged = gc.Variable(0.0, aggregation="mean")
    with pytest.raises(ValueError, match="aggregation"):
        mirrored.run(lambda: plain.assign(replica_id_plus_one()))
    mirrored.run(lambda: averaged.assign(replica_id_plus_one()))
    assert values(mirrored.experimental_local_results(averaged)) == [1.5, 1.5]


def test_distributed_dataset_splits_each_global_batch(mirrored):
    """TF: range(8).batch(4) on 2 replicas gives [[0,1],[2,3]] then [[4,5],[6,7]]; a final batch of
    one element gives [[4],[]]."""
    steps = [values(mirrored.experimental_local_results(b))
             for b in mirrored.experimental_distribute_dataset(gc.data.Dataset.range(8).batch(4))]
    assert steps == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    steps = [values(mirrored.experimental_local_results(b))
             for b in mirrored.experimental_distribute_dataset(gc.data.Dataset.range(5).batch(4))]
    assert steps == [[[0, 1], [2, 3]], [[4], []]]


def test_distributed_dataset_splits_every_leaf_of_an_element(mirrored):
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    data = gc.data.Dataset.from_tensor_slices((x, np.arange(6))).batch(6)
    (features, labels), = list(mirrored.experimental_distribute_dataset(data))
    assert values(mirrored.experimental_local_results(labels)) == [[0, 1, 2], [3, 4, 5]]
    assert values(mirrored.experimental_local_results(features))[1] == x[3:].tolist()


def test_datasets_from_function_get_an_input_context(mirrored):
    """TF: dataset_fn gets an InputContext; the local replicas take the pipeline's batches in turn."""
    contexts = []

    def dataset_fn(context):
        contexts.append(context)
        batch = context.get_per_replica_batch_size(4)
        return gc.data.Dataset.range(8).batch(batch)

    steps = [values(mirrored.experimental_local_results(b))
             for b in mirrored.distribute_datasets_from_function(dataset_fn)]
    assert steps == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    assert (contexts[0].num_input_pipelines, contexts[0].input_pipeline_id, contexts[0].num_replicas_in_sync) == (1, 0, 2)
    with pytest.raises(ValueError, match="not divisible"):
        contexts[0].get_per_replica_batch_size(5)


def test_run_refuses_args_that_are_not_a_list_or_tuple(mirrored):
    """TF: run(fn, args=tf.constant(1.)) is a ValueError naming the type."""
    with pytest.raises(ValueError, match="positional args must be a list or tuple, got <class"):
        mirrored.run(lambda x: x, args=gc.constant(1.0))


def test_reduce_op_names_only_sum_and_mean(mirrored):
    """TF: reduce("MAX", ...) is ValueError: 'MAX' is not a valid ReduceOp."""
    result = mirrored.run(replica_id_plus_one)
    with pytest.raises(ValueError, match="'MAX' is not a valid ReduceOp"):
        mirrored.reduce("MAX", result, axis=None)


def test_reduce_needs_its_axis(mirrored):
    """TF 2: reduce's axis has no default."""
    result = mirrored.run(replica_id_plus_one)
    with pytest.raises(TypeError, match="axis"):
        mirrored.reduce("SUM", result)


def test_mixing_strategies_is_an_error(mirrored):
    """TF: a scope of one strategy inside another's, or b.reduce in a.scope(), is a RuntimeError."""
    other = D.MirroredStrategy(["/cpu:0", "/cpu:1"])
    result = other.run(replica_id_plus_one)
    with mirrored.scope():
        with pytest.raises(RuntimeError, match="Mixing different tf.distribute.Strategy objects"):
            with other.scope():
                pass
        with pytest.raises(RuntimeError, match="Mixing different tf.distribute.Strategy objects"):
            other.reduce("SUM", result, axis=None)


def test_reentering_the_same_scope_is_allowed(mirrored):
    """TF: the same strategy's scope may be re-entered; get_strategy() is it; in cross-replica context."""
    with mirrored.scope(), mirrored.scope():
        assert D.get_strategy() is mirrored
        assert D.has_strategy() and D.in_cross_replica_context()
        assert D.get_replica_context() is None
    assert D.get_strategy() is not mirrored


def test_multi_worker_strategy_alone_has_one_replica(monkeypatch):
    """TF: MultiWorkerMirroredStrategy() without TF_CONFIG: 1 replica, class CollectiveAllReduceStrategy."""
    pytest.importorskip("torch")
    for name in ("TF_CONFIG", "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    strategy = D.MultiWorkerMirroredStrategy()
    assert type(strategy).__name__ == "CollectiveAllReduceStrategy"
    assert strategy.num_replicas_in_sync == 1
    assert float(strategy.reduce("SUM", strategy.run(lambda: gc.constant(2.0)), axis=None)) == 2.0


def test_gather_concatenates_the_replicas_values(mirrored):
    """TF: gather of per-replica [replica_id] values along axis 0 is [0., 1.]."""
    result = mirrored.run(lambda: gc.reshape(replica_id_plus_one() - 1.0, [1]))
    assert values([mirrored.gather(result, axis=0)]) == [[0.0, 1.0]]


def test_run_under_function_traces_each_replica_once(mirrored):
    """TF: under tf.function fn is traced once per replica; eagerly it runs once per replica per step."""
    calls = []

    def fn(x):
        calls.append(1)
        return x * replica_id_plus_one()

    step = gc.function(lambda x: mirrored.reduce("SUM", mirrored.run(fn, args=(x,)), axis=None))
    results = [float(step(gc.constant(float(k)))) for k in (1, 2, 3)]
    assert results == [3.0, 6.0, 9.0]
    traced = len(calls)
    for k in (4, 5):
        assert float(step(gc.constant(float(k)))) == 3.0 * k
    assert len(calls) == traced == 2
    calls.clear()
    for k in (1, 2, 3):
        mirrored.reduce("SUM", mirrored.run(fn, args=(gc.constant(float(k)),)), axis=None)
    assert len(calls) == 6


# ---- beyond the rows: what a custom training loop relies on -----------------------------------


def test_merge_call_runs_once_with_per_replica_arguments(mirrored):
    seen = []

    def merge(strategy, value):
        seen.append(values(strategy.experimental_local_results(value)))
        return strategy.reduce("SUM", value, axis=None)

    result = mirrored.run(lambda: D.get_replica_context().merge_call(merge, args=(replica_id_plus_one(),)))
    assert seen == [[1.0, 2.0]]
    assert float(result) == 3.0


def test_values_from_function(mirrored):
    result = mirrored.experimental_distribute_values_from_function(
        lambda context: gc.constant(float(context.replica_id_in_sync_group * 10)))
    assert values(mirrored.experimental_local_results(result)) == [0.0, 10.0]


def test_an_error_in_one_replica_stops_the_run(mirrored):
    def fn():
        if int(D.get_replica_context().replica_id_in_sync_group) == 1:
            raise KeyError("replica one failed")
        return D.get_replica_context().all_reduce("sum", gc.constant(1.0))

    with pytest.raises(KeyError, match="replica one failed"):
        mirrored.run(fn)
    assert float(mirrored.reduce("SUM", mirrored.run(replica_id_plus_one), axis=None)) == 3.0  # still usable


def test_replicas_that_make_different_collectives_fail_instead_of_hanging(mirrored):
    def fn():
        if int(D.get_replica_context().replica_id_in_sync_group) == 0:
            return D.get_replica_context().all_reduce("sum", gc.constant(1.0))
        return gc.constant(0.0)

    with pytest.raises(InvalidArgumentError, match="different collective calls"):
        mirrored.run(fn)


def test_reduce_sum_of_a_non_distributed_value_is_refused(mirrored):
    """TF: a non-DistributedValues value cannot be SUM-reduced over several replicas (MEAN is itself)."""
    with pytest.raises(ValueError, match="cannot be reduced with SUM"):
        mirrored.reduce("SUM", gc.constant(2.0), axis=None)
    assert float(mirrored.reduce("MEAN", gc.constant(2.0), axis=None)) == 2.0


def test_compute_average_loss_divides_by_the_global_batch(mirrored):
    """TF's custom-loop guide: each replica's sum of losses over the global batch size."""
    assert float(gc.nn.compute_average_loss(gc.constant([1.0, 2.0, 3.0]))) == 2.0
    assert float(gc.nn.compute_average_loss(gc.constant([1.0, 2.0]), sample_weight=gc.constant([1.0, 0.0]),
                                            global_batch_size=4)) == 0.25
    per_replica = mirrored.run(lambda: gc.nn.compute_average_loss(gc.constant([1.0, 3.0])))
    assert values(mirrored.experimental_local_results(per_replica)) == [1.0, 1.0]  # 4 / (2 * 2 replicas)
    assert values(mirrored.experimental_local_results(
        mirrored.run(lambda: gc.nn.scale_regularization_loss(gc.constant([2.0, 4.0]))))) == [3.0, 3.0]
    with pytest.raises(ValueError, match="at least rank 1"):
        gc.nn.compute_average_loss(gc.constant(1.0))
    with mirrored.scope(), pytest.raises(RuntimeError, match="cross replica context"):
        gc.nn.compute_average_loss(gc.constant([1.0]))
    with pytest.raises(InvalidArgumentError, match="positive"):
        gc.nn.compute_average_loss(gc.constant([1.0]), global_batch_size=0)


def test_metrics_in_scope_add_up_over_the_replicas(mirrored):
    """TF: metric variables are sync-on-read: each replica counts its own, result() adds them up."""
    with mirrored.scope():
        mean = gc.metrics.Mean()
    mirrored.run(lambda: mean.update_state(replica_id_plus_one() * 2.0))  # 2 and 4
    mirrored.run(lambda: mean.update_state(replica_id_plus_one() * 2.0))
    assert float(mean.result()) == 3.0
    assert [float(v.numpy()) for v in mean.variables] == [12.0, 4.0]
    mean.reset_state()
    assert float(mean.count.numpy() if hasattr(mean, "count") else mean.variables[1].numpy()) == 0.0
    mirrored.run(lambda: mean.update_state(replica_id_plus_one()))
    assert float(mean.result()) == 1.5


def test_an_optimizer_step_needs_variables_made_in_scope(mirrored):
    """TF refuses to update, from several replicas, a variable that was not made under scope()."""
    w = gc.Variable([1.0, 2.0])
    optimizer = gc.optimizers.SGD(0.1)
    with pytest.raises(InvalidArgumentError, match="not created under strategy.scope"):
        mirrored.run(lambda: optimizer.apply_gradients([(gc.constant([1.0, 1.0]), w)]))
    assert w.numpy().tolist() == [1.0, 2.0]


def test_optimizer_sums_the_replicas_gradients(mirrored, compiled):
    with mirrored.scope():
        w = gc.Variable([1.0, 2.0])
        optimizer = gc.optimizers.SGD(0.5)

    @compiled
    def step():
        return mirrored.run(lambda: optimizer.apply_gradients([(gc.ones([2]) * replica_id_plus_one(), w)]))

    step()  # gradients 1 and 2 on the two replicas: 3 in all, times 0.5
    assert values(mirrored.experimental_local_results(w)) == [[-0.5, 0.5], [-0.5, 0.5]]
    assert int(optimizer.iterations.numpy()) == 1


def _training_run(strategy, compiled, batch=8, steps=3, synchronized=False):
    """A seeded Adam training loop as TF's custom-loop distribution guide writes it."""
    gc.random.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch * steps, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=batch * steps)
    data = gc.data.Dataset.from_tensor_slices((x, y)).batch(batch)
    with strategy.scope():
        model = gc.Sequential([gc.layers.Dense(8, activation="relu"),
                               gc.layers.BatchNormalization(synchronized=synchronized), gc.layers.Dense(3)])
        optimizer = gc.optimizers.Adam(0.01)
        accuracy = gc.metrics.SparseCategoricalAccuracy()
    loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def replica_step(features, labels):
        with gc.GradientTape() as tape:
            logits = model(features, training=True)
            loss = gc.nn.compute_average_loss(loss_fn(labels, logits), global_batch_size=batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        accuracy.update_state(labels, logits)
        return loss

    @compiled
    def train_step(features, labels):
        return strategy.reduce("SUM", strategy.run(replica_step, args=(features, labels)), axis=None)

    losses = [float(train_step(*b)) for b in strategy.experimental_distribute_dataset(data)]
    return [v.numpy() for v in model.trainable_variables], losses, float(accuracy.result())


@pytest.mark.parametrize("synchronized", [False, True], ids=["bn", "synchronized-bn"])
def test_two_replicas_train_as_one_device_on_the_global_batch(compiled, synchronized):
    """TF's promise: the same numbers at any scale (within the float32 tolerance table)."""
    one = _training_run(D.OneDeviceStrategy("/cpu:0"), compiled, synchronized=synchronized)
    two = _training_run(D.MirroredStrategy(["/cpu:0", "/cpu:1"]), compiled, synchronized=synchronized)
    if not synchronized:  # each replica normalizes its own half batch: other numbers, by design
        return
    for a, b in zip(one[0], two[0]):
        assert_allclose(b, a, gc.float32)
    assert_allclose(two[1], one[1], gc.float32)
    assert two[2] == one[2]


def test_two_replicas_without_batch_norm_train_as_one_device(compiled):
    def run(strategy):
        gc.random.set_seed(1)
        rng = np.random.default_rng(1)
        x, y = rng.normal(size=(16, 3)).astype(np.float32), rng.normal(size=(16, 1)).astype(np.float32)
        with strategy.scope():
            model = gc.Sequential([gc.layers.Dense(4, activation="tanh"), gc.layers.Dense(1)])
            optimizer = gc.optimizers.SGD(0.1, momentum=0.9)

        @compiled
        def step(features, targets):
            def replica(f, t):
                with gc.GradientTape() as tape:
                    loss = gc.nn.compute_average_loss(gc.reduce_sum(gc.square(model(f) - t), axis=1),
                                                      global_batch_size=8)
                optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                              model.trainable_variables))
                return loss

            return strategy.reduce("SUM", strategy.run(replica, args=(features, targets)), axis=None)

        data = gc.data.Dataset.from_tensor_slices((x, y)).batch(8)
        losses = [float(step(*b)) for b in strategy.experimental_distribute_dataset(data)]
        return [v.numpy() for v in model.trainable_variables], losses

    one, two = run(D.OneDeviceStrategy("/cpu:0")), run(D.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    for a, b in zip(one[0], two[0]):
        assert_allclose(b, a, gc.float32)
    assert_allclose(two[1], one[1], gc.float32)


def test_batch_norm_moving_statistics_stay_mirrored(mirrored):
    with mirrored.scope():
        layer = gc.layers.BatchNormalization()
    mirrored.run(lambda: layer(gc.ones([2, 3]) * replica_id_plus_one(), training=True))
    copies = mirrored.experimental_local_results(layer.moving_mean)
    assert_allclose(copies[0].numpy(), copies[1].numpy(), gc.float32)
    assert_allclose(copies[0].numpy(), np.full(3, 0.01 * 1.5, np.float32), gc.float32)  # the replicas' mean


def test_checkpoint_of_a_mirrored_model_restores_on_one_device(tmp_path, mirrored):
    with mirrored.scope():
        w = gc.Variable([1.0, 2.0])
        optimizer = gc.optimizers.SGD(0.5, momentum=0.9)
    mirrored.run(lambda: optimizer.apply_gradients([(gc.ones([2]) * replica_id_plus_one(), w)]))
    path = gc.train.Checkpoint(w=w, optimizer=optimizer).save(str(tmp_path / "ckpt"))
    fresh_w = gc.Variable([0.0, 0.0])
    fresh_optimizer = gc.optimizers.SGD(0.5, momentum=0.9)
    gc.train.Checkpoint(w=fresh_w, optimizer=fresh_optimizer).restore(path)
    assert fresh_w.numpy().tolist() == w.numpy().tolist() == [-0.5, 0.5]
    assert int(fresh_optimizer.iterations.numpy()) == 1


# ---- on GPUs (skipped where the backend lists none: CI has no GPU) -------------------------------


@needs_cuda
def test_mirrored_strategy_takes_every_cuda_device():
    """TF: MirroredStrategy() with GPUs has one replica per GPU."""
    strategy = D.MirroredStrategy()
    result = strategy.run(lambda: gc.ones([2]) * replica_id_plus_one())
    assert [t.device for t in strategy.experimental_local_results(result)] == CUDA
    assert values([strategy.reduce("SUM", result, axis=None)]) == [[sum(range(1, len(CUDA) + 1))] * 2]


@needs_cuda
def test_training_on_cuda_replicas_matches_the_cpu(compiled):
    one = _training_run(D.OneDeviceStrategy("/cpu:0"), compiled, synchronized=True)
    gpus = _training_run(D.MirroredStrategy(), compiled, synchronized=True)
    for a, b in zip(one[0], gpus[0]):
        assert_allclose(b, a, gc.float32)
    assert_allclose(gpus[1], one[1], gc.float32)
