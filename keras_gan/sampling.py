"""Sampling helpers behind ``generate``: numpy random streams, batched generator calls,
and the keyword-only check of ``generate``'s arguments.

``generate(n, *, ...)`` takes ``n`` positionally and everything else by keyword
(``seed``, ``noise``, ``batch_size`` everywhere; ``labels`` on ConditionalGAN;
``categories`` and ``continuous`` on InfoGAN): a second positional argument used to
mean ``seed`` on GAN, ``labels`` on ConditionalGAN and ``categories`` on InfoGAN.
"""

import numpy as np
from keras import ops

__all__ = ["only_n", "code_rng", "run_generator"]


def only_n(model, method, positional, keywords):
    """TypeError naming the keyword to use, if ``method`` got more than ``n`` positionally.

    ``keywords`` lists the method's keyword arguments, the one a second positional
    argument used to mean first."""
    if not positional:
        return
    pairs = ", ".join(f"{key}={value!r}" for key, value in zip(keywords, positional))
    raise TypeError(
        f"{type(model).__name__}.{method}() takes n only positionally; pass {pairs} by keyword "
        f"(keywords: {', '.join(keywords)}). A second positional argument once meant seed on GAN, "
        "labels on ConditionalGAN and categories on InfoGAN.")


def code_rng(seed):
    """numpy generator for codes and labels in ``generate``: a stream separate from the
    noise (``GAN.latent_numpy(n, seed)``), so fixing the seed fixes the noise whatever
    codes are asked for."""
    return np.random.default_rng(None if seed is None else [int(seed), 1])


def run_generator(generator, inputs, batch_size=256):
    """``generator(inputs, training=False)`` in batches of ``batch_size``, as float32 numpy.
    ``inputs`` is one array or a tuple of arrays (the generator's inputs)."""
    inputs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    n = len(inputs[0])
    out = []
    for start in range(0, n, batch_size):
        chunk = [ops.convert_to_tensor(x[start:start + batch_size]) for x in inputs]
        chunk = chunk[0] if len(chunk) == 1 else chunk
        out.append(ops.convert_to_numpy(generator(chunk, training=False)))
    return np.concatenate(out, axis=0).astype("float32")
