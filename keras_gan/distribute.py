"""``tf.distribute`` helpers: the same training step on one device or on many.

Under a ``tf.distribute`` strategy each replica runs ``train_step`` on its own
slice of the global batch (replica r gets rows ``[r * B, (r + 1) * B)`` of a
global batch of ``n * B``). Three things make the replicated step equal to the
single-device step on the global batch:

1. **Gradients.** Keras 3's TensorFlow optimizers *sum* gradients over
   replicas, so ``GAN`` divides each replica's (batch-mean) loss by
   ``num_replicas_in_sync``: the sum of the replicas' gradients is then the
   gradient of the global-batch mean.
2. **Random numbers.** A ``keras.random.SeedGenerator`` has the same state on
   every replica, so a naive draw gives every replica *the same* latents (and
   the same penalty coefficients): the global fake batch would be n copies of
   one local batch. ``per_replica`` draws the global batch's numbers on every
   replica and keeps this replica's rows, so the draws equal the
   single-device draws row for row.
3. **Batch statistics.** Statistics over the batch are computed per replica
   unless stated otherwise: the DRAGAN perturbation scale std(x) is made
   global here (``global_std``); batch norm (use
   ``keras.layers.BatchNormalization(synchronized=True)`` for global
   statistics) and the relativistic losses' E[D(x)], E[D(G(z))] stay per
   replica, as in every data-parallel implementation of them.

``strategy(name)`` builds the strategies the CLI offers.
"""

import os

import tensorflow as tf
from keras import ops

__all__ = ["replica_info", "multi_worker", "per_replica", "global_std", "run_if", "strategy", "is_chief", "STRATEGIES"]

STRATEGIES = ("none", "mirrored", "multiworker")


def replica_info():
    """(number of replicas in sync, this replica's id): (1, 0) outside a replica context."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 1, 0
    return context.num_replicas_in_sync, context.replica_id_in_sync_group


def multi_worker():
    """True inside a ``MultiWorkerMirroredStrategy`` with more than one worker."""
    strat = tf.distribute.get_strategy()
    extended = getattr(strat, "extended", None)
    return (isinstance(strat, tf.distribute.MultiWorkerMirroredStrategy)
            and bool(getattr(extended, "_in_multi_worker_mode", lambda: False)()))


def per_replica(draw, shape):
    """``draw(shape)``'s share for this replica, consistent with the global batch.

    ``shape[0]`` is the local batch size. With n replicas this calls
    ``draw((n * shape[0],) + shape[1:])`` and returns rows
    ``[r * shape[0], (r + 1) * shape[0])`` for replica r, so the replicas
    together draw exactly what one device draws for the global batch.
    """
    replicas, replica_id = replica_info()
    if replicas == 1:
        return draw(shape)
    shape = tuple(shape)
    full = draw((replicas * shape[0],) + shape[1:])
    start = [replica_id * shape[0]] + [0] * (len(shape) - 1)
    return ops.slice(full, start, shape)


def global_std(x):
    """Standard deviation of all elements of ``x`` over the *global* batch (all replicas)."""
    replicas, _ = replica_info()
    if replicas == 1:
        return ops.std(x)
    # One all-reduce of (count, sum, sum of squares): independent all-reduces may be
    # launched in different orders on different replicas, which TF reports as a
    # shape mismatch between collective instances. One pass is accurate enough
    # here, since |mean| is not large against std for data in [-1, 1].
    x = ops.cast(x, "float32")
    stats = ops.stack([ops.cast(ops.size(x), "float32"), ops.sum(x), ops.sum(ops.square(x))])
    count, total, squares = ops.unstack(
        tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, stats))
    mean = total / count
    return ops.sqrt(ops.maximum(squares / count - ops.square(mean), 0.0))


def run_if(pred, fn, args=()):
    """Run ``fn(*args)`` iff the scalar boolean ``pred``, inside a train step.

    A plain ``tf.cond`` whose branch calls ``optimizer.apply`` fails under
    ``MirroredStrategy`` (and other strategies that synchronise through
    ``merge_call``): "merge_call called while defining a new graph". As Keras's
    ``LossScaleOptimizer`` does, the condition is then evaluated in the
    cross-replica context and the branch re-enters every replica with
    ``call_for_each_replica``. ``args`` must carry every per-replica tensor
    ``fn`` uses (a closure would see one replica's tensors). ``fn`` returns
    nothing; ``pred`` must have the same value on every replica.
    """
    def branch(*inner_args):
        fn(*inner_args)
        return tf.constant(True)

    def skip():
        return tf.constant(False)

    if (not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context()
            or tf.__internal__.distribute.strategy_supports_no_merge_call()):
        tf.cond(pred, lambda: branch(*args), skip)
        return

    def cross_replica(distribution, pred, *per_replica_args):
        first = distribution.experimental_local_results(pred)[0]

        def run_everywhere():
            distribution.extended.call_for_each_replica(fn, args=per_replica_args)
            return tf.constant(True)

        tf.cond(first, run_everywhere, skip)

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(pred,) + tuple(args))


def strategy(name="none"):
    """A ``tf.distribute`` strategy by name: "none" (the default strategy), "mirrored"
    (all local GPUs, or the CPU) or "multiworker" (``MultiWorkerMirroredStrategy``,
    configured by the ``TF_CONFIG`` environment variable)."""
    name = "none" if name is None else str(name).lower()
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "strategy 'multiworker' needs the TF_CONFIG environment variable, e.g. "
                '{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]}, '
                '"task": {"type": "worker", "index": 0}} on worker 0 (index 1 on the other).')
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}. Valid strategies: {', '.join(STRATEGIES)}.")


def is_chief(strat=None):
    """True on the worker that should write files (always true outside multi-worker runs)."""
    strat = strat or tf.distribute.get_strategy()
    resolver = getattr(strat, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "cluster_spec", None):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    cluster = resolver.cluster_spec().as_dict()
    if task_type is None:
        return True
    return task_type == "chief" or (task_type == "worker" and task_id == 0 and "chief" not in cluster)
