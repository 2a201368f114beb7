"""AutoPCP comparator as the auxiliary scorer (optional; needs torch to read the checkpoint).

A comparator directory holds `<name>.config` (a torch-pickled dict with `input_form`, `norm_emb`,
`activation`, `output_act`, ...) and `<name>.pt` (the MLP's state dict). The aux embeddings must be
the comparator's input features (mean-pooled wav2vec2 states). torch is used only to unpickle the
two files; the small MLP then runs in numpy, so scoring needs no torch at all and is tested here.

The prediction is on the PCP scale (about 1 = different ... 4 = same prosody). The reference
soft-maxes it over each row's candidates, which makes it relative (a row whose candidates are all
bad still gets one near 1); here it is mapped linearly to (pcp - 1) / 3, an absolute score in about
[0, 1] comparable across rows and to a cosine.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..common.errors import MissingDependencyError, UserError

_ACTS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3))),
    "none": lambda x: x,
    "identity": lambda x: x,
}


def resolve_files(path: str | Path) -> tuple[Path, Path]:
    """(config, weights) from a comparator directory or its `.config` / `.pt` file."""
    p = Path(path).expanduser()
    if p.is_dir():
        configs = sorted(p.glob("*.config"))
        if len(configs) != 1:
            raise UserError(f"autopcp_path: expected exactly one *.config file in '{p}', found {len(configs)}")
        cfg = configs[0]
    elif p.suffix in (".config", ".pt"):
        cfg = p.with_suffix(".config")
    else:
        raise UserError(f"autopcp_path: '{p}' is neither a directory nor a .config/.pt file")
    weights = cfg.with_suffix(".pt")
    for f in (cfg, weights):
        if not f.is_file():
            raise UserError(f"autopcp_path: comparator file '{f}' not found")
    return cfg, weights


def _torch():
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise MissingDependencyError("aux_scorer: autopcp (reading the comparator checkpoint)",
                                     "pip install torch==2.13.0") from None


@dataclass
class Comparator:
    layers: list  # [(W (out,in), b (out,))] in order
    input_form: str = "qe"
    norm_emb: bool = False
    activation: str = "tanh"
    output_act: str = "none"
    symmetrize: bool = True
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_state(cls, config: dict, state: dict, symmetrize: bool = True) -> "Comparator":
        """Build from the unpickled config dict and state dict (arrays or tensors)."""
        if config.get("trainable_pooler"):
            raise UserError("autopcp_path: this comparator has a trainable pooler (it pools frame-level states); "
                            "mining compares one pooled vector per segment, use a comparator without one")
        if str(config.get("input_form", "qe")) != "qe":
            raise UserError(f"autopcp_path: input_form {config.get('input_form')!r} is not supported "
                            f"(mining compares a source and a candidate: 'qe')")
        layers = []
        pending_w = None
        for name, value in state.items():
            if name.startswith("pooler."):
                continue
            arr = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float32)
            if name.endswith("weight") and arr.ndim == 2:
                pending_w = arr
            elif name.endswith("bias") and arr.ndim == 1 and pending_w is not None:
                layers.append((pending_w, arr))
                pending_w = None
        if not layers:
            raise UserError("autopcp_path: the comparator weights contain no linear layers")
        act = str(config.get("activation", "TANH")).lower()
        out_act = config.get("output_act", None)
        # The reference stores a bool (True: a tanh after the last layer); names are accepted too.
        out_act = ("tanh" if out_act else "none") if isinstance(out_act, bool) or out_act is None \
            else str(out_act).lower()
        for a in (act, out_act):
            if a not in _ACTS:
                raise UserError(f"autopcp_path: unsupported activation '{a}' in the comparator config")
        return cls(layers=layers, input_form=str(config.get("input_form", "qe")),
                   norm_emb=bool(config.get("norm_emb", False)), activation=act, output_act=out_act,
                   symmetrize=symmetrize)

    def features(self, src: np.ndarray, mt: np.ndarray) -> np.ndarray:
        if self.norm_emb:
            src = src / np.maximum(np.linalg.norm(src, axis=-1, keepdims=True), 1e-12)
            mt = mt / np.maximum(np.linalg.norm(mt, axis=-1, keepdims=True), 1e-12)
        if self.input_form == "qe":
            return np.concatenate([src, mt, src * mt, np.abs(mt - src)], axis=-1)
        if self.input_form == "concat":
            return np.concatenate([src, mt], axis=-1)
        raise UserError(f"autopcp_path: unsupported input_form '{self.input_form}'")

    def predict(self, src: np.ndarray, mt: np.ndarray) -> np.ndarray:
        x = self.features(src, mt).astype(np.float32)
        if x.shape[-1] != self.layers[0][0].shape[1]:
            raise UserError(f"autopcp: aux embeddings give {x.shape[-1]} input features but the comparator "
                            f"expects {self.layers[0][0].shape[1]} (wrong aux embeddings for this comparator?)")
        for i, (w, b) in enumerate(self.layers):
            x = x @ w.T + b
            x = _ACTS[self.activation](x) if i < len(self.layers) - 1 else _ACTS[self.output_act](x)
        return x[..., 0]

    def score(self, q: np.ndarray, cands: np.ndarray) -> np.ndarray:
        """Aux score for (n,d) queries and (n,m,d) candidates: PCP mapped to (pcp - 1) / 3."""
        src = np.broadcast_to(q[:, None, :], cands.shape)
        pcp = self.predict(src, cands)
        if self.symmetrize:
            pcp = 0.5 * (pcp + self.predict(cands, src))
        return (pcp - 1.0) / 3.0


def _safe_load(torch, path: Path, what: str):
    """torch.load restricted to tensors and plain containers (weights_only=True): a checkpoint
    cannot run code. A file that needs more is refused, never unpickled in full."""
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 (torch raises UnpicklingError, RuntimeError, EOFError, ...)
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "weights_only" in str(e) or "Unsupported global" in str(e) or type(e).__name__ == "UnpicklingError":
            raise UserError(f"autopcp_path: refusing {what} '{path}': it holds Python objects other than tensors "
                            f"and plain values, and unpickling them could run code. Re-save it as a plain dict "
                            f"(torch.save(dict(...))) from a trusted copy. ({msg})") from None
        raise UserError(f"autopcp_path: cannot read {what} '{path}' ({msg})") from None


def load_comparator(path: str | Path, symmetrize: bool = True) -> Comparator:
    cfg_path, w_path = resolve_files(path)
    torch = _torch()
    config = _safe_load(torch, cfg_path, "comparator config")
    state = _safe_load(torch, w_path, "comparator weights")
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise UserError(f"autopcp_path: '{cfg_path}' / '{w_path}' are not a comparator config and state dict")
    return Comparator.from_state(config, state, symmetrize=symmetrize)


def aux_fn_for(path: Optional[str], symmetrize: bool):
    comp = load_comparator(path, symmetrize)
    return comp.score
