"""Callbacks for ``GAN.fit``: sample grids during training, history on disk, and
the non-finite loss guard that ``GAN.fit`` adds by default."""

import json
import math
import os
import time

import keras

from keras_gan import plotting

__all__ = ["SampleGrid", "HistoryJSON", "QualityCurve", "TerminateOnNonFinite", "NonFiniteLossError"]


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


class QualityCurve(keras.callbacks.Callback):
    """A training curve: at given discriminator steps, a quality figure and the mean losses.

    At each step in ``steps`` (the model's ``d_step_count``, counted over all fits) it appends to
    ``self.history``: ``step``, ``epoch`` (``step / steps_per_epoch``), ``seconds`` (wall time
    of training since ``on_train_begin``, evaluation excluded), every value of
    ``quality_fn(model)`` (e.g. ``evaluation.quick_quality``: the Frechet distance on 2,000
    images, or the 2D modes and high-quality fraction), and the mean of each of the model's
    tracked values (``d_loss``, ``g_loss``, ``gp``, ``k``...) over the steps since the last point.
    Those means come from the trackers' running totals and counts, so a ``g_loss`` updated every
    fifth step is averaged over its own updates. ``path``: a JSON file rewritten at each point.

    With ``steps_per_execution`` > 1 a point is taken at the end of the execution that reaches it.
    """

    def __init__(self, steps, quality_fn, steps_per_epoch=None, path=None):
        super().__init__()
        self.steps = sorted(int(s) for s in steps)
        if not self.steps or self.steps[0] < 1:
            raise ValueError(f"QualityCurve needs steps >= 1, got {steps!r}")
        self.quality_fn, self.steps_per_epoch, self.path = quality_fn, steps_per_epoch, path
        self.history = {}
        #: wall and CPU seconds spent evaluating the points (to subtract from a run's time)
        self.eval_seconds, self.eval_cpu_seconds = 0.0, 0.0

    def _totals(self):
        return {tracker.name: (float(keras.ops.convert_to_numpy(tracker.total)),
                               float(keras.ops.convert_to_numpy(tracker.count)))
                for tracker in self.model.metrics if hasattr(tracker, "total")}

    def on_train_begin(self, logs=None):
        self._seconds, self._start = 0.0, time.time()
        self._next = 0
        step = int(keras.ops.convert_to_numpy(self.model.d_step_count))
        while self._next < len(self.steps) and self.steps[self._next] <= step:
            self._next += 1

    def on_epoch_begin(self, epoch, logs=None):
        self._base = self._totals()  # the trackers were just reset

    def on_train_batch_end(self, batch, logs=None):
        if self._next >= len(self.steps):
            return
        step = int(keras.ops.convert_to_numpy(self.model.d_step_count))
        if step < self.steps[self._next]:
            return
        while self._next < len(self.steps) and self.steps[self._next] <= step:
            self._next += 1
        self._seconds += time.time() - self._start
        eval_wall, eval_cpu = time.time(), time.process_time()
        totals = self._totals()
        point = {"step": step, "seconds": round(self._seconds, 2)}
        if self.steps_per_epoch:
            point["epoch"] = step / self.steps_per_epoch
        for name, (total, count) in totals.items():
            base_total, base_count = self._base.get(name, (0.0, 0.0))
            if count > base_count:
                point[name] = (total - base_total) / (count - base_count)
        point.update({key: float(value) for key, value in self.quality_fn(self.model).items()})
        for key, value in point.items():
            self.history.setdefault(key, []).append(value)
        self._base = totals
        self.eval_seconds += time.time() - eval_wall
        self.eval_cpu_seconds += time.process_time() - eval_cpu
        if self.path:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            with open(self.path, "w") as f:
                json.dump(self.history, f, indent=1)
        self._start = time.time()


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
