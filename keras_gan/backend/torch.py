"""PyTorch versions of the train step's backend-specific pieces (``keras_gan.backend``).

Keras's torch trainer runs ``train_step(data)`` eagerly (``jit_compile="auto"`` means no
``torch.compile``), as the keras.io guide's torch train step does: gradients with
``torch.autograd.grad`` (which leaves every ``.grad`` alone, so the generator step does
not accumulate gradients into the discriminator), the update under ``torch.no_grad()``,
and the generator update a Python ``if``. The gradient penalties differentiate an input
gradient taken with ``create_graph=True``; ``torch.compile`` has no double backward, so
``compile(jit_compile=True)`` with a penalty is refused (``check_compile``). Keras 3.15's
torch ``fit`` has no multi-device support: a ``keras.distribution`` or a ``--strategy``
is refused as well.
"""

import contextlib
import types

import keras
import torch
from keras import ops

#: The step counter's dtype.
COUNTER_DTYPE = "int32"

_NO_DEVICES = ("Keras {version}'s fit on the PyTorch backend has no multi-device support. Train on several "
               "devices with KERAS_BACKEND=jax and keras.distribution.DataParallel, or with "
               "KERAS_BACKEND=tensorflow and a tf.distribute strategy (--strategy mirrored|multiworker).")


class TrainerMixin:
    """Keras's torch ``train_step(data)``: the model's one step, run eagerly."""

    def train_step(self, data):
        return self.adversarial_step(data)


def minimize(optimizer, loss_fn, variables):
    """One ``optimizer`` update of ``variables`` on the total of ``(total, logs) = loss_fn()``;
    returns ``logs`` (detached). Under mixed precision ``scale_loss`` multiplies the total
    by the loss scale and ``apply`` divides the gradients by it again."""
    variables = list(variables)
    total, logs = loss_fn()
    grads = torch.autograd.grad(optimizer.scale_loss(total), [v.value for v in variables], allow_unused=True)
    with torch.no_grad():
        optimizer.apply(list(grads), variables)
    return {name: value.detach() if torch.is_tensor(value) else value for name, value in logs.items()}


def gradients(fn, variables):
    """d fn() / dv for each of ``variables`` (``fn()`` returns a scalar), as a list."""
    variables = list(variables)
    with torch.enable_grad():
        return list(torch.autograd.grad(fn(), [v.value for v in variables], allow_unused=True))


def no_grad(fn):
    """``fn()`` as a constant, computed under ``torch.no_grad()``: autograd records nothing
    (``stop_gradient`` of a recorded result would build the graph and throw it away)."""
    with torch.no_grad():
        return fn()


def input_gradients(fn, x):
    """d sum(fn(x)) / dx in float32, with ``create_graph=True`` so that a loss built on it
    can be differentiated again (the penalties). Summing over the batch gives each sample
    its own gradient when ``fn`` has no batch-coupled layers (no batch norm)."""
    with torch.enable_grad():
        x = ops.cast(x, "float32").detach().requires_grad_(True)
        total = ops.sum(ops.cast(fn(x), "float32"))
        (grads,) = torch.autograd.grad(total, x, create_graph=True)
    return grads


def run_every(counter, period, fn, args=()):
    """``fn(*args)`` when ``counter % period == 0`` (a Python ``if``; always when ``period`` is 1)."""
    if period == 1 or int(ops.convert_to_numpy(counter)) % period == 0:
        fn(*args)


def per_replica(draw, shape):
    """``draw(shape)``: one device."""
    return draw(shape)


def global_std(x):
    """Standard deviation of ``x`` (one device: the whole batch)."""
    return ops.std(x)


def checked_range(values, low, high, what):
    """``values`` (integers), checked to lie in [low, high): a ValueError on the CPU; on a GPU an
    asynchronous device assertion, so that the step does not wait for the check; not checked
    in a step compiled by ``torch.compile`` (as under XLA; the first-batch check of ``fit`` is)."""
    values = ops.convert_to_tensor(values)
    if torch.compiler.is_compiling():
        return values
    if values.is_cuda:
        torch._assert_async(((values >= low) & (values < high)).all(), f"{what} must lie in [{low}, {high})")
        return values
    if values.numel() and (int(values.min()) < low or int(values.max()) >= high):
        raise ValueError(f"{what} must lie in [{low}, {high}), got values from {int(values.min())} to "
                         f"{int(values.max())}.")
    return values


def check_compile(model, jit_compile):
    """ValueError for ``jit_compile=True`` with a gradient penalty: ``torch.compile`` has no
    double backward, which the penalty's gradient of an input gradient needs."""
    if jit_compile is True and getattr(model, "penalty", None) is not None:
        raise ValueError(
            f"compile(jit_compile=True) cannot train {type(model).__name__} with the {model.penalty!r} penalty "
            "on the PyTorch backend: torch.compile has no double backward, which a gradient penalty needs "
            "(the gradient of an input gradient). Leave jit_compile at 'auto' or False (eager PyTorch), or use "
            "KERAS_BACKEND=jax or tensorflow to compile the step.")


def check_fit(model):
    """ValueError if a ``keras.distribution`` is set: torch's fit would ignore it."""
    if keras.distribution.distribution() is not None:
        raise ValueError(_NO_DEVICES.format(version=keras.__version__)
                         + f" (keras.distribution is set to {keras.distribution.distribution()!r}: unset it with "
                         "keras.distribution.set_distribution(None) to train on one device.)")


def strategy(name="none"):
    """The CLI's ``--strategy``: only "none" on PyTorch (see ``check_fit``)."""
    name = "none" if name is None else str(name).lower()
    if name == "none":
        return types.SimpleNamespace(scope=contextlib.nullcontext)
    if name in ("mirrored", "multiworker"):
        raise ValueError(f"--strategy {name}: " + _NO_DEVICES.format(version=keras.__version__))
    raise ValueError(f"Unknown strategy {name!r}. Valid strategies: none, mirrored, multiworker.")


def is_chief(strat=None):
    """One process: it writes the files."""
    return True
