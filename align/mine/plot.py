"""Optional PNG of the candidates' score histogram with the chosen threshold (`plot: true`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..common.errors import UserError
from ..common.fileio import atomic_path
from .autothreshold import Decision

PLOT_FILE = "score_histogram.png"


def plot_scores(out_dir: Path, values: np.ndarray, decision: Decision, on: str, title: str) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("plot: true needs matplotlib; install it with pip install 'align[plot]' "
                        "(or set plot: false)") from None
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    try:
        if len(v):
            ax.hist(v, bins=120, color="#4c72b0", alpha=0.8, label=f"candidates ({len(v)})")
        if decision.method == "mixture" and len(v):
            f = decision.details["fit"]
            x = np.linspace(v.min(), v.max(), 400)
            width = (v.max() - v.min()) / 120 if v.max() > v.min() else 1.0
            for w, m, s, name in zip(f["weights"], f["means"], f["sds"], ("non-translation fit", "translation fit")):
                ax.plot(x, len(v) * width * w / (s * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((x - m) / s) ** 2),
                        label=name)
        ax.axvline(decision.threshold, color="#c44e52", linestyle="--",
                   label=f"threshold {decision.threshold:.4f} ({decision.method})")
        ax.set_xlabel(f"{on} score")
        ax.set_ylabel("candidate pairs")
        ax.set_title(f"{title}: scores of the candidate pairs")
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = Path(out_dir) / PLOT_FILE
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    return path
