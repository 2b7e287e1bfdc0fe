"""InfoGAN: latent codes whose mutual information with the samples is maximised."""

import keras
import numpy as np
from keras import ops

from keras_gan import backend, sampling, validation
from keras_gan.gan import GAN

__all__ = ["InfoGAN", "mutual_information_terms"]


def mutual_information_terms(q_output, cat_targets, cont_targets, num_categories):
    r"""InfoGAN's two terms of -L_I (without H(c)), each a batch mean:

        categorical  -E[ sum_j c_j log softmax(q_cat)_j ]    (cross-entropy, c one-hot)
        continuous    E[ sum_j (c_j - mu_j)^2 / 2 ]          (Gaussian NLL, sigma = 1,
                                                              without its constant)

    ``q_output`` is the Q head (B, num_categories + num_continuous): categorical
    logits, then the predicted means mu of the continuous codes. Returns
    ``(categorical, continuous)``; a term whose code is absent is 0.
    """
    q_output = ops.cast(q_output, "float32")
    zero = ops.zeros((), "float32")
    cat = zero
    if num_categories:
        log_probs = ops.log_softmax(q_output[:, :num_categories], axis=-1)
        cat = -ops.mean(ops.sum(ops.cast(cat_targets, "float32") * log_probs, axis=-1))
    cont = zero
    if q_output.shape[-1] > num_categories:
        mean = q_output[:, num_categories:]
        cont = ops.mean(0.5 * ops.sum(ops.square(ops.cast(cont_targets, "float32") - mean), axis=-1))
    return cat, cont


@keras.saving.register_keras_serializable("keras_gan")
class InfoGAN(GAN):
    r"""InfoGAN (Chen et al. 2016): a GAN that maximises the mutual information
    between latent codes c and the samples G(z, c).

        min_{G,Q} max_D  V(D, G) - lambda L_I(G, Q)
        L_I = E_{c, x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c))

    The generator's input is ``[z, one-hot(c_cat), c_cont]``, z ~ N(0, I) of
    ``latent_dim``, c_cat ~ Cat(num_categories) uniform, c_cont ~ U(-1, 1)^num_continuous.
    The discriminator has two outputs, ``[logit, q]``; Q shares every layer of
    D's body (``architectures.infogan_discriminator``), so L_I costs one extra head.
    Both players minimise their adversarial loss plus

        categorical_weight * CE(q_cat, c_cat) + continuous_weight * sum_j (c_j - mu_j)^2 / 2

    on the fake batch (``mutual_information_terms``), as in the paper: in the
    discriminator step the gradient trains Q (and the shared body), in the
    generator step it makes G's samples reveal their codes.

    Continuous codes: a Gaussian Q(c_j | x) with a predicted mean and a *fixed*
    sigma = 1, so the NLL is (c - mu)^2 / 2 plus a constant, i.e. a scaled MSE.
    This is what the authors' code does for MNIST (``fix_std=True``). A learned
    log-variance makes the NLL unbounded below (Q can drive sigma to 0 on a code
    it predicts well), and since L_I enters both players' losses that term can
    swamp the adversarial game; any fixed sigma still gives a valid (looser)
    lower bound on I(c; G(z, c)).

    Paper defaults (MNIST): 62 noise dimensions, Cat(10), 2 x U(-1, 1), lambda 1
    for the categorical code and a smaller one for continuous codes (the
    authors' code uses 1 with sigma fixed; we default to continuous_weight 0.1,
    the paper's advice); Adam with learning rates 2e-4 (D) and 1e-3 (G), beta_1 0.5.
    Paper: https://arxiv.org/abs/1606.03657

    Progress bar: ``d_loss`` and ``g_loss`` (adversarial parts), ``info_cat`` and
    ``info_cont`` (the two terms on the discriminator step's fake batch).

    Args:
        generator: ``keras.Model`` on (B, latent_dim + num_categories + num_continuous).
        discriminator: ``keras.Model`` with outputs ``[logit (B, 1), q (B, num_categories +
            num_continuous)]``.
        latent_dim: width of the incompressible noise z.
        num_categories: size of the categorical code (0: none).
        num_continuous: number of U(-1, 1) codes (0: none).
        categorical_weight, continuous_weight: lambda of each term of L_I.
        loss, penalty, d_steps, seed...: as in ``GAN`` (a penalty differentiates the logit).
    """

    generate_keywords = ("categories", "continuous", "seed", "noise", "batch_size", "use_ema")

    def __init__(self, generator, discriminator, latent_dim=62, num_categories=10, num_continuous=2,
                 categorical_weight=1.0, continuous_weight=0.1, loss="non_saturating", **kwargs):
        num_categories = validation.check_int("num_categories", num_categories, 0)
        num_continuous = validation.check_int("num_continuous", num_continuous, 0)
        if num_categories == 1 or num_categories + num_continuous < 1:
            raise ValueError(f"InfoGAN needs at least one code: num_categories >= 2 or num_continuous >= 1 "
                             f"(got num_categories={num_categories}, num_continuous={num_continuous}).")
        # Set before GAN.__init__, whose checks and metric list depend on them.
        self.num_categories, self.num_continuous = num_categories, num_continuous
        self.categorical_weight = validation.check_float("categorical_weight", categorical_weight, ">= 0")
        self.continuous_weight = validation.check_float("continuous_weight", continuous_weight, ">= 0")
        super().__init__(generator, discriminator, latent_dim, loss=loss, **kwargs)
        outputs = getattr(discriminator, "outputs", None)
        widths = [tuple(t.shape)[-1] for t in outputs] if outputs else None
        if widths is not None and (len(widths) != 2 or widths[1] != self.code_width):
            raise ValueError(
                f"InfoGAN needs a discriminator with two outputs, [logit (B, 1), q (B, {self.code_width})] "
                f"(num_categories + num_continuous = {self.num_categories} + {self.num_continuous}); "
                f"'{discriminator.name}' has output widths {widths}. Use keras_gan.architectures."
                "infogan_discriminator() or mlp_infogan_discriminator().")

    @property
    def code_width(self):
        return self.num_categories + self.num_continuous

    def generator_input_width(self):
        return self.latent_dim + self.code_width

    def _check_latent_dim(self):
        width = getattr(self.generator, "inputs", None) and self.generator.inputs[0].shape[-1]
        if width and width != self.generator_input_width():
            raise ValueError(
                f"InfoGAN's generator takes [z, one-hot category, continuous codes], of width latent_dim "
                f"+ num_categories + num_continuous = {self.latent_dim} + {self.num_categories} + "
                f"{self.num_continuous} = {self.generator_input_width()}; '{self.generator.name}' takes "
                f"{width}. Build it with that input width, or change latent_dim.")

    def tracked_metric_names(self):
        names = super().tracked_metric_names()
        if self.num_categories:
            names.append("info_cat")
        if self.num_continuous:
            names.append("info_cont")
        return names

    # ---------------------------------------------------------------- hooks
    def sample_latent(self, batch_size, condition=None):
        # per_replica: under tf.distribute each replica takes its rows of the global
        # batch's draw, instead of every replica drawing the same codes.
        seed = self.seed_generator
        parts = [super().sample_latent(batch_size, condition)]
        if self.num_categories:
            cat = backend.per_replica(lambda shape: keras.random.randint(shape, 0, self.num_categories, seed=seed),
                              (batch_size,))
            parts.append(ops.one_hot(cat, self.num_categories, dtype="float32"))
        if self.num_continuous:
            parts.append(backend.per_replica(lambda shape: keras.random.uniform(shape, -1.0, 1.0, seed=seed),
                                     (batch_size, self.num_continuous)))
        return ops.concatenate(parts, axis=1)

    def split_latent(self, latent):
        """(z, one-hot category, continuous codes) from a generator input."""
        z_end, cat_end = self.latent_dim, self.latent_dim + self.num_categories
        return latent[:, :z_end], latent[:, z_end:cat_end], latent[:, cat_end:]

    def discriminate(self, images, condition=None, training=False):
        logit, q = self.discriminator(images, training=training)
        return logit, q

    def adversarial_output(self, output):
        return output[0]

    def information_terms(self, q_output, latent):
        _, cat, cont = self.split_latent(latent)
        return mutual_information_terms(q_output, cat, cont, self.num_categories)

    def _add_information(self, total, q_output, latent):
        cat, cont = self.information_terms(q_output, latent)
        total = total + self.categorical_weight * cat + self.continuous_weight * cont
        return total, cat, cont

    def discriminator_losses(self, real, fake, real_out, fake_out, latent, condition):
        total, logs = super().discriminator_losses(real, fake, real_out[0], fake_out[0], latent, condition)
        total, cat, cont = self._add_information(total, fake_out[1], latent)
        if self.num_categories:
            logs["info_cat"] = cat
        if self.num_continuous:
            logs["info_cont"] = cont
        return total, logs

    def generator_losses(self, real, fake, real_out, fake_out, latent, condition):
        total, logs = super().generator_losses(real, fake, None if real_out is None else real_out[0],
                                               fake_out[0], latent, condition)
        total, _, _ = self._add_information(total, fake_out[1], latent)
        return total, logs

    # -------------------------------------------------------------- sampling
    def latent_codes(self, n, *positional, categories=None, continuous=None, seed=None, noise=None):
        """The generator input (n, latent_dim + codes) as numpy: z from ``seed`` (or
        ``noise``), categories (one int or (n,) ints; None: uniform), continuous codes
        (a scalar, (num_continuous,), (n, num_continuous); None: U(-1, 1)). Keyword-only
        after ``n``."""
        sampling.only_n(self, "latent_codes", positional, self.generate_keywords[:-2])
        n = int(n)
        rng = sampling.code_rng(seed)
        parts = [self.noise_numpy(n, seed, noise)]
        cat_draw = rng.integers(max(self.num_categories, 1), size=n)
        cont_draw = rng.uniform(-1.0, 1.0, (n, self.num_continuous))
        if self.num_categories:
            cats = cat_draw if categories is None else np.asarray(categories)
            if cats.dtype.kind not in "iu":
                raise TypeError(f"categories must be integers in [0, {self.num_categories}), got dtype {cats.dtype}.")
            cats = np.broadcast_to(cats, (n,)) if cats.ndim == 0 else cats
            if cats.shape != (n,) or cats.min() < 0 or cats.max() >= self.num_categories:
                raise ValueError(f"categories must be one integer or ({n},) integers in "
                                 f"[0, {self.num_categories}), got {cats!r:.80}.")
            parts.append(np.eye(self.num_categories, dtype="float32")[cats])
        elif categories is not None:
            raise ValueError("This InfoGAN has no categorical code (num_categories=0).")
        if self.num_continuous:
            cont = cont_draw if continuous is None else np.asarray(continuous, "float32")
            try:
                cont = np.broadcast_to(cont, (n, self.num_continuous))
            except ValueError:
                raise ValueError(f"continuous must broadcast to ({n}, {self.num_continuous}), "
                                 f"got shape {cont.shape}.") from None
            parts.append(cont.astype("float32"))
        elif continuous is not None:
            raise ValueError("This InfoGAN has no continuous code (num_continuous=0).")
        return np.concatenate(parts, axis=1).astype("float32")

    def generate(self, n, *positional, categories=None, continuous=None, seed=None, noise=None, batch_size=256,
                 use_ema=None):
        """``n`` samples with the given codes (see ``latent_codes``), keyword-only after
        ``n``; e.g. a latent traversal: ``generate(9, categories=3, continuous=np.stack(
        [np.linspace(-1, 1, 9), np.zeros(9)], 1), noise=np.repeat(z, 9, 0))``; ``use_ema``
        as in ``GAN.generate``."""
        sampling.only_n(self, "generate", positional, self.generate_keywords)
        network = self.sampling_generator(use_ema)
        latent = self.latent_codes(n, categories=categories, continuous=continuous, seed=seed, noise=noise)
        return sampling.run_generator(network, latent, batch_size)

    def predict_codes(self, images, batch_size=256):
        """Q's reading of ``images``: (categorical probabilities (n, num_categories),
        continuous means (n, num_continuous)) as numpy."""
        qs = []
        for start in range(0, len(images), batch_size):
            chunk = ops.convert_to_tensor(np.asarray(images[start:start + batch_size], "float32"))
            qs.append(ops.convert_to_numpy(self.discriminator(chunk, training=False)[1]))
        q = np.concatenate(qs, axis=0).astype("float32")
        logits = q[:, :self.num_categories]
        probs = np.exp(logits - logits.max(axis=1, keepdims=True)) if self.num_categories else logits
        if self.num_categories:
            probs /= probs.sum(axis=1, keepdims=True)
        return probs, q[:, self.num_categories:]

    def grid_samples(self, seed=None, per_row=8, class_names=None, use_ema=None):
        """One row per categorical value; each column keeps its z and continuous codes."""
        rows = max(self.num_categories, 1)
        base = self.latent_codes(per_row, seed=seed)
        latent = np.tile(base, (rows, 1))
        if self.num_categories:
            cats = np.repeat(np.arange(rows), per_row)
            start = self.latent_dim
            latent[:, start:start + rows] = np.eye(rows, dtype="float32")[cats]
        names = [f"c={c}" for c in range(rows)] if self.num_categories else None
        return sampling.run_generator(self.sampling_generator(use_ema), latent), rows, names

    def get_config(self):
        config = super().get_config()
        config.update({"num_categories": self.num_categories, "num_continuous": self.num_continuous,
                       "categorical_weight": self.categorical_weight,
                       "continuous_weight": self.continuous_weight})
        return config
