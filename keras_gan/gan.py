"""`GAN`: the one train step that every model in keras_gan shares, on every backend.

Each call of ``adversarial_step`` (Keras's ``train_step``) takes one real batch and
makes one discriminator update; the generator is updated on every ``d_steps``-th call.
The count of calls lives in a non-trainable variable, so the schedule survives
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

The step and the hooks are written with ``keras.ops`` and stateful Keras variables; what
differs per backend (taking gradients, the nested input gradient of the penalties,
applying an optimizer, the conditional generator update, carrying the state through a
jitted step) is ``keras_gan.backend``'s, one module per backend behind one interface.
``GAN`` inherits Keras's ``train_step`` from ``backend.TrainerMixin``: on TensorFlow and
PyTorch it calls ``adversarial_step(data)``; on JAX it runs it in a StatelessScope over
the jitted state. The other concerns live in their own modules: ``training``
(``compile``, ``fit`` and its safeguards), ``validation`` (argument and first-batch
checks), ``serialization`` (config, saved variables, old configs) and ``sampling``
(``generate``'s helpers). In short:

- ``fit`` checks the first batch and raises ValueError or TypeError before any step;
  ``callbacks.TerminateOnNonFinite`` raises at the first non-finite loss, before a
  checkpoint callback can save the broken weights.
- Resume: the step counter, BEGAN's k and the ``SeedGenerator``'s state are saved
  with the weights, so ``BackupAndRestore`` resumes bitwise-exactly at an epoch boundary.
- Several devices: ``tf.distribute`` on TensorFlow (losses divided by the replica count,
  random draws and DRAGAN's std(x) those of the global batch: ``keras_gan.distribute``;
  batch norm and the relativistic losses' batch means stay per replica);
  ``keras.distribution.DataParallel`` on JAX (one program over the global batch).
- Generator EMA: ``compile(generator_ema=0.999)`` keeps an exponential moving average of the
  generator's weights in ``averaged_generator`` (``keras_gan.ema``), updated after each
  generator update; ``generate`` samples from it unless ``use_ema=False``.
- Mixed precision: ``compile`` wraps both optimizers in ``LossScaleOptimizer``.
- XLA: ``compile(jit_compile=True)`` compiles the whole step (on JAX always, unless
  ``jit_compile=False``). XLA draws other random numbers than TensorFlow's default
  kernels, and each backend has its own random algorithms, so runs differ between them.
"""

import keras
import numpy as np
from keras import ops

from keras_gan import backend, sampling, validation
from keras_gan import losses as losses_lib
from keras_gan import penalties as penalties_lib
from keras_gan.serialization import SerializationMixin
from keras_gan.training import TrainingMixin
from keras_gan.validation import BatchNormPenaltyWarning

__all__ = ["GAN", "BatchNormPenaltyWarning"]


@keras.saving.register_keras_serializable("keras_gan")
class GAN(backend.TrainerMixin, TrainingMixin, SerializationMixin, keras.Model):
    r"""A generative adversarial network with a pluggable loss and penalty.

    The discriminator minimises ``loss.discriminator_loss(D(x), D(G(z))) +
    penalty_weight * penalty`` (the weight is applied there and nowhere else,
    in ``discriminator_losses``), the generator minimises
    ``loss.generator_loss(D(x), D(G(z)))``; see ``keras_gan.losses`` and
    ``keras_gan.penalties`` for the formulas. The discriminator is called on the
    real and on the fake batch *separately*, so a batch-norm layer in it
    normalises each batch with its own statistics (the DCGAN recipe); with a
    gradient penalty use a critic without batch norm, since the penalty is
    defined per sample.

    Args:
        generator: ``keras.Model`` from latent vectors (B, latent_dim) to
            images (or 2D points); it should end in tanh for images in [-1, 1].
        discriminator: ``keras.Model`` from images to raw outputs (B, 1).
        latent_dim: length of the latent vector z ~ N(0, I).
        loss: a name from ``keras_gan.losses.names()`` or a ``Loss``.
        penalty: None, a name from ``keras_gan.penalties.names()``
            ("gradient_penalty", "dragan", "r1") or a ``Penalty`` (e.g.
            ``DRAGANPenalty(c=1.0)``, or a subclass of your own).
        penalty_weight: lambda in ``L_D + lambda * penalty`` (>= 0).
        d_steps: discriminator updates per generator update (>= 1).
        seed: seed of the ``SeedGenerator`` that draws latents and penalty
            coefficients during training.
    """

    #: True for models that train on (inputs, labels) batches (ConditionalGAN).
    uses_labels = False
    #: ``generate``'s keyword arguments, the one a second positional argument used to mean first.
    generate_keywords = ("seed", "noise", "batch_size", "use_ema")

    def __init__(self, generator, discriminator, latent_dim, loss="non_saturating", penalty=None,
                 penalty_weight=10.0, d_steps=1, seed=None, **kwargs):
        validation.reject(type(self).__name__, kwargs, dragan_c=(
            "DRAGAN's perturbation scale lives on its penalty: pass "
            f"penalty=kg.penalties.DRAGANPenalty(c={kwargs.get('dragan_c')!r}), or use kg.DRAGAN(..., c=...)."))
        super().__init__(**kwargs)
        if not isinstance(generator, keras.Model) or not isinstance(discriminator, keras.Model):
            raise TypeError("generator and discriminator must be keras.Model instances, got "
                            f"{type(generator).__name__} and {type(discriminator).__name__}.")
        self.d_steps = validation.check_int("d_steps", d_steps, 1, " (discriminator updates per generator update)")
        self.penalty_weight = validation.check_float("penalty_weight", penalty_weight, ">= 0")
        self.latent_dim = validation.check_int("latent_dim", latent_dim, 1)
        self.generator = generator
        self.discriminator = discriminator
        self.loss_fn = losses_lib.get(loss)
        self.penalty = None if penalty is None else penalties_lib.get(penalty)
        self.seed = seed
        self._check_latent_dim()
        validation.warn_batch_norm(self.penalty, discriminator)
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.d_step_count = self.add_weight(shape=(), dtype=backend.COUNTER_DTYPE, initializer="zeros",
                                            trainable=False, name="d_step_count")
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.tracked_metric_names()}
        #: compile(generator_ema=...)'s settings (a ``keras_gan.GeneratorEMA``) and the averaged copy
        #: of the generator they update, or None and None.
        self.generator_ema = None
        self.averaged_generator = None
        self.built = True

    # ------------------------------------------------------------------ set-up
    def _check_latent_dim(self):
        width = validation.input_width(self.generator)
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
        return None if self.penalty is None else self.penalty.metric

    def tracked_metric_names(self):
        names = ["d_loss", "g_loss"]
        if self.penalty is not None:
            names.append(self.penalty_metric_name)
        return names

    @property
    def metrics(self):
        return list(self._trackers.values())

    # ------------------------------------------------------------------- hooks
    def unpack_batch(self, data):
        """Split what the dataset yields into (real inputs, condition or None)."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        return data, None

    def sample_latent(self, batch_size, condition=None):
        """z ~ N(0, I) of shape (batch_size, latent_dim), from the model's SeedGenerator
        (under tf.distribute, this replica's rows of the global batch's draw)."""
        return backend.per_replica(
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
        """The unweighted penalty of D(., condition)'s adversarial output, or None."""
        if self.penalty is None:
            return None

        def critic(x):
            return self.adversarial_output(self.discriminate(x, condition, training=True))

        return self.penalty(critic, real, fake, seed=self.seed_generator)

    def discriminator_losses(self, real, fake, real_out, fake_out, latent, condition):
        """Total discriminator loss and the values to log:
        ``L_D = loss.discriminator_loss(D(x), D(G(z))) + penalty_weight * penalty``,
        the one place where the penalty's weight is applied."""
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
    def adversarial_step(self, data):
        """The train step: one discriminator update on the real batch; every d_steps-th call,
        one generator update. Returns the trackers' results (Keras's ``train_step``, from
        ``backend.TrainerMixin``, calls this)."""
        real, condition = self.unpack_batch(data)
        d_logs = self.discriminator_step(real, condition)
        self.after_discriminator_step(d_logs)
        self._update_trackers(d_logs)
        self.d_step_count.assign_add(1)
        backend.run_every(self.d_step_count, self.d_steps, self._generator_update, (real, condition))
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def discriminator_step(self, real, condition):
        """Minimise L_D over D's weights on ``real`` and G(z) for a fresh z (a constant for D)."""
        latent = self.sample_latent(ops.shape(real)[0], condition)
        fake = backend.no_grad(lambda: self.generator(self.generator_inputs(latent, condition), training=True))

        def loss():
            real_out = self.discriminate(real, condition, training=True)
            fake_out = self.discriminate(fake, condition, training=True)
            return self.discriminator_losses(real, fake, real_out, fake_out, latent, condition)

        return backend.minimize(self.d_optimizer, loss, self.discriminator.trainable_variables)

    def generator_step(self, real, condition):
        """Minimise L_G over G's weights on G(z) for a fresh z, against the updated D."""
        latent = self.sample_latent(ops.shape(real)[0], condition)

        def loss():
            fake = self.generator(self.generator_inputs(latent, condition), training=True)
            fake_out = self.discriminate(fake, condition, training=True)
            real_out = (self.discriminate(real, condition, training=True)
                        if getattr(self.loss_fn, "generator_uses_real", False) else None)
            return self.generator_losses(real, fake, real_out, fake_out, latent, condition)

        return backend.minimize(self.g_optimizer, loss, self.generator.trainable_variables)

    def _generator_update(self, real, condition):
        self._update_trackers(self.generator_step(real, condition))
        if self.generator_ema is not None:  # the t-th generator update, t = d_step_count // d_steps
            self.generator_ema.update(self.averaged_generator.weights, self.generator.weights,
                                      ops.floor_divide(self.d_step_count, self.d_steps))

    def _update_trackers(self, logs):
        for name, value in logs.items():
            if name in self._trackers:
                self._trackers[name].update_state(value)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    # -------------------------------------------------------------- sampling
    def latent_numpy(self, n, seed=None):
        """n latent vectors drawn with numpy's default_rng(seed): the same seed
        gives the same latents on every machine."""
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")

    def noise_numpy(self, n, seed=None, noise=None):
        """z for ``generate``: ``noise`` (checked to be (n, latent_dim)) or ``latent_numpy(n, seed)``."""
        if noise is None:
            return self.latent_numpy(n, seed)
        z = np.asarray(noise, "float32")
        if z.shape != (n, self.latent_dim):
            raise ValueError(f"noise must have shape ({n}, {self.latent_dim}), got {z.shape}.")
        return z

    def sampling_generator(self, use_ema=None):
        """The network ``generate`` runs: the averaged generator when the model keeps one
        (``compile(generator_ema=...)``), unless ``use_ema=False``; else the generator.
        ``use_ema=True`` on a model without an average is a ValueError."""
        if use_ema is not None and not isinstance(use_ema, bool):
            raise TypeError(f"use_ema must be None, True or False, got {use_ema!r}.")
        if use_ema and self.averaged_generator is None:
            raise ValueError(f"use_ema=True, but this {type(self).__name__} keeps no average of its generator: "
                             "compile it with generator_ema=0.999 (before training), or pass use_ema=None.")
        if use_ema is False or self.averaged_generator is None:
            return self.generator
        return self.averaged_generator

    def generate(self, n, *positional, seed=None, noise=None, batch_size=256, use_ema=None):
        """``n`` samples as a numpy array, in the data's value range ([-1, 1] for images).

        Keyword-only after ``n``: ``seed`` fixes z (numpy's ``default_rng(seed)``, the
        same on every machine), ``noise`` (n, latent_dim) replaces it; the generator
        runs in batches of ``batch_size``. With a generator EMA the samples come from the
        averaged weights, unless ``use_ema=False`` (``sampling_generator``)."""
        sampling.only_n(self, "generate", positional, self.generate_keywords)
        network = self.sampling_generator(use_ema)
        n = int(n)
        return sampling.run_generator(network, self.noise_numpy(n, seed, noise), batch_size)

    def grid_samples(self, seed=None, per_row=8, class_names=None, use_ema=None):
        """Samples for a figure: (images, rows, row_labels). A per_row x per_row grid here;
        conditional models give one row per class (labelled with ``class_names``)."""
        return self.generate(per_row * per_row, seed=seed, use_ema=use_ema), per_row, None

    def _run_generator(self, inputs, batch_size=256):
        return sampling.run_generator(self.generator, inputs, batch_size)
