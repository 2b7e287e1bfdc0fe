"""Same numbers on every backend. One process per Keras backend (tests/backend_worker.py, which
records the backend it ran on) and comparisons here:

- one discriminator and one generator step of every model (the issue's models, plus batch
  norm in both networks, a batch-norm critic with a penalty, and d_steps=2 runs of two
  steps) from the same weights, batch and draws, with plain SGD: every variable (weights,
  batch-norm statistics, counter, BEGAN's k, the SeedGenerator's state, optimizer
  variables) equal on TensorFlow, JAX and PyTorch within 1e-5;
- a ``.keras`` file saved on each backend loads on every backend, generates the same
  images, and trains on;
- bad input raises the same exception with the same message on every backend.

The one exception, ``bn_wgan_gp``: TensorFlow's ``tf.nn.moments`` (Keras's batch norm on
TensorFlow) stops the gradient through the mean inside the variance. First derivatives are
unchanged, but a gradient penalty differentiates twice, so a batch-norm critic with a
penalty (a combination keras_gan warns about) trains differently on TensorFlow; JAX and
PyTorch agree with each other, and the TensorFlow difference is pinned to that cause.
"""

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pytest

import cases

pytestmark = pytest.mark.cross_backend
BACKENDS = ("tensorflow", "jax", "torch")
HERE = os.path.dirname(os.path.abspath(__file__))
ATOL = 1e-5
missing = [b for b in BACKENDS if find_spec(b) is None]
if missing:
    pytest.skip(f"needs all three backends; not installed: {', '.join(missing)}", allow_module_level=True)


def _run(mode, out):
    """The worker in one process per backend, all at once; fails with the worker's stderr."""
    procs = {}
    for backend in BACKENDS:
        # One thread each: three processes share the cores, and PyTorch's OpenMP threads spin-wait
        # (on a busy CPU a tiny step then takes hundreds of milliseconds).
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
                   OMP_NUM_THREADS="1")
        procs[backend] = subprocess.Popen([sys.executable, os.path.join(HERE, "backend_worker.py"), mode, str(out)],
                                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for backend, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{mode} on {backend}:\n{stderr[-4000:]}"
        assert f"{mode} done on {backend}" in stdout


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("backends")
    for mode in ("steps", "save", "errors"):
        _run(mode, out)
    _run("load", out)           # every backend loads every backend's files
    return out


def _npz(out, kind, backend):
    data = np.load(os.path.join(out, f"{kind}-{backend}.npz"))
    assert str(data["backend"]) == backend, f"{kind}-{backend}.npz was written on {data['backend']}"
    return data


def _state(data, case):
    return [data[f"{case}/{i}"] for i in range(sum(1 for k in data.files if k.startswith(f"{case}/")) - 1)]


@pytest.mark.parametrize("case", cases.CASES)
def test_one_step_gives_the_same_weights_on_every_backend(out, case):
    ran = {b: _state(_npz(out, "steps", b), case) for b in BACKENDS}
    reference = "jax" if case == "bn_wgan_gp" else "tensorflow"
    for backend in BACKENDS if case != "bn_wgan_gp" else ("jax", "torch"):
        assert len(ran[backend]) == len(ran[reference]), (case, backend)
        for i, (a, b) in enumerate(zip(ran[reference], ran[backend])):
            np.testing.assert_allclose(b.astype("float64"), a.astype("float64"), rtol=0, atol=ATOL,
                                       err_msg=f"{case}: variable {i} on {backend} vs {reference}")
    initial = cases.compiled(case)
    moved = max(np.abs(a - b).max() for a, b in zip(cases.state(initial), ran[reference]) if a.dtype.kind == "f")
    assert moved > 1e-3, f"{case}: the step did not move the weights"


def test_batch_norm_critic_with_a_penalty_differs_on_tensorflow_only_by_tf_nn_moments(out):
    tf_state, jax_state = (_state(_npz(out, "steps", b), "bn_wgan_gp") for b in ("tensorflow", "jax"))
    model = cases.build("bn_wgan_gp")
    names = [v.path for v in model.variables]
    same = [n for n, a, b in zip(names, tf_state, jax_state) if np.allclose(a, b, rtol=0, atol=ATOL)]
    # The generator's batch norm and everything before the critic's first update agree; the
    # critic's weights (trained by the double derivative through its batch norm) do not.
    assert any("kernel" in n for n in set(names) - set(same)), same


def test_keras_files_load_on_every_backend_and_generate_the_same_images(out):
    for saver in BACKENDS:
        saved = _npz(out, "saved", saver)
        for loader in BACKENDS:
            loaded = _npz(out, "loaded", loader)
            for case in ("bn_gan", "wgan_gp_d2", "began", "cgan", "infogan"):
                key = f"{saver}/{case}"
                np.testing.assert_allclose(loaded[f"{key}/images"], saved[f"{case}/images"], rtol=0, atol=ATOL,
                                           err_msg=f"{case} saved on {saver}, loaded on {loader}")
                assert int(loaded[f"{key}/step"]) == int(saved[f"{case}/step"]) > 0
                np.testing.assert_array_equal(loaded[f"{key}/seed"], saved[f"{case}/seed"])
                assert int(loaded[f"{key}/trained"]) > int(saved[f"{case}/step"])
                # jit_compile is saved as passed ("auto" stays "auto"): JAX compiles every file, PyTorch
                # none (wgan_gp_d2 was saved with jit_compile=True, which torch cannot run with a penalty).
                if loader != "tensorflow":
                    assert bool(loaded[f"{key}/jit"]) == (loader == "jax"), (case, saver, loader)


def test_bad_input_gives_the_same_error_on_every_backend(out):
    found = {}
    for backend in BACKENDS:
        with open(os.path.join(out, f"errors-{backend}.json")) as f:
            found[backend] = json.load(f)
        assert found[backend].pop("backend") == backend
    for name, (kind, message) in found["tensorflow"].items():
        assert kind in ("ValueError", "TypeError"), (name, kind, message)
        for backend in ("jax", "torch"):
            assert found[backend][name] == [kind, message], (name, backend)
