"""`GAN`: the one ``train_step`` that every model in keras_gan shares.

Each call of ``train_step`` takes one real batch and makes one discriminator
update; the generator is updated on every ``d_steps``-th call. The count of
calls lives in a non-trainable variable, so the schedule survives
``save``/``load_model`` and ``BackupAndRestore``. One epoch is one pass of the
discriminator over the data (unlike the keras.io WGAN-GP example, which reuses
one real batch for all critic steps).

Subclasses change only what differs, through small hooks:

    unpack_batch(data)                      -> (real, condition)
    sample_latent(batch_size, condition)    -> latent (what ``generate`` also draws)
    generator_inputs(latent, condition)     -> what the generator network is called on
    discriminate(images, condition, training) -> discriminator output (what the losses see)
    adversarial_output(output)              -> the raw (B, 1) part a penalty differentiates
    discriminator_losses(...), generator_losses(...) -> (total, {metric: value})
    after_discriminator_step(logs)          -> e.g. weight clipping, BEGAN's k (may add to logs)
    tracked_metric_names()                  -> progress-bar columns
    grid_samples(seed, per_row)             -> the images of samples.png (rows per class...)
    validate_batch(data)                    -> first-batch checks before training (fit)

Reliability and scale (every model inherits them):
- ``fit`` checks the first batch (``validate_batch``) and raises ValueError or
  TypeError before any step; it puts ``callbacks.TerminateOnNonFinite`` first,
  which raises ``NonFiniteLossError`` at the first non-finite loss, before a
  checkpoint callback can save the broken weights.
- Resume: the step counter, BEGAN's k and the ``SeedGenerator``'s state are
  saved with the weights (``save_own_variables``), so ``BackupAndRestore``
  resumes bitwise-exactly at an epoch boundary (data order permitting; Keras
  restarts an interrupted epoch from its first batch).
- ``tf.distribute``: losses are divided by the replica count, random draws and
  DRAGAN's std(x) are those of the global batch, and the conditional generator
  update avoids ``merge_call`` inside ``tf.cond`` (``keras_gan.distribute``).
  Batch norm and the relativistic losses' batch means stay per replica.
- Mixed precision: ``compile`` wraps the optimizers in ``LossScaleOptimizer``;
  the step scales each loss (``scale_loss``) and ``apply`` unscales.
- XLA: ``compile(jit_compile=True)`` compiles the whole step, the conditional
  generator update and the penalties' inner gradients included. XLA draws
  other random numbers than the default kernels, so runs with and without it
  differ.
"""

import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan import distribute
from keras_gan import losses as losses_lib
from keras_gan import penalties as penalties_lib

__all__ = ["GAN", "BatchNormPenaltyWarning"]

# Key of the SeedGenerator's state in the model's saved variables (see save_own_variables).
_SEED_STATE_KEY = "seed_generator_state"


class BatchNormPenaltyWarning(UserWarning):
    """A batch-norm discriminator was given a per-sample gradient penalty (WGAN-GP, DRAGAN).

    A warning, not an error: the combination runs, and reproducing the bug (or a
    paper's code that had it) is legitimate. Make it an error with
    ``warnings.simplefilter("error", keras_gan.gan.BatchNormPenaltyWarning)``.
    """


def _has_batch_norm(model):
    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in model._flatten_layers())


def _ends_in_tanh(model):
    """True if the model's output layer is (or ends with) a tanh, so its outputs lie in [-1, 1]."""
    layers = getattr(model, "layers", None)
    if not layers:
        return False
    activation = getattr(layers[-1], "activation", None)
    return getattr(activation, "__name__", None) == "tanh"


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _input_width(model):
    """The width of a model's first input's last axis, or None if unknown."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    return inputs[0].shape[-1]


@keras.saving.register_keras_serializable("keras_gan")
class GAN(keras.Model):
    r"""A generative adversarial network with a pluggable loss and penalty.

    The discriminator minimises ``loss.discriminator_loss(D(x), D(G(z)))``
    (plus ``penalty_weight * penalty`` if a penalty is set), the generator
    minimises ``loss.generator_loss(D(x), D(G(z)))``; see ``keras_gan.losses``
    for the formulas. The discriminator is called on the real and on the fake
    batch *separately*, so a batch-norm layer in it normalises each batch with
    its own statistics (the DCGAN recipe); with a gradient penalty use a
    critic without batch norm, since the penalty is defined per sample.

    Args:
        generator: ``keras.Model`` from latent vectors (B, latent_dim) to
            images (or 2D points); it should end in tanh for images in [-1, 1].
        discriminator: ``keras.Model`` from images to raw outputs (B, 1).
        latent_dim: length of the latent vector z ~ N(0, I).
        loss: a name from ``keras_gan.losses.names()`` or a ``Loss``.
        penalty: None, "gradient_penalty", "dragan" or "r1".
        penalty_weight: lambda in ``L_D + lambda * penalty``.
        d_steps: discriminator updates per generator update (>= 1).
        dragan_c: the perturbation scale c of the DRAGAN penalty.
        seed: seed of the ``SeedGenerator`` that draws latents and penalty
            coefficients during training.
    """

    #: True for models that train on (inputs, labels) batches (ConditionalGAN).
    uses_labels = False

    def __init__(self, generator, discriminator, latent_dim, loss="non_saturating", penalty=None,
                 penalty_weight=10.0, d_steps=1, dragan_c=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(generator, keras.Model) or not isinstance(discriminator, keras.Model):
            raise TypeError("generator and discriminator must be keras.Model instances, got "
                            f"{type(generator).__name__} and {type(discriminator).__name__}.")
        if isinstance(d_steps, bool) or not isinstance(d_steps, (int, np.integer)) or d_steps < 1:
            raise ValueError(f"d_steps must be an integer >= 1 (discriminator updates per generator "
                             f"update), got {d_steps!r}.")
        if float(penalty_weight) < 0:
            raise ValueError(f"penalty_weight must be >= 0, got {penalty_weight!r}.")
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer >= 1, got {latent_dim!r}.")
        if float(dragan_c) < 0:
            raise ValueError(f"the DRAGAN perturbation scale c must be >= 0, got {dragan_c!r}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.loss_fn = losses_lib.get(loss)
        self.penalty = None if penalty is None else penalties_lib.get(penalty)[0]
        self.penalty_weight = float(penalty_weight)
        self.d_steps = int(d_steps)
        self.dragan_c = float(dragan_c)
        self.seed = seed
        self._check_latent_dim()
        if self.penalty in ("gradient_penalty", "dragan") and _has_batch_norm(discriminator):
            warnings.warn(
                f"The discriminator '{discriminator.name}' has BatchNormalization layers, but the "
                f"{self.penalty} penalty is defined per sample and batch norm couples the samples "
                "of a batch. Build the critic without batch norm or with layer norm (e.g. "
                "keras_gan.architectures.dcgan_discriminator(norm=None) or norm='layer').",
                BatchNormPenaltyWarning, stacklevel=2)
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.d_step_count = self.add_weight(shape=(), dtype="int64", initializer="zeros",
                                            trainable=False, name="d_step_count")
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.tracked_metric_names()}
        self.built = True

    # ------------------------------------------------------------------ set-up
    def _check_latent_dim(self):
        width = _input_width(self.generator)
        if width is not None and width != self.generator_input_width():
            raise ValueError(
                f"latent_dim={self.latent_dim} does not match the generator '{self.generator.name}', "
                f"whose input has width {width}. Pass latent_dim={width}, or build the generator "
                f"with the latent size you want.")

    def generator_input_width(self):
        """Width the generator's first input must have (the latent vector)."""
        return self.latent_dim

    @property
    def penalty_metric_name(self):
        return None if self.penalty is None else penalties_lib.metric_name(self.penalty)

    def tracked_metric_names(self):
        names = ["d_loss", "g_loss"]
        if self.penalty is not None:
            names.append(self.penalty_metric_name)
        return names

    @property
    def metrics(self):
        return list(self._trackers.values())

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Set the two optimizers; other keyword arguments go to ``keras.Model.compile``
        (``jit_compile``, ``steps_per_execution``, ``run_eagerly``).

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

    def get_compile_config(self):
        if not getattr(self, "compiled", False) or not hasattr(self, "d_optimizer"):
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "jit_compile": self._compile_config.config.get("jit_compile", "auto")
            if getattr(self, "_compile_config", None) else "auto",
        }

    def compile_from_config(self, config):
        self.compile(
            d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
            g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
            jit_compile=config.get("jit_compile", "auto"))

    # ------------------------------------------------------------------- hooks
    def unpack_batch(self, data):
        """Split what the dataset yields into (real inputs, condition or None)."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        return data, None

    def sample_latent(self, batch_size, condition=None):
        """z ~ N(0, I) of shape (batch_size, latent_dim), from the model's SeedGenerator
        (under tf.distribute, this replica's rows of the global batch's draw)."""
        return distribute.per_replica(
            lambda shape: keras.random.normal(shape, seed=self.seed_generator), (batch_size, self.latent_dim))

    def generator_inputs(self, latent, condition=None):
        return latent

    def discriminate(self, images, condition=None, training=False):
        return self.discriminator(images, training=training)

    def adversarial_output(self, output):
        """The raw (B, 1) adversarial output inside what ``discriminate`` returns: all of it,
        unless the discriminator has extra heads (InfoGAN's Q). Penalties differentiate this."""
        return output

    def compute_penalty(self, real, fake, condition=None):
        """The unweighted penalty term, or None without a penalty."""
        if self.penalty is None:
            return None

        def critic(x):
            return self.adversarial_output(self.discriminate(x, condition, training=True))

        fn = penalties_lib.get(self.penalty)[1]
        if self.penalty == "gradient_penalty":
            return fn(critic, real, fake, seed=self.seed_generator)
        if self.penalty == "dragan":
            return fn(critic, real, c=self.dragan_c, seed=self.seed_generator,
                      std=distribute.global_std(real))
        return fn(critic, real)

    def discriminator_losses(self, real, fake, real_out, fake_out, latent, condition):
        """Total discriminator loss and the values to log. The one place where
        ``penalty_weight * penalty`` is added."""
        d_loss = self.loss_fn.discriminator_loss(real_out, fake_out)
        logs = {"d_loss": d_loss}
        penalty = self.compute_penalty(real, fake, condition)
        if penalty is None:
            return d_loss, logs
        logs[self.penalty_metric_name] = penalty
        return d_loss + self.penalty_weight * penalty, logs

    def generator_losses(self, real, fake, real_out, fake_out, latent, condition):
        g_loss = self.loss_fn.generator_loss(real_out, fake_out)
        return g_loss, {"g_loss": g_loss}

    def after_discriminator_step(self, logs):
        """Called after each discriminator update (weight clipping, BEGAN's k...)."""

    # -------------------------------------------------------------- the step
    def _apply(self, optimizer, tape, total, variables):
        grads = tape.gradient(total, variables)
        optimizer.apply(grads, variables)

    def _scaled(self, optimizer, total):
        # Under tf.distribute the optimizer sums gradients over replicas; dividing
        # by the replica count makes that sum the global-batch mean.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            total = total / replicas
        return optimizer.scale_loss(total)

    def discriminator_step(self, real, condition):
        batch_size = ops.shape(real)[0]
        latent = self.sample_latent(batch_size, condition)
        # The fake batch is a constant for the discriminator update.
        fake = ops.stop_gradient(self.generator(self.generator_inputs(latent, condition), training=True))
        with tf.GradientTape() as tape:
            real_out = self.discriminate(real, condition, training=True)
            fake_out = self.discriminate(fake, condition, training=True)
            total, logs = self.discriminator_losses(real, fake, real_out, fake_out, latent, condition)
            scaled = self._scaled(self.d_optimizer, total)
        self._apply(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        return logs

    def generator_step(self, real, condition):
        batch_size = ops.shape(real)[0]
        latent = self.sample_latent(batch_size, condition)
        with tf.GradientTape() as tape:
            fake = self.generator(self.generator_inputs(latent, condition), training=True)
            fake_out = self.discriminate(fake, condition, training=True)
            real_out = (self.discriminate(real, condition, training=True)
                        if getattr(self.loss_fn, "generator_uses_real", False) else None)
            total, logs = self.generator_losses(real, fake, real_out, fake_out, latent, condition)
            scaled = self._scaled(self.g_optimizer, total)
        self._apply(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        return logs

    def _update_trackers(self, logs):
        for name, value in logs.items():
            if name in self._trackers:
                self._trackers[name].update_state(value)

    def train_step(self, data):
        real, condition = self.unpack_batch(data)
        d_logs = self.discriminator_step(real, condition)
        self.after_discriminator_step(d_logs)
        self._update_trackers(d_logs)
        self.d_step_count.assign_add(1)

        def update_generator(real, condition):
            self._update_trackers(self.generator_step(real, condition))

        if self.d_steps == 1:
            update_generator(real, condition)
        else:  # a tf.cond that also works under tf.distribute (see distribute.run_if)
            distribute.run_if(self.d_step_count % self.d_steps == 0, update_generator, (real, condition))
        logs = {name: tracker.result() for name, tracker in self._trackers.items()}
        if distribute.multi_worker():
            # Keras 3 averages logs over workers along axis 0, which fails on scalars
            # (tensorflow/tensorflow#72388): give it shape (1,); the mean is a scalar.
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

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
        # A tf.data pipeline is shuffled by keras_gan.data already; Keras would
        # otherwise warn that its default shuffle=True is ignored.
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)
        if check_data:
            first = self._first_batch(x, y, batch_size)
            if first is not None:
                self.validate_batch(first)
        if stop_on_non_finite and not isinstance(callbacks, keras.callbacks.CallbackList):
            from keras_gan.callbacks import TerminateOnNonFinite

            callbacks = list(callbacks or [])
            guards = [c for c in callbacks if isinstance(c, TerminateOnNonFinite)]
            callbacks = (guards or [TerminateOnNonFinite()]) + [c for c in callbacks if c not in guards]
        return super().fit(x, y, batch_size, epochs, verbose, callbacks, *args, **kwargs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy Keras builds the model on a batch it first
        # reduces over replicas, which fails under MultiWorkerMirroredStrategy (a
        # PerReplica batch). A GAN is built in __init__ and its optimizers in
        # compile(), so there is nothing to build: skip it then.
        if all(layer.built for layer in self._flatten_layers()):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    @staticmethod
    def _first_batch(x, y, batch_size):
        """The first element ``fit`` will train on, or None where peeking is not safe."""
        if isinstance(x, tf.data.Dataset):
            for element in x.take(1):
                return element
            raise ValueError("The dataset passed to fit() is empty.")
        if isinstance(x, keras.utils.PyDataset):
            return x[0]
        if isinstance(x, np.ndarray) or tf.is_tensor(x):
            n = batch_size or 32
            return (x[:n],) if y is None else (x[:n], y[:n])
        return None

    def validate_batch(self, data):
        """Check one element of the training data before training starts; raise a
        ValueError or TypeError naming the problem and its fix.

        ``data`` is what the dataset yields (before ``unpack_batch``). Checks: a
        float dtype, no NaN or infinity, the shape the discriminator takes, and,
        when the generator ends in tanh (or the data are images), values in
        [-1, 1]. Subclasses extend it (conditional models check the labels) and
        call ``super().validate_batch(data)``.
        """
        real, _ = self.unpack_batch(data)
        if isinstance(real, (tuple, list, dict)):
            return
        real = ops.convert_to_numpy(real)
        if not np.issubdtype(real.dtype, np.floating):
            raise TypeError(
                f"The training data are {real.dtype} (first batch in [{real.min()}, {real.max()}]); "
                "GANs here train on float32 inputs, images scaled to [-1, 1]: convert them with "
                "x.astype('float32') / 127.5 - 1 (keras_gan.data.to_float does this for uint8 images).")
        expected = self.discriminator.inputs[0].shape if getattr(self.discriminator, "inputs", None) else None
        if expected is not None:
            got = tuple(real.shape)
            if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected[1:], got[1:])):
                hint = ""
                if len(got) + 1 == len(expected) and expected[-1] == 1:
                    hint = " Add the channel axis: x[..., None] (or tf.expand_dims(x, -1) in a dataset map)."
                elif len(got) == len(expected) and len(got) == 4 and got[1:3] == tuple(expected[1:3]):
                    hint = (f" The channel counts differ ({got[-1]} vs {expected[-1]}): build the "
                            f"networks for {got[-1]} channels (image_shape={got[1:]}) or convert the images.")
                raise ValueError(
                    f"The training batches have shape {_shape_text(got)}, but the discriminator "
                    f"'{self.discriminator.name}' takes inputs of shape {_shape_text(expected)} "
                    f"(batch first).{hint}")
        if not np.all(np.isfinite(real)):
            raise ValueError(f"The first training batch contains {int(np.sum(~np.isfinite(real)))} NaN or "
                             "infinite values; clean the data (e.g. np.nan_to_num, or drop those rows).")
        low, high = float(real.min()), float(real.max())
        if (_ends_in_tanh(self.generator) or real.ndim == 4) and (low < -1.0 - 1e-3 or high > 1.0 + 1e-3):
            fix = ("these look like 8-bit images: use x / 127.5 - 1" if high > 2.0 and low >= 0.0
                   else "rescale them, e.g. 2 * (x - x.min()) / (x.max() - x.min()) - 1")
            raise ValueError(
                f"The first training batch has values in [{low:.4g}, {high:.4g}], but the data must lie "
                f"in [-1, 1], the range of the generator's tanh output: {fix}.")

    def test_step(self, data):
        raise NotImplementedError(
            "GAN.evaluate() has no meaning for an adversarial game; use keras_gan.metrics "
            "(e.g. `python -m keras_gan evaluate RUN_DIR`).")

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    # -------------------------------------------------------------- sampling
    def latent_numpy(self, n, seed=None):
        """n latent vectors drawn with numpy's default_rng(seed): the same seed
        gives the same latents on every machine."""
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")

    def generate(self, n, seed=None, batch_size=256):
        """``n`` samples as a numpy array, in the data's value range ([-1, 1] for images)."""
        return self._run_generator(self.latent_numpy(int(n), seed), batch_size)

    def grid_samples(self, seed=None, per_row=8, class_names=None):
        """Samples for a figure: (images, rows, row_labels). A per_row x per_row grid here;
        conditional models give one row per class (labelled with ``class_names``)."""
        return self.generate(per_row * per_row, seed=seed), per_row, None

    def _run_generator(self, inputs, batch_size=256):
        inputs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
        n = len(inputs[0])
        out = []
        for start in range(0, n, batch_size):
            chunk = [ops.convert_to_tensor(x[start:start + batch_size]) for x in inputs]
            chunk = chunk[0] if len(chunk) == 1 else chunk
            out.append(ops.convert_to_numpy(self.generator(chunk, training=False)))
        return np.concatenate(out, axis=0).astype("float32")

    # ---------------------------------------------------------- serialization
    def save_own_variables(self, store):
        """Also save the SeedGenerator's state (Keras saves layer variables only), so
        that ``model.save``, ``save_weights`` and ``BackupAndRestore`` continue the
        same random stream: a resumed run draws the latents an uninterrupted run draws."""
        super().save_own_variables(store)
        store[_SEED_STATE_KEY] = self.seed_generator.state

    def load_own_variables(self, store):
        keys = list(store.keys())
        if _SEED_STATE_KEY in keys:  # absent from files written before it was saved
            self.seed_generator.state.assign(np.asarray(store[_SEED_STATE_KEY]))
            store = {key: store[key] for key in keys if key != _SEED_STATE_KEY}
        super().load_own_variables(store)

    def get_config(self):
        config = super().get_config()
        config.update({
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "loss": keras.saving.serialize_keras_object(self.loss_fn),
            "penalty": self.penalty,
            "penalty_weight": self.penalty_weight,
            "d_steps": self.d_steps,
            "dragan_c": self.dragan_c,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        if isinstance(config.get("loss"), dict):
            config["loss"] = keras.saving.deserialize_keras_object(config["loss"])
        return cls(**config)
