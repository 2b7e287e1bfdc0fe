"""Train every model in the package on one dataset, same architecture and budget, N seeds each,
and write the results: ``python -m keras_gan compare``.

    python -m keras_gan compare --dataset grid25 --seeds 5 --out results/grid25
    python -m keras_gan compare --dataset fashion_mnist --seeds 1 --out results/fashion_mnist_5ep

The models: the plain ``GAN`` with each of the 7 losses (``keras_gan.losses.names()``; SN-GAN, the
hinge loss on a spectrally normalised critic, right after the hinge row), then WGAN
(clipping), WGAN-GP, DRAGAN, BEGAN, the conditional GAN and InfoGAN (the labels are the mode index
of a 2D mixture, the class of an image). Each takes its optimizer, learning rate and ``d_steps``
from its recipe (``keras_gan.recipes``, the papers' defaults) unless ``MIXTURE_SETTINGS`` /
``IMAGE_SETTINGS`` below say otherwise; the table records what every model used.

The budget is counted in ``train_step`` calls, i.e. discriminator updates on one real batch each
(``steps`` for the mixtures, ``epochs`` = passes over the 60k images): a model with
``d_steps = 5`` makes a fifth as many generator updates on the same data.

``out`` receives ``runs/<model>_seed<k>/`` (``run.json`` with the settings, ``metrics.json``,
``history.json`` (the training curve: quality and mean losses every quarter epoch, or every 1/20
of a 2D budget), ``samples.npy`` (the samples behind the figure, uint8 for images),
``samples_ema.npy`` for a run that kept a generator EMA (``Settings.ema``: the run is evaluated
from the trained generator and from its average, ``*_ema`` keys, an extra row of the table),
``generator.keras`` and ``gan.keras`` (not committed: Lucic et al.'s generator is 26 MB), and for
``KEEP_GENERATOR`` models' seed 0 ``generator_f16.npz``, the generator's weights in float16, which
``load_run`` turns back into a model), ``table.md`` (mean ± standard deviation over n seeds,
and the command that reproduces each row), ``runs.csv`` (one row per run), ``samples.png`` and,
for images, ``curves.png`` (every model's Frechet-distance curve) and ``grids/``. A run whose
``metrics.json`` exists with the same settings is not trained again, so an interrupted compare
restarts where it stopped and adding a model or a seed only trains the new runs; the table and
figures are redrawn after every run from all finished runs in ``out``.
"""

import csv
import dataclasses
import json
import os
import shlex
import time

import keras
import numpy as np

from keras_gan import data, evaluation, losses, recipes
from keras_gan.callbacks import NonFiniteLossError, QualityCurve

__all__ = ["Settings", "MIXTURE_SETTINGS", "IMAGE_SETTINGS", "model_ids", "settings_for", "compare",
           "train_run", "DATASETS"]

#: train_step calls per tf.function call for the tiny 2D models (Keras's steps_per_execution).
MIXTURE_STEPS_PER_EXECUTION = 50
#: Datasets with metrics (the image metrics need the Fashion-MNIST classifier).
DATASETS = data.MIXTURES + ("fashion_mnist",)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one model trains with in a compare; None means the recipe's default."""
    steps: int = None            # mixtures: train_step calls (discriminator updates)
    epochs: float = None         # images: passes of the discriminator over the training set
    learning_rate: float = None  # both networks (None: the recipe's, possibly two rates)
    d_steps: int = None
    latent_dim: int = None
    batch_size: int = None
    lr_decay: str = None         # "linear": both learning rates fall linearly to 0 over the budget
    overrides: tuple = ()        # other constructor arguments, (key, value) pairs: (("gp_weight", 0.1),)
    d_norm: str = None           # the discriminator's normalisation: "batch", "layer" or "none"
    ema: float = None            # decay of a generator EMA (compile(generator_ema=...)); evaluated with and without

    def replace(self, **changes):
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


#: 2D mixtures, on the recipes' MLPs (3 x 128 units): "*" applies to every model, then the model's
#: own line. Every model gets the same budget (5,000 steps of batch 256) and Adam (RMSprop for
#: WGAN) at 1e-3 falling linearly to 0: at the image learning rates (1e-4 to 2e-4, 5e-5 for WGAN)
#: 5,000 steps leave the 2D models far from converged, and without the decay the last iterates
#: jitter by more than the modes' 3-sigma radius (cGAN on grid25: 90% high quality at a constant
#: 1e-3, 99% with the decay). Latent size 2, as in PacGAN's 2D experiments. The penalties use
#: weight 0.1, as the WGAN-GP authors' toy code does ("smaller lambda seems to help for toy
#: tasks"); at the image weight 10 WGAN-GP and DRAGAN collapse on ring8.
MIXTURE_SETTINGS = {
    "*": Settings(steps=5_000, learning_rate=1e-3, latent_dim=2, lr_decay="linear"),
    "wgan_gp": Settings(overrides=(("gp_weight", 0.1),)),
    "dragan": Settings(overrides=(("penalty_weight", 0.1),)),
}
#: The image budget of the comparison (and of every notebook's Fashion-MNIST section): 5 epochs
#: = 4,685 discriminator steps at batch 64, a quarter of Lucic et al.'s 20 (15,625 steps at
#: batch 64 over their 50,000 images), the most that fits a 2-core CPU for 13 models x up to 3
#: seeds (12-18 min a run). ``--epochs 20`` is the full protocol, for a GPU.
IMAGE_EPOCHS = 5
#: Points per epoch of an image run's training curve (history.json): every quarter epoch.
CURVE_POINTS_PER_EPOCH = 4
#: Points of a 2D run's training curve.
MIXTURE_CURVE_POINTS = 20
#: Fashion-MNIST: the recipes' paper defaults (Lucic et al.'s networks, batch 64, latent 64).
IMAGE_SETTINGS = {
    "*": Settings(epochs=IMAGE_EPOCHS),
    "non_saturating": Settings(ema=0.999),
    "sngan": Settings(ema=0.999),
}
#: The generator EMA (keras_gan.ema) is measured on the non-saturating GAN and SN-GAN, at Yazici et
#: al.'s decay 0.999 with the default ramp-up: each run's table row is its trained generator, the
#: row after it the same run's average (the average never feeds back into training).
#: Models whose seed-0 generator is committed (float16 weights, ``generator_f16.npz``): the
#: notebooks run them (the conditional GAN's per-class rows, InfoGAN's traversals).
KEEP_GENERATOR = ("cgan", "infogan")


def _entries():
    """model id -> (recipe name, loss or None): the plain GAN under each loss, then the models."""
    entries = {}
    for name in losses.names():
        entries[name] = ("gan", name)
        if name == "least_squares":  # Lucic et al.'s code fits s(D) instead of D: an extra row
            entries["least_squares_sigmoid"] = ("gan", "least_squares_sigmoid")
        if name == "hinge":          # the hinge loss with a spectrally normalised critic, next to it
            entries["sngan"] = ("sngan", None)
    for name in ("wgan", "wgan_gp", "dragan", "began", "cgan", "infogan"):
        entries[name] = (name, None)
    return entries


def model_ids(dataset=None):
    """Every model a compare trains, in table order (those whose recipe exists)."""
    return tuple(k for k, (recipe, _) in _entries().items() if recipe in recipes.RECIPES)


_LABELS = {"sngan": "SN-GAN (hinge)", "wgan": "WGAN (clipping)", "wgan_gp": "WGAN-GP", "dragan": "DRAGAN",
           "began": "BEGAN", "cgan": "conditional GAN", "infogan": "InfoGAN"}


def label(model_id):
    """The table's name of a model id: "GAN (hinge)", "WGAN-GP", ..."""
    if model_id == "least_squares_sigmoid":
        return "GAN (least_squares on sigmoid, Lucic et al.'s code)"
    recipe, loss = _entries()[model_id]
    return f"GAN ({loss})" if loss else _LABELS.get(model_id, model_id)


def settings_for(model_id, dataset, steps=None, epochs=None):
    """The Settings of ``model_id`` on ``dataset``: the table's, then ``steps``/``epochs``."""
    table = MIXTURE_SETTINGS if data.is_mixture(dataset) else IMAGE_SETTINGS
    merged = {}
    for key in ("*", model_id):
        if key in table:
            merged.update({k: v for k, v in dataclasses.asdict(table[key]).items() if v is not None})
    return Settings(**merged).replace(steps=steps, epochs=epochs)


# ----------------------------------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------------------------------

def _resolved(model, recipe_name, loss, settings, batch_size, dataset):
    """The settings a run actually used, as a flat JSON-ready dict."""
    recipe = recipes.RECIPES[recipe_name]
    d_lr = settings.learning_rate or recipe.learning_rate
    g_lr = settings.learning_rate or getattr(recipe, "g_learning_rate", None) or recipe.learning_rate
    loss_fn = getattr(model, "loss_fn", None)
    out = {"recipe": recipe_name, "loss": loss or getattr(loss_fn, "name", None) or recipe.model,
           "optimizer": recipe.optimizer, "d_lr": d_lr, "g_lr": g_lr,
           "betas": None if recipe.optimizer == "rmsprop" else [recipe.beta_1, recipe.beta_2],
           "d_steps": int(model.d_steps), "latent_dim": int(model.latent_dim), "batch_size": int(batch_size),
           "lr_decay": settings.lr_decay, "overrides": dict(settings.overrides)}
    if settings.d_norm is not None:
        out["d_norm"] = settings.d_norm
    if settings.ema is not None:
        out["generator_ema"] = settings.ema
    if data.is_mixture(dataset):
        out["steps"] = int(settings.steps)
    else:
        out["epochs"] = float(settings.epochs)
    return out


class LinearDecay(keras.callbacks.Callback):
    """Both optimizers' learning rates fall linearly from their initial values to 0 over
    ``total_steps`` train_step calls (as in the WGAN-GP authors' code), set before each batch
    (each execution, with ``steps_per_execution``) from the model's step counter."""

    def __init__(self, total_steps):
        super().__init__()
        self.total_steps = int(total_steps)

    def _optimizers(self):
        return self.model.d_optimizer, self.model.g_optimizer

    def on_train_begin(self, logs=None):
        self.initial = [float(o.learning_rate) for o in self._optimizers()]

    def on_train_batch_begin(self, batch, logs=None):
        left = max(0.0, 1.0 - float(self.model.d_step_count.numpy()) / self.total_steps)
        for optimizer, lr in zip(self._optimizers(), self.initial):
            optimizer.learning_rate = lr * left


def _dataset(dataset, batch_size, seed, labels, settings):
    """(pipeline, fit epochs, steps per fit epoch, curve steps, steps per data epoch) for a budget
    of ``settings``: tf.data on TensorFlow, numpy batches on JAX and PyTorch (``keras_gan.data``).
    Every model at a seed sees the same order of batches."""
    if data.is_mixture(dataset):
        chunks = 10 if settings.steps % 10 == 0 else 1
        pipeline = data.mixture(dataset).dataset(batch_size, steps_per_epoch=None, seed=seed,
                                                 with_labels=labels)
        total = settings.steps
        points = sorted({max(1, round(total * i / MIXTURE_CURVE_POINTS))
                         for i in range(1, MIXTURE_CURVE_POINTS + 1)})
        return pipeline, chunks, total // chunks, points, None
    pipeline = data.load(dataset, "train", batch_size=batch_size, seed=seed, with_labels=labels)
    per_epoch = len(pipeline)
    total = max(1, round(settings.epochs * per_epoch))
    if float(settings.epochs).is_integer():
        chunks, steps = int(settings.epochs), per_epoch
    else:
        chunks = max(1, min(10, round(settings.epochs * 4)))  # a progress line every ~quarter epoch
        steps = max(1, total // chunks)
    quarter = per_epoch / CURVE_POINTS_PER_EPOCH
    points = sorted({round(quarter * i) for i in range(1, int(chunks * steps / quarter + 1e-9) + 1)}
                    | {chunks * steps})
    return pipeline.repeat(), chunks, steps, [p for p in points if p >= 1], per_epoch


def train_run(model_id, dataset, seed, settings, run_dir, verbose=0):
    """Train and evaluate one model; write ``run_dir``/{run,metrics}.json, the samples and the
    models. Returns the metrics dict (with ``settings`` and timings)."""
    recipe_name, loss = _entries()[model_id]
    overrides = dict(settings.overrides)
    if settings.d_steps is not None:
        overrides["d_steps"] = settings.d_steps
    d_norm = "recipe" if settings.d_norm is None else (None if settings.d_norm == "none" else settings.d_norm)
    model, batch_size = recipes.build(recipe_name, dataset, loss=loss, seed=seed,
                                      latent_dim=settings.latent_dim,
                                      learning_rate=settings.learning_rate, d_norm=d_norm,
                                      generator_ema=settings.ema, **overrides)
    batch_size = settings.batch_size or batch_size
    used = _resolved(model, recipe_name, loss, settings, batch_size, dataset)
    pipeline, epochs, steps_per_epoch, curve_steps, data_epoch = _dataset(
        dataset, batch_size, seed, getattr(model, "uses_labels", False), settings)
    if (data.is_mixture(dataset) and steps_per_epoch % MIXTURE_STEPS_PER_EXECUTION == 0
            and keras.backend.backend() != "torch"):  # Keras's torch fit runs one step per call
        # What compile(steps_per_execution=...) sets: several tiny 2D steps per tf.function call
        # halve the wall time; the steps themselves are unchanged.
        model.steps_per_execution = MIXTURE_STEPS_PER_EXECUTION
    os.makedirs(run_dir, exist_ok=True)
    raw = None if settings.ema is None else False   # with an EMA, the main figures are the generator's

    def quality(m):
        found = evaluation.quick_quality(m, dataset, seed=seed, use_ema=raw)
        if settings.ema is not None:
            averaged = evaluation.quick_quality(m, dataset, seed=seed, use_ema=True)
            found.update({f"{key}_ema": value for key, value in averaged.items()})
        return found

    curve = QualityCurve(curve_steps, quality, steps_per_epoch=data_epoch,
                         path=os.path.join(run_dir, "history.json"))
    callbacks = [curve]
    if settings.lr_decay == "linear":
        callbacks.append(LinearDecay(epochs * steps_per_epoch))
    elif settings.lr_decay is not None:
        raise ValueError(f"unknown lr_decay {settings.lr_decay!r}; valid: 'linear' or None")
    wall, cpu = time.time(), time.process_time()
    try:
        model.fit(pipeline, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=verbose,
                  callbacks=callbacks)
        diverged = None
    except NonFiniteLossError as error:  # a diverging run is a result, not the end of the sweep
        diverged = error
    wall, cpu = time.time() - wall, time.process_time() - cpu
    if diverged is None:
        result, samples = evaluation.evaluate_model(model, dataset, seed=seed, use_ema=raw)
        _save_samples(samples, dataset, os.path.join(run_dir, "samples.npy"))
        if settings.ema is not None:
            averaged, samples = evaluation.evaluate_model(model, dataset, seed=seed, use_ema=True)
            result.update({f"{key}_ema": value for key, value in averaged.items()
                           if key not in ("n", "seed", "frechet_floor")})
            _save_samples(samples, dataset, os.path.join(run_dir, "samples_ema.npy"))
        model.generator.save(os.path.join(run_dir, "generator.keras"))
        model.save(os.path.join(run_dir, "gan.keras"))
        if model_id in KEEP_GENERATOR and seed == 0:
            save_generator_f16(model, os.path.join(run_dir, "generator_f16.npz"))
    else:
        columns = MIXTURE_COLUMNS if data.is_mixture(dataset) else IMAGE_COLUMNS
        result = {key + suffix: float("nan") for key, *_ in columns
                  for suffix in ("", "_ema") if suffix == "" or settings.ema is not None}
        result.update(seed=seed, diverged_at_step=diverged.step, diverged=str(diverged))
    # Training time without the curve's evaluations (reported apart as curve_seconds).
    result.update(model_id=model_id, dataset=dataset, train_seconds=round(wall - curve.eval_seconds, 1),
                  train_cpu_seconds=round(cpu - curve.eval_cpu_seconds, 1),
                  curve_seconds=round(curve.eval_seconds, 1))
    run = {"model_id": model_id, "model": recipe_name, "loss": loss, "dataset": dataset,
           "seed": seed, "latent_dim": int(model.latent_dim), "settings": used}
    with open(os.path.join(run_dir, "run.json"), "w") as f:
        json.dump(run, f, indent=1)
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:  # written last: marks it done
        json.dump(result, f, indent=1)
    return {**result, "settings": used}


def _save_samples(samples, dataset, path):
    """The samples behind the figures: all 2D points (float32), or the first 60 images (6 rows of
    10; a cGAN's columns are its classes) as uint8."""
    if data.is_mixture(dataset):
        np.save(path, samples.astype(np.float32))
    else:
        np.save(path, data.to_uint8(samples[:60]))


def _finished(run_dir, settings, dataset):
    """The stored result of a finished run with the same settings, else None."""
    try:
        with open(os.path.join(run_dir, "run.json")) as f:
            run = json.load(f)
        with open(os.path.join(run_dir, "metrics.json")) as f:
            result = json.load(f)
    except (OSError, ValueError):
        return None
    stored = run.get("settings", {})
    budget = ("steps", "steps") if data.is_mixture(dataset) else ("epochs", "epochs")
    same = (stored.get(budget[0]) == getattr(settings, budget[1])
            and all(getattr(settings, k) in (None, stored.get(k2)) for k, k2 in
                    (("learning_rate", "d_lr"), ("d_steps", "d_steps"), ("latent_dim", "latent_dim"),
                     ("batch_size", "batch_size")))
            and stored.get("lr_decay") == settings.lr_decay
            and stored.get("d_norm") == settings.d_norm
            and stored.get("generator_ema") == settings.ema
            and stored.get("overrides", {}) == dict(settings.overrides))
    return {**result, "settings": stored} if same else None


# ----------------------------------------------------------------------------------------------
# The whole comparison
# ----------------------------------------------------------------------------------------------

def compare(dataset, seeds, out, models=None, steps=None, epochs=None, verbose=0, command=None,
            log=print):
    """Train ``models`` (default: all) x ``seeds`` on ``dataset`` into ``out``; write the table,
    CSV and figure. Returns {model_id: [result per seed]}."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; compare supports {', '.join(DATASETS)}")
    models = list(models or model_ids(dataset))
    unknown = [m for m in models if m not in model_ids(dataset)]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; valid: {', '.join(model_ids(dataset))}")
    jobs = [(m, s) for m in models for s in range(seeds)]
    results = {m: [] for m in models}
    start, trained = time.time(), 0
    for i, (model_id, seed) in enumerate(jobs, 1):
        settings = settings_for(model_id, dataset, steps, epochs)
        run_dir = os.path.join(out, "runs", f"{model_id}_seed{seed}")
        result = _finished(run_dir, settings, dataset)
        status = "done before, skipped"
        if result is None:
            result = train_run(model_id, dataset, seed, settings, run_dir, verbose=verbose)
            trained += 1
            status = f"trained in {result['train_seconds']:.0f} s"
        results[model_id].append(result)
        if status != "done before, skipped":  # redraw now, so each finished run can be committed
            write_outputs(dataset, collect(dataset, out, steps, epochs), out, command=command)
        elapsed = time.time() - start
        eta = ""
        if trained and i < len(jobs):
            eta = f", about {elapsed / trained * (len(jobs) - i) / 60:.0f} min left"
        log(f"[{i}/{len(jobs)}] {model_id} seed {seed}: {evaluation.format_metrics(result).splitlines()[0]}"
            f" ({status}{eta})")
    wall = time.time() - start
    everything = collect(dataset, out, steps, epochs)
    write_outputs(dataset, everything, out, command=command)
    log("\n" + table_rows(dataset, everything))
    log(f"wrote {os.path.join(out, 'table.md')}, runs.csv, samples.png; {trained} runs trained "
        f"in {wall / 60:.1f} min")
    return results


def collect(dataset, out, steps=None, epochs=None):
    """{model_id: [result per seed]} of every finished run in ``out`` with this budget (the
    table and figures show them all, whichever compare command trained them)."""
    found = {}
    runs_dir = os.path.join(out, "runs")
    for model_id in model_ids(dataset):
        settings = settings_for(model_id, dataset, steps, epochs)
        seeds = []
        prefix = f"{model_id}_seed"
        for name in (os.listdir(runs_dir) if os.path.isdir(runs_dir) else ()):
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                seeds.append(int(name[len(prefix):]))
        runs = [r for r in (_finished(os.path.join(runs_dir, f"{prefix}{k}"), settings, dataset)
                            for k in sorted(seeds)) if r is not None]
        if runs:
            found[model_id] = runs
    return found


def save_generator_f16(model, path):
    """The generator's weights (trainable and batch-norm statistics) as float16 in one npz."""
    np.savez_compressed(path, *[np.asarray(keras.ops.convert_to_numpy(w), np.float16)
                                for w in model.generator.weights])


def load_run(run_dir):
    """The compiled model of a finished compare run whose ``generator_f16.npz`` was committed
    (``KEEP_GENERATOR``): rebuilt from ``run.json`` with the recipe, the generator's weights
    loaded (float16 rounding: relative differences ~1e-3 in the weights)."""
    with open(os.path.join(run_dir, "run.json")) as f:
        run = json.load(f)
    path = os.path.join(run_dir, "generator_f16.npz")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing: only the seed-0 runs of {', '.join(KEEP_GENERATOR)} "
                                "commit their generator; other runs' samples are in samples.npy")
    s = run["settings"]
    model, _ = recipes.build(run["model"], run["dataset"], loss=run["loss"], seed=run["seed"],
                             latent_dim=run["latent_dim"])
    with np.load(path) as weights:
        values = [weights[f"arr_{i}"].astype(np.float32) for i in range(len(weights.files))]
    if len(values) != len(model.generator.weights):
        raise ValueError(f"{path} holds {len(values)} arrays, the {s['recipe']} generator has "
                         f"{len(model.generator.weights)} weights")
    for variable, value in zip(model.generator.weights, values):
        variable.assign(value)
    return model


# ----------------------------------------------------------------------------------------------
# Outputs: table, CSV, figure
# ----------------------------------------------------------------------------------------------

MIXTURE_COLUMNS = (("modes", "modes", 1.0, "{:.1f}"), ("high_quality", "high quality %", 100.0, "{:.1f}"),
                   ("kl", "KL", 1.0, "{:.3f}"))
IMAGE_COLUMNS = (("frechet_distance", "Frechet distance", 1.0, "{:.2f}"),
                 ("precision", "precision", 1.0, "{:.3f}"), ("recall", "recall", 1.0, "{:.3f}"),
                 ("density", "density", 1.0, "{:.3f}"), ("coverage", "coverage", 1.0, "{:.3f}"),
                 ("classes_covered", "classes", 1.0, "{:.1f}"))


def _rows(results):
    """The table's rows as (model_id, runs, suffix): each model's runs (suffix ""), and after a
    model whose runs kept a generator EMA the same runs' averaged generator (suffix "_ema": the
    metrics stored under ``key + "_ema"``)."""
    for model_id, runs in results.items():
        if not runs:
            continue
        yield model_id, runs, ""
        if runs[0].get("settings", {}).get("generator_ema") is not None:
            yield model_id, runs, "_ema"


def row_label(model_id, runs, suffix=""):
    """A row's name: the model's, with ", generator EMA 0.999" on the averaged generator's row."""
    if not suffix:
        return label(model_id)
    return f"{label(model_id)}, generator EMA {runs[0]['settings']['generator_ema']:g}"


def _mean_std(values, fmt):
    """"mean ± sample std" over the finite values; "n/a" if none (e.g. KL with no mode hit), and
    "(k of n)" when some runs had no value."""
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return "n/a"
    text = fmt.format(finite[0]) if len(finite) == 1 else \
        f"{fmt.format(finite.mean())} ± {fmt.format(finite.std(ddof=1))}"
    return text if len(finite) == len(values) else f"{text} ({len(finite)} of {len(values)})"


def _settings_text(s):
    lr = f"{s['d_lr']:g}" if s["d_lr"] == s["g_lr"] else f"D {s['d_lr']:g}, G {s['g_lr']:g}"
    opt = "RMSprop" if s["optimizer"] == "rmsprop" else "Adam"
    if s.get("lr_decay"):
        lr += f" → 0 ({s['lr_decay']})"
    budget = f"{s['steps']}" if "steps" in s else f"{s['epochs']:g}"
    lr = f"{opt} {lr}" + "".join(f", {k} {v:g}" if isinstance(v, float) else f", {k} {v}"
                                 for k, v in s.get("overrides", {}).items())
    if s.get("d_norm"):
        lr += f", D norm {s['d_norm']}"
    return [lr, str(s["d_steps"]), budget, str(s["latent_dim"]), str(s["batch_size"])]


def table_rows(dataset, results):
    """The markdown table alone: one row per model, mean ± std over its runs."""
    mixture = data.is_mixture(dataset)
    columns = MIXTURE_COLUMNS if mixture else IMAGE_COLUMNS
    budget = "steps" if mixture else "epochs"
    head = (["model", "optimizer, lr (, changed defaults)", "d_steps", budget, "latent", "batch"]
            + [c[1] for c in columns] + ["train s (CPU s)", "n (seeds)"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model_id, runs, suffix in _rows(results):
        cells = [row_label(model_id, runs, suffix)] + _settings_text(runs[0]["settings"])
        for key, _, scale, fmt in columns:
            cells.append(_mean_std([scale * r.get(key + suffix, np.nan) for r in runs], fmt))
        cells.append(f"{np.mean([r.get('train_seconds', np.nan) for r in runs]):.0f} "
                     f"({np.mean([r.get('train_cpu_seconds', np.nan) for r in runs]):.0f})")
        diverged = sum("diverged_at_step" in r for r in runs)
        cells.append(f"{len(runs)} ({diverged} diverged to NaN)" if diverged else str(len(runs)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table_markdown(dataset, results, command=None, out=None):
    """The table with a few lines on how it was made (what ``table.md`` holds)."""
    mixture = data.is_mixture(dataset)
    intro = [f"Results of `compare` on {dataset}: mean ± standard deviation over seeds "
             f"({evaluation.default_n(dataset)} samples per run, seed k evaluated with seed k)."]
    if not mixture:
        floor = next(iter(r for runs in results.values() for r in runs), {}).get("frechet_floor")
        if floor is not None:
            intro.append(f"Frechet distance in the Fashion-MNIST classifier's features against the "
                         f"10,000 test images; train-vs-test floor {floor:.2f}.")
    if command:
        intro.append(f"Command: `{command}`")
    runs = [r for rs in results.values() for r in rs]
    wall = sum(r.get("train_seconds", 0.0) for r in runs) / 60
    cpu = sum(r.get("train_cpu_seconds", 0.0) for r in runs) / 60
    intro.append(f"Training time summed over the {len(runs)} runs: {wall:.1f} min wall, {cpu:.1f} min "
                 "CPU (evaluation and saving not included).")
    published = "" if mixture else published_ranking(results)
    return ("\n\n".join(intro) + "\n\n" + table_rows(dataset, results)
            + "\n" + reproduce_rows(dataset, results, out) + ("\n" + published if published else ""))


#: Lucic et al. (2018), "Are GANs Created Equal? A Large-Scale Study", Fashion-MNIST: each loss's
#: best FID over their hyperparameter search (Inception features, so comparable here in rank only).
LUCIC_FASHION_MNIST_FID = {"wgan": 21.5, "began": 22.9, "wgan_gp": 24.5, "non_saturating": 26.5,
                           "dragan": 27.7, "minimax": 29.6, "least_squares": 30.7}


def _ranks(values):
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), int)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def published_ranks(results):
    """(models, our mean Frechet distances, their FIDs, our ranks, their ranks) over the models
    that both this comparison (a finite Frechet distance) and Lucic et al. have, in the order of
    ``LUCIC_FASHION_MNIST_FID``; None when fewer than three are shared."""
    shared = [m for m in LUCIC_FASHION_MNIST_FID
              if results.get(m) and np.isfinite([r.get("frechet_distance", np.nan) for r in results[m]]).any()]
    if len(shared) < 3:
        return None
    ours = np.array([np.nanmean([r.get("frechet_distance", np.nan) for r in results[m]]) for m in shared])
    theirs = np.array([LUCIC_FASHION_MNIST_FID[m] for m in shared])
    return shared, ours, theirs, _ranks(ours), _ranks(theirs)


def published_ranking(results):
    """Markdown: Lucic et al.'s Fashion-MNIST ranking next to this comparison's, over the models
    both have (mean Frechet distance over the finished seeds), with the Spearman rank correlation;
    "" when fewer than three models are in both."""
    ranked = published_ranks(results)
    if ranked is None:
        return ""
    shared, ours, theirs, our_rank, their_rank = ranked
    lines = [f"Next to Lucic et al. (2018), over the {len(shared)} models both have: their best FID per loss "
             "(Inception features, a long training and a hyperparameter search) and this comparison's "
             "Frechet distance (mean over the finished seeds); ranks among these models.", "",
             "| model | Lucic et al. FID (rank) | here: Frechet distance (rank) | seeds here |", "|---|---|---|---|"]
    for i in np.argsort(their_rank):
        m = shared[i]
        lines.append(f"| {label(m)} | {theirs[i]:.1f} ({their_rank[i]}) | {ours[i]:.2f} ({our_rank[i]}) | "
                     f"{len(results[m])} |")
    d = our_rank - their_rank
    n = len(shared)
    rho = 1 - 6 * float(np.sum(d ** 2)) / (n * (n * n - 1))   # no ties: ranks are distinct
    lines += ["", f"Spearman rank correlation: {rho:+.2f} (n = {n})."]
    return "\n".join(lines) + "\n"


def reproduce_rows(dataset, results, out=None):
    """Markdown: for each row, the command that reproduces it and the time its runs took."""
    mixture = data.is_mixture(dataset)
    lines = ["| model | reproduce with | train time per run, wall (CPU) |", "|---|---|---|"]
    for model_id, runs, suffix in _rows(results):
        if suffix:
            lines.append(f"| {row_label(model_id, runs, suffix)} | the runs of the row above (their averaged "
                         "generator) | the same |")
            continue
        budget = runs[0]["settings"]
        command = command_line(dataset, len(runs), out or f"results/{dataset}", [model_id],
                               steps=budget.get("steps") if mixture else None,
                               epochs=None if mixture else budget.get("epochs"))
        walls = [r.get("train_seconds", np.nan) / 60 for r in runs]
        cpus = [r.get("train_cpu_seconds", np.nan) / 60 for r in runs]
        lines.append(f"| {label(model_id)} | `{command}` | {np.mean(walls):.1f} min ({np.mean(cpus):.1f} "
                     f"min){' each, ' + str(len(runs)) + ' seeds' if len(runs) > 1 else ''} |")
    return "\n".join(lines) + "\n"


def write_csv(results, path):
    rows = []
    for runs in results.values():
        for r in runs:
            row = {k: v for k, v in r.items() if k not in ("settings", "class_histogram", "source")}
            row.update({f"setting_{k}": v for k, v in r["settings"].items()})
            if "class_histogram" in r:
                row["class_histogram"] = " ".join(f"{p:.4f}" for p in r["class_histogram"])
            rows.append(row)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _first_not_diverged(runs):
    """A model's first run that has samples (one that diverged to NaN has none), else None."""
    return next((r for r in runs if "diverged_at_step" not in r), None)


def figure(dataset, results, out, path):
    """One panel per model: its first seed's samples (a scatter over the modes, or 6 x 10 images)."""
    from keras_gan import plotting

    plt = plotting._plt()
    mixture = data.mixture(dataset) if data.is_mixture(dataset) else None
    shown = [(m, runs, suffix, _first_not_diverged(runs) or runs[0]) for m, runs, suffix in _rows(results)]
    cols = min(len(shown), 4 if mixture is not None else 3)
    rows = max(1, -(-len(shown) // cols))
    size = (3.0, 3.2) if mixture is not None else (3.6, 2.6)
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (model_id, runs, suffix, r) in zip(axes.flat, shown):
        name = row_label(model_id, runs, suffix)
        if "diverged_at_step" in r:
            ax.set_title(f"{name}\ndiverged to NaN at step {r['diverged_at_step']} "
                         f"(seed {r['seed']})", fontsize=9)
            continue
        samples = np.load(os.path.join(out, "runs", f"{model_id}_seed{r['seed']}", f"samples{suffix}.npy"))
        if mixture is not None:
            ax.axis("on")
            plotting.scatter_2d(samples, mixture, ax=ax)
            ax.set_xticks([])
            ax.set_yticks([])
            title = f"{name}\n{r['modes' + suffix]} modes, {100 * r['high_quality' + suffix]:.0f}% HQ"
        else:
            grid = plotting.grid_array(data.to_float(samples), rows=6)
            ax.imshow(grid.squeeze(-1), cmap="gray", vmin=0, vmax=1)
            title = (f"{name}\nFD {r['frechet_distance' + suffix]:.1f}, "
                     f"{r['classes_covered' + suffix]} classes")
        ax.set_title(title + f" (seed {r['seed']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80 if mixture is not None else 90)
    plt.close(fig)


def load_history(out, model_id, seed):
    """A run's training curve (``history.json``) as {key: list}, or None if it has none."""
    path = os.path.join(out, "runs", f"{model_id}_seed{seed}", "history.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def curves_figure(results, out, path):
    """Every model's Frechet-distance curve (2,000 samples every quarter epoch) on a log scale,
    one colour per model: the mean over its seeds, each seed as a thin line."""
    from keras_gan import plotting

    plt = plotting._plt()
    fig, ax = plt.subplots(figsize=(9, 5.5))
    tab20 = plt.get_cmap("tab20").colors
    colours = tab20[::2] + tab20[1::2]  # the 10 strong colours first, then their light partners
    drawn = 0
    for i, (model_id, runs, suffix) in enumerate(_rows(results)):
        key = "frechet_distance" + suffix
        curves = [h for h in (load_history(out, model_id, r["seed"]) for r in runs) if h and key in h]
        if not curves:
            continue
        colour = colours[i % len(colours)]
        style = "--" if suffix else "-"    # an averaged generator: dashed
        for h in curves:
            ax.plot(h["epoch"], h[key], color=colour, lw=0.6, alpha=0.5, ls=style)
        n = min(len(h["epoch"]) for h in curves)
        mean = np.mean([h[key][:n] for h in curves], axis=0)
        ax.plot(curves[0]["epoch"][:n], mean, color=colour, lw=1.8, ls=style,
                label=f"{row_label(model_id, runs, suffix)} (n={len(curves)})")
        drawn += 1
    ax.set_yscale("log")
    ax.set_xlabel("epochs (discriminator passes over the 60,000 training images)")
    ax.set_ylabel("Frechet distance, 2,000 samples (log)")
    ax.grid(True, which="both", alpha=0.3)
    if drawn:
        ax.legend(fontsize=7, ncol=2, loc="upper right")
    ax.set_title("Fashion-MNIST: quality during training (mean over seeds bold, each seed thin)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_model_grids(results, out):
    """For image datasets: ``out``/grids/MODEL.png, the 6 x 10 samples of each model's first run
    that did not diverge, at one screen pixel per image pixel (for the README's table of losses)."""
    from keras_gan import plotting

    plt = plotting._plt()
    os.makedirs(os.path.join(out, "grids"), exist_ok=True)
    for model_id, runs, suffix in _rows(results):
        run = _first_not_diverged(runs)
        if run is None:
            continue
        samples = np.load(os.path.join(out, "runs", f"{model_id}_seed{run['seed']}", f"samples{suffix}.npy"))
        grid = plotting.grid_array(data.to_float(samples), rows=6)
        plt.imsave(os.path.join(out, "grids", f"{model_id}{suffix}.png"), grid.squeeze(-1), cmap="gray",
                   vmin=0, vmax=1)


def write_outputs(dataset, results, out, command=None):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table_markdown(dataset, results, command, out=out))
    write_csv(results, os.path.join(out, "runs.csv"))
    figure(dataset, results, out, os.path.join(out, "samples.png"))
    if not data.is_mixture(dataset):
        write_model_grids(results, out)
        curves_figure(results, out, os.path.join(out, "curves.png"))


def command_line(dataset, seeds, out, models=None, steps=None, epochs=None):
    """The canonical command that reproduces a compare (for the table)."""
    parts = ["python", "-m", "keras_gan", "compare", "--dataset", dataset, "--seeds", str(seeds),
             "--out", out]
    if steps is not None:
        parts += ["--steps", str(steps)]
    if epochs is not None:
        parts += ["--epochs", f"{epochs:g}"]
    if models:
        parts += ["--models", *models]
    return shlex.join(parts)
