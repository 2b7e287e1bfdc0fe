"""TensorFlow versions of the train step's backend-specific pieces (``keras_gan.backend``):
``tf.GradientTape``, ``tf.distribute`` loss scaling and replica-consistent random draws, and
the conditional generator update of ``keras_gan.distribute.run_if``."""

import tensorflow as tf
from keras import ops

from keras_gan import distribute

per_replica = distribute.per_replica
global_std = distribute.global_std
strategy = distribute.strategy
is_chief = distribute.is_chief
#: The step counter's dtype (int64, as in every file saved before the other backends existed).
COUNTER_DTYPE = "int64"


class TrainerMixin:
    """Keras's TensorFlow ``train_step(data)``: the model's one step, run as it is (Keras
    traces it in a ``tf.function``; under ``tf.distribute`` once per replica)."""

    def train_step(self, data):
        return step_logs(self.adversarial_step(data))


def check_compile(model, jit_compile):
    """Every compile option works on TensorFlow (XLA included)."""


def check_fit(model):
    """Nothing to refuse: ``tf.distribute`` strategies are supported (``keras_gan.distribute``)."""


def minimize(optimizer, loss_fn, variables):
    """One ``optimizer`` update of ``variables`` on the total of ``(total, logs) = loss_fn()``;
    returns ``logs``.

    Under ``tf.distribute`` the optimizer sums the replicas' gradients, so the total is
    divided by the replica count (the sum is then the gradient of the global-batch mean);
    under mixed precision ``scale_loss`` multiplies it by the loss scale and ``apply``
    divides the gradients by it again.
    """
    with tf.GradientTape() as tape:
        total, logs = loss_fn()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            total = total / replicas
        scaled = optimizer.scale_loss(total)
    optimizer.apply(tape.gradient(scaled, variables), variables)
    return logs


def gradients(fn, variables):
    """d fn() / dv for each of ``variables`` (``fn()`` returns a scalar), as a list."""
    with tf.GradientTape() as tape:
        value = fn()
    return tape.gradient(value, list(variables))


def no_grad(fn):
    """``fn()`` as a constant: ``stop_gradient`` of its result."""
    return ops.stop_gradient(fn())


def input_gradients(fn, x):
    """d sum(fn(x)) / dx in float32. Summing over the batch gives each sample its own
    gradient when ``fn`` has no batch-coupled layers (no batch norm)."""
    x = ops.cast(x, "float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(ops.cast(fn(x), "float32"))
    return tape.gradient(total, x)


def run_every(counter, period, fn, args=()):
    """``fn(*args)`` when ``counter % period == 0``: a ``tf.cond`` that also works under
    ``tf.distribute`` (``distribute.run_if``); a plain call when ``period`` is 1."""
    if period == 1:
        fn(*args)
    else:
        distribute.run_if(counter % period == 0, fn, args)


def step_logs(logs):
    """The logs a train step returns. Keras 3 averages them over the workers of a
    ``MultiWorkerMirroredStrategy`` along axis 0, which fails on scalars
    (tensorflow/tensorflow#72388): there they get shape (1,)."""
    if distribute.multi_worker():
        return {name: ops.reshape(value, (1,)) for name, value in logs.items()}
    return logs


def checked_range(values, low, high, what):
    """``values`` (integers), checked to lie in [low, high): eagerly a violation raises a
    ValueError; in a traced step an assertion fails when the step runs (XLA drops it)."""
    if tf.executing_eagerly():
        found = ops.convert_to_numpy(values)
        if found.size and (found.min() < low or found.max() >= high):
            raise ValueError(f"{what} must lie in [{low}, {high}), got values from {found.min()} to "
                             f"{found.max()}.")
        return values
    with tf.control_dependencies([
            tf.debugging.assert_greater_equal(values, tf.cast(low, values.dtype), message=f"{what} must be >= {low}"),
            tf.debugging.assert_less(values, tf.cast(high, values.dtype), message=f"{what} must be < {high}")]):
        return tf.identity(values)
