"""Backend-neutral training batches: numpy arrays served by a ``keras.utils.PyDataset``.

What ``keras_gan.data.load`` and ``Mixture.dataset`` return on the JAX and PyTorch
backends (and with ``pipeline="numpy"`` on TensorFlow): ``fit`` takes a ``PyDataset`` on
every backend, and this one needs nothing but numpy, so a JAX or PyTorch user needs no
TensorFlow. It behaves like the ``tf.data`` pipelines of the TensorFlow backend:

- one pass (``len(batches)`` batches) per epoch, a new order (or new draws) every
  epoch; the same ``seed`` gives the same sequence of epochs;
- ``repeat()`` makes it endless, a stream cut into epochs by ``fit``'s ``steps_per_epoch``;
  ``skip(n)`` starts an endless stream ``n`` batches later (what a resumed run needs).

Batch ``i`` of the stream is a pure function of ``(seed, i)``: pass ``i // len(batches)``,
position ``i % len(batches)``. The numbers differ from the ``tf.data`` pipelines' (other
random generators), not their distribution.
"""

import numpy as np
import keras

__all__ = ["Batches", "image_batches", "mixture_batches"]


class Batches(keras.utils.PyDataset):
    """Numpy batches ``draw(i)`` for stream positions ``i``, ``per_pass`` to a pass.

    Finite (the default): ``fit`` reads positions ``pass * per_pass + 0 ... per_pass - 1``
    of one pass per epoch, the pass counted by ``on_epoch_end``. Endless (``repeat()``,
    ``skip(n)``): position ``start + index``, whatever the epoch.
    """

    #: The batches are shuffled here; ``GAN.fit`` turns Keras's own batch shuffling off.
    shuffles_itself = True

    def __init__(self, draw, per_pass, endless=False, start=0):
        super().__init__()
        if per_pass < 1:
            raise ValueError(f"a pass needs at least one batch, got {per_pass}")
        self._draw, self.per_pass, self.endless, self.start = draw, int(per_pass), bool(endless), int(start)
        self._passes = 0

    @property
    def num_batches(self):
        return None if self.endless else self.per_pass

    def __len__(self):
        if self.endless:
            raise TypeError("an endless stream of batches (repeat() or skip()) has no length; "
                            "give fit a steps_per_epoch")
        return self.per_pass

    def __getitem__(self, index):
        if self.endless:
            return self._draw(self.start + int(index))
        if not 0 <= index < self.per_pass:
            raise IndexError(f"batch {index} of a pass of {self.per_pass}")
        return self._draw(self._passes * self.per_pass + int(index))

    def on_epoch_end(self):
        self._passes += 1

    def repeat(self):
        """The endless stream of passes, from this object's start (as ``tf.data``'s ``repeat()``)."""
        return Batches(self._draw, self.per_pass, endless=True, start=self.start)

    def skip(self, count):
        """The endless stream, ``count`` batches later (as ``repeat().skip(count)``)."""
        if int(count) < 0:
            raise ValueError(f"skip needs a count >= 0, got {count!r}")
        return Batches(self._draw, self.per_pass, endless=True, start=self.start + int(count))


def _entropy(seed):
    return int(np.random.SeedSequence().entropy) if seed is None else int(seed)


def image_batches(images, labels, batch_size, with_labels=False, shuffle=True, seed=None,
                  drop_remainder=True):
    """uint8 ``images`` (N, H, W, C) as float32 batches in [-1, 1] (``x / 127.5 - 1``), with int32
    ``labels`` if ``with_labels``; a new permutation of the N images every pass if ``shuffle``."""
    n, seed = len(images), _entropy(seed)
    per_pass = n // batch_size if drop_remainder else -(-n // batch_size)
    cache = {}

    def order(p):
        if p not in cache:
            cache.clear()
            cache[p] = np.random.default_rng([seed, p]).permutation(n) if shuffle else np.arange(n)
        return cache[p]

    def draw(position):
        p, j = divmod(position, per_pass)
        index = order(p)[j * batch_size:(j + 1) * batch_size]
        x = images[index].astype(np.float32) / np.float32(127.5) - np.float32(1.0)
        return (x, labels[index].astype(np.int32)) if with_labels else x

    return Batches(draw, per_pass)


def mixture_batches(mixture, batch_size, steps_per_epoch, seed=None, with_labels=False):
    """Fresh samples of a 2D ``Mixture``: batch ``i`` is drawn with ``default_rng([seed, i])``;
    ``steps_per_epoch`` batches a pass (None: endless). Labels are int32 mode indices."""
    seed = _entropy(seed)

    def draw(position):
        x, labels = mixture.sample_with_labels(batch_size, seed=[seed, position])
        return (x, labels.astype(np.int32)) if with_labels else x

    if steps_per_epoch is None:
        return Batches(draw, 1, endless=True)
    return Batches(draw, steps_per_epoch)
