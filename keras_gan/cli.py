"""Command line: ``python -m keras_gan train|train-classifier|evaluate|compare ...``.

    python -m keras_gan train --model wgan_gp --dataset fashion_mnist --epochs 5 --out runs/wgan_gp
    python -m keras_gan train --model gan --loss least_squares --dataset grid25 --epochs 20 --out runs/ls
    python -m keras_gan train --model cgan --dataset fashion_mnist --epochs 2 --out runs/cgan

A run directory receives ``samples.png`` (an image grid, or a scatter plot over
the true modes for 2D data; one row per class for ``cgan``, one row per
categorical code value for ``infogan``), ``history.json`` (epoch means of every metric),
``generator.keras`` (the generator alone), ``gan.keras`` (the whole model, to
resume or inspect) and ``run.json`` (the arguments). Bad arguments exit with
status 2 and one line on stderr.

``train`` is resumable: it backs up the training state (weights, optimizer
states, step counter, random state, BEGAN's k) into ``OUT/backup`` at the end of
every epoch (``keras.callbacks.BackupAndRestore``), and deletes it when the run
completes. Rerunning the same command after an interruption (Ctrl-C, a killed
process, a crash, a NaN loss) continues from the last completed epoch and ends
with the weights an uninterrupted run would have (``benchmarks/resume_killed_process.py``);
``--restart`` discards the backup instead. ``--strategy mirrored`` trains on all
local GPUs (or the CPU), ``--strategy multiworker`` on the workers named in
``TF_CONFIG`` (only the chief, worker 0, writes the run directory).

The backend is Keras's: ``KERAS_BACKEND=jax python -m keras_gan train ...`` trains on JAX
(``--strategy mirrored``: ``keras.distribution.DataParallel`` over the local devices),
``KERAS_BACKEND=torch`` on PyTorch (one device; ``--strategy`` is refused). On JAX and
PyTorch the data come as numpy batches (``keras_gan.batches``), without TensorFlow.
"""

import argparse
import json
import os
import sys
import time

__all__ = ["main", "build_parser", "train"]


class UsageError(Exception):
    """A bad argument: reported as one line, exit status 2."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        self.exit(2, f"keras_gan: error: {message} (see python -m keras_gan {self.prog.split()[-1]} --help)\n")


def build_parser():
    parser = _Parser(prog="python -m keras_gan", description="GAN losses for Keras 3: train, evaluate, compare.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train one model and write samples.png, history.json, generator.keras")
    t.add_argument("--model", default="gan",
                   help="gan, sngan, wgan, wgan_gp, dragan, began, cgan, infogan (default gan)")
    t.add_argument("--loss", default=None,
                   help="loss for --model gan, cgan or infogan (default non_saturating)")
    t.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist, mnist, cifar10, ring8, grid25")
    t.add_argument("--epochs", type=_positive_int, default=5)
    t.add_argument("--out", required=True, help="run directory (created)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--batch-size", type=_positive_int, default=None)
    t.add_argument("--steps-per-epoch", type=_positive_int, default=None,
                   help="2D mixtures: batches per epoch (default 100); images: cap the epoch")
    t.add_argument("--latent-dim", type=_positive_int, default=None)
    t.add_argument("--learning-rate", type=float, default=None)
    t.add_argument("--jit", choices=["auto", "on", "off"], default="auto",
                   help="XLA compilation; auto: off on CPU-only machines, where benchmarks/xla.py measures "
                        "XLA slower for every model, on with a GPU (Keras's default)")
    t.add_argument("--strategy", choices=["none", "mirrored", "multiworker"], default="none",
                   help="several devices: mirrored (all local GPUs; TensorFlow's MirroredStrategy, JAX's "
                        "keras.distribution.DataParallel), multiworker (TensorFlow only, TF_CONFIG)")
    t.add_argument("--restart", action="store_true",
                   help="discard OUT/backup, the state an interrupted run left, instead of resuming from it")
    t.add_argument("--verbose", type=int, choices=[0, 1, 2], default=1)

    c = sub.add_parser("train-classifier", help="train the Fashion-MNIST classifier behind the image metrics")
    c.add_argument("--out", default=None, help="where to save it (default: the committed weights' path)")
    c.add_argument("--epochs", type=_positive_int, default=8)
    e = sub.add_parser("evaluate", help="metrics of a trained generator (docs/protocol.md) -> metrics.json")
    e.add_argument("path", metavar="RUN_DIR_OR_GENERATOR", help="a run directory or a .keras file")
    e.add_argument("--n", type=_positive_int, default=None, help="samples (default 2500 in 2D, 10000 images)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--dataset", default=None, help="override run.json (needed for a bare 2D generator)")
    m = sub.add_parser("compare", help="train every model on one dataset: table.md, runs.csv, samples.png")
    m.add_argument("--dataset", required=True, help="grid25, ring8 or fashion_mnist")
    m.add_argument("--seeds", type=_positive_int, default=1, help="seeds 0..N-1 per model")
    m.add_argument("--out", required=True, help="results directory (runs/ inside; finished runs are skipped)")
    m.add_argument("--steps", type=_positive_int, default=None, help="2D budget: train steps of every model")
    m.add_argument("--epochs", type=float, default=None, help="image budget: epochs of every model (may be 0.5)")
    m.add_argument("--models", nargs="+", default=None, help="a subset (default: all)")
    m.add_argument("--verbose", type=int, choices=[0, 1, 2], default=0, help="Keras progress per run")
    return parser


def _check_out_dir(path):
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".write_test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as e:
        raise UsageError(f"cannot write to --out {path!r}: {e.strerror or e}") from None


def _validate_train(args):
    from keras_gan import data, losses, recipes
    if args.model not in recipes.names():
        raise UsageError(f"unknown --model {args.model!r}; valid models: {', '.join(recipes.names())}")
    if args.loss is not None:
        if args.loss not in losses.names():
            raise UsageError(f"unknown --loss {args.loss!r}; valid losses: {', '.join(losses.names())}")
        if args.model not in recipes.LOSS_MODELS:
            raise UsageError(f"--loss applies to --model {', '.join(recipes.LOSS_MODELS)} only; "
                             f"{args.model} fixes its own loss")
    valid = data.IMAGE_DATASETS + data.MIXTURES
    if args.dataset not in valid:
        raise UsageError(f"unknown --dataset {args.dataset!r}; valid datasets: {', '.join(valid)}")
    from keras_gan import backend
    if backend.BACKEND != "tensorflow" and getattr(args, "strategy", "none") != "none":
        try:  # what the backend cannot do is refused before anything runs
            backend.strategy(args.strategy)
        except ValueError as e:
            raise UsageError(str(e)) from None
    if getattr(args, "strategy", "none") == "multiworker" and "TF_CONFIG" not in os.environ:
        raise UsageError("--strategy multiworker needs the TF_CONFIG environment variable (see "
                         "benchmarks/multiworker.py for a two-worker example on 127.0.0.1)")
    _check_out_dir(args.out)
    _check_backup(args)


#: Arguments that must match for a backup to be resumed (the rest, e.g. --epochs, may change).
_RESUME_KEYS = ("model", "loss", "dataset", "seed", "batch_size", "steps_per_epoch", "latent_dim",
                "learning_rate", "strategy")


def _backup_dir(args):
    return os.path.join(args.out, "backup")


def _check_backup(args):
    """With a backup from an interrupted run: --restart deletes it; otherwise its
    arguments must match these (UsageError), and the run resumes from it."""
    import shutil
    backup = _backup_dir(args)
    if not os.path.isdir(backup):
        return
    if getattr(args, "restart", False):
        shutil.rmtree(backup)
        return
    try:
        with open(os.path.join(backup, "args.json")) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        saved = None
    current = {key: getattr(args, key, None) for key in _RESUME_KEYS}
    if saved != current:
        changed = (", ".join(f"--{k.replace('_', '-')} {saved.get(k)!r} -> {current[k]!r}"
                             for k in _RESUME_KEYS if saved.get(k) != current[k]) if saved else "unknown arguments")
        raise UsageError(f"{backup} holds an interrupted run with other arguments ({changed}); rerun with "
                         "its arguments to resume it, or pass --restart to discard it")


def _repair_backup(backup):
    """A process killed while BackupAndRestore rewrote training_metadata.json leaves it
    unreadable (Keras falls back to its .bkp copies only when the weights file is): then
    restore the previous pair (double_checkpoint keeps one)."""
    import shutil
    try:
        with open(os.path.join(backup, "training_metadata.json")) as f:
            json.load(f)
    except OSError:
        return
    except ValueError:
        for name in ("latest.weights.h5", "training_metadata.json"):
            current, previous = os.path.join(backup, name), os.path.join(backup, name + ".bkp")
            if os.path.exists(previous):
                shutil.copyfile(previous, current)
            elif os.path.exists(current):  # no earlier pair: start over
                os.remove(current)


def _resume_epoch(backup):
    """The epoch BackupAndRestore will resume from (0 without a backup)."""
    try:
        with open(os.path.join(backup, "training_metadata.json")) as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def train(args):
    """Train one model as described by parsed ``args``; returns the run directory."""
    import keras
    from keras_gan import backend, callbacks, data, plotting, recipes

    jit = {"auto": "auto", "on": True, "off": False}[args.jit]
    strategy = backend.strategy(getattr(args, "strategy", "none"))
    chief = backend.is_chief(strategy)
    with strategy.scope():
        model, batch_size = recipes.build(args.model, args.dataset, loss=args.loss, seed=args.seed,
                                          latent_dim=args.latent_dim, learning_rate=args.learning_rate,
                                          jit_compile=jit)
    batch_size = args.batch_size or batch_size
    mixture = data.mixture(args.dataset) if data.is_mixture(args.dataset) else None
    labels = model.uses_labels  # (images, labels) batches for conditional models
    # One endless stream of batches (fresh 2D samples; image passes reshuffled one
    # after the other), cut into epochs by steps_per_epoch: then a resumed run can
    # skip exactly the batches the finished epochs used (below).
    if mixture is not None:
        steps = args.steps_per_epoch or 100
        dataset = mixture.dataset(batch_size, steps_per_epoch=None, seed=args.seed, with_labels=labels)
    else:
        dataset = data.load(args.dataset, "train", batch_size=batch_size, seed=args.seed, with_labels=labels)
        steps = min(args.steps_per_epoch or 10**9, len(dataset))
        dataset = dataset.repeat()
    # Each worker keeps its own backup (BackupAndRestore does not coordinate workers).
    backup = (_backup_dir(args) if chief else
              os.path.join(args.out, f"backup-worker{strategy.cluster_resolver.task_id}"))
    os.makedirs(backup, exist_ok=True)
    with open(os.path.join(backup, "args.json"), "w") as f:
        json.dump({key: getattr(args, key, None) for key in _RESUME_KEYS}, f)
    _repair_backup(backup)
    epoch = _resume_epoch(backup)
    history_path = os.path.join(args.out, "history.json") if chief else os.path.join(backup, "history.json")
    _truncate_history(history_path, epoch)
    if epoch:
        print(f"resuming from {backup}: {epoch} of {args.epochs} epochs done")
        dataset = dataset.skip(epoch * steps)  # the batches an uninterrupted run would see next
    start = time.time()
    model.fit(dataset, epochs=args.epochs, steps_per_epoch=steps, verbose=args.verbose,
              # history.json before the backup: a run killed between the two
              # has one epoch too many in history.json, which the resume trims.
              callbacks=[callbacks.HistoryJSON(history_path),
                         keras.callbacks.BackupAndRestore(backup, double_checkpoint=True)])
    seconds = time.time() - start
    if not chief:
        return args.out

    samples_path = os.path.join(args.out, "samples.png")
    if mixture is not None:
        fig = plotting.scatter_2d(model.generate(2500, seed=args.seed), mixture,
                                  title=f"{args.model} on {args.dataset}", path=samples_path)
        plotting._plt().close(fig)
    else:
        images, rows, row_labels = model.grid_samples(seed=args.seed,
                                                      class_names=data.CLASS_NAMES.get(args.dataset))
        plotting.save_image_grid(images, samples_path, rows=rows, row_labels=row_labels,
                                 title=f"{args.model} on {args.dataset}, {args.epochs} epochs")
    model.generator.save(os.path.join(args.out, "generator.keras"))
    model.save(os.path.join(args.out, "gan.keras"))
    run = dict(vars(args), batch_size=batch_size, latent_dim=model.latent_dim, train_seconds=round(seconds, 1),
               keras_version=keras.__version__)
    with open(os.path.join(args.out, "run.json"), "w") as f:
        json.dump(run, f, indent=1)
    print(f"wrote {samples_path}, history.json, generator.keras, gan.keras in {seconds:.0f} s")
    return args.out


def _truncate_history(path, epochs):
    """Keep the first ``epochs`` entries of history.json (none: delete it)."""
    if not os.path.exists(path):
        return
    if not epochs:
        os.remove(path)
        return
    with open(path) as f:
        history = json.load(f)
    with open(path, "w") as f:
        json.dump({key: values[:epochs] for key, values in history.items()}, f, indent=1)


def _validate_train_classifier(args):
    if args.out is not None:
        _check_out_dir(os.path.dirname(os.path.abspath(args.out)))


def train_classifier(args):
    from keras_gan import metrics
    return metrics.train_classifier(out_path=args.out or metrics.DEFAULT_PATH, epochs=args.epochs)


def _validate_evaluate(args):
    from keras_gan import compare
    if not os.path.exists(args.path):
        raise UsageError(f"{args.path!r} does not exist (expected a run directory or a .keras file)")
    if args.dataset is not None and args.dataset not in compare.DATASETS:
        raise UsageError(f"--dataset {args.dataset!r} has no metrics; valid: {', '.join(compare.DATASETS)}")


def evaluate(args):
    from keras_gan import evaluation
    result = evaluation.evaluate_path(args.path, n=args.n, seed=args.seed, dataset=args.dataset)
    print(evaluation.format_metrics(result))
    return result


def _validate_compare(args):
    from keras_gan import compare, data
    if args.dataset not in compare.DATASETS:
        raise UsageError(f"unknown --dataset {args.dataset!r}; compare supports {', '.join(compare.DATASETS)}")
    if args.steps is not None and not data.is_mixture(args.dataset):
        raise UsageError(f"--steps is the 2D budget; {args.dataset} takes --epochs")
    if args.epochs is not None and (data.is_mixture(args.dataset) or not args.epochs > 0):
        raise UsageError("--epochs (> 0) is the image budget; the 2D mixtures take --steps")
    unknown = [m for m in args.models or () if m not in compare.model_ids(args.dataset)]
    if unknown:
        raise UsageError(f"unknown --models {' '.join(unknown)}; valid: {' '.join(compare.model_ids(args.dataset))}")
    _check_out_dir(args.out)


def compare(args):
    from keras_gan import compare as compare_lib
    command = compare_lib.command_line(args.dataset, args.seeds, args.out, args.models, args.steps, args.epochs)
    return compare_lib.compare(args.dataset, args.seeds, args.out, models=args.models, steps=args.steps,
                               epochs=args.epochs, verbose=args.verbose, command=command)


COMMANDS = {"train": (_validate_train, train), "train-classifier": (_validate_train_classifier, train_classifier),
            "evaluate": (_validate_evaluate, evaluate), "compare": (_validate_compare, compare)}


def main(argv=None):
    args = build_parser().parse_args(argv)
    validate, run = COMMANDS[args.command]
    # `import keras_gan` (this module's package) has already imported TensorFlow quietly.
    try:
        validate(args)
    except UsageError as e:
        print(f"keras_gan: error: {e}", file=sys.stderr)
        return 2
    from keras_gan.callbacks import NonFiniteLossError
    from keras_gan.data import DatasetNotFoundError
    try:
        run(args)
    except (DatasetNotFoundError, ValueError, TypeError) as e:
        print(f"keras_gan: error: {e}", file=sys.stderr)
        return 1
    except NonFiniteLossError as e:
        backup = _backup_dir(args) if getattr(args, "out", None) else None
        done = _resume_epoch(backup) if backup else 0
        note = (f" Epoch {done}, the last completed one, is backed up in {backup} (--restart discards it)."
                if done else "")
        print(f"keras_gan: error: {str(e).split(' Training stopped')[0]}.{note}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("keras_gan: interrupted", file=sys.stderr)
        return 130
    return 0
