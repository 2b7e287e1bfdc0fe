"""The backend-specific pieces of a training step, behind one interface.

The rest of keras_gan (losses, penalties' formulas, the models' hooks, the first-batch
checks) is written with ``keras.ops`` and calls only these:

    minimize(optimizer, loss_fn, variables)  one optimizer step on loss_fn()'s total, returns its logs
    input_gradients(fn, x)                  d sum(fn(x)) / dx, per sample (gradient penalties)
    run_every(counter, period, fn, args)    fn(*args) on every period-th step (the generator update)
    per_replica(draw, shape)                this replica's rows of one global-batch random draw
    global_std(x)                           std of x over the global batch (DRAGAN)
    checked_range(values, low, high, what)  values, asserted to lie in [low, high)
    step_logs(logs)                         the logs a train step returns

Only the TensorFlow versions exist (``keras_gan.backend.tensorflow``: ``tf.GradientTape``,
``tf.distribute`` loss scaling, the conditional generator update of
``keras_gan.distribute.run_if``); a JAX or PyTorch version is one more module with the same
functions.
"""

import keras

BACKEND = keras.backend.backend()
if BACKEND != "tensorflow":
    raise ImportError(f"keras_gan runs on Keras's TensorFlow backend, but KERAS_BACKEND is {BACKEND!r}: "
                      "set KERAS_BACKEND=tensorflow.")

from keras_gan.backend.tensorflow import (  # noqa: E402
    checked_range, global_std, input_gradients, minimize, per_replica, run_every, step_logs)

__all__ = ["minimize", "input_gradients", "run_every", "per_replica", "global_std", "checked_range",
           "step_logs"]
