"""Gradient penalties on the discriminator: WGAN-GP, DRAGAN and R1.

Two layers, as for the losses:

- functions, the formulas: ``gradient_penalty``, ``dragan_penalty``, ``r1_penalty``. Each
  takes ``critic``, any callable mapping a batch of inputs to the discriminator's *raw*
  output (logit or critic value, never its sigmoid), and returns a scalar: the penalty
  *before* its weight.
- ``Penalty`` objects, what a model holds (``model.penalty``): one class per penalty
  (``GradientPenalty``, ``DRAGANPenalty``, ``R1Penalty``) that calls its function, carries
  its own parameters (DRAGAN's c) and saves with the model. ``get(name_or_object)`` gives
  one ("gradient_penalty", "dragan", "r1"). A subclass of your own plugs into any GAN:
  ``kg.GAN(..., penalty=MyPenalty())``; register it with
  ``keras.saving.register_keras_serializable`` and it saves and loads as a custom loss does.

The model multiplies the penalty by its ``penalty_weight`` in exactly one place,
``GAN.discriminator_losses``: L_D = loss + penalty_weight * penalty.

Conventions, each the fix of a bug seen in public implementations:
- the interpolation coefficient alpha is drawn U(0, 1) **per sample**, with
  shape (B, 1, ..., 1);
- the gradient norm is taken over **all non-batch axes**, with a small epsilon
  inside the square root (so the gradient of the norm is finite at 0);
- everything is computed in float32, also under a mixed_float16 policy.

For a linear critic D(x) = <w, x> the gradient is w everywhere, so
``gradient_penalty`` and ``dragan_penalty`` return (||w|| - 1)^2 and
``r1_penalty`` returns ||w||^2 / 2.
"""

import keras
from keras import ops

from keras_gan import backend
from keras_gan.validation import check_float

__all__ = ["Penalty", "GradientPenalty", "DRAGANPenalty", "R1Penalty", "gradient_penalty", "dragan_penalty",
           "r1_penalty", "gradient_norms", "get", "names"]

EPSILON = 1e-12


def _uniform(shape, seed):
    # Under tf.distribute each replica keeps its rows of the global batch's draw
    # (keras_gan.distribute.per_replica), so replicas do not share coefficients.
    return backend.per_replica(lambda s: keras.random.uniform(s, 0.0, 1.0, dtype="float32", seed=seed), shape)


def _per_sample_uniform(x, seed):
    return _uniform((ops.shape(x)[0],) + (1,) * (len(x.shape) - 1), seed)


def gradient_norms(critic, x):
    """||grad_x D(x)||_2 per sample (shape (B,)), norm over all non-batch axes."""
    grads = backend.input_gradients(critic, x)
    axes = tuple(range(1, len(grads.shape)))
    return ops.sqrt(ops.sum(ops.square(grads), axis=axes) + EPSILON)


def gradient_penalty(critic, real, fake, seed=None, target=1.0):
    r"""WGAN-GP's two-sided gradient penalty (Gulrajani et al. 2017, eq. 3).

    GP = E_{x_hat} [(||grad_{x_hat} D(x_hat)||_2 - 1)^2],
    x_hat = alpha x + (1 - alpha) G(z),  alpha ~ U(0, 1) per sample.

    Paper weight lambda = 10. Use a critic without batch norm (the penalty is
    per sample; the paper uses layer norm or none).
    Paper: https://arxiv.org/abs/1704.00028

    Args:
        critic: callable, inputs -> raw critic output.
        real, fake: batches of the same shape.
        seed: int, ``keras.random.SeedGenerator`` or None, for alpha.
        target: the norm the gradient is pulled towards (1 in the paper).
    """
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    alpha = _per_sample_uniform(real, seed)
    x_hat = alpha * real + (1.0 - alpha) * fake
    return ops.mean(ops.square(gradient_norms(critic, x_hat) - target))


def dragan_penalty(critic, real, c=0.5, seed=None, target=1.0, std=None):
    r"""DRAGAN's local gradient penalty (Kodali et al. 2017, "On Convergence and
    Stability of GANs"; DRAGAN = Deep Regret Analytic GAN).

    x_p   = x + c * std(x) * u,      u ~ U[0, 1) per element
    x_hat = x + alpha (x_p - x),     alpha ~ U(0, 1) per sample
    P     = E[(||grad_{x_hat} D(x_hat)||_2 - 1)^2]

    std(x) is the standard deviation of the whole real batch (as in the
    authors' code); pass ``std`` to use another value (``DRAGANPenalty`` passes
    the global batch's under ``tf.distribute``, see ``keras_gan.distribute``).
    The penalty acts only in a small neighbourhood of the data, where it stops
    the discriminator from growing sharp gradients around real points (the
    local equilibria behind mode collapse). Paper weight 10, c=0.5. With an
    int ``seed``, u is drawn with ``seed`` and alpha with ``seed + 1``.
    Paper: https://arxiv.org/abs/1705.07215
    """
    real = ops.cast(real, "float32")
    if isinstance(seed, int):
        noise_seed, alpha_seed = seed, seed + 1
    else:  # a SeedGenerator (or None) yields a fresh seed per call
        noise_seed = alpha_seed = seed
    noise = _uniform(ops.shape(real), noise_seed)
    std = ops.std(real) if std is None else ops.cast(std, "float32")
    perturbed = real + c * std * noise
    alpha = _per_sample_uniform(real, alpha_seed)
    x_hat = real + alpha * (perturbed - real)
    return ops.mean(ops.square(gradient_norms(critic, x_hat) - target))


def r1_penalty(critic, real, seed=None):
    r"""R1 regulariser (Mescheder et al. 2018, "Which Training Methods for GANs
    do actually Converge?", eq. 9), on real data only:

    R1 = 1/2 E_x [||grad_x D(x)||^2]

    The factor 1/2 is included, so the model's ``penalty_weight`` is the paper's
    gamma (gamma = 10 for the paper's image experiments, often much smaller).
    ``seed`` is unused; it is accepted so that all penalties share a signature.
    Paper: https://arxiv.org/abs/1801.04406
    """
    del seed
    return 0.5 * ops.mean(ops.square(gradient_norms(critic, real)))


# ------------------------------------------------------------------ Penalty objects
_REGISTRY = {}


def _register(name):
    def wrap(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return keras.saving.register_keras_serializable("keras_gan")(cls)
    return wrap


class Penalty:
    """Base class: a scalar regulariser of the discriminator, before its weight.

    A subclass implements ``__call__(critic, real, fake, seed)``: ``critic`` maps a
    batch of inputs to the raw adversarial output (B, 1) (with a conditional model's
    labels already bound), ``real`` and ``fake`` are the discriminator step's batches
    (``fake`` is a constant), ``seed`` is the model's ``SeedGenerator`` for any random
    coefficients. It returns the unweighted penalty; the model adds
    ``penalty_weight * penalty`` in ``GAN.discriminator_losses`` and nowhere else.
    ``metric`` is the progress-bar name of the value. ``per_sample`` True means the
    penalty is defined per sample, so a batch-norm discriminator gets a
    ``BatchNormPenaltyWarning``. Parameters go in ``__init__`` and ``get_config``.
    """

    name = None
    metric = "penalty"
    per_sample = True

    def __call__(self, critic, real, fake, seed=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@_register("gradient_penalty")
class GradientPenalty(Penalty):
    r"""WGAN-GP's penalty (Gulrajani et al. 2017, eq. 3), on lines between real and fake:

        GP = E[(||grad D(x_hat)||_2 - target)^2],  x_hat = alpha x + (1 - alpha) G(z),
        alpha ~ U(0, 1) per sample, target = 1.

    Computed by ``gradient_penalty``. Paper: https://arxiv.org/abs/1704.00028
    """

    metric = "gp"

    def __init__(self, target=1.0):
        self.target = check_float("target", target, "finite")

    def __call__(self, critic, real, fake, seed=None):
        return gradient_penalty(critic, real, fake, seed=seed, target=self.target)

    def get_config(self):
        return {"target": self.target}


@_register("dragan")
class DRAGANPenalty(Penalty):
    r"""DRAGAN's local penalty (Kodali et al. 2017), near the real data only:

        P = E[(||grad D(x_hat)||_2 - target)^2],  x_hat = x + alpha c std(x) u,
        u ~ U[0, 1) per element, alpha ~ U(0, 1) per sample, target = 1.

    ``c`` is the perturbation scale (paper: 0.5); std(x) is over the global batch.
    Computed by ``dragan_penalty``. Paper: https://arxiv.org/abs/1705.07215
    """

    metric = "dragan_gp"

    def __init__(self, c=0.5, target=1.0):
        self.c = check_float("the DRAGAN perturbation scale c", c, ">= 0")
        self.target = check_float("target", target, "finite")

    def __call__(self, critic, real, fake, seed=None):
        return dragan_penalty(critic, real, c=self.c, seed=seed, target=self.target,
                              std=backend.global_std(real))

    def get_config(self):
        return {"c": self.c, "target": self.target}


@_register("r1")
class R1Penalty(Penalty):
    r"""R1 (Mescheder et al. 2018, eq. 9), on the real data only:

        R1 = 1/2 E_x[||grad_x D(x)||^2]

    With the 1/2 the model's ``penalty_weight`` is the paper's gamma. Computed by
    ``r1_penalty``. Paper: https://arxiv.org/abs/1801.04406
    """

    metric = "r1"

    def __call__(self, critic, real, fake, seed=None):
        return r1_penalty(critic, real)


_ALIASES = {"gp": "gradient_penalty", "wgan_gp": "gradient_penalty", "dragan_penalty": "dragan",
            "r1_penalty": "r1"}


def names():
    """The registered penalty names, in a stable order."""
    return tuple(_REGISTRY)


def get(identifier):
    """A ``Penalty`` from a name (``names()``, or an alias such as "gp"), a config
    dict or a ``Penalty`` instance (returned as is). ValueError for an unknown name."""
    if isinstance(identifier, Penalty):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str):
        key = identifier.strip().lower().replace("-", "_")
        key = _ALIASES.get(key, key)
        if key in _REGISTRY:
            return _REGISTRY[key]()
        raise ValueError(f"Unknown penalty {identifier!r}. Valid names: {', '.join(names())} (or None, "
                         "or a keras_gan.penalties.Penalty instance).")
    raise TypeError(f"A penalty must be a name or a keras_gan.penalties.Penalty instance, got "
                    f"{type(identifier).__name__}. Valid names: {', '.join(names())}.")
