"""A bar chart of hit@1 by mode and query kind, one panel per protocol (matplotlib, Agg, PNG)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .dataset import KINDS
from .harness import ProtocolReport


def plot_hit_at_1(reports: Sequence[ProtocolReport], path: str | Path, metric: str = "hit@1") -> Path:
    """Write the chart to ``path`` and return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [*KINDS, "all"]
    fig, axes = plt.subplots(1, len(reports), figsize=(6 * len(reports), 4), squeeze=False)
    for ax, rep in zip(axes[0], reports):
        width = 0.8 / max(len(rep.modes), 1)
        for i, m in enumerate(rep.modes):
            xs = [j + i * width for j in range(len(kinds))]
            ys = [m.by_kind.get(k, {}).get(metric, 0.0) for k in kinds]
            bars = ax.bar(xs, ys, width, label=f"{m.mode} (α={m.alpha:g}, β={m.beta:g})" if m.alpha is not None else m.mode)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(kinds))], [k.replace("_", "\n") for k in kinds])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(metric)
        ax.set_title(f"{rep.protocol} protocol, {rep.split} split ({rep.queries} queries)")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
