"""Figures: image grids, loss curves, 2D scatter plots over the true modes.

Every function returns a matplotlib ``Figure`` and, given ``path``, also writes
it (PNG). matplotlib is imported lazily, with the non-interactive Agg backend
when no display is available.
"""

import os

import numpy as np

__all__ = ["image_grid", "save_image_grid", "loss_curves", "scatter_2d", "grid_array"]


def _plt():
    import matplotlib
    if not os.environ.get("DISPLAY") and "inline" not in matplotlib.get_backend().lower():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _finish(fig, path):
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, bbox_inches="tight", dpi=fig.dpi)
    return fig


def grid_array(images, rows=None, padding=1):
    """Tile images (N, H, W, C) in [-1, 1] into one (rows*H, cols*W, C) array in [0, 1]."""
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got {images.shape}.")
    n, h, w, c = images.shape
    rows = rows or int(np.ceil(np.sqrt(n)))
    cols = int(np.ceil(n / rows))
    grid = np.ones((rows * (h + padding) - padding, cols * (w + padding) - padding, c), "float32")
    for i in range(n):
        r, col = divmod(i, cols)
        grid[r * (h + padding):r * (h + padding) + h, col * (w + padding):col * (w + padding) + w] = images[i]
    return np.clip((grid + 1) / 2, 0, 1)


def image_grid(images, rows=None, title=None, path=None, row_labels=None, scale=0.35):
    """A figure of an image grid; ``row_labels`` names each row (e.g. classes)."""
    plt = _plt()
    grid = grid_array(images, rows)
    rows = rows or int(np.ceil(np.sqrt(len(images))))
    height, width = grid.shape[:2]
    fig, ax = plt.subplots(figsize=(max(2.0, width / 28 * scale * 2), max(2.0, height / 28 * scale * 2)), dpi=100)
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    if row_labels is not None:
        step = height / rows
        ax.set_yticks([step * (i + 0.5) for i in range(rows)])
        ax.set_yticklabels(row_labels, fontsize=8)
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


def save_image_grid(images, path, rows=None, title=None, row_labels=None):
    """Write an image grid to ``path`` and close the figure."""
    fig = image_grid(images, rows=rows, title=title, path=path, row_labels=row_labels)
    _plt().close(fig)
    return path


def loss_curves(history, keys=None, title=None, path=None, ax=None):
    """Plot per-epoch values from a ``History`` or a dict of lists."""
    plt = _plt()
    history = getattr(history, "history", history)
    keys = keys or sorted(history)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for key in keys:
        values = history[key]
        ax.plot(np.arange(1, len(values) + 1), values, label=key, marker="o" if len(values) < 30 else None)
    ax.set_xlabel("epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _finish(fig, path)


def scatter_2d(samples, mixture=None, title=None, path=None, ax=None, limit=None):
    """Generated 2D points (blue) over the mixture's true modes (red crosses)."""
    plt = _plt()
    samples = np.asarray(samples)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    else:
        fig = ax.figure
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue", label="generated")
    if mixture is not None:
        centers = np.asarray(mixture.centers)
        ax.scatter(centers[:, 0], centers[:, 1], s=40, marker="x", color="tab:red", label="modes")
        span = np.abs(centers).max() * 1.5 + 5 * mixture.std
        limit = limit or span
    if limit:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)
