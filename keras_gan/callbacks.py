"""Callbacks for ``GAN.fit``: sample grids during training, history on disk, and
the non-finite loss guard that ``GAN.fit`` adds by default."""

import json
import math
import os

import keras

from keras_gan import plotting

__all__ = ["SampleGrid", "HistoryJSON", "TerminateOnNonFinite", "NonFiniteLossError"]


class SampleGrid(keras.callbacks.Callback):
    """Write a grid of samples from fixed latents at the end of every ``every`` epochs.

    The same ``seed`` each time, so the grids show one set of latents evolve.
    For 2D models (``mixture`` given) it writes a scatter plot over the modes.
    Files: ``{directory}/samples_epoch{epoch:03d}.png``.
    """

    def __init__(self, directory, n=64, seed=0, every=1, mixture=None):
        super().__init__()
        self.directory, self.n, self.seed, self.every, self.mixture = directory, n, seed, every, mixture
        self.paths = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        path = os.path.join(self.directory, f"samples_epoch{epoch + 1:03d}.png")
        samples = self.model.generate(self.n, seed=self.seed)
        if self.mixture is not None:
            fig = plotting.scatter_2d(samples, self.mixture, title=f"epoch {epoch + 1}", path=path)
            plotting._plt().close(fig)
        else:
            plotting.save_image_grid(samples, path, title=f"epoch {epoch + 1}")
        self.paths.append(path)


class HistoryJSON(keras.callbacks.Callback):
    """Keep ``history.json`` (epoch means of every metric) up to date after each epoch,
    appending to an existing file so a resumed run keeps its earlier epochs."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_begin(self, logs=None):
        self.history = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.history = json.load(f)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w") as f:
            json.dump(self.history, f, indent=1)


class NonFiniteLossError(RuntimeError):
    """Raised by ``TerminateOnNonFinite``: a logged loss became NaN or infinite.

    Attributes: ``step`` (the model's ``d_step_count``, 1-based over all fits,
    or None), ``epoch`` and ``batch`` (0-based, as Keras counts them) and
    ``values`` ({name: value} of the non-finite entries).
    """

    def __init__(self, message, step=None, epoch=None, batch=None, values=None):
        super().__init__(message)
        self.step, self.epoch, self.batch, self.values = step, epoch, batch, dict(values or {})


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stop training at the first step where a logged loss is NaN or infinite.

    Keras's ``TerminateOnNaN`` watches a ``loss`` entry that GANs do not log;
    this callback watches every value the model logs (``d_loss``, ``g_loss``,
    ``gp``, ``k``, ``M``, ...) or those named in ``monitor``. The logs are epoch
    running means, so they turn non-finite exactly at the first bad step.

    By default (``raise_error=True``) it raises ``NonFiniteLossError`` from
    ``on_train_batch_end``: no later callback sees that batch, nor
    ``on_epoch_end`` or ``on_train_end``. So, when it runs before them (``GAN.fit``
    puts it first), a ``ModelCheckpoint`` keeps its last good file and a
    ``keras.callbacks.BackupAndRestore`` keeps (does not delete) its last good
    backup, from which a new ``fit`` resumes. The model's weights in memory are
    those after the bad update, i.e. invalid. With ``raise_error=False`` it
    sets ``model.stop_training`` instead (Keras's graceful stop), which runs
    ``on_epoch_end`` and ``on_train_end`` of every callback: use it only
    without checkpoint callbacks.

    With ``steps_per_execution`` > 1 the check runs once per execution, so
    the step named is the last of the execution in which the failure occurred.
    """

    def __init__(self, monitor=None, raise_error=True):
        super().__init__()
        self.monitor = None if monitor is None else tuple(monitor)
        self.raise_error = raise_error
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = {}
        for name, value in (logs or {}).items():
            if self.monitor is not None and name not in self.monitor:
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            if not math.isfinite(value):
                bad[name] = value
        if not bad:
            return
        counter = getattr(self.model, "d_step_count", None)
        step = None if counter is None else int(keras.ops.convert_to_numpy(counter))
        where = (f"training step {step} (epoch {self._epoch + 1}, batch {batch + 1})" if step is not None
                 else f"epoch {self._epoch + 1}, batch {batch + 1}")
        values = ", ".join(f"{name}={value}" for name, value in bad.items())
        message = (
            f"Non-finite loss at {where}: {values}. Training stopped; the model's weights now hold "
            "that step's update, while callbacks after this one (ModelCheckpoint, BackupAndRestore) "
            "kept their last good state. Usual fixes: a lower learning rate, a gradient penalty or "
            "clipping, or removing NaN/infinite values from the data.")
        if self.raise_error:
            raise NonFiniteLossError(message, step=step, epoch=self._epoch, batch=batch, values=bad)
        print(message)
        self.model.stop_training = True
