"""Layers of the reference networks: ``SpectralNorm``, spectral normalisation of a Dense or Conv2D.

Spectral normalisation (Miyato, Kataoka, Koyama and Yoshida 2018, "Spectral Normalization for
Generative Adversarial Networks", ICLR, eq. 8 and Algorithm 1) divides a layer's weight matrix
by its largest singular value, so that every layer, and with 1-Lipschitz activations the whole
critic, is 1-Lipschitz:

    W_SN = W / sigma(W),   sigma(W) = max_{|h| = 1} |W h|, the largest singular value of W,

with W the kernel reshaped to (fan_in, units) (a Conv2D kernel (kh, kw, in, out) to
(kh * kw * in, out)). sigma(W) is estimated by one power iteration per training call, from a
vector u kept between calls (W changes little per step, so u tracks the top singular vector):

    v <- W u / |W u|,   u <- W^T v / |W^T v|,   sigma(W) ~ v^T W u,

with u and v treated as constants by the gradient, which flows through W both in the numerator
and in sigma = v^T W u (the paper's eq. 12).

Why not ``keras.layers.SpectralNormalization`` (Keras 3.15): in training mode it *assigns*
W / sigma to the wrapped layer's trainable kernel, and the layer then runs on that variable.
What that does depends on the backend's train step (measured in keras_gan's GAN step, whose
discriminator update calls the critic twice, on x and on G(z)):

- PyTorch: the step fails. The second call's in-place assignment changes a kernel that the
  first call's graph saved for the backward pass: "RuntimeError: one of the variables needed for
  gradient computation has been modified by an inplace operation" (any network whose wrapped
  layer sees an input that needs a gradient, called twice before ``backward``; cf.
  keras-team/keras#19527).
- TensorFlow: the gradient is taken at W / sigma but not through sigma (the paper's gradient has
  a second term, -<G, W_SN> u v^T / sigma), and the optimizer then moves the normalised kernel.
- JAX: the assignment is a StatelessScope update inside ``jax.grad``; the gradient flows through
  sigma, but the optimizer's result is written over the kernel's value from *before* the
  assignment, so a discriminator step leaves the stored kernel unnormalised; only a training call
  outside the differentiated variables (the generator step) writes it. After one discriminator
  step (``d_steps=2``) of Lucic et al.'s critic (width 16, Fashion-MNIST), the stored fc1
  kernel's largest singular value was 1.98 on JAX and 1.19 on TensorFlow; after one SGD step
  with ``d_steps=1`` (tests/spectral_norm_worker.py's 8x8 model) the two backends' kernels
  differed by up to 3e-3 (this layer: 2e-7).

So the same model trains differently, or not at all, per backend, and what inference
(``training=False``) and a saved file use is whatever the kernel variable last held.

``SpectralNorm`` never writes the trainable kernel: it keeps u in a non-trainable variable
(assigned once per training-mode call, a state like batch norm's moving statistics, which every
backend carries through its step) and computes the output with W / sigma in the forward pass,
in training and in inference (inference does no power iteration and uses the stored u). The
kernel the forward pass uses is therefore the same function of the saved weights on every
backend, before and after ``save``/``load_model``. ``normalized_kernel()`` returns it.
"""

import keras
from keras import ops

__all__ = ["SpectralNorm", "spectral_sigma"]

_EPS = 1e-12


def _l2_normalize(x):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x)), _EPS))


def spectral_sigma(matrix, u, iterations=1):
    """Power iteration on ``matrix`` (fan_in, units) from ``u`` (1, units):
    ``v = normalize(u W^T)``, ``u = normalize(v W)``, repeated ``iterations`` times (0: v from u
    only), then ``sigma = v W u^T``. Returns (sigma (1, 1), new u (1, units)), u and v without
    gradient."""
    v = _l2_normalize(ops.matmul(u, ops.transpose(matrix)))
    for _ in range(iterations):
        u = _l2_normalize(ops.matmul(v, matrix))
        v = _l2_normalize(ops.matmul(u, ops.transpose(matrix)))
    u, v = ops.stop_gradient(u), ops.stop_gradient(v)
    return ops.matmul(ops.matmul(v, matrix), ops.transpose(u)), u


@keras.saving.register_keras_serializable("keras_gan")
class SpectralNorm(keras.layers.Wrapper):
    """Spectral normalisation of a ``Dense`` or ``Conv2D`` layer (Miyato et al. 2018):
    the layer runs with ``W / sigma(W)``, sigma the largest singular value of its kernel reshaped
    to (fan_in, units), estimated by ``power_iterations`` power iterations per training call from a
    saved vector u (see the module docstring for the equations, and for why this is not
    ``keras.layers.SpectralNormalization``, which overwrites the trainable kernel).

        x = SpectralNorm(keras.layers.Conv2D(64, 4, strides=2, padding="same"))(x)

    Args:
        layer: a built or unbuilt ``keras.layers.Dense`` or ``keras.layers.Conv2D``.
        power_iterations: power iterations per training-mode call (the paper uses 1).
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        if not isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)) or isinstance(
                layer, keras.layers.EinsumDense):
            raise TypeError(f"SpectralNorm wraps a keras.layers.Dense or keras.layers.Conv2D, got "
                            f"{type(layer).__name__}: wrap the Dense or Conv2D itself (other layers: "
                            f"keras.layers.SpectralNormalization).")
        if getattr(layer, "groups", 1) != 1:
            raise ValueError(f"SpectralNorm needs a Conv2D with groups=1, got groups={layer.groups}: "
                             f"build the convolution with groups=1.")
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) or power_iterations < 1:
            raise ValueError(f"power_iterations must be an integer >= 1 (the paper uses 1), got "
                             f"{power_iterations!r}.")
        kwargs.setdefault("autocast", False)    # sigma and u in the kernel's dtype (float32 under mixed precision)
        super().__init__(layer, **kwargs)
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        units = self.layer.kernel.shape[-1]
        self.vector_u = self.add_weight(shape=(1, units), initializer=keras.initializers.RandomNormal(0.0, 1.0),
                                        trainable=False, name="vector_u", dtype=self.layer.kernel.dtype)
        self.vector_u.assign(_l2_normalize(self.vector_u))
        self.built = True

    def _matrix(self):
        kernel = self.layer.kernel
        return ops.reshape(kernel, (-1, kernel.shape[-1]))

    def normalized_kernel(self, training=False):
        """The kernel the forward pass uses, ``W / sigma`` in the kernel's shape. With
        ``training=True`` one power iteration updates the saved u first (as a training call does)."""
        matrix = self._matrix()
        u = ops.convert_to_tensor(self.vector_u)
        sigma, new_u = spectral_sigma(matrix, u, self.power_iterations if training else 0)
        if training:
            self.vector_u.assign(new_u)
        return ops.reshape(matrix / sigma, self.layer.kernel.shape)

    def call(self, inputs, training=False):
        layer = self.layer
        kernel = ops.cast(self.normalized_kernel(bool(training)), layer.compute_dtype)
        inputs = ops.cast(inputs, layer.compute_dtype)
        if isinstance(layer, keras.layers.Conv2D):
            outputs = layer.convolution_op(inputs, kernel)
            if layer.use_bias:
                shape = (1, 1, 1, layer.filters) if layer.data_format == "channels_last" else (1, layer.filters, 1, 1)
                outputs = ops.add(outputs, ops.reshape(ops.cast(layer.bias, layer.compute_dtype), shape))
        else:
            outputs = ops.matmul(inputs, kernel)
            if layer.bias is not None:
                outputs = ops.add(outputs, ops.cast(layer.bias, layer.compute_dtype))
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
