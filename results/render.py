"""Redraw the Fashion-MNIST (5 epochs) parts of README.md and results/README.md from the
committed runs, so that every number there is the committed runs' and nothing is typed by hand.

    python results/render.py            # rewrite the marked blocks in place
    python results/render.py --check    # exit 1 if a block differs from what the runs give

It rewrites the text between ``<!-- render:NAME -->`` and ``<!-- /render:NAME -->`` in:

- results/README.md, ``fashion_mnist_5ep``: the sweep's progress, ``table.md`` (written by
  ``compare`` from the same runs) and the figures;
- README.md, ``losses``: the table of losses with each loss's seed-0 samples and Frechet distance;
- README.md, ``results_fashion_mnist``: the compact table, the published ranking, the figures.

The planned sweep (``planned_runs``) is the one of the comparison issue: seed 0 of every model of
``compare``, seeds 1 and 2 of the six models the notebooks draw conclusions from.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

OUT = "results/fashion_mnist_5ep"
SEEDED_MODELS = ("non_saturating", "minimax", "least_squares", "wgan", "wgan_gp", "dragan")
SWEEP = "python -m keras_gan compare --dataset fashion_mnist --seeds 1 --epochs 5 --out results/fashion_mnist_5ep"
SEEDED_SWEEP = "--seeds 3 --models " + " ".join(SEEDED_MODELS)

#: The README's table of losses: (number, notebook file, title, loss, discriminator, generator,
#: [(run id, caption, width)]); the samples column is filled from the runs.
LOSSES = (
    ("01", "01_minimax_vs_non_saturating.ipynb", "minimax vs non-saturating", "`minimax`, `non_saturating`",
     "-E log s(D(x)) - E log(1 - s(D(G(z))))", "+E log(1 - s(D(G(z)))) or -E log s(D(G(z)))",
     [("minimax", "minimax", 120), ("non_saturating", "non-saturating", 120),
      ("non_saturating_ema", "averaged generator", 120)]),
    ("02", "02_lsgan.ipynb", "LSGAN", "`least_squares`", "1/2 E(D(x)-b)^2 + 1/2 E(D(G(z))-a)^2",
     "1/2 E(D(G(z))-c)^2",
     [("least_squares", "", 150), ("least_squares_sigmoid", "on sigmoid (Lucic et al.'s code)", 120)]),
    ("03", "03_wgan.ipynb", "WGAN", "`wasserstein` + clipping", "E D(G(z)) - E D(x)", "-E D(G(z))",
     [("wgan", "WGAN", 120), ("wasserstein", "no constraint", 120)]),
    ("04", "04_wgan_gp.ipynb", "WGAN-GP", "`wasserstein` + gradient penalty", "+ 10 E(‖∇D(x̂)‖ - 1)^2",
     "-E D(G(z))", [("wgan_gp", "", 150)]),
    ("05", "05_dragan.ipynb", "DRAGAN", "`non_saturating` + local penalty", "+ 10 E(‖∇D(x + δ)‖ - 1)^2",
     "-E log s(D(G(z)))", [("dragan", "", 150)]),
    ("06", "06_began.ipynb", "BEGAN", "autoencoder L1", "L(x) - k L(G(z))", "L(G(z))", [("began", "", 150)]),
    ("07", "07_conditional_gan.ipynb", "conditional GAN", "any, with labels", "D(x, y)", "D(G(z, y), y)",
     [("cgan", "", 150)]),
    ("08", "08_infogan.ipynb", "InfoGAN", "any + mutual information", "+ λ L_I", "+ λ L_I",
     [("infogan", "", 150)]),
    ("09", "09_hinge_and_relativistic.ipynb", "hinge and relativistic",
     "`hinge`, `relativistic_average`, `relativistic_average_least_squares`",
     "E relu(1 - D(x)) + E relu(1 + D(G(z)))", "-E D(G(z))",
     [("hinge", "hinge", 100), ("relativistic_average", "RaSGAN", 100),
      ("relativistic_average_least_squares", "RaLSGAN", 100)]),
    ("10", "10_comparison.ipynb", "comparison", "all", "", "", None),
    ("11", "11_spectral_normalization.ipynb", "spectral normalization", "`hinge` + spectral norm (SN-GAN)",
     "E relu(1 - D̄(x)) + E relu(1 + D̄(G(z))), every layer W / σ(W)", "-E D̄(G(z))",
     [("sngan", "SN-GAN", 120), ("sngan_ema", "averaged generator", 120)]),
)


def planned_runs():
    from keras_gan import compare

    runs = [f"{m}_seed0" for m in compare.model_ids("fashion_mnist")]
    return runs + [f"{m}_seed{k}" for k in (1, 2) for m in SEEDED_MODELS]


def load():
    from keras_gan import compare

    results = compare.collect("fashion_mnist", os.path.join(ROOT, OUT), epochs=compare.IMAGE_EPOCHS)
    finished = {f"{m}_seed{r['seed']}" for m, runs in results.items() for r in runs}
    return results, finished


def progress(finished):
    planned = planned_runs()
    missing = [r for r in planned if r not in finished]
    if not missing:
        return f"All {len(planned)} planned runs are finished."
    return (f"**Progress: {len(planned) - len(missing)} of the {len(planned)} planned runs are finished.** "
            f"Still to run: {', '.join(missing)}.")


def seed0_frechet(results, run_id):
    """The Frechet distance of a loss's seed-0 run (``run_id`` ending in "_ema": its averaged
    generator's), or None when that run is not finished."""
    ema = run_id.endswith("_ema")
    model_id = run_id[:-4] if ema else run_id
    run = next((r for r in results.get(model_id, ()) if r["seed"] == 0), None)
    if run is None:
        return None
    return run.get("frechet_distance" + ("_ema" if ema else ""), float("nan"))


def losses_table(results):
    head = ("| # | notebook | loss | discriminator / critic | generator | samples after 5 epochs, seed 0 "
            "(Frechet distance) |\n|---|---|---|---|---|---|")
    rows = [head]
    for number, path, title, loss, d, g, samples in LOSSES:
        if samples is None:
            cell = f"[all of them, 5 epochs]({OUT}/samples.png)"
        else:
            parts = []
            for run_id, caption, width in samples:
                fd = seed0_frechet(results, run_id)
                alt = run_id.replace("_ema", " EMA")
                if fd is None:
                    parts.append(f"{caption + ' ' if caption else ''}(5 epochs not finished yet)")
                    continue
                note = ", column = class" if run_id == "cgan" else ""
                parts.append(f"{caption + ' ' if caption else ''}({fd:.2f}{note}) "
                             f'<img src="{OUT}/grids/{run_id}.png" width="{width}" alt="{alt}">')
            cell = " ".join(parts)
        rows.append(f"| {number} | [{title}](notebooks/{path}) | {loss} | {d} | {g} | {cell} |")
    return "\n".join(rows) + "\n"


def compact_table(results):
    from keras_gan import compare

    keys = (("frechet_distance", "{:.2f}"), ("recall", "{:.3f}"), ("coverage", "{:.3f}"),
            ("classes_covered", "{:.1f}"))
    lines = ["| model | Frechet distance | recall | coverage | classes | n (seeds) |", "|---|---|---|---|---|---|"]
    for model_id, runs, suffix in compare._rows(results):
        cells = [compare.row_label(model_id, runs, suffix)]
        cells += [compare._mean_std([r.get(k + suffix, np.nan) for r in runs], fmt) for k, fmt in keys]
        cells.append(str(len(runs)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def ranking_sentence(results):
    """Where the two rankings agree and where they differ most, from the ranks themselves."""
    from keras_gan import compare

    ranked = compare.published_ranks(results)
    if ranked is None:
        return ""
    shared, _, _, our_rank, their_rank = ranked
    diff = our_rank - their_rank
    close = [compare.label(m) for m, d in zip(shared, diff) if abs(d) <= 1]
    far = sorted(zip(shared, diff), key=lambda t: -abs(t[1]))[:2]
    far_text = "; ".join(f"{compare.label(m)} is {their_rank[shared.index(m)]} there and "
                         f"{our_rank[shared.index(m)]} here" for m, _ in far)
    return (f"Within one rank of each other: {', '.join(close) if close else 'none'}. Furthest apart: "
            f"{far_text}.")


WHY = (
    "Why they may differ: Lucic et al. report each loss's *best* FID over a search of about 100 "
    "hyperparameter settings (learning rate, betas, critic steps; Adam for WGAN, where its paper uses "
    "RMSprop) at 15,625 steps, in Inception's features; this table trains every loss with its paper's own "
    "defaults, the same for every seed, for 4,685 steps (30% of their budget), in the features of a "
    "Fashion-MNIST classifier, over 1 to 3 seeds.")


def last_epoch_sentence(results):
    """For the models that rank at least two places lower here than there: how much their
    seed-0 Frechet distance still changed over the last epoch (the curve's last 4 points + 1)."""
    from keras_gan import compare

    ranked = compare.published_ranks(results)
    if ranked is None:
        return ""
    shared, _, _, our_rank, their_rank = ranked
    lower = [m for m, a, b in zip(shared, our_rank, their_rank) if a - b >= 2]
    parts = []
    for m in lower:
        curve = np.asarray(compare.load_history(os.path.join(ROOT, OUT), m, 0)["frechet_distance"], float)
        per_epoch = compare.CURVE_POINTS_PER_EPOCH
        if len(curve) <= per_epoch:
            continue
        change = 100 * (curve[-1] / curve[-1 - per_epoch] - 1)
        parts.append(f"{compare.label(m)} {curve[-1 - per_epoch]:.1f} to {curve[-1]:.1f} ({change:+.0f}%)")
    if not parts:
        return ""
    return ("Over the last of the 5 epochs, the seed-0 Frechet distance (2,000 samples) of the models that rank "
            "at least two places lower here than there went from " + "; ".join(parts) + ": a curve still "
            "falling at the end suggests a longer budget would move that model up; a flat one, that this "
            "recipe is stuck at its defaults, where their search could pick other settings.")


def results_readme_block(results, finished):
    with open(os.path.join(ROOT, OUT, "table.md")) as f:
        table = f.read().strip()
    sentence = ranking_sentence(results)
    return "\n\n".join([
        progress(finished) + " The runs were trained one after another on the 2-core development machine, "
        "part of the time beside other jobs (wall times vary with that; CPU times less).",
        table, sentence, WHY + " " + last_epoch_sentence(results),
        "![Fashion-MNIST after 5 epochs: 60 samples of each model](fashion_mnist_5ep/samples.png)",
        "![Frechet distance during training, every quarter epoch, log scale](fashion_mnist_5ep/curves.png)",
    ]) + "\n"


def readme_results_block(results, finished):
    from keras_gan import compare

    published = compare.published_ranking(results).strip()
    return "\n\n".join([
        "**Fashion-MNIST** (every model of `compare`, 5 epochs = 4,685 discriminator steps at batch 64 on "
        "Lucic et al.'s networks with the papers' optimizers; Frechet distance on 10,000 samples in the "
        "features of the project's classifier, test accuracy 0.916, against the 10,000 test images; floor "
        f"0.11). {progress(finished)} `compare` skips finished runs, so the same commands continue the "
        f"sweep: `{SWEEP}`, then the same with `{SEEDED_SWEEP}` (about 17 min per run here; each row's own "
        f"command and time are in [{OUT}/table.md]({OUT}/table.md)).",
        compact_table(results).strip(), published, ranking_sentence(results),
        WHY + " " + last_epoch_sentence(results),
        "Sample grids per loss are in [the table of losses](#the-losses); every finished model in one figure, "
        "and every run's Frechet distance during training (log scale):",
        f"![Fashion-MNIST after 5 epochs: 60 samples of each model]({OUT}/samples.png)\n"
        f"![Frechet distance every quarter epoch]({OUT}/curves.png)",
        "The first comparison, half an epoch per model, measured how fast each loss starts; its table is kept "
        "in [results/README.md](results/README.md) (`results/fashion_mnist`).",
    ]) + "\n"


def replace_block(text, name, body, path):
    pattern = re.compile(rf"(<!-- render:{name} -->\n)(.*?)(<!-- /render:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no <!-- render:{name} --> ... <!-- /render:{name} --> block: add the "
                         "two markers where the block belongs")
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text)


def render(check=False):
    results, finished = load()
    targets = {
        "results/README.md": [("fashion_mnist_5ep", results_readme_block(results, finished))],
        "README.md": [("losses", losses_table(results)),
                      ("results_fashion_mnist", readme_results_block(results, finished))],
    }
    stale = []
    for path, blocks in targets.items():
        full = os.path.join(ROOT, path)
        with open(full) as f:
            old = f.read()
        new = old
        for name, body in blocks:
            new = replace_block(new, name, body, path)
        if new != old:
            stale.append(path)
            if not check:
                with open(full, "w") as f:
                    f.write(new)
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report blocks that differ from the runs")
    args = parser.parse_args(argv)
    stale = render(check=args.check)
    verb = "differs from the committed runs" if args.check else "redrawn"
    for path in stale:
        print(f"{path}: {verb}")
    if args.check and stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
