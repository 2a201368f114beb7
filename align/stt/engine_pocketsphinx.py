"""CMU pocketsphinx: the default engine. Its US-English model ships inside the PyPI wheel."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.errors import UserError
from .base import SttEngine
from .modelfiles import dir_fingerprint, file_fingerprint, package_version

# Files without which sphinx's acoustic model cannot load (mixture weights come as `sendump`
# or `mixture_weights`).
HMM_FILES = ("mdef", "means", "variances", "transition_matrices")
LM_PATTERNS = ("*.lm.bin", "*.lm", "*.arpa", "*.lm.dmp", "*.DMP", "*.lm.DMP")
# Batch cepstral mean normalisation: each fragment is normalised by its own mean. pocketsphinx's
# "live" CMN carries an estimate from one utterance into the next, so a fragment's transcript
# would depend on which fragments the same worker decoded before it (and on --stt-workers).
# (The packaged model's feat.params already asks for batch; other models may not.)
DECODER_SETTINGS = {"cmn": "batch"}
# On audio the noise front end filtered (transcribe sets EngineSpec.noisy): no second, flat-lexicon
# search pass. In 10 dB noise it took 40 % of the decoding time (acoustic scores are flat, so far
# more words stay within the beams) and did not help the alignment: slt-noise10 right text 20 -> 22
# of 29 without it, mixed-hard 0 -> 0 (first-pass WER 41.0 -> 42.2 %). Clean audio keeps it.
NOISY_SETTINGS = {"fwdflat": False}
_FILLER = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+|\+.*\+)$")
_ALT = re.compile(r"\(\d+\)$")


@dataclass(frozen=True)
class SphinxModel:
    hmm: Path             # acoustic model directory (mdef, means, ...)
    dict: Path            # pronunciation dictionary
    lm: Path | None       # the model's general language model (used without a document LM)


def default_model_root() -> Path:
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us"


def resolve_model(model_dir: str | None) -> SphinxModel:
    """Find the acoustic model, dictionary and LM in `model_dir` (None: the wheel's en-us model).

    Accepted layouts: the acoustic model directory itself (dictionary/LM beside it or in its
    parent), or a directory holding one acoustic-model subdirectory plus `*.dict` and LM files
    (the wheel's `model/en-us` layout).
    """
    root = default_model_root() if model_dir is None else Path(model_dir)
    flag = "--stt-model-dir" if model_dir is not None else "pocketsphinx's packaged model"
    if not root.is_dir():
        raise UserError(f"{flag} {root}: no such directory (point it at a pocketsphinx model, "
                        f"or leave it out to use the model inside the pocketsphinx package)")
    if (root / "mdef").is_file():
        hmm, search = root, [root, root.parent]
    else:
        subs = sorted(d for d in root.iterdir() if d.is_dir() and (d / "mdef").is_file())
        if not subs:
            raise UserError(f"{flag} {root}: not a pocketsphinx model (no acoustic model: "
                            f"expected {', '.join(HMM_FILES)} in it or in a subdirectory)")
        hmm, search = subs[0], [root, subs[0]]
    missing = [n for n in HMM_FILES if not (hmm / n).is_file()]
    if not ((hmm / "sendump").is_file() or (hmm / "mixture_weights").is_file()):
        missing.append("sendump or mixture_weights")
    if missing:
        raise UserError(f"{flag} {hmm}: incomplete pocketsphinx acoustic model, missing {', '.join(missing)}")
    dicts = [p for d in search for p in sorted(d.glob("*.dict")) if p.is_file()]
    if not dicts:
        raise UserError(f"{flag} {root}: no pronunciation dictionary (*.dict) beside the acoustic model")
    dicts.sort(key=lambda p: ("cmudict" not in p.name, search.index(p.parent), p.name))
    lms = [p for d in search for pat in LM_PATTERNS for p in sorted(d.glob(pat))
           if p.is_file() and "phone" not in p.name]
    return SphinxModel(hmm=hmm, dict=dicts[0], lm=lms[0] if lms else None)


def check_rate(model: SphinxModel, rate: int) -> None:
    """The model's filterbank must fit below the Nyquist frequency of the audio rate."""
    upper = 6800.0
    params = model.hmm / "feat.params"
    if params.is_file():
        toks = params.read_text(encoding="utf-8", errors="replace").split()
        for k, v in zip(toks, toks[1:]):
            if k == "-upperf":
                upper = float(v)
    if rate < 2 * upper:
        raise UserError(f"the pocketsphinx model {model.hmm} analyses up to {upper:g} Hz, which needs "
                        f"audio of at least {2 * upper:g} Hz: pass --stt-model-rate 16000")


def clean_hypothesis(text: str) -> str:
    """Lower-case words separated by single spaces, without fillers or `(2)` alternate marks."""
    words = []
    for tok in text.split():
        if _FILLER.match(tok):
            continue
        tok = _ALT.sub("", tok).lower()
        if tok:
            words.append(tok)
    return " ".join(words)


def identity_for(spec) -> dict:
    model = resolve_model(spec.model_dir)
    ident = {
        "engine": "pocketsphinx",
        "package": package_version("pocketsphinx"),
        "model_dir": str(model.hmm) if spec.model_dir is not None else "packaged en-us",
        "acoustic_model": dir_fingerprint(model.hmm),
        "rate": spec.model_rate,
        "decoder": DECODER_SETTINGS,
        # applied when the audio is noisy: decided by the audio, whose hash is in the cache key
        "noisy_decoder": NOISY_SETTINGS,
    }
    if spec.lm_arpa:
        ident["lm_hash"] = spec.lm_hash
    else:
        ident["dict"] = file_fingerprint(model.dict)
        ident["lm"] = file_fingerprint(model.lm) if model.lm else None
    return ident


class PocketsphinxEngine(SttEngine):
    name = "pocketsphinx"

    def __init__(self, spec):
        from pocketsphinx import Decoder

        self._spec = spec
        model = resolve_model(spec.model_dir)
        lm = spec.lm_arpa or (str(model.lm) if model.lm else None)
        if lm is None:
            raise UserError(f"--stt-model-dir {spec.model_dir}: no language model (*.lm.bin/*.lm/*.arpa) "
                            f"in it; add one or drop --stt-no-own-lm to build one from the text")
        try:
            self._decoder = Decoder(
                hmm=str(model.hmm), dict=spec.lm_dict or str(model.dict), lm=lm,
                samprate=float(spec.model_rate), logfn=os.devnull,
                **{**DECODER_SETTINGS, **(NOISY_SETTINGS if spec.noisy else {})},
            )
        except (RuntimeError, ValueError) as e:
            raise UserError(f"pocketsphinx could not load the model {model.hmm} with LM {lm}: {e}") from None

    def transcribe(self, samples: np.ndarray) -> str:
        data = np.ascontiguousarray(samples, dtype="<i2")
        if data.size == 0:
            return ""
        d = self._decoder
        # Fresh front end and feature state (0.1 ms): without it, a fragment's transcript can
        # depend on the fragment decoded before it, i.e. on order and on --stt-workers.
        d.reinit_feat()
        d.start_utt()
        # full_utt: the whole fragment at once, which batch CMN needs.
        d.process_raw(data.tobytes(), no_search=False, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        return clean_hypothesis(hyp.hypstr) if hyp is not None else ""

    def identity(self) -> dict:
        return identity_for(self._spec)
