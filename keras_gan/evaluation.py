"""Evaluate a trained generator with the protocol of docs/protocol.md (``python -m keras_gan evaluate``).

    metrics = evaluate_path("runs/wgan_gp")          # a run directory of `train` or `compare`
    metrics = evaluate_path("runs/ls/gan.keras")     # or a saved model, whole GAN or bare generator

- 2D mixtures: 2,500 samples; modes covered, fraction of high-quality samples (within 3 sigma of
  the nearest mode), KL divergence of the mode histogram from uniform (``metrics.mode_coverage``).
- Fashion-MNIST: 10,000 samples; Frechet distance in the committed classifier's features against
  the 10,000 test images, with the train-vs-test distance as the floor; precision/recall (k=3),
  density/coverage (k=5), class histogram (``metrics.evaluate_images``).

Samples come from the whole model's ``generate`` where ``gan.keras`` is there (conditional models
with balanced labels, InfoGAN with its codes drawn from their priors); a bare generator is used
only when it takes one input (the latent vector z ~ N(0, I)).
"""

import json
import os

import numpy as np

from keras_gan import data, metrics, sampling

__all__ = ["sample", "evaluate_samples", "evaluate_model", "evaluate_path", "load_for_evaluation",
           "default_n", "quick_quality", "MIXTURE_SAMPLES", "IMAGE_SAMPLES", "CURVE_IMAGE_SAMPLES"]

#: Sample counts of the protocol (docs/protocol.md): the final evaluation of a run.
MIXTURE_SAMPLES, IMAGE_SAMPLES = 2_500, 10_000
#: Images per point of a training curve (``quick_quality``): enough for a curve, 5x cheaper than
#: the final 10,000. The Frechet distance on fewer samples is biased upwards, so a curve's last
#: point lies above the run's final (10,000-sample) value.
CURVE_IMAGE_SAMPLES = 2_000


def default_n(dataset):
    return MIXTURE_SAMPLES if data.is_mixture(dataset) else IMAGE_SAMPLES


def sample(model, n, seed=0, use_ema=None):
    """``n`` samples (numpy) from a GAN or a bare one-input generator.

    A conditional GAN (``num_classes`` attribute) gets balanced labels, ``i % num_classes``, so
    every class is asked for equally often; other GANs use their own ``generate`` (from the
    averaged generator when the model keeps one, unless ``use_ema=False``).
    """
    n = int(n)
    if hasattr(model, "generate"):
        num_classes = getattr(model, "num_classes", None)
        choice = {} if use_ema is None else {"use_ema": use_ema}  # models of one's own may lack it
        if getattr(model, "uses_labels", False) and num_classes:
            labels = np.arange(n) % int(num_classes)
            return np.asarray(model.generate(n, labels=labels, seed=seed, **choice))
        return np.asarray(model.generate(n, seed=seed, **choice))
    if use_ema is not None:
        raise ValueError("use_ema applies to a whole GAN (gan.keras); a bare generator has no average")
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise ValueError(f"the generator '{model.name}' takes {len(inputs)} inputs (labels or codes); "
                         "evaluate the whole model (gan.keras) instead, whose generate() supplies them")
    latent_dim = int(inputs[0].shape[-1])
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")
    return sampling.run_generator(model, z, batch_size=500)


def evaluate_samples(samples, dataset):
    """The metrics of the evaluation protocol (docs/protocol.md) for ``samples`` of ``dataset`` (a dict, JSON-ready)."""
    if data.is_mixture(dataset):
        return metrics.mode_coverage(samples, data.mixture(dataset))
    if dataset != "fashion_mnist":
        raise ValueError(f"image metrics need the Fashion-MNIST classifier; {dataset!r} has none "
                         "(only fashion_mnist and the 2D mixtures ring8, grid25 can be evaluated)")
    out = metrics.evaluate_images(samples)
    out["frechet_floor"] = metrics.frechet_floor()
    return out


def quick_quality(model, dataset, seed=0, use_ema=None):
    """The cheap quality figure of a training curve: ``{"frechet_distance": FD}`` on
    ``CURVE_IMAGE_SAMPLES`` images against the 10,000 test images (images), or the 2D protocol's
    ``{"modes", "high_quality", "kl"}`` on 2,500 samples and ``w1``, the exact Wasserstein-1
    distance of 1,000 of them to 1,000 mixture points (mixtures). Same ``seed``, same latents;
    ``use_ema`` as in ``sample``."""
    if data.is_mixture(dataset):
        mixture = data.mixture(dataset)
        samples = sample(model, MIXTURE_SAMPLES, seed=seed, use_ema=use_ema)
        found = metrics.mode_coverage(samples, mixture)
        return {**{key: found[key] for key in ("modes", "high_quality", "kl")},
                "w1": metrics.mixture_wasserstein_1(samples, mixture, seed=seed)}
    images = sample(model, CURVE_IMAGE_SAMPLES, seed=seed, use_ema=use_ema)
    return {"frechet_distance": float(metrics.frechet_distance(metrics._test_features(),
                                                               metrics.features(images)))}


def evaluate_model(model, dataset, n=None, seed=0, use_ema=None):
    """Sample ``n`` points (default: 2,500 for a mixture, 10,000 images) and evaluate them
    (``use_ema`` as in ``sample``). Returns (metrics dict with ``n`` and ``seed`` added, the
    samples)."""
    n = default_n(dataset) if n is None else int(n)
    samples = sample(model, n, seed=seed, use_ema=use_ema)
    return {**evaluate_samples(samples, dataset), "n": n, "seed": int(seed)}, samples


def _infer_dataset(model):
    """The dataset a generator makes, from its output shape (2 -> needs a name; 28x28x1 ->
    fashion_mnist)."""
    generator = getattr(model, "generator", model)
    shape = tuple(generator.outputs[0].shape[1:])
    if shape == (28, 28, 1):
        return "fashion_mnist"
    if shape == (2,):
        raise ValueError("this generator makes 2D points: say which mixture with --dataset ring8 or "
                         "--dataset grid25 (or evaluate its run directory, whose run.json names it)")
    raise ValueError(f"cannot evaluate a generator of output shape {shape}: only Fashion-MNIST "
                     "(28, 28, 1) and the 2D mixtures have metrics")


def load_for_evaluation(path, dataset=None):
    """Resolve ``path`` (a run directory or a ``.keras`` file) -> (model, dataset, out_dir, run).

    In a directory, ``gan.keras`` is preferred to ``generator.keras``; ``run.json`` (if present,
    next to the file or in the directory) supplies the dataset and is returned as ``run``.
    """
    import keras

    import keras_gan.gan  # noqa: F401  (registers the classes for load_model)
    import keras_gan.models  # noqa: F401

    if os.path.isdir(path):
        out_dir = path
        candidates = [os.path.join(path, name) for name in ("gan.keras", "generator.keras")]
        found = [c for c in candidates if os.path.isfile(c)]
        if not found:
            raise ValueError(f"{path!r} holds neither gan.keras nor generator.keras; "
                             "pass a run directory of `train`/`compare` or a .keras file")
        model_path = found[0]
    elif os.path.isfile(path):
        if not path.endswith(".keras"):
            raise ValueError(f"{path!r} is not a .keras file or a run directory")
        model_path, out_dir = path, os.path.dirname(os.path.abspath(path))
    else:
        raise ValueError(f"{path!r} does not exist")
    run = {}
    run_json = os.path.join(out_dir, "run.json")
    if os.path.isfile(run_json):
        with open(run_json) as f:
            run = json.load(f)
    # Compiled (the default), so that a GAN's generator EMA, a compile option, is restored with it.
    model = keras.models.load_model(model_path)
    dataset = dataset or run.get("dataset") or _infer_dataset(model)
    return model, dataset, out_dir, run


def evaluate_path(path, n=None, seed=0, dataset=None, write=True):
    """Evaluate the generator in ``path`` and (``write``) save ``metrics.json`` beside it.
    Returns the metrics dict (with ``dataset``, ``model`` and ``source`` added)."""
    model, dataset, out_dir, run = load_for_evaluation(path, dataset)
    result, _ = evaluate_model(model, dataset, n=n, seed=seed)
    result = {"dataset": dataset, "model": run.get("model_id") or run.get("model"), **result,
              "source": os.path.abspath(path)}
    if run.get("loss"):
        result["loss"] = run["loss"]
    if getattr(model, "generator_ema", None) is not None:  # the samples came from the average
        result["generator_ema"] = model.generator_ema.get_config()
    if write:
        path = os.path.join(out_dir, "metrics.json")
        previous = {}
        if os.path.isfile(path):  # keep what evaluation does not recompute (compare's timings)
            with open(path) as f:
                previous = json.load(f)
        with open(path, "w") as f:
            json.dump({**previous, **result}, f, indent=1)
    return result


def format_metrics(result):
    """A few human-readable lines for the CLI."""
    if "diverged" in result:  # a compare run stopped by TerminateOnNonFinite
        return f"{result['dataset']}: {result['diverged']}"
    if "modes" in result:
        return (f"{result['dataset']}: {result['modes']}/{result['num_modes']} modes, "
                f"{100 * result['high_quality']:.1f}% high quality, KL {result['kl']:.3f} "
                f"({result['n']} samples)")
    hist = " ".join(f"{p:.2f}" for p in result["class_histogram"])
    return (f"{result['dataset']}: Frechet distance {result['frechet_distance']:.2f} "
            f"(train-vs-test floor {result['frechet_floor']:.2f}), precision {result['precision']:.3f}, "
            f"recall {result['recall']:.3f}, density {result['density']:.3f}, coverage "
            f"{result['coverage']:.3f}, {result['classes_covered']}/10 classes "
            f"({result['n']} samples)\nclass histogram: {hist}")
