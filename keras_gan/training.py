"""``compile`` and ``fit`` for the GAN models, with their safeguards (a mixin of ``GAN``).

- ``compile(d_optimizer, g_optimizer, generator_ema=None)``: two optimizers, never one object
  for both; under a ``mixed_float16`` policy each is wrapped in a ``LossScaleOptimizer``.
  ``generator_ema`` keeps an average of the generator's weights (``keras_gan.ema``). Keras's
  own ``optimizer`` stays None (no default optimizer over all weights). An option the
  backend cannot run is refused (``backend.check_compile``: on PyTorch, ``jit_compile=True``
  with a gradient penalty).
- ``fit``: the first batch is checked before any step (``validate_batch``), and
  ``keras_gan.callbacks.TerminateOnNonFinite`` goes first in the callbacks. A multi-device
  set-up the backend cannot train is refused (``backend.check_fit``: PyTorch).
"""

import sys

import keras

from keras_gan import backend, ema, validation

__all__ = ["TrainingMixin"]


def _portable(config):
    """A serialized optimizer (or a dict holding some) that loads on every backend: Keras's
    PyTorch optimizers serialize with their backend module (``keras.src.backend.torch.
    optimizers...``), which another backend would import; they become ``keras.optimizers``
    classes, which each backend maps to its own."""
    if isinstance(config, dict):
        config = {key: _portable(value) for key, value in config.items()}
        if str(config.get("module", "")).startswith("keras.src.backend."):
            config.update(module="keras.optimizers", registered_name=None)
    return config


class TrainingMixin:
    """``compile``, ``fit`` and their checks; mixed into ``keras_gan.GAN``."""

    def compile(self, d_optimizer=None, g_optimizer=None, generator_ema=None, **kwargs):
        """Set the two optimizers; other keyword arguments go to ``keras.Model.compile``
        (``jit_compile``, ``steps_per_execution``, ``run_eagerly``).

        ``generator_ema``: None, a decay such as 0.999, or ``kg.GeneratorEMA(decay,
        start_step, ramp_up)``: after each generator update, ``averaged_generator`` (a copy of
        the generator made here, from its current weights) moves towards the generator's
        weights (``keras_gan.ema``); ``generate`` samples from it. Compiling again with other
        settings keeps the average reached so far; with None, drops it.

        Under a ``mixed_float16`` policy each optimizer is wrapped in a
        ``keras.optimizers.LossScaleOptimizer``: the train step multiplies each
        loss by the current scale (``scale_loss``) and ``apply`` divides the
        gradients by it, skipping the update (and halving the scale) when they
        are not finite."""
        if d_optimizer is None or g_optimizer is None:
            raise ValueError(
                "GAN.compile() needs both optimizers: compile(d_optimizer=keras.optimizers.Adam(2e-4, "
                "0.5), g_optimizer=keras.optimizers.Adam(2e-4, 0.5)).")
        if d_optimizer is g_optimizer and not isinstance(d_optimizer, str):
            raise ValueError(
                "GAN.compile() got the same optimizer object for d_optimizer and g_optimizer; each "
                "network needs its own optimizer (its own moment estimates and step count): pass "
                "two instances, e.g. keras.optimizers.Adam(2e-4, 0.5) twice.")
        for key in ("optimizer", "loss"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"GAN.compile() takes no {key!r}: pass d_optimizer and g_optimizer, "
                                 "and the adversarial loss to the model's constructor (loss=...).")
        settings = ema.get(generator_ema)
        backend.check_compile(self, kwargs.get("jit_compile", "auto"))
        self._jit_compile_argument = kwargs.get("jit_compile", "auto")
        # optimizer=None: no default optimizer over all weights; the step applies the two.
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        if keras.mixed_precision.global_policy().name == "mixed_float16":
            if not isinstance(self.d_optimizer, keras.optimizers.LossScaleOptimizer):
                self.d_optimizer = keras.optimizers.LossScaleOptimizer(self.d_optimizer)
            if not isinstance(self.g_optimizer, keras.optimizers.LossScaleOptimizer):
                self.g_optimizer = keras.optimizers.LossScaleOptimizer(self.g_optimizer)
        # Build now: the generator is updated inside a conditional branch, where
        # optimizer variables cannot be created.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        self._set_generator_ema(settings)

    def _set_generator_ema(self, settings):
        """Start (a copy of the generator's weights), keep or drop ``averaged_generator``."""
        if settings is None and self.averaged_generator is not None:
            locked = self._tracker.locked
            self._tracker.unlock()
            self._tracker.untrack(self.averaged_generator)
            if locked:
                self._tracker.lock()
            self.averaged_generator = None
        elif settings is not None and self.averaged_generator is None:
            self.averaged_generator = ema.average_of(self.generator)
        self.generator_ema = settings

    def get_compile_config(self):
        """The two optimizers (in a form every backend loads) and ``jit_compile`` as it was
        passed: "auto" stays "auto", so that each backend resolves its own default."""
        if not getattr(self, "compiled", False) or not hasattr(self, "d_optimizer"):
            return None
        config = {
            "d_optimizer": _portable(keras.saving.serialize_keras_object(self.d_optimizer)),
            "g_optimizer": _portable(keras.saving.serialize_keras_object(self.g_optimizer)),
            "jit_compile": getattr(self, "_jit_compile_argument", "auto"),
        }
        if self.generator_ema is not None:  # absent otherwise, as in files written before it existed
            config["generator_ema"] = self.generator_ema.get_config()
        return config

    def compile_from_config(self, config):
        config = _portable(config)
        jit_compile = config.get("jit_compile", "auto")
        try:
            backend.check_compile(self, jit_compile)
        except ValueError:  # saved on a backend that compiles this step; this one runs it eagerly
            jit_compile = "auto"
        self.compile(
            d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
            g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
            generator_ema=config.get("generator_ema"), jit_compile=jit_compile)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, *args,
            check_data=True, stop_on_non_finite=True, **kwargs):
        """``keras.Model.fit``, with two safeguards (both on by default):

        - ``check_data``: before training starts, the first batch is checked by
          ``validate_batch`` (shape against the networks, dtype, value range,
          labels of conditional models); a bad batch raises ValueError or
          TypeError naming the fix. A ``tf.data.Dataset`` is peeked at with
          ``take(1)``, which starts one extra pass of its input pipeline (a
          reshuffling dataset then starts training from its next order);
          Python generators and iterators are not checked, since peeking
          would consume a batch.
        - ``stop_on_non_finite``: a ``keras_gan.callbacks.TerminateOnNonFinite``
          is put first in the callbacks (unless you pass one, which is then
          moved first): at the first step whose logged loss is NaN or
          infinite it raises ``NonFiniteLossError`` naming the step and the
          loss, before any later callback (``ModelCheckpoint``,
          ``BackupAndRestore``) can save the broken weights.
        """
        if not getattr(self, "compiled", False) or not hasattr(self, "d_optimizer"):
            raise ValueError(
                f"{type(self).__name__}.fit() was called before compile(): call "
                "compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5), "
                "g_optimizer=keras.optimizers.Adam(2e-4, 0.5)) first.")
        backend.check_fit(self)
        # keras_gan.data's pipelines shuffle themselves: Keras would otherwise warn that its
        # default shuffle=True is ignored (tf.data) or shuffle the batches again (numpy).
        tf = sys.modules.get("tensorflow")
        if getattr(x, "shuffles_itself", False) or (tf is not None and isinstance(x, tf.data.Dataset)):
            kwargs.setdefault("shuffle", False)
        if check_data:
            first = validation.first_batch(x, y, batch_size)
            if first is not None:
                self.validate_batch(first)
        if stop_on_non_finite and not isinstance(callbacks, keras.callbacks.CallbackList):
            from keras_gan.callbacks import TerminateOnNonFinite

            callbacks = list(callbacks or [])
            guards = [c for c in callbacks if isinstance(c, TerminateOnNonFinite)]
            callbacks = (guards or [TerminateOnNonFinite()]) + [c for c in callbacks if c not in guards]
        return super().fit(x, y, batch_size, epochs, verbose, callbacks, *args, **kwargs)

    def validate_batch(self, data):
        """Check one element of the training data before training starts; raise a
        ValueError or TypeError naming the problem and its fix.

        ``data`` is what the dataset yields (before ``unpack_batch``); the checks are
        ``keras_gan.validation.check_batch``'s. Subclasses extend it (a conditional
        model's ``unpack_batch`` checks the labels) and call ``super().validate_batch(data)``.
        """
        real, _ = self.unpack_batch(data)
        validation.check_batch(real, self.generator, self.discriminator)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy Keras builds the model on a batch it first
        # reduces over replicas, which fails under MultiWorkerMirroredStrategy (a
        # PerReplica batch). A GAN is built in __init__ and its optimizers in
        # compile(), so there is nothing to build: skip it then.
        if all(layer.built for layer in self._flatten_layers()):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def test_step(self, data):
        raise NotImplementedError(
            "GAN.evaluate() has no meaning for an adversarial game; use keras_gan.metrics "
            "(e.g. `python -m keras_gan evaluate RUN_DIR`).")
