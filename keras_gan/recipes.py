"""Recipes: a model name and a dataset -> networks, optimizers and paper defaults.

One table used by the CLI (``train``, ``compare``) and the notebooks, so that
every loss is trained on the same architecture and budget unless its paper
says otherwise. ``build(name, dataset, ...)`` returns a compiled model and the
batch size to train it with.

    model, batch_size = kg.recipes.build("wgan_gp", "fashion_mnist", seed=0)
"""

import dataclasses

import keras

from keras_gan import architectures, data, losses

__all__ = ["Recipe", "RECIPES", "names", "build", "image_shape"]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one model is trained: its class, discriminator normalisation and optimizers."""
    model: str                     # class name in keras_gan
    d_norm: object = "batch"       # "batch", "layer", None (images only) or "spectral" (images and 2D)
    optimizer: str = "adam"
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    kwargs: tuple = ()             # extra constructor arguments, as (key, value) pairs
    note: str = ""
    g_learning_rate: float = None  # the generator's, where the paper gives it its own

    def optimizers(self, learning_rate=None):
        """(d_optimizer, g_optimizer); ``learning_rate`` overrides both rates."""
        d_lr = learning_rate or self.learning_rate
        g_lr = learning_rate or self.g_learning_rate or self.learning_rate

        def make(lr):
            if self.optimizer == "rmsprop":
                return keras.optimizers.RMSprop(lr)
            return keras.optimizers.Adam(lr, beta_1=self.beta_1, beta_2=self.beta_2)

        return make(d_lr), make(g_lr)


RECIPES = {
    "gan": Recipe("GAN", note="Goodfellow 2014 / DCGAN: Adam(2e-4, 0.5); any loss via --loss. Checked before the "
                            "5-epoch comparison: least_squares keeps Mao 2017's 0-1 coding on the raw D "
                            "(Lucic et al.'s code fits sigmoid(D): the extra row least_squares_sigmoid); "
                            "its slow start at 468 steps is no bug (benchmarks/slow_start.py)"),
    "wgan": Recipe("WGAN", optimizer="rmsprop", learning_rate=5e-5,
                   kwargs=(("clip_value", 0.01), ("d_steps", 5)),
                   note="Arjovsky 2017, Algorithm 1: RMSprop(5e-5), clip 0.01, n_critic 5, batch-norm critic as in "
                        "the authors' DCGAN. Not the authors' code's 100 critic steps for the first 25 "
                        "and every 500th generator step: that schedule is not in the paper, and at a "
                        "budget counted in critic steps it would spend 2,500 of 5 epochs' 4,685 on 25 "
                        "generator updates (Lucic et al. ran WGAN with Adam instead)"),
    "wgan_gp": Recipe("WGANGP", d_norm=None, learning_rate=1e-4, beta_1=0.5, beta_2=0.9,
                      kwargs=(("gp_weight", 10.0), ("d_steps", 5)),
                      note="Gulrajani 2017: Adam(1e-4, 0.5, 0.9), lambda 10, n_critic 5, no BN in critic"),
    "dragan": Recipe("DRAGAN", d_norm=None, learning_rate=1e-4, beta_1=0.5, beta_2=0.9,
                     kwargs=(("penalty_weight", 10.0), ("c", 0.5)),
                     note="Kodali 2017: Adam(1e-4, 0.5, 0.9), lambda 10, c 0.5, no BN"),
    "began": Recipe("BEGAN", d_norm=None, learning_rate=1e-4, beta_1=0.5, beta_2=0.999,
                    kwargs=(("gamma", 0.5), ("lambda_k", 1e-3)),
                    note="Berthelot 2017: Adam(1e-4) (paper: 5e-5..1e-4, halved when M stalls; betas "
                         "unstated, 0.5/0.999 here), gamma 0.5, lambda_k 1e-3, k0 0, ELU autoencoder; "
                         "k updated from the discriminator step's L(x) and L(G(z)) (eq. 4's time index). "
                         "Lucic et al.'s code uses gamma 0.75 and 5 critic steps: not taken, the "
                         "recipe follows the paper; batch 64 as every model (paper: 16)"),
    "cgan": Recipe("ConditionalGAN",
                   note="Mirza 2014 on the DCGAN networks: Adam(2e-4, 0.5), non-saturating loss, "
                        "one-hot label into G and D"),
    "infogan": Recipe("InfoGAN", learning_rate=2e-4, g_learning_rate=1e-3,
                      kwargs=(("categorical_weight", 1.0), ("continuous_weight", 0.1)),
                      note="Chen 2016: Adam D 2e-4, G 1e-3, beta_1 0.5; Cat(classes) + 2 x U(-1, 1), "
                           "lambda_cat 1, lambda_cont 0.1; Q head on D's body; 64 noise dims as every "
                           "model here (paper: 62 on MNIST)"),
    "sngan": Recipe("GAN", d_norm="spectral", learning_rate=2e-4, beta_1=0.5, beta_2=0.999,
                    kwargs=(("loss", "hinge"),),
                    note="Miyato 2018: spectral normalisation of every critic layer (W / sigma(W), one power "
                         "iteration per step), no batch norm, hinge loss; setting C: Adam(2e-4, 0.5, 0.999), "
                         "one critic step per generator step, the non-saturating recipe's optimizer, so "
                         "that the comparison with GAN (hinge) isolates the normalisation; Lucic et al.'s "
                         "networks (Miyato's are a CNN/ResNet for CIFAR-10)"),
}

#: Models that take an adversarial ``loss`` (``--loss``); the others fix their own.
LOSS_MODELS = ("gan", "cgan", "infogan")
#: Models whose networks take codes or labels sized by the dataset's classes.
_CLASS_ARGUMENT = {"ConditionalGAN": "num_classes", "InfoGAN": "num_categories"}
#: InfoGAN's continuous codes (Chen 2016 uses 2 on MNIST).
NUM_CONTINUOUS = 2

#: Latent size and batch size per kind of data.
IMAGE_LATENT_DIM, IMAGE_BATCH = 64, 64
MIXTURE_LATENT_DIM, MIXTURE_BATCH = 8, 256


def names():
    return tuple(RECIPES)


def image_shape(dataset):
    return (32, 32, 3) if dataset == "cifar10" else (28, 28, 1)


def _check(name, dataset):
    if name not in RECIPES:
        raise ValueError(f"Unknown model {name!r}. Valid models: {', '.join(names())}.")
    if dataset not in data.IMAGE_DATASETS + data.MIXTURES:
        raise ValueError(f"Unknown dataset {dataset!r}. Valid datasets: "
                         f"{', '.join(data.IMAGE_DATASETS + data.MIXTURES)}.")


def num_classes(dataset):
    """Classes of a dataset: 10 for the image sets, the number of modes of a mixture
    (its mode index is the class of ``Mixture.dataset(with_labels=True)``)."""
    return data.mixture(dataset).num_modes if data.is_mixture(dataset) else 10


def networks(recipe, dataset, latent_dim, extra_input_dim=0, d_norm="recipe"):
    """(generator, discriminator) for a recipe on a dataset: the DCGAN (or MLP) pair,
    an autoencoder for BEGAN, a label input for ConditionalGAN, a Q head for InfoGAN.
    ``d_norm``: the discriminator's normalisation; "recipe" takes the recipe's for images and
    none for the 2D MLPs, except "spectral" (a property of the layers, not of batches), which
    the MLPs get too; "batch", "layer", "spectral" or None set it (GAN-family discriminators
    only)."""
    mixture = data.is_mixture(dataset)
    if d_norm != "recipe":
        if recipe.model in ("BEGAN", "InfoGAN"):
            raise ValueError(f"d_norm applies to the DCGAN/MLP discriminators, not to {recipe.model}'s")
        if mixture:
            extra = num_classes(dataset) if recipe.model == "ConditionalGAN" else extra_input_dim
            return (architectures.mlp_generator(latent_dim, 2, extra_input_dim=extra),
                    architectures.mlp_discriminator(2, norm=d_norm, extra_input_dim=extra))
        recipe = dataclasses.replace(recipe, d_norm=d_norm)
    if recipe.model == "BEGAN":
        if mixture:
            return architectures.mlp_generator(latent_dim, 2), architectures.mlp_autoencoder(2)
        shape = image_shape(dataset)
        return architectures.dcgan_generator(latent_dim, shape), architectures.began_autoencoder(shape)
    if recipe.model == "ConditionalGAN":
        extra_input_dim = num_classes(dataset)
    if recipe.model == "InfoGAN":
        k = num_classes(dataset)
        codes = latent_dim + k + NUM_CONTINUOUS
        if mixture:
            return (architectures.mlp_generator(codes, 2),
                    architectures.mlp_infogan_discriminator(2, k, NUM_CONTINUOUS))
        shape = image_shape(dataset)
        return (architectures.dcgan_generator(codes, shape),
                architectures.infogan_discriminator(shape, k, NUM_CONTINUOUS, norm=recipe.d_norm))
    if mixture:
        norm = "spectral" if recipe.d_norm == "spectral" else None
        return (architectures.mlp_generator(latent_dim, 2, extra_input_dim=extra_input_dim),
                architectures.mlp_discriminator(2, extra_input_dim=extra_input_dim, norm=norm))
    shape = image_shape(dataset)
    return (architectures.dcgan_generator(latent_dim, shape, extra_input_dim=extra_input_dim),
            architectures.dcgan_discriminator(shape, norm=recipe.d_norm, extra_input_dim=extra_input_dim))


def build(name, dataset="fashion_mnist", loss=None, seed=0, latent_dim=None, learning_rate=None,
          jit_compile="auto", d_norm="recipe", generator_ema=None, **overrides):
    """A compiled model following the recipe ``name`` on ``dataset``.

    Returns (model, batch_size). ``loss`` is only used by models that take one
    (``LOSS_MODELS``); ``overrides`` replace constructor arguments (e.g. d_steps=1);
    ``generator_ema`` goes to ``compile`` (an average of the generator's weights).
    """
    import keras_gan

    _check(name, dataset)
    recipe = RECIPES[name]
    mixture = data.is_mixture(dataset)
    latent_dim = latent_dim or (MIXTURE_LATENT_DIM if mixture else IMAGE_LATENT_DIM)
    keras.utils.set_random_seed(seed)
    generator, discriminator = networks(recipe, dataset, latent_dim, d_norm=d_norm)
    kwargs = dict(recipe.kwargs)
    if recipe.model in _CLASS_ARGUMENT:
        kwargs[_CLASS_ARGUMENT[recipe.model]] = num_classes(dataset)
    if recipe.model == "InfoGAN":
        kwargs["num_continuous"] = NUM_CONTINUOUS
    if loss is not None:
        if name not in LOSS_MODELS:
            raise ValueError(f"--loss only applies to --model {', '.join(LOSS_MODELS)}; "
                             f"{name} has its own loss.")
        kwargs["loss"] = losses.get(loss)
    kwargs.update(overrides)
    cls = getattr(keras_gan, recipe.model)
    model = cls(generator, discriminator, latent_dim, seed=seed, **kwargs)
    d_opt, g_opt = recipe.optimizers(learning_rate)
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt, jit_compile=jit_compile, generator_ema=generator_ema)
    return model, (MIXTURE_BATCH if mixture else IMAGE_BATCH)
