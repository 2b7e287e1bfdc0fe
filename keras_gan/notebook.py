"""Helpers shared by the notebooks: the quick mode used by CI, the comparison's budget, the
committed runs of that comparison, and the repository's address.

    from keras_gan import notebook
    notebook.print_setup()                      # backend, run mode, the comparison's budget
    run = notebook.committed_run("hinge")       # the results table's run, read from results/
    notebook.show_run(run)                      # its samples, FD curve and final metrics
    notebook.committed_json("results/slow_start/began_loop_seed0.json")   # any other committed file
    steps = notebook.live_steps(TRAIN_FULL_BUDGET)

``KERAS_GAN_QUICK=1`` (set by the README's test command and CI) shrinks every training so that
all notebooks run under nbval in minutes; the default is the full run whose outputs are
committed.

Why the Fashion-MNIST sections read committed runs instead of training: the comparison's budget
(``COMPARISON_EPOCHS`` epochs, 4,685 discriminator steps at batch 64) takes 12-18 minutes per
loss on a 2-core CPU, and floating-point sums differ between CPUs, so a rerun would not print
the table's digits. The run a notebook shows is the results table's run, read from
``results/fashion_mnist_5ep`` beside the notebook or, where only the package is installed (Colab),
from the repository's address (``repository_url``, the ``Repository`` entry of pyproject.toml's
``[project.urls]``: the one place that names it).
"""

import io
import json
import os
import re
import urllib.request

import numpy as np

QUICK = os.environ.get("KERAS_GAN_QUICK", "0").lower() not in ("", "0", "false", "no")

#: The comparison every notebook's Fashion-MNIST section shows: its output folder in the
#: repository and its budget (``compare.IMAGE_EPOCHS``; the value is defined there).
COMPARISON_DIR = "results/fashion_mnist_5ep"
#: The branch whose committed results a notebook reads when results/ is not beside it.
RESULTS_BRANCH = "main"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def budget(full, quick):
    """``quick`` under KERAS_GAN_QUICK=1, else ``full``."""
    return quick if QUICK else full


def mode():
    return "quick (KERAS_GAN_QUICK=1)" if QUICK else "full"


# ------------------------------------------------------------------------------ the repository
def _pyproject_urls(path):
    """``[project.urls]`` of a pyproject.toml as a dict (tomllib where it exists: Python 3.11+)."""
    with open(path, "rb") as f:
        text = f.read()
    try:
        import tomllib
        return tomllib.loads(text.decode()).get("project", {}).get("urls", {})
    except ImportError:  # Python 3.10: the [project.urls] table's "key = value" lines
        block = re.search(rb"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        pairs = re.findall(r'^\s*"?([\w\- ]+?)"?\s*=\s*"([^"]+)"', block.group(1).decode() if block else "", re.M)
        return dict(pairs)


def repository_url():
    """The repository's address, ``https://github.com/OWNER/NAME``: the ``Repository`` entry of
    ``[project.urls]`` in pyproject.toml (the source checkout's), else of the installed
    package's metadata (a pip install from the repository, as on Colab)."""
    pyproject = os.path.join(os.path.dirname(_PACKAGE_DIR), "pyproject.toml")
    if os.path.isfile(pyproject):
        url = _pyproject_urls(pyproject).get("Repository")
        if url:
            return url.rstrip("/")
    from importlib import metadata
    try:
        entries = metadata.metadata("keras-gan").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        entries = []
    for entry in entries:
        name, _, url = entry.partition(",")
        if name.strip() == "Repository":
            return url.strip().rstrip("/")
    raise RuntimeError("keras_gan cannot find its repository's address: pyproject.toml's [project.urls] "
                       "has no Repository entry, and neither has the installed package's metadata.")


def _owner_name(url):
    found = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?", url)
    if not found:
        raise ValueError(f"the repository's address {url!r} is not https://github.com/OWNER/NAME")
    return found.group(1), found.group(2)


def colab_url(notebook_path):
    """The "Open in Colab" address of ``notebooks/NAME.ipynb`` in the repository."""
    owner, name = _owner_name(repository_url())
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/main/{notebook_path}"


def raw_url(path):
    """The address of a committed file (``path`` relative to the repository's root)."""
    owner, name = _owner_name(repository_url())
    return f"https://raw.githubusercontent.com/{owner}/{name}/{RESULTS_BRANCH}/{path}"


def install_requirement():
    """What a notebook's first cell installs where ``import keras_gan`` fails: the package
    from the repository, with TensorFlow (Colab has it; the extra makes sure)."""
    return f"keras-gan[tensorflow] @ git+{repository_url()}"


# ------------------------------------------------------------------------------ set-up
def comparison_budget():
    """The Fashion-MNIST comparison's budget: a dict of epochs, discriminator steps, batch size
    and the Frechet distance's sample size, as ``compare`` trained and evaluated every run."""
    from keras_gan import compare, evaluation, recipes
    steps_per_epoch = 60_000 // recipes.IMAGE_BATCH  # the training set's full batches
    return {"epochs": compare.IMAGE_EPOCHS, "d_steps": compare.IMAGE_EPOCHS * steps_per_epoch,
            "batch_size": recipes.IMAGE_BATCH, "fd_samples": evaluation.IMAGE_SAMPLES,
            "curve_points_per_epoch": compare.CURVE_POINTS_PER_EPOCH}


def print_setup():
    """The notebook's first printed lines: Keras's backend, the run mode, and the comparison's
    budget that the Fashion-MNIST section shows."""
    import keras
    b = comparison_budget()
    print(f"Keras {keras.__version__}, backend: {keras.backend.backend()} (set KERAS_BACKEND to change it)")
    print(f"run mode: {mode()}")
    print(f"Fashion-MNIST comparison budget: {b['epochs']} epochs = {b['d_steps']:,} discriminator steps "
          f"at batch {b['batch_size']}; FD on {b['fd_samples']:,} samples against the 10,000 test images")


def live_steps(full_budget, live=300, quick=10):
    """Steps of a notebook's live training cell: the comparison's whole budget when
    ``full_budget`` is True (a GPU: minutes; a 2-core CPU: about 15 minutes), else ``live``
    (``quick`` under KERAS_GAN_QUICK=1)."""
    if full_budget:
        return comparison_budget()["d_steps"]
    return budget(live, quick)


# ------------------------------------------------------------------------------ committed runs
class CommittedRun:
    """One finished run of the comparison, as committed: ``metrics`` (metrics.json: the results
    table's numbers), ``history`` (the quarter-epoch curve), ``settings`` (run.json),
    ``samples`` (60 uint8 images, 6 rows of 10) and ``samples_ema`` (the averaged generator's,
    or None), and ``source`` (the folder or address it was read from)."""

    def __init__(self, model_id, seed, metrics, history, settings, samples, samples_ema, source):
        self.model_id, self.seed = model_id, seed
        self.metrics, self.history, self.settings = metrics, history, settings
        self.samples, self.samples_ema, self.source = samples, samples_ema, source

    @property
    def label(self):
        from keras_gan import compare
        return compare.label(self.model_id)

    def __repr__(self):
        return (f"CommittedRun({self.model_id!r}, seed={self.seed}, "
                f"FD {self.metrics.get('frechet_distance', float('nan')):.2f}, from {self.source})")


def _local_results():
    """``results/`` of the checkout this notebook runs in (the working directory or one of its
    parents, e.g. notebooks/..), or None."""
    here = os.getcwd()
    for _ in range(4):
        candidate = os.path.join(here, COMPARISON_DIR)
        if os.path.isdir(candidate):
            return candidate
        here = os.path.dirname(here)
    return None


def _reader(folder, remote=None):
    """A function name -> bytes (or None if the file does not exist) over a local folder, or
    (``folder`` None) the repository's committed folder ``remote``."""
    if folder is not None:
        def read(name):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                return None
            with open(path, "rb") as f:
                return f.read()
        return read

    def fetch(name):
        url = raw_url(f"{remote}/{name}")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
    return fetch


def _checkout_root():
    """The root of the checkout this notebook runs in (the working directory or one of its
    parents holding ``results/``), or None (Colab: only the package is installed)."""
    results = _local_results()
    return None if results is None else os.path.dirname(os.path.dirname(results))


def committed_file(path, root=None):
    """A committed file of the repository as bytes, ``path`` relative to the repository's root
    (e.g. "results/slow_start/began_loop_seed0.json"): read from this checkout (``root``, default:
    the checkout beside the notebook), else from the repository's address. A ``FileNotFoundError``
    names a file that is in neither."""
    root = root if root is not None else _checkout_root()
    if root is not None:
        local = os.path.join(root, path)
        if os.path.isfile(local):
            with open(local, "rb") as f:
                return f.read()
        raise FileNotFoundError(f"{local} does not exist in this checkout")
    value = _reader(None, os.path.dirname(path))(os.path.basename(path))
    if value is None:
        raise FileNotFoundError(f"{raw_url(path)} does not exist")
    return value


def committed_json(path, root=None):
    """``committed_file`` parsed as JSON."""
    return json.loads(committed_file(path, root))


def committed_run(model_id, seed=0, results_dir=None):
    """The comparison's committed run ``model_id`` (a ``compare`` model id: "hinge", "wgan_gp",
    ...) at ``seed``, read from ``results_dir`` (default: results/fashion_mnist_5ep of this
    checkout, else the repository's address). A ``FileNotFoundError`` names a run that is not
    committed."""
    from keras_gan import compare
    if model_id not in compare.model_ids():
        raise ValueError(f"unknown model id {model_id!r}; valid: {', '.join(compare.model_ids())}")
    root = results_dir or _local_results()
    run_dir = f"runs/{model_id}_seed{int(seed)}"
    read = _reader(None if root is None else os.path.join(root, run_dir), f"{COMPARISON_DIR}/{run_dir}")
    source = os.path.join(root, run_dir) if root is not None else raw_url(f"{COMPARISON_DIR}/{run_dir}")
    raw = {name: read(name) for name in ("metrics.json", "history.json", "run.json")}
    if raw["metrics.json"] is None:
        raise FileNotFoundError(f"the comparison has no finished run {model_id} seed {seed} at {source} "
                                f"(train it: python -m keras_gan compare --dataset fashion_mnist --seeds "
                                f"{int(seed) + 1} --models {model_id} --out {COMPARISON_DIR})")
    loaded = {name: json.loads(value) if value is not None else {} for name, value in raw.items()}
    samples = [read(name) for name in ("samples.npy", "samples_ema.npy")]
    samples = [None if value is None else np.load(io.BytesIO(value)) for value in samples]
    return CommittedRun(model_id, int(seed), loaded["metrics.json"], loaded["history.json"],
                        loaded["run.json"], samples[0], samples[1], source)


def committed_runs(model_id, max_seeds=3, results_dir=None):
    """Every committed seed of ``model_id`` among seeds 0 .. max_seeds - 1 (the comparison trains
    at most 3), as a list of ``CommittedRun``; empty if none is committed."""
    runs = []
    for seed in range(max_seeds):
        try:
            runs.append(committed_run(model_id, seed, results_dir))
        except FileNotFoundError:
            continue
    return runs


def seed_summary(model_ids, ema=False, results_dir=None):
    """The results table's rows for ``model_ids``: mean ± sample standard deviation over the
    committed seeds of each metric (as ``compare`` writes table.md), as markdown-like lines.
    ``ema``: also the averaged generator's row where a model's runs have one."""
    from keras_gan import compare
    head = ["model"] + [c[1] for c in compare.IMAGE_COLUMNS] + ["seeds"]
    lines = [" | ".join(head)]
    for model_id in model_ids:
        runs = committed_runs(model_id, results_dir=results_dir)
        if not runs:
            lines.append(f"{compare.label(model_id)} | not committed yet")
            continue
        suffixes = [""] + (["_ema"] if ema and runs[0].samples_ema is not None else [])
        for suffix in suffixes:
            cells = [compare.label(model_id) + (", averaged generator" if suffix else "")]
            for key, _, scale, fmt in compare.IMAGE_COLUMNS:
                cells.append(compare._mean_std([scale * r.metrics.get(key + suffix, np.nan) for r in runs], fmt))
            cells.append(",".join(str(r.seed) for r in runs))
            lines.append(" | ".join(cells))
    return lines


def print_seed_summary(model_ids, ema=False, results_dir=None):
    """Print ``seed_summary``: the rows of the results table (mean ± sd over committed seeds)."""
    print("the results table's rows, mean ± sd over the committed seeds "
          "(results/fashion_mnist_5ep/table.md):")
    for line in seed_summary(model_ids, ema, results_dir):
        print("  " + line)


def committed_model(model_id, seed=0, results_dir=None):
    """The compiled model of a committed run that keeps its generator (``compare.KEEP_GENERATOR``:
    the conditional GAN and InfoGAN at seed 0), rebuilt by ``compare.load_run`` from its
    ``run.json`` and float16 weights, read like ``committed_run`` (results/ beside the notebook,
    else the repository's address)."""
    import tempfile
    from keras_gan import compare
    if model_id not in compare.KEEP_GENERATOR or int(seed) != 0:
        raise ValueError(f"only the seed-0 runs of {', '.join(compare.KEEP_GENERATOR)} commit their generator; "
                         f"the other runs' samples are in committed_run(...).samples")
    root = results_dir or _local_results()
    run_dir = f"runs/{model_id}_seed0"
    if root is not None:
        return compare.load_run(os.path.join(root, run_dir))
    read = _reader(None, f"{COMPARISON_DIR}/{run_dir}")
    with tempfile.TemporaryDirectory() as folder:
        for name in ("run.json", "generator_f16.npz"):
            value = read(name)
            if value is None:
                raise FileNotFoundError(f"{raw_url(f'{COMPARISON_DIR}/{run_dir}/{name}')} does not exist")
            with open(os.path.join(folder, name), "wb") as f:
                f.write(value)
        return compare.load_run(folder)


def metrics_lines(run, ema=False):
    """The results table's numbers of ``run`` (its columns and formats), one line each."""
    from keras_gan import compare
    suffix = "_ema" if ema else ""
    lines = []
    for key, name, scale, fmt in compare.IMAGE_COLUMNS:
        value = run.metrics.get(key + suffix)
        lines.append(f"{name:17s} {'n/a' if value is None else fmt.format(scale * value)}")
    return lines


def show_run(run, ema=None, title=None):
    """The committed run's samples (6 x 10), its Frechet-distance curve over training (log
    scale, with the floor) and the final metrics of the results table, printed. ``ema``: also
    the averaged generator's samples and curve (default: when the run has them)."""
    from keras_gan import data, plotting
    plt = plotting._plt()
    ema = run.samples_ema is not None if ema is None else ema
    name = title or run.label
    floor = run.metrics.get("frechet_floor")
    panels = 3 if ema else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.4 * panels, 3.4), dpi=80,
                             gridspec_kw={"width_ratios": [1.3] * (panels - 1) + [1.1]})
    shown = [("", run.samples)] + ([("_ema", run.samples_ema)] if ema else [])
    for ax, (suffix, samples) in zip(axes, shown):
        ax.imshow(plotting.grid_array(data.to_float(samples), rows=6).squeeze(-1), cmap="gray", vmin=0, vmax=1)
        which = ", averaged generator" if suffix else ""
        ax.set_title(f"{name}{which}\nFD {run.metrics['frechet_distance' + suffix]:.2f} (seed {run.seed})",
                     fontsize=9)
        ax.axis("off")
    ax = axes[-1]
    h = run.history
    if "frechet_distance" in h:
        ax.plot(h["epoch"], h["frechet_distance"], "o-", ms=3, label="generator")
        if ema and "frechet_distance_ema" in h:
            ax.plot(h["epoch"], h["frechet_distance_ema"], "s--", ms=3, label="averaged generator")
    if floor:
        ax.axhline(floor, color="gray", ls=":", label=f"floor {floor:.2f}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("FD (2,000 samples)")
    ax.set_title("Frechet distance during training", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
    steps = run.settings.get("settings", {}).get("epochs")
    print(f"{name}, seed {run.seed}: final metrics on {run.metrics.get('n', 10_000):,} samples "
          f"after {steps} epochs (the results table's row; read from {run.source})")
    for line in metrics_lines(run):
        print("  " + line)
    if ema and run.samples_ema is not None:
        print("averaged generator (same run):")
        for line in metrics_lines(run, ema=True):
            print("  " + line)


# ------------------------------------------------------------------------------ badges and install cells
_BADGE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                    r"\([^)]*\)")


def badge_markdown(notebook_path):
    """The "Open in Colab" badge of ``notebooks/NAME.ipynb``, from ``repository_url``."""
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook_path)})")


def install_cell_source():
    """Every notebook's first code cell: install the package from the repository only where
    ``import keras_gan`` fails (Colab); where it is installed (a checkout, CI) nothing runs."""
    return (
        "# Set-up: where keras_gan is not installed (Colab), install it from the repository;\n"
        "# where it is (a checkout with `pip install -e .`, CI), this cell does nothing.\n"
        "import os\n"
        "\n"
        "os.environ.setdefault(\"TF_CPP_MIN_LOG_LEVEL\", \"3\")  # before TensorFlow loads: no C++ start-up logs\n"
        "try:\n"
        "    import keras_gan\n"
        "except ImportError:\n"
        "    import subprocess\n"
        "    import sys\n"
        "\n"
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\",\n"
        f"                    \"{install_requirement()}\"], check=True)\n"
        "    import keras_gan  # noqa: F401")


def sync_notebook(path):
    """Rewrite the Colab badge (in the first markdown cell) and the install cell (the first
    code cell) of the notebook at ``path`` from ``repository_url``. Returns True if it changed."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    rel = "notebooks/" + os.path.basename(path)
    changed = False
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    new = _BADGE.sub(badge_markdown(rel).replace("\\", "\\\\"), first_md.source)
    new = new.replace("(COLAB_URL)", f"({colab_url(rel)})")
    if new != first_md.source:
        first_md.source, changed = new, True
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    if first_code.source != install_cell_source():
        first_code.source, changed = install_cell_source(), True
        first_code.outputs = []  # what an earlier install printed (the new cell prints nothing here)
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    import argparse
    import glob
    parser = argparse.ArgumentParser(description="Write every notebook's Colab badge and install cell from "
                                                 "pyproject.toml's [project.urls] Repository.")
    parser.add_argument("--sync", metavar="FOLDER", required=True, help="the notebooks' folder")
    args = parser.parse_args()
    for path in sorted(glob.glob(os.path.join(args.sync, "*.ipynb"))):
        print(("updated " if sync_notebook(path) else "unchanged ") + path)
