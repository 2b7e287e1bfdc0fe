"""The notebooks' shared set-up: badges and install cells from pyproject.toml, the install cell
doing nothing where the package is importable, the committed runs the Fashion-MNIST sections
read (from results/ or from the repository's address), and the comparison's budget."""

import glob
import io
import os
import re
import subprocess
import sys
import tomllib

import nbformat
import numpy as np
import pytest

from keras_gan import compare, notebook

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def pyproject_repository():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"]


def first_cells(path):
    nb = nbformat.read(path, as_version=4)
    markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    install = next(c for c in nb.cells if c.cell_type == "code")
    return markdown.source, install.source


def test_the_repository_address_is_pyprojects():
    url = pyproject_repository()
    assert url.startswith("https://github.com/")
    assert notebook.repository_url() == url
    owner_name = url.removeprefix("https://github.com/")
    assert notebook.raw_url("results/x.json") == f"https://raw.githubusercontent.com/{owner_name}/main/results/x.json"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_badge_and_install_cell_use_the_address_in_pyproject(path):
    url = pyproject_repository()
    owner_name = url.removeprefix("https://github.com/")
    markdown, install = first_cells(path)
    name = os.path.basename(path)
    badge = f"(https://colab.research.google.com/github/{owner_name}/blob/main/notebooks/{name})"
    assert badge in markdown, f"{name}: the Colab badge is not {badge}; run python -m keras_gan.notebook --sync notebooks"
    assert markdown.count("colab.research.google.com/github/") == 1
    assert install == notebook.install_cell_source()
    assert f"git+{url}\"" in install


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_says_its_backend_first_and_needs_no_tensorflow(path):
    # The set-up cell after the install cell prints the backend (notebook.print_setup), and no
    # code cell uses TensorFlow directly: the notebooks run on any Keras backend.
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "notebook.print_setup()" in code[1], f"{os.path.basename(path)}: its second code cell must call notebook.print_setup()"
    for source in code:
        for line in source.splitlines():
            assert "import tensorflow" not in line and not re.search(r"(?<![\w.])tf\.", line), \
                f"{os.path.basename(path)} uses TensorFlow directly: {line.strip()}"


def test_install_cell_does_nothing_when_the_package_is_importable(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    exec(notebook.install_cell_source(), {})
    assert calls == []


def test_install_cell_installs_from_the_repository_when_the_package_is_missing(monkeypatch):
    import keras_gan
    calls = []

    def fake_pip(command, check):
        calls.append(command)
        monkeypatch.setitem(sys.modules, "keras_gan", keras_gan)  # what the install makes importable

    monkeypatch.setattr(subprocess, "run", fake_pip)
    monkeypatch.setitem(sys.modules, "keras_gan", None)  # import keras_gan raises ImportError
    exec(notebook.install_cell_source(), {})
    assert len(calls) == 1
    assert calls[0][:4] == [sys.executable, "-m", "pip", "install"]
    assert calls[0][-1] == f"keras-gan[tensorflow] @ git+{pyproject_repository()}"


def test_sync_rewrites_a_stale_badge_and_install_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "# x\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/old/place/blob/main/notebooks/99_x.ipynb)"),
        nbformat.v4.new_code_cell("!pip install git+https://github.com/old/place")]
    path = tmp_path / "99_x.ipynb"
    nbformat.write(nb, path)
    assert notebook.sync_notebook(str(path)) is True
    markdown, install = first_cells(str(path))
    assert notebook.colab_url("notebooks/99_x.ipynb") in markdown and "old/place" not in markdown
    assert install == notebook.install_cell_source()
    assert notebook.sync_notebook(str(path)) is False


def test_comparison_budget_is_the_compare_budget():
    from keras_gan import data, recipes
    b = notebook.comparison_budget()
    per_epoch = len(data.load("fashion_mnist", "train", batch_size=recipes.IMAGE_BATCH))
    assert b["epochs"] == compare.IMAGE_EPOCHS
    assert b["d_steps"] == compare.IMAGE_EPOCHS * per_epoch == 4685
    assert notebook.live_steps(True) == 4685
    assert notebook.live_steps(False, live=300, quick=10) == (10 if notebook.QUICK else 300)


def committed_ids():
    runs = os.path.join(ROOT, notebook.COMPARISON_DIR, "runs")
    return sorted(d[:-len("_seed0")] for d in os.listdir(runs)
                  if d.endswith("_seed0") and os.path.isfile(os.path.join(runs, d, "metrics.json")))


def test_committed_run_reads_the_results_tables_numbers(monkeypatch):
    monkeypatch.chdir(os.path.join(ROOT, "notebooks"))  # where a notebook runs: results/ is one level up
    model_id = committed_ids()[0]
    run = notebook.committed_run(model_id)
    folder = os.path.join(ROOT, notebook.COMPARISON_DIR, "runs", f"{model_id}_seed0")
    with open(os.path.join(folder, "metrics.json")) as f:
        import json
        assert run.metrics == json.load(f)
    np.testing.assert_array_equal(run.samples, np.load(os.path.join(folder, "samples.npy")))
    assert run.samples.dtype == np.uint8 and run.samples.shape == (60, 28, 28, 1)
    assert len(run.history["frechet_distance"]) >= 20
    # the printed lines carry the table's formats
    fd_line = notebook.metrics_lines(run)[0]
    assert fd_line.endswith(f"{run.metrics['frechet_distance']:.2f}")


def test_committed_run_falls_back_to_the_repository_address(monkeypatch, tmp_path):
    import urllib.error
    import urllib.request
    monkeypatch.chdir(tmp_path)  # no results/ here: as on Colab
    model_id = committed_ids()[0]
    asked = []

    def fake_urlopen(url, timeout):
        asked.append(url)
        prefix = notebook.raw_url("")
        local = os.path.join(ROOT, url[len(prefix):])
        if not os.path.isfile(local):
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        with open(local, "rb") as f:
            return io.BytesIO(f.read())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    run = notebook.committed_run(model_id)
    assert all(u.startswith(notebook.raw_url(notebook.COMPARISON_DIR)) for u in asked)
    assert run.source.startswith("https://raw.githubusercontent.com/")
    local = notebook.committed_run(model_id, results_dir=os.path.join(ROOT, notebook.COMPARISON_DIR))
    assert run.metrics == local.metrics
    np.testing.assert_array_equal(run.samples, local.samples)


def test_seed_summary_is_the_results_tables_row():
    # The notebooks print a model's row (mean ± sd over its committed seeds) with seed_summary:
    # it must be the row compare writes into table.md, for a model with several seeds and its EMA.
    out = os.path.join(ROOT, notebook.COMPARISON_DIR)
    results = compare.collect("fashion_mnist", out, epochs=compare.IMAGE_EPOCHS)
    several = next(m for m, runs in results.items() if len(runs) > 1)
    table = compare.table_rows("fashion_mnist", {several: results[several]}).splitlines()[2:]
    summary = notebook.seed_summary([several], ema=True, results_dir=out)[1:]
    assert len(summary) == len(table) >= 1
    n_columns = len(compare.IMAGE_COLUMNS)
    for ours, theirs in zip(summary, table):
        ours_cells = ours.split(" | ")[1:1 + n_columns]
        theirs_cells = theirs.strip("| ").split(" | ")[6:6 + n_columns]   # after name and 5 settings
        assert ours_cells == theirs_cells
    assert summary[0].endswith(" | " + ",".join(str(r["seed"]) for r in results[several]))
    assert notebook.seed_summary(["hinge"], results_dir=str(ROOT))[1].endswith("not committed yet")


def test_committed_file_reads_the_checkout_then_the_repository_address(monkeypatch, tmp_path):
    import json
    import urllib.error
    import urllib.request
    path = "results/slow_start/began_loop_seed0.json"
    with open(os.path.join(ROOT, path)) as f:
        expected = json.load(f)
    monkeypatch.chdir(os.path.join(ROOT, "notebooks"))
    assert notebook.committed_json(path) == expected
    with pytest.raises(FileNotFoundError, match="no_such.json does not exist in this checkout"):
        notebook.committed_file("results/no_such.json")
    asked = []

    def fake_urlopen(url, timeout):
        asked.append(url)
        local = os.path.join(ROOT, url[len(notebook.raw_url("")):])
        if not os.path.isfile(local):
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        with open(local, "rb") as f:
            return io.BytesIO(f.read())

    monkeypatch.chdir(tmp_path)  # as on Colab: no results/ anywhere up the tree
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    assert notebook.committed_json(path) == expected
    assert asked == [notebook.raw_url(path)]
    with pytest.raises(FileNotFoundError, match="raw.githubusercontent.com/.*/results/no_such.json does not exist"):
        notebook.committed_file("results/no_such.json")


def test_a_missing_run_names_the_command_that_trains_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m keras_gan compare --dataset fashion_mnist --seeds 8"):
        notebook.committed_run("hinge", seed=7, results_dir=str(tmp_path))
    with pytest.raises(ValueError, match="unknown model id 'vae'"):
        notebook.committed_run("vae")


def test_nothing_cites_a_design_file_outside_the_repository():
    # The formulas and the protocol the notebooks and docstrings cite are docs/protocol.md.
    paths = (NOTEBOOKS + glob.glob(os.path.join(ROOT, "keras_gan", "**", "*.py"), recursive=True)
             + [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "results", "README.md")])
    citing = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        design = "DES" + "IGN"  # spelled in two parts so that this test does not itself cite the file
        if any(f"{design}{tail}" in text for tail in (" §", " section", ".md")):
            citing.append(os.path.relpath(path, ROOT))
    assert citing == []
    assert os.path.isfile(os.path.join(ROOT, "docs", "protocol.md"))


def test_committed_model_rebuilds_the_conditional_generator_locally_and_from_the_address(monkeypatch, tmp_path):
    import urllib.error
    import urllib.request
    if not os.path.isfile(os.path.join(ROOT, notebook.COMPARISON_DIR, "runs", "cgan_seed0", "generator_f16.npz")):
        pytest.skip("the conditional GAN's 5-epoch run is not committed yet")
    local = notebook.committed_model("cgan", results_dir=os.path.join(ROOT, notebook.COMPARISON_DIR))

    def fake_urlopen(url, timeout):
        path = os.path.join(ROOT, url[len(notebook.raw_url("")):])
        if not os.path.isfile(path):
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        with open(path, "rb") as f:
            return io.BytesIO(f.read())

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    remote = notebook.committed_model("cgan")
    labels = np.arange(10)
    np.testing.assert_array_equal(local.generate(10, labels=labels, seed=3), remote.generate(10, labels=labels, seed=3))
    with np.load(os.path.join(ROOT, notebook.COMPARISON_DIR, "runs", "cgan_seed0", "generator_f16.npz")) as w:
        np.testing.assert_array_equal(np.asarray(local.generator.weights[0]), w["arr_0"].astype(np.float32))
    with pytest.raises(ValueError, match="only the seed-0 runs of cgan, infogan"):
        notebook.committed_model("hinge")
