"""The backend-specific pieces of a training step, behind one interface.

The rest of keras_gan (losses, penalties' formulas, the models' hooks, the first-batch
checks, the one train step ``GAN.adversarial_step``) is written with ``keras.ops`` and
calls only these, which each of ``tensorflow.py``, ``jax.py`` and ``torch.py`` defines:

    TrainerMixin                            Keras's ``train_step`` for the backend, running
                                            ``model.adversarial_step(data)`` (on JAX: in a
                                            StatelessScope over the jitted state, both
                                            optimizers' variables carried)
    minimize(optimizer, loss_fn, variables) one optimizer step on loss_fn()'s total, returns its logs
    gradients(fn, variables)                d fn() / dv for each variable (notebooks, users' checks)
    no_grad(fn)                             fn() as a constant for the gradients that follow
    input_gradients(fn, x)                  d sum(fn(x)) / dx, per sample, differentiable again
                                            (the gradient penalties)
    run_every(counter, period, fn, args)    fn(*args) on every period-th step (the generator update)
    per_replica(draw, shape)                this replica's rows of one global-batch random draw
    global_std(x)                           std of x over the global batch (DRAGAN)
    checked_range(values, low, high, what)  values, checked to lie in [low, high)
    check_compile(model, jit_compile)       refuse a compile option the backend cannot run
    check_fit(model)                        refuse a set-up the backend cannot train (devices)
    strategy(name), is_chief(strategy)      the CLI's ``--strategy`` for the backend
    COUNTER_DTYPE                           dtype of the step counter ``d_step_count``

The backend is Keras's (``KERAS_BACKEND``); importing this package imports only that
backend's framework, so JAX and PyTorch users need no TensorFlow.
"""

import keras

BACKEND = keras.backend.backend()
if BACKEND == "tensorflow":
    from keras_gan.backend import tensorflow as _impl
elif BACKEND == "jax":
    from keras_gan.backend import jax as _impl
elif BACKEND == "torch":
    from keras_gan.backend import torch as _impl
else:
    raise ImportError(f"keras_gan trains on Keras's tensorflow, jax and torch backends; KERAS_BACKEND is "
                      f"{BACKEND!r}: set KERAS_BACKEND to one of those.")

TrainerMixin = _impl.TrainerMixin
minimize = _impl.minimize
gradients = _impl.gradients
no_grad = _impl.no_grad
input_gradients = _impl.input_gradients
run_every = _impl.run_every
per_replica = _impl.per_replica
global_std = _impl.global_std
checked_range = _impl.checked_range
check_compile = _impl.check_compile
check_fit = _impl.check_fit
strategy = _impl.strategy
is_chief = _impl.is_chief
COUNTER_DTYPE = _impl.COUNTER_DTYPE

__all__ = ["BACKEND", "TrainerMixin", "minimize", "gradients", "no_grad", "input_gradients", "run_every",
           "per_replica", "global_std", "checked_range", "check_compile", "check_fit", "strategy", "is_chief",
           "COUNTER_DTYPE"]
