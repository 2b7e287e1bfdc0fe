"""Callbacks for ``GAN.fit``: sample grids during training, and history on disk."""

import json
import os

import keras

from keras_gan import plotting

__all__ = ["SampleGrid", "HistoryJSON"]


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
