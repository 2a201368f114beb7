"""`AlignConfig`: every option of an `align` run, frozen and validated when built.

It is composed of the per-stage parameter dataclasses (VAD, speech-to-text, text normalisation,
rough and gap alignment, filters, sentence merging) plus the document options and the run options
(`RunOptions`: workers, executor, progress, ...). `config_hash()` covers exactly what changes the
outputs; it is the key of the "done" stamps that make catalog runs resumable.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .audio.vad import VadParams, check_rate
from .bounds import BoundsParams
from .common.errors import UsageError
from .common.hashing import sha256_file, sha256_json
from .secondpass import SecondPassParams
from .stt.base import SttParams
from .text.engine import AlignParams
from .text.script import TEXT_MAX_BYTES
from .unaligned import UnalignedParams
from .words import WordParams

DEFAULT_ALPHABET = Path(__file__).resolve().parents[1] / "models" / "en" / "alphabet.txt"
STT_ENGINES = ("pocketsphinx", "deepspeech", "whisper", "vosk")
EXECUTORS = ("serial", "process", "ray")

# Bump when the same inputs and options produce different `.aligned` bytes (the done stamps of
# older runs then no longer match, and catalog entries are redone).
OUTPUT_VERSION = 1


@dataclass(frozen=True)
class RunOptions:
    """How a run goes; none of these changes an output, so none is part of `config_hash()`."""

    force: bool = False                  # redo documents even when their stamp says done
    ignore_missing: bool = False         # catalog entries with missing inputs: skipped, not failed
    workers: int = 1                     # catalog: documents aligned at the same time
    executor: str = "process"            # serial | process | ray (see align.common.executors)
    ray_address: Optional[str] = None    # Ray: an existing cluster; None starts a local one
    show_progress: bool = True
    lm_cache_dir: Optional[str] = None   # where document language models are cached
    text_max_bytes: int = TEXT_MAX_BYTES  # larger text files are refused unread (0: no limit)

    def validate(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise UsageError(f"--workers must be a whole number >= 1, got {self.workers!r}")
        if self.executor not in EXECUTORS:
            raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")
        if isinstance(self.text_max_bytes, bool) or not isinstance(self.text_max_bytes, int) or self.text_max_bytes < 0:
            raise UsageError(f"--text-max-bytes must be a whole number >= 0 (0: no limit), got {self.text_max_bytes!r}")


def _finite(name: str, v: Any, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
            hi_open: bool = False, integer: bool = False) -> None:
    bad = isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int))
    bad = bad or not math.isfinite(v)
    if not bad and lo is not None:
        bad = v <= lo if lo_open else v < lo
    if not bad and hi is not None:
        bad = v >= hi if hi_open else v > hi
    if bad:
        left = "-inf" if lo is None else f"{lo:g}"
        right = "inf" if hi is None else f"{hi:g}"
        rng = f"{'(' if lo_open or lo is None else '['}{left}, {right}{')' if hi_open or hi is None else ']'}"
        kind = "a whole number" if integer else "a finite number"
        raise UsageError(f"{name} must be {kind} in {rng}, got {v!r}")


@dataclass(frozen=True)
class AlignConfig:
    """Everything that decides how one document is aligned, plus how a run goes (`run`)."""

    align: AlignParams = AlignParams()
    vad: VadParams = VadParams()
    stt: SttParams = SttParams()
    alphabet: Optional[str] = None       # alphabet file; None: models/en/alphabet.txt (or English letters)
    meaningful_newlines: Optional[bool] = None  # plain text: each line is a phrase (None: when the text reads line by line)
    start: int = 0                       # skip this many transcript fragments
    num_samples: Optional[int] = None    # then align at most this many (None or 0: all)
    pretty: bool = False                 # indent JSON outputs
    formats: tuple[str, ...] = ("aligned",)  # registered writers (align.writers) run on every document
    audio_merge: bool = True             # with audio: join fragments into sentences (--no-merge: off)
    max_utterance_s: float = 20.0        # with audio: longer sentences are cut at their longest inner pause
    second_pass: SecondPassParams = SecondPassParams()   # with audio: constrained re-decoding
    words: WordParams = WordParams()     # word/phone timings by forced alignment (align/words.py)
    bounds: BoundsParams = BoundsParams()  # with audio: utterance edges trimmed to the sound (align/bounds.py)
    unaligned: UnalignedParams = UnalignedParams()  # the reconciliation writer (align/unaligned.py)
    textgrid_dir: Optional[str] = None   # TextGrids go here as <document id>.TextGrid (else beside --aligned)
    subtitle_timing: str = "chars"       # srt/vtt cue times: chars | words | lines | karaoke (align/wordsubs.py)
    run: RunOptions = field(default_factory=RunOptions)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """All option errors as one UsageError each, before any work (called when built)."""
        from .text.metrics import INT_METRICS, METRIC_IDS
        from .text.similarity import SIMILARITY_ALGOS

        p = self.align
        self.vad.validate()
        if self.stt.engine not in STT_ENGINES:
            raise UsageError(f"--stt-engine must be one of {', '.join(STT_ENGINES)}, got {self.stt.engine!r}")
        if self.stt.prompt not in ("auto", "on", "off"):
            raise UsageError(f"--stt-prompt must be auto, on or off, got {self.stt.prompt!r}")
        _finite("--stt-model-rate", self.stt.model_rate, 1, integer=True)
        _finite("--stt-workers", self.stt.workers, 1, integer=True)
        check_rate(self.stt.model_rate, self.vad)
        for name, v in (("--audio-vad-tail", self.vad.tail_ms), ("--audio-vad-onset", self.vad.onset_ms),
                        ("--audio-vad-offset", self.vad.offset_ms), ("--stt-min-duration", self.vad.min_duration_ms),
                        ("--stt-max-duration", self.vad.max_duration_ms)):
            if v is not None:
                _finite(name, v, 0)
        _finite("--audio-vad-energy-margin", self.vad.energy_margin_db, 0, 60, lo_open=True)
        _finite("--audio-denoise-below", self.vad.denoise_below_db, -20, 80)
        _finite("--audio-vad-threshold", self.vad.threshold, 0, 1, hi_open=True)

        s = p.rough.search
        _finite("--align-max-candidates", s.max_candidates, 1, integer=True)
        _finite("--align-candidate-threshold", s.candidate_threshold, 0, 1)
        if s.sw.match <= 0 or s.sw.mismatch > 0 or s.sw.gap >= 0:
            raise UsageError("Smith-Waterman scores: --align-match-score must be > 0, --align-mismatch-score <= 0 "
                             "and --align-gap-score < 0")
        _finite("--align-min-sws", p.rough.min_score, 0, 1)
        _finite("--align-min-run", p.rough.min_run, 1, integer=True)
        _finite("--align-run-gap", p.rough.run_gap, 0, integer=True)
        _finite("--align-ambiguity", p.rough.max_ambiguity, 0, 1)
        _finite("--align-solo-sws", p.rough.solo_score, 0, 1)
        _finite("--align-short-chars", p.rough.short_chars, 1, integer=True)
        _finite("--align-short-sws", p.rough.short_score, 0, 1)
        _finite("--align-claim-max-words", p.edges.max_words, 0, integer=True)
        _finite("--align-claim-max-pause", p.edges.max_pause_ms, 0)
        _finite("--align-bridge-max", p.edges.bridge_max_chars, 0, integer=True)
        _finite("--align-verbatim-share", p.verbatim.doc_share, 0, 1)
        _finite("--align-verbatim-local", p.verbatim.local_share, 0, 1)
        g = p.gap
        _finite("--align-shrink-fraction", g.shrink_fraction, 0, 1)
        _finite("--align-stretch-fraction", g.stretch_fraction, 0, 10)
        _finite("--align-word-snap-factor", g.word_snap, 0, 100, lo_open=True)
        _finite("--align-phrase-snap-factor", g.phrase_snap, 0, 100, lo_open=True)
        if g.algo not in SIMILARITY_ALGOS:
            raise UsageError(f"--align-similarity-algo: unknown algorithm {g.algo!r}; "
                             f"choose one of {', '.join(SIMILARITY_ALGOS)}")
        w = g.wng
        _finite("--align-wng-min-size", w.min_size, 1, integer=True)
        _finite("--align-wng-max-size", w.max_size, 1, integer=True)
        if w.min_size > w.max_size:
            raise UsageError("--align-wng-min-size must not exceed --align-wng-max-size")
        _finite("--align-wng-size-factor", w.size_factor, 0)
        _finite("--align-wng-position-factor", w.position_factor, 0)
        m = p.merge
        _finite("--merge-max-pause", m.max_pause_ms, 0)
        _finite("--merge-max-duration", m.max_duration_ms, 0, lo_open=True)
        _finite("--text-context", p.text_context, 0, integer=True)
        _finite("--max-utterance-duration", self.max_utterance_s, 0, lo_open=True)
        sp = self.second_pass
        _finite("--second-pass-rounds", sp.max_rounds, 1, integer=True)
        _finite("--second-pass-min-score", sp.decode.min_mean_score, None, 0)
        for b in p.filters.bounds:
            if b.metric not in METRIC_IDS:
                raise UsageError(f"unknown metric {b.metric!r}; choose one of {', '.join(METRIC_IDS)}")
            for side, v in (("min", b.min), ("max", b.max)):
                if v is not None:
                    _finite(f"--output-{side}-{b.metric}", v, integer=b.metric in INT_METRICS)
            if b.min is not None and b.max is not None and b.min > b.max:
                raise UsageError(f"--output-min-{b.metric} ({b.min:g}) is greater than --output-max-{b.metric} "
                                 f"({b.max:g})")
        _finite("--start", self.start, 0, integer=True)
        if self.num_samples is not None:
            _finite("--num-samples", self.num_samples, 0, integer=True)
        if not self.formats:
            raise UsageError("give at least one output format")
        _finite("--words-end-pad-ms", self.words.end_pad_ms, 0)
        self.bounds.validate()
        _finite("--words-start-pad-ms", self.words.start_pad_ms, 0)
        _finite("--words-downsample", self.words.downsample, 1, 4, integer=True)
        _finite("--unaligned-long-words", self.unaligned.long_words, 0, integer=True)
        _finite("--unaligned-min-audio-ms", self.unaligned.min_audio_ms, 0)
        from .wordsubs import TIMINGS

        if self.subtitle_timing not in TIMINGS:
            raise UsageError(f"--subtitle-timing must be one of {', '.join(TIMINGS)}, got {self.subtitle_timing!r}")
        if self.subtitle_timing != "chars":
            if not ({"srt", "vtt"} & set(self.formats)):
                raise UsageError(f"--subtitle-timing {self.subtitle_timing} needs subtitles: add --output-format srt or vtt")
            if not (self.words.words or self.words.phones):
                raise UsageError(f"--subtitle-timing {self.subtitle_timing} needs --output-words")
        if self.words.refine_bounds and not (self.words.words or self.words.phones):
            raise UsageError("--words-refine-bounds needs --output-words (or --output-phones)")
        from .writers import get_writer

        for f in self.formats:
            get_writer(f)  # an unknown format is a UsageError listing the known ones
        self.run.validate()

    # -- derived values -------------------------------------------------------------------------
    def alphabet_path(self) -> Optional[Path]:
        if self.alphabet is not None:
            return Path(self.alphabet)
        return DEFAULT_ALPHABET if DEFAULT_ALPHABET.exists() else None

    def load_alphabet(self):
        """The alphabet (a missing or bad file is a UserError naming it)."""
        from .text.alphabet import ENGLISH_LABELS, Alphabet, load_alphabet

        path = self.alphabet_path()
        return load_alphabet(path) if path is not None else Alphabet.from_labels(ENGLISH_LABELS)

    def output_dict(self) -> dict[str, Any]:
        """The part of the config that decides the output bytes (JSON-ready)."""
        from .common.fileio import user_file_errors

        align = dataclasses.asdict(self.align)
        align.pop("text_context")  # DEBUG log context only
        stt = dataclasses.asdict(self.stt)
        stt.pop("workers")         # speed, not output
        path = self.alphabet_path()
        if path is None:
            alphabet = "english-labels"
        else:
            with user_file_errors(path, "alphabet file"):
                alphabet = sha256_file(path)
        # Every field but `run` and the alphabet path, so that a field added later is hashed unless
        # it is taken out here on purpose.
        out: dict[str, Any] = {"output_version": OUTPUT_VERSION, "alphabet_sha256": alphabet}
        for f in dataclasses.fields(self):
            if f.name in ("run", "alphabet"):
                continue
            v = getattr(self, f.name)
            out[f.name] = dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
        out["align"], out["stt"] = align, stt
        out["num_samples"] = self.num_samples or None
        out["formats"] = list(self.formats)
        return json.loads(json.dumps(out, sort_keys=True, default=str))

    def config_hash(self) -> str:
        """Stable hex digest of `output_dict()`: equal configs give equal hashes across runs and machines."""
        return sha256_json(self.output_dict())

    def align_params_for(self, has_audio: bool):
        """The alignment parameters of one document: with audio, sentence utterances unless
        --no-merge (cut at the longest inner pause above --max-utterance-duration)."""
        p = self.align
        if has_audio and self.audio_merge:
            merge = dataclasses.replace(p.merge, enabled=True, max_duration_ms=1000.0 * self.max_utterance_s,
                                        split_longest_pause=True)
            return dataclasses.replace(p, merge=merge)
        return p

    def replace(self, **changes) -> "AlignConfig":
        return dataclasses.replace(self, **changes)
