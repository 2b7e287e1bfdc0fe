"""Reference generator and discriminator builders.

The image networks are the InfoGAN-style DCGAN used by Lucic et al. 2018
("Are GANs Created Equal?", Table 7) for MNIST and Fashion-MNIST:

    discriminator: conv64 4x4/2 - lReLU - conv128 4x4/2 - BN - lReLU
                   - FC1024 - BN - lReLU - FC1
    generator:     FC1024 - BN - ReLU - FC(128*h/4*w/4) - BN - ReLU
                   - deconv64 4x4/2 - BN - ReLU - deconv(channels) 4x4/2 - tanh

``norm=None`` (or ``"layer"``) removes batch norm from the discriminator:
required with a gradient penalty (WGAN-GP, DRAGAN), which is defined per
sample. ``norm="spectral"`` removes it too and wraps every convolution and
dense layer of the critic in ``keras_gan.layers.SpectralNorm`` (SN-GAN, Miyato
et al. 2018: each layer runs with W / sigma(W), sigma its largest singular
value). The 2D mixtures use small MLPs. Every builder returns a functional
``keras.Model`` that saves and loads with ``safe_mode=True``.

BEGAN's discriminator is an autoencoder (``began_autoencoder``,
``mlp_autoencoder``); InfoGAN's has a second output, the Q head, on the same
body (``infogan_discriminator``, ``mlp_infogan_discriminator``). The
``extra_input_dim`` argument adds a conditioning input (a one-hot label).
"""

import keras
from keras import layers

from keras_gan.layers import SpectralNorm

__all__ = ["dcgan_generator", "dcgan_discriminator", "mlp_generator", "mlp_discriminator",
           "dcgan_body", "began_autoencoder", "mlp_autoencoder", "infogan_discriminator",
           "mlp_infogan_discriminator"]

_NORMS = ("batch", "layer", "spectral", None)


def _norm_layer(norm, name):
    """The normalisation layer after a linear layer for norm "batch" or "layer" (spectral
    normalisation wraps the linear layer itself: ``_linear``)."""
    if norm == "batch":
        return layers.BatchNormalization(name=name)
    if norm == "layer":
        return layers.LayerNormalization(name=name)
    return None


def _check_norm(norm):
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of 'batch', 'layer', 'spectral' or None, got {norm!r}.")


def _linear(layer, norm):
    """``layer`` (a Dense or Conv2D), wrapped in ``SpectralNorm`` (named after it) when norm is "spectral"."""
    if norm != "spectral":
        return layer
    return SpectralNorm(layer, name=f"{layer.name}_sn", dtype=layer.dtype_policy)


def _bias(norm):
    """A bias unless a batch or layer norm follows (its offset replaces it)."""
    return norm in (None, "spectral")


def _check_image_shape(image_shape):
    if len(image_shape) != 3 or image_shape[0] % 4 or image_shape[1] % 4:
        raise ValueError(f"image_shape must be (height, width, channels) with height and width "
                         f"divisible by 4, e.g. (28, 28, 1) or (32, 32, 3); got {image_shape!r}.")


def dcgan_generator(latent_dim=64, image_shape=(28, 28, 1), width=64, name="generator",
                    extra_input_dim=0):
    """DCGAN generator from (B, latent_dim) to images in [-1, 1].

    ``extra_input_dim`` > 0 adds a second input of that width (e.g. a one-hot
    label), concatenated with z before the first dense layer.
    """
    _check_image_shape(image_shape)
    h, w, channels = image_shape
    z = keras.Input((latent_dim,), name="z")
    inputs = [z]
    x = z
    if extra_input_dim:
        extra = keras.Input((extra_input_dim,), name="condition")
        inputs.append(extra)
        x = layers.Concatenate(name="z_condition")([z, extra])
    x = layers.Dense(1024, use_bias=False, name="fc1")(x)
    x = layers.BatchNormalization(name="fc1_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Dense(2 * width * (h // 4) * (w // 4), use_bias=False, name="fc2")(x)
    x = layers.BatchNormalization(name="fc2_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((h // 4, w // 4, 2 * width))(x)
    x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False, name="deconv1")(x)
    x = layers.BatchNormalization(name="deconv1_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", name="deconv2")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs if extra_input_dim else z, images, name=name)


def dcgan_body(image_shape=(28, 28, 1), width=64, norm="batch", extra_input_dim=0):
    """The discriminator up to its FC1024 features: (inputs, features).

    Shared by ``dcgan_discriminator`` and models with extra heads (InfoGAN's Q).
    ``extra_input_dim`` > 0 adds an input (e.g. a one-hot label) that is
    broadcast to a constant feature map and concatenated with the image.
    """
    _check_image_shape(image_shape)
    _check_norm(norm)
    image = keras.Input(image_shape, name="image")
    inputs = [image]
    x = image
    if extra_input_dim:
        extra = keras.Input((extra_input_dim,), name="condition")
        inputs.append(extra)
        maps = layers.RepeatVector(image_shape[0] * image_shape[1])(extra)
        maps = layers.Reshape((image_shape[0], image_shape[1], extra_input_dim))(maps)
        x = layers.Concatenate(name="image_condition")([x, maps])
    x = _linear(layers.Conv2D(width, 4, strides=2, padding="same", name="conv1"), norm)(x)
    x = layers.LeakyReLU(0.2)(x)
    conv2 = layers.Conv2D(2 * width, 4, strides=2, padding="same", use_bias=_bias(norm), name="conv2")
    x = _linear(conv2, norm)(x)
    if norm in ("batch", "layer"):
        x = _norm_layer(norm, "conv2_norm")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = _linear(layers.Dense(1024, use_bias=_bias(norm), name="fc1"), norm)(x)
    if norm in ("batch", "layer"):
        x = _norm_layer(norm, "fc1_norm")(x)
    features = layers.LeakyReLU(0.2, name="features")(x)
    return inputs, features


def dcgan_discriminator(image_shape=(28, 28, 1), width=64, norm="batch", name="discriminator",
                        extra_input_dim=0):
    """DCGAN discriminator from images to one raw output (logit or critic value).

    norm: "batch" (DCGAN, the default), "layer", None (use None or "layer"
    with WGAN-GP and DRAGAN), or "spectral" (SN-GAN: no batch norm, every conv
    and dense layer, the output included, wrapped in ``SpectralNorm``).
    """
    inputs, features = dcgan_body(image_shape, width, norm, extra_input_dim)
    out = _linear(layers.Dense(1, dtype="float32", name="logit"), norm)(features)
    return keras.Model(inputs if extra_input_dim else inputs[0], out, name=name)


def mlp_generator(latent_dim=2, output_dim=2, units=128, depth=3, name="generator",
                  extra_input_dim=0):
    """MLP generator for the 2D mixtures: ``depth`` ReLU layers of ``units``, linear output."""
    z = keras.Input((latent_dim,), name="z")
    x = z
    inputs = [z]
    if extra_input_dim:
        extra = keras.Input((extra_input_dim,), name="condition")
        inputs.append(extra)
        x = layers.Concatenate(name="z_condition")([z, extra])
    for i in range(depth):
        x = layers.Dense(units, activation="relu", name=f"fc{i + 1}")(x)
    out = layers.Dense(output_dim, dtype="float32", name="points")(x)
    return keras.Model(inputs if extra_input_dim else z, out, name=name)


def mlp_discriminator(input_dim=2, units=128, depth=3, name="discriminator", extra_input_dim=0,
                      norm=None):
    """MLP discriminator for the 2D mixtures: ``depth`` leaky-ReLU layers, one raw output.
    ``norm``: None (default), or "batch" / "layer" normalisation after each hidden dense layer
    (for experiments on the architecture; a gradient penalty wants None or "layer"), or
    "spectral": every dense layer, the output included, wrapped in ``SpectralNorm``."""
    _check_norm(norm)
    point = keras.Input((input_dim,), name="points")
    x = point
    inputs = [point]
    if extra_input_dim:
        extra = keras.Input((extra_input_dim,), name="condition")
        inputs.append(extra)
        x = layers.Concatenate(name="points_condition")([point, extra])
    for i in range(depth):
        x = _linear(layers.Dense(units, name=f"fc{i + 1}"), norm)(x)
        if norm in ("batch", "layer"):
            x = _norm_layer(norm, f"fc{i + 1}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
    out = _linear(layers.Dense(1, dtype="float32", name="logit"), norm)(x)
    return keras.Model(inputs if extra_input_dim else point, out, name=name)


def began_autoencoder(image_shape=(28, 28, 1), width=64, code_dim=64, name="autoencoder"):
    """BEGAN's discriminator: an autoencoder from images to reconstructions.

    Encoder: conv(width) 4x4/2 - ELU - conv(2 width) 4x4/2 - ELU - FC(code_dim);
    decoder: FC(2 width * h/4 * w/4) - ELU - deconv(width) 4x4/2 - ELU - deconv(channels) 4x4/2.
    The mirror image of the DCGAN networks above, with the ELUs, the linear
    embedding ``h`` and the absence of batch norm of Berthelot et al. 2017
    (section 3.3). The output is linear, as in the paper: the decoder may
    overshoot [-1, 1], which the L1 reconstruction error then charges.
    """
    _check_image_shape(image_shape)
    h, w, channels = image_shape
    image = keras.Input(image_shape, name="image")
    x = layers.Conv2D(width, 4, strides=2, padding="same", activation="elu", name="enc_conv1")(image)
    x = layers.Conv2D(2 * width, 4, strides=2, padding="same", activation="elu", name="enc_conv2")(x)
    x = layers.Flatten()(x)
    code = layers.Dense(code_dim, name="code")(x)
    x = layers.Dense(2 * width * (h // 4) * (w // 4), activation="elu", name="dec_fc")(code)
    x = layers.Reshape((h // 4, w // 4, 2 * width))(x)
    x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", activation="elu", name="dec_deconv1")(x)
    x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", name="dec_deconv2")(x)
    out = layers.Activation("linear", dtype="float32", name="reconstruction")(x)
    return keras.Model(image, out, name=name)


def mlp_autoencoder(input_dim=2, units=128, depth=2, code_dim=8, name="autoencoder"):
    """BEGAN's discriminator for the 2D mixtures: ``depth`` ELU layers, a linear
    code of ``code_dim``, ``depth`` ELU layers, a linear reconstruction."""
    point = keras.Input((input_dim,), name="points")
    x = point
    for i in range(depth):
        x = layers.Dense(units, activation="elu", name=f"enc_fc{i + 1}")(x)
    x = layers.Dense(code_dim, name="code")(x)
    for i in range(depth):
        x = layers.Dense(units, activation="elu", name=f"dec_fc{i + 1}")(x)
    out = layers.Dense(input_dim, dtype="float32", name="reconstruction")(x)
    return keras.Model(point, out, name=name)


def _q_width(num_categories, num_continuous):
    width = int(num_categories) + int(num_continuous)
    if num_categories < 0 or num_continuous < 0 or width < 1:
        raise ValueError(f"InfoGAN needs at least one latent code: num_categories={num_categories!r}, "
                         f"num_continuous={num_continuous!r}.")
    return width


def infogan_discriminator(image_shape=(28, 28, 1), num_categories=10, num_continuous=2, width=64,
                          norm="batch", q_units=128, name="discriminator"):
    """InfoGAN's discriminator: two outputs on one DCGAN body (``dcgan_body``).

    Outputs ``[logit (B, 1), q (B, num_categories + num_continuous)]``: q holds the
    categorical logits, then the predicted means of the continuous codes. The Q
    head is FC(q_units) - norm - lReLU - FC, on the body's FC1024 features
    (Chen et al. 2016, appendix C.1), so Q and D share every layer but the last two.
    ``norm="spectral"`` normalises the body and the logit (the critic); the Q head, which
    fits the codes and is no critic, then has plain dense layers (no batch norm).
    """
    q_width = _q_width(num_categories, num_continuous)
    inputs, features = dcgan_body(image_shape, width, norm)
    logit = _linear(layers.Dense(1, dtype="float32", name="logit"), norm)(features)
    x = layers.Dense(q_units, use_bias=_bias(norm), name="q_fc")(features)
    if norm in ("batch", "layer"):
        x = _norm_layer(norm, "q_fc_norm")(x)
    x = layers.LeakyReLU(0.2)(x)
    q = layers.Dense(q_width, dtype="float32", name="q")(x)
    return keras.Model(inputs[0], [logit, q], name=name)


def mlp_infogan_discriminator(input_dim=2, num_categories=8, num_continuous=1, units=128, depth=3,
                              name="discriminator"):
    """InfoGAN's discriminator for 2D data: ``depth`` shared leaky-ReLU layers, then
    two outputs ``[logit (B, 1), q (B, num_categories + num_continuous)]``."""
    q_width = _q_width(num_categories, num_continuous)
    point = keras.Input((input_dim,), name="points")
    x = point
    for i in range(depth):
        x = layers.Dense(units, name=f"fc{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)
    q = layers.Dense(q_width, dtype="float32", name="q")(x)
    return keras.Model(point, [logit, q], name=name)
