"""`align`: align long audio (or its transcript log) with the original text."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Optional, Sequence

from ..common.errors import UsageError
from ..text.metrics import INT_METRICS, METRIC_IDS, METRIC_NAMES
from .common import HelpFormatter, Parser, add_logging_options, add_version_option, run_main, setup_logging

log = logging.getLogger("align")


def _finite(v: str) -> float:
    try:
        x = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {v!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {v!r}")
    return x


def _frame_length(v: str) -> int:
    n = int(v)
    if n not in (10, 20, 30):
        raise argparse.ArgumentTypeError(f"must be 10, 20 or 30 (ms), got {v}")
    return n


def _positive_int(v: str) -> int:
    n = int(v)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return n


def _positive_int_or_none(v: str):
    return None if v.lower() == "none" else _positive_int(v)


def _finite_or_none(v: str):
    return None if v.lower() == "none" else _finite(v)


def build_parser() -> argparse.ArgumentParser:
    from ..audio.vad import VadParams
    from ..text.similarity import SIMILARITY_ALGOS

    from ..config import DEFAULT_ALPHABET, STT_ENGINES

    p = Parser(
        prog="align", formatter_class=HelpFormatter,
        description="Align long speech audio (or its .tlog transcript log) with its original text; "
        "writes an .aligned JSON list of utterances.",
    )
    add_version_option(p)
    g = p.add_argument_group("input and output")
    g.add_argument("--audio", type=Path, help="speech audio (WAV/FLAC/OGG, or anything ffmpeg reads)")
    g.add_argument("--tlog", type=Path, help="transcript log: read if valid, else written after speech-to-text "
                   "(default with --audio: the audio path with suffix .tlog)")
    g.add_argument("--script", type=Path, help="original text: plain text, or a .script JSON list of {text, ...meta}")
    g.add_argument("--aligned", type=Path, help="output .aligned JSON file")
    g.add_argument("--catalog", type=Path, help="align many documents: a JSON list of {audio, tlog, script, aligned} "
                   "(paths relative to the catalog; tlog and aligned derive from audio when omitted); documents "
                   "done with the same options and inputs are skipped unless --force")
    g.add_argument("--force", action="store_true", help="overwrite an existing --aligned file; with --catalog, "
                   "redo documents that are done")

    g = p.add_argument_group("catalog runs")
    g.add_argument("--ignore-missing", action="store_true",
                   help="skip catalog entries whose input files are missing (default: they count as failed)")
    g.add_argument("--workers", type=_positive_int, default=None,
                   help="documents aligned at the same time (default: the number of CPUs)")
    g.add_argument("--executor", choices=("process", "ray", "serial"), default="process",
                   help="process: a pool of local worker processes; ray: Ray actors (pip install 'align[ray]'); "
                   "serial: one by one in this process (debugging)")
    g.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="with --executor ray: a running cluster ('auto' or ray://host:port); default: start a "
                   "local one")
    g.add_argument("--report", type=Path, default=None, metavar="RUN.json",
                   help="write a machine-readable report of the run (every entry: status, cause, hours)")
    g.add_argument("--alphabet", type=Path, default=None,
                   help=f"alphabet file of the speech-to-text model (default: {DEFAULT_ALPHABET.relative_to(DEFAULT_ALPHABET.parents[2])})")
    g.add_argument("--start", type=int, default=0, help="skip this many transcript fragments (>= 0)")
    g.add_argument("--num-samples", type=int, default=None, help="align at most this many fragments after --start (0 or unset: all)")
    g.add_argument("--demo", action="store_true", help="synthesise a short sample, align it and print the result")
    g.add_argument("--demo-dir", type=Path, default=None,
                   help="keep the demo's audio, text, .tlog and .aligned in this directory (default: a temporary "
                   "directory, deleted afterwards)")
    add_logging_options(g)
    g.add_argument("--text-context", type=int, default=10, help="clean characters of context shown around matches in DEBUG logs (>= 0)")

    g = p.add_argument_group("audio and voice activity detection")
    vad = VadParams()
    g.add_argument("--vad-engine", choices=("webrtc", "silero"), default=vad.engine,
                   help="webrtc (webrtcvad), or silero (pip install 'align[silero]')")
    g.add_argument("--audio-vad-aggressiveness", type=int, choices=(0, 1, 2, 3), default=vad.aggressiveness,
                   help="webrtcvad mode: 3 filters non-speech most aggressively")
    g.add_argument("--audio-vad-padding", type=_positive_int, default=vad.padding, help="VAD ring buffer length in frames")
    g.add_argument("--audio-vad-threshold", type=_finite, default=vad.threshold,
                   help="fraction of voiced (unvoiced) frames in the ring that starts (ends) a fragment, in [0, 1)")
    g.add_argument("--audio-vad-frame-length", type=_frame_length, default=vad.frame_ms, help="VAD frame length: 10, 20 or 30 ms")
    g.add_argument("--audio-vad-tail", type=_finite_or_none, default=vad.tail_ms,
                   help="ms kept after a fragment's last voiced or above-floor frame, >= 0 ('none': keep the whole tail)")
    g.add_argument("--audio-vad-onset", type=_finite_or_none, default=vad.onset_ms,
                   help="how far (ms) a fragment's start may move back over sound above the local noise floor "
                   "that the VAD missed, e.g. weak first consonants; 0 to 5000 ('none': no edge refinement)")
    g.add_argument("--audio-vad-offset", type=_finite, default=vad.offset_ms,
                   help="how far (ms) a fragment's end may move forward over such sound, 0 to 5000")
    g.add_argument("--audio-vad-energy-margin", type=_finite, default=vad.energy_margin_db, metavar="DB",
                   help="dB above the local noise floor that counts as sound for the edge refinement, in (0, 60]")
    g.add_argument("--audio-denoise", choices=("auto", "on", "off"), default=vad.denoise,
                   help="noise suppression (Wiener filter) before the VAD and speech-to-text: auto = only when "
                   "the recording's estimated signal-to-noise ratio is under --audio-denoise-below")
    g.add_argument("--audio-vad-noisy-padding", type=_positive_int_or_none, default=vad.noisy_padding,
                   help="VAD ring buffer length in frames when noise suppression filtered the audio (a longer "
                   "pause ends a fragment in noise); 'none': --audio-vad-padding always")
    g.add_argument("--audio-vad-noisy-open-threshold", type=_finite_or_none, default=vad.noisy_open_threshold,
                   metavar="FRACTION", help="fraction of voiced frames in the VAD ring that starts a fragment when "
                   "noise suppression filtered the audio (in noise words come out voiced in patches), in [0, 1); "
                   "'none': --audio-vad-threshold always")
    g.add_argument("--audio-vad-join-short", type=_finite_or_none, default=vad.join_short_ms, metavar="MS",
                   help="a fragment shorter than this (ms) is joined to its nearer neighbour when the gap is at most "
                   "--audio-vad-join-gap: one- or two-word pieces of a prompt cannot be placed alone; 'none': never")
    g.add_argument("--audio-vad-join-gap", type=_finite, default=vad.join_gap_ms, metavar="MS",
                   help="longest gap (ms, after edge refinement) across which a short fragment is joined")
    g.add_argument("--audio-denoise-below", type=_finite, default=vad.denoise_below_db, metavar="DB",
                   help="auto noise suppression: estimated SNR (dB) under which the audio is filtered")

    g = p.add_argument_group("speech-to-text")
    g.add_argument("--stt-engine", choices=STT_ENGINES, default=None,
                   help="speech-to-text engine: pocketsphinx (bundled US-English model; the default unless "
                   "--stt-model names a Whisper model), whisper (faster-whisper: pip install '.[whisper]'), "
                   "deepspeech or vosk (these need --stt-model and their extra)")
    g.add_argument("--stt-model", "--stt-model-dir", dest="stt_model_dir", default=None, metavar="NAME_OR_DIR",
                   help="model: a directory (pocketsphinx, CTranslate2 Whisper, DeepSpeech, Vosk), or a Whisper "
                   "model name (tiny.en, base.en, small, ...) taken from the Hugging Face cache or downloaded "
                   "into it once")
    g.add_argument("--stt-prompt", nargs="?", choices=("auto", "on", "off"), const="on", default="auto",
                   help="whisper: give the document's frequent long words to the decoder as hotwords: on "
                   "(--stt-prompt alone), off, or auto (default): only when noise suppression filtered the audio")
    g.add_argument("--stt-model-rate", type=int, default=16000, help="sample rate the model expects (Hz)")
    g.add_argument("--stt-workers", type=_positive_int, default=1, help="speech-to-text worker processes")
    g.add_argument("--stt-no-own-lm", action="store_true", help="do not build a language model from the document")
    g.add_argument("--stt-min-duration", type=_finite, default=100, help="fragments shorter than this (ms, >= 0) are not transcribed")
    g.add_argument("--stt-max-duration", type=_finite, default=None,
                   help="fragments longer than this (ms; at least --stt-min-duration and 64) are cut at their quietest "
                   "points (default: --max-utterance-duration, none with --no-merge)")
    g.add_argument("--lm-cache-dir", type=Path, default=None, help="where document language models are cached "
                   "(default: $ALIGN_CACHE_DIR/lm or ~/.cache/align/lm)")

    g = p.add_argument_group("text normalisation")
    g.add_argument("--text-lines", choices=("auto", "phrases", "wrapped"), default="auto",
                   help="plain text: each line is a phrase (phrases: verse, lists of prompts), or lines are "
                   "only wrapped (wrapped: prose); auto, the default, takes phrases when at least 80%% of "
                   "4 or more lines start with a capital letter")
    g.add_argument("--text-meaningful-newlines", action="store_true", help="the same as --text-lines phrases")
    g.add_argument("--text-max-bytes", type=int, default=None, metavar="BYTES",
                   help="refuse a text file larger than this before reading it (aligning needs about 40 bytes "
                   "of memory per byte of text; 0: no limit; default 50000000)")
    g.add_argument("--text-keep-dashes", action="store_true", help="do not turn dashes into spaces")
    g.add_argument("--text-keep-ws", action="store_true", help="do not collapse whitespace")
    g.add_argument("--text-keep-casing", action="store_true", help="do not lower-case")
    g.add_argument("--text-verbalize", choices=("none", "numbers", "all"), default="all",
                   help="say numbers (numbers), and also symbols and abbreviations (all, the default), in words "
                   "the way a reader does: '2' -> 'two', '5%%' -> 'five percent', 'Dr.' -> 'doctor'")
    g.add_argument("--text-no-furniture", action="store_true",
                   help="keep running heads, page numbers, footnote marks and line-end hyphens in the text "
                   "(by default they are found and left out: nobody reads them)")

    g = p.add_argument_group("alignment")
    g.add_argument("--align-max-candidates", type=_positive_int, default=10, help="distinct candidate places searched per transcript")
    g.add_argument("--align-candidate-threshold", type=_finite, default=0.8,
                   help="a further candidate place needs this fraction (0 to 1) of the best place's shared 3-grams")
    g.add_argument("--align-match-score", type=int, default=100, help="Smith-Waterman score of a matching character (> 0)")
    g.add_argument("--align-mismatch-score", type=int, default=-100, help="Smith-Waterman score of a substitution (<= 0)")
    g.add_argument("--align-gap-score", type=int, default=-100, help="Smith-Waterman score of a gap character (< 0)")
    g.add_argument("--align-min-sws", type=_finite, default=0.5,
                   help="minimum normalised Smith-Waterman score (0 to 1) for a transcript to be placed")
    g.add_argument("--align-min-run", type=_positive_int, default=2,
                   help="a placed transcript needs this many placed neighbours in a row (itself included) whose "
                   "text follows closely; isolated matches are dropped (1: keep them)")
    g.add_argument("--align-run-gap", type=int, default=600,
                   help="most text characters (>= 0) between two matches that still continue a run")
    g.add_argument("--align-solo-sws", type=_finite, default=0.8,
                   help="a transcript of 30+ characters matching at least this well (0 to 1) needs no neighbours")
    g.add_argument("--align-ambiguity", type=_finite, default=0.9,
                   help="a transcript fitting elsewhere at least this well (relative, 0 to 1) anchors only if nothing else can")
    g.add_argument("--align-short-chars", type=_positive_int, default=10,
                   help="a transcript shorter than this (clean characters) needs --align-short-sws")
    g.add_argument("--align-short-sws", type=_finite, default=0.8,
                   help="minimum normalised Smith-Waterman score (0 to 1) of a short transcript")
    g.add_argument("--align-no-word-snap", action="store_true",
                   help="let utterances start or end inside a word (by default they snap to whole words)")
    g.add_argument("--align-no-claim-gaps", action="store_true",
                   help="leave the few words between two neighbouring utterances unclaimed (by default they go to "
                   "one of them: speech-to-text loses short edge words)")
    g.add_argument("--align-claim-max-words", type=int, default=3,
                   help="most words (>= 0) between two neighbouring utterances that one of them may claim")
    g.add_argument("--align-claim-max-pause", type=_finite, default=3000.0, metavar="MS",
                   help="a longer pause (>= 0) between two fragments shows a skip: the words between stay unclaimed")
    g.add_argument("--align-no-bridge", action="store_true",
                   help="do not bridge unread text inside an utterance (by default an unmatched end of a transcript "
                   "is looked for across up to --align-bridge-max characters of unread text, e.g. a footnote)")
    g.add_argument("--align-bridge-max", type=int, default=400,
                   help="longest stretch of unread text (clean characters, >= 0) bridged inside an utterance")
    g.add_argument("--align-no-verbatim-check", action="store_true",
                   help="keep placed transcripts whose words differ from the text's (by default, where the text is "
                   "probably not what was read, only utterances whose label says the transcript's words are kept)")
    g.add_argument("--align-verbatim-share", type=_finite, default=0.5,
                   help="when fewer than this share (0 to 1) of the transcripts are placed, every utterance must be "
                   "verbatim (the text is at best a near copy)")
    g.add_argument("--align-verbatim-local", type=_finite, default=0.5,
                   help="an utterance fewer than this share (0 to 1) of whose 3 neighbours on each side are placed "
                   "must be verbatim")
    g.add_argument("--align-shrink-fraction", type=_finite, default=0.1, help="how far a boundary may move inward (fraction of the match, 0 to 1)")
    g.add_argument("--align-stretch-fraction", type=_finite, default=0.25, help="how far a boundary may move outward (fraction of the match, 0 to 10)")
    g.add_argument("--align-word-snap-factor", type=_finite, default=1.5, help="score factor for a boundary at a word boundary, in (0, 100]")
    g.add_argument("--align-phrase-snap-factor", type=_finite, default=1.0, help="score factor for a boundary at a phrase boundary, in (0, 100]")
    g.add_argument("--align-similarity-algo", default="levenshtein", metavar="ALGO",
                   help=f"similarity used by gap alignment: {', '.join(SIMILARITY_ALGOS)}")
    g.add_argument("--align-wng-min-size", type=_positive_int, default=1, help="wng: smallest n-gram size")
    g.add_argument("--align-wng-max-size", type=_positive_int, default=3, help="wng: largest n-gram size")
    g.add_argument("--align-wng-size-factor", type=_finite, default=1.0, help="wng: weight of the n-gram size, >= 0")
    g.add_argument("--align-wng-position-factor", type=_finite, default=2.5, help="wng: weight of the n-gram position, >= 0")

    g = p.add_argument_group("sentences")
    g.add_argument("--merge-sentences", action="store_true",
                   help="join consecutive utterances that continue one sentence of the text (the VAD splits at "
                   "commas and breaths; the text's punctuation tells where sentences end)")
    g.add_argument("--merge-max-pause", type=_finite, default=2000.0, metavar="MS", help="never join across a longer pause (>= 0)")
    g.add_argument("--merge-max-duration", type=_finite, default=30000.0, metavar="MS",
                   help="--tlog with --merge-sentences: never make a longer utterance (> 0)")
    g.add_argument("--no-merge", action="store_true",
                   help="with --audio: one utterance per VAD fragment (by default fragments are joined into the "
                   "text's sentences)")
    g.add_argument("--max-utterance-duration", type=_finite, default=20.0, metavar="S",
                   help="with --audio: a joined sentence longer than this (seconds) is cut at its longest inner pause; "
                   "so is one VAD fragment (unless --stt-max-duration says otherwise)")

    g = p.add_argument_group("utterance edges", "with --audio: each utterance's start and end move inwards over "
                             "quiet 10 ms frames (the pause the VAD and the second pass leave at an edge); a frame "
                             "this far above the background near the edge is sound and is never cut")
    g.add_argument("--no-trim-edges", action="store_true", help="keep the edges of the fragments as they are")
    g.add_argument("--trim-margin-db", type=_finite, default=4.5, metavar="DB",
                   help="a 10 ms frame this many dB above the upper level of the local background is sound, "
                   "in [0.5, 60]")
    g.add_argument("--trim-spread-db", type=_finite, default=0.0, metavar="DB",
                   help="frames within this many dB of the quietest ones near an edge are background, in [0, 60] "
                   "(0: the quietest level itself; ~8 follows a fluctuating background, e.g. a lossy-coded "
                   "room recording, but may cut the weakest sounds: /f/, /th/, the last of a decay)")
    g.add_argument("--trim-start-pad-ms", type=_finite, default=20.0, metavar="MS",
                   help="keep this much before the first sound frame, in [0, 1000]")
    g.add_argument("--trim-end-pad-ms", type=_finite, default=20.0, metavar="MS",
                   help="keep this much after the last sound frame, in [0, 1000]")
    g.add_argument("--trim-max-ms", type=_finite, default=500.0, metavar="MS",
                   help="cut at most this much at each edge, in [0, 5000]")
    g.add_argument("--trim-word-cap-ms", type=_finite_or_none, default=100.0, metavar="MS",
                   help="where sound lingers after the speech (reverberation, breath, a noisy background), an "
                   "end more than this after the last word's forced-aligned end is cut back to it, in [0, 5000] "
                   "('none': energy only)")
    g.add_argument("--trim-noisy-db", type=_finite, default=30.0, metavar="DB",
                   help="where an utterance stands less than this above the background near an edge, the VAD "
                   "classifier's speech frames are never cut (in noise a word's decay sinks under the "
                   "background), in [0, 120]")
    g.add_argument("--trim-strong-db", type=_finite, default=15.0, metavar="DB",
                   help="sound lingers when it lasts --trim-word-cap-ms past the last frame within this many dB "
                   "of the utterance's loud level, in [1, 90]")

    g = p.add_argument_group("second pass", "with --audio: fragments left out by the first alignment are "
                             "decoded again against the text between their aligned neighbours")
    g.add_argument("--no-second-pass", action="store_true", help="align the first-pass transcripts only")
    g.add_argument("--second-pass-rounds", type=_positive_int, default=3,
                   help="re-decode and re-align at most this often (stops when nothing changes)")
    g.add_argument("--second-pass-min-score", type=_finite, default=-1.6, metavar="NATS",
                   help="proof needed: mean acoustic score per 10 ms frame of the decoded words relative to a free "
                   "phone decode (0 = as good; lower accepts more); the calibration may lower it for a recording")
    g.add_argument("--second-pass-no-calibrate", action="store_true",
                   help="keep the proof's thresholds fixed: do not lower them for a recording whose own certain "
                   "words score low (telephone band, noise, reverberation)")
    g.add_argument("--second-pass-no-seed", action="store_true",
                   help="when the first pass placed under 30%% of the fragments, do not look for anchors where "
                   "the garbled transcripts point (then nothing is re-decoded)")

    g = p.add_argument_group("output", "metrics are fractions (1.0 = 100%), tlen/mlen are character counts; "
                             "a bound of 0 is a real bound")
    g.add_argument("--output-pretty", action="store_true", help="indent the JSON output")
    g.add_argument("--formats", default="aligned", metavar="F1,F2",
                   help="output formats, comma-separated (registered writers of align.writers; each but "
                   "'aligned' goes next to the --aligned file with its own suffix)")
    g.add_argument("--output-format", choices=("srt", "vtt"), action="append", default=[],
                   help="also write subtitles carrying the original text next to --aligned (same as adding the "
                   "format to --formats)")
    g.add_argument("--subtitle-timing", choices=("chars", "words", "lines", "karaoke"), default="chars",
                   help="srt/vtt cue times: chars (share each utterance's time by characters), words (cues timed "
                   "by their words), lines (one cue per line of <= 42 characters), karaoke (VTT: a timestamp "
                   "before every word); all but chars imply --output-words")
    g.add_argument("--output-words", action="store_true",
                   help="word timings in every utterance (forced alignment of its text against its audio; needs --audio)")
    g.add_argument("--output-phones", action="store_true", help="phone timings too (implies --output-words)")
    g.add_argument("--words-refine-bounds", action="store_true",
                   help="move each utterance's start/end to its first word's onset and last word's offset")
    g.add_argument("--words-start-pad-ms", type=_finite, default=0.0, metavar="MS",
                   help="with --words-refine-bounds: keep this much before the first word (>= 0)")
    g.add_argument("--words-end-pad-ms", type=_finite, default=50.0, metavar="MS",
                   help="with --words-refine-bounds: keep this much after the last word (>= 0)")
    g.add_argument("--words-downsample", type=int, default=1, metavar="N",
                   help="forced alignment scores every Nth frame only (1-4; 2 cuts its CPU by ~40%% for a few ms "
                   "of mean word-boundary error)")
    g.add_argument("--output-textgrid", action="store_true",
                   help="a Praat TextGrid (utterance, word, phone tiers) beside the --aligned file (implies --output-words)")
    g.add_argument("--textgrid-dir", type=Path, default=None, metavar="DIR",
                   help="write TextGrids into DIR as <document id>.TextGrid (implies --output-textgrid)")
    g.add_argument("--output-unaligned", action="store_true",
                   help="write <aligned>.unaligned.json: text no utterance covers (with a guessed kind) and speech "
                   "no utterance covers; the summary gives both totals")
    g.add_argument("--unaligned-long-words", type=int, default=12, metavar="N",
                   help="uncovered running text of more than N words is a 'long passage'")
    g.add_argument("--unaligned-min-audio-ms", type=_finite, default=200.0, metavar="MS",
                   help="uncovered speech shorter than this is not listed")
    for m in METRIC_IDS:
        kind = int if m in INT_METRICS else _finite
        g.add_argument(f"--output-{m}", action="store_true", help=f"add the {METRIC_NAMES[m]} to every utterance")
        g.add_argument(f"--output-min-{m}", type=kind, default=None, metavar="V", help=f"drop utterances with {m} < V")
        g.add_argument(f"--output-max-{m}", type=kind, default=None, metavar="V", help=f"drop utterances with {m} > V")
    return p


def _fragment_max_ms(args: argparse.Namespace):
    """--stt-max-duration, else the utterance limit when fragments are merged into sentences: a
    fragment the VAD heard no pause in is cut at its quietest point like any utterance over the
    limit (two sentences read without a pause were one 20 s utterance)."""
    if args.stt_max_duration is not None or args.no_merge:
        return args.stt_max_duration
    limit = 1000.0 * args.max_utterance_duration
    return limit if math.isfinite(limit) and limit >= max(args.stt_min_duration, 64) else None


def config_from_args(args: argparse.Namespace):
    """The AlignConfig of the parsed options: only a mapping; AlignConfig validates itself when built."""
    from ..audio.vad import VadParams
    from ..config import AlignConfig, RunOptions
    from ..stt.base import SttParams
    from ..text.edges import EdgeParams
    from ..text.engine import AlignParams, MergeParams
    from ..text.furniture import FurnitureParams
    from ..text.gap import GapParams
    from ..text.metrics import Bound, FilterParams
    from ..text.normalise import TextParams
    from ..text.rough import RoughParams
    from ..text.search import SearchParams
    from ..text.similarity import WngParams
    from ..text.sw import SwParams
    from ..text.verbatim import VerbatimParams

    wng = WngParams(args.align_wng_min_size, args.align_wng_max_size, args.align_wng_size_factor,
                    args.align_wng_position_factor)
    bounds = tuple(Bound(m, getattr(args, f"output_min_{m}"), getattr(args, f"output_max_{m}")) for m in METRIC_IDS
                   if getattr(args, f"output_min_{m}") is not None or getattr(args, f"output_max_{m}") is not None)
    output = tuple(m for m in METRIC_IDS if getattr(args, f"output_{m}"))
    params = AlignParams(
        text=TextParams(args.text_keep_dashes, args.text_keep_ws, args.text_keep_casing, args.text_verbalize,
                        FurnitureParams(enabled=not args.text_no_furniture)),
        rough=RoughParams(
            SearchParams(args.align_max_candidates, args.align_candidate_threshold,
                         SwParams(args.align_match_score, args.align_mismatch_score, args.align_gap_score)),
            min_score=args.align_min_sws, min_run=args.align_min_run, run_gap=args.align_run_gap,
            max_ambiguity=args.align_ambiguity, solo_score=args.align_solo_sws,
            short_chars=args.align_short_chars, short_score=args.align_short_sws,
        ),
        edges=EdgeParams(snap_words=not args.align_no_word_snap, claim_gaps=not args.align_no_claim_gaps,
                         max_words=args.align_claim_max_words, max_pause_ms=args.align_claim_max_pause,
                         bridge=not args.align_no_bridge, bridge_max_chars=args.align_bridge_max),
        verbatim=VerbatimParams(enabled=not args.align_no_verbatim_check, doc_share=args.align_verbatim_share,
                                local_share=args.align_verbatim_local),
        gap=GapParams(args.align_shrink_fraction, args.align_stretch_fraction, args.align_word_snap_factor,
                      args.align_phrase_snap_factor, args.align_similarity_algo.lower(), wng),
        filters=FilterParams(output, bounds, wng),
        merge=MergeParams(args.merge_sentences, args.merge_max_pause, args.merge_max_duration),
        text_context=args.text_context,
    )
    vad = VadParams(
        engine=args.vad_engine, aggressiveness=args.audio_vad_aggressiveness, padding=args.audio_vad_padding,
        threshold=args.audio_vad_threshold, frame_ms=args.audio_vad_frame_length,
        min_duration_ms=args.stt_min_duration, max_duration_ms=_fragment_max_ms(args), tail_ms=args.audio_vad_tail,
        onset_ms=args.audio_vad_onset, offset_ms=args.audio_vad_offset, energy_margin_db=args.audio_vad_energy_margin,
        denoise=args.audio_denoise, denoise_below_db=args.audio_denoise_below, noisy_padding=args.audio_vad_noisy_padding,
        noisy_open_threshold=args.audio_vad_noisy_open_threshold,
        join_short_ms=args.audio_vad_join_short, join_gap_ms=args.audio_vad_join_gap,
    )
    engine, why, model = args.stt_engine, "--stt-engine", str(args.stt_model_dir) if args.stt_model_dir else None
    if engine is None:
        from ..stt.registry import choose_engine

        engine, why, model = choose_engine(model, english=args.alphabet is None)
    stt = SttParams(
        engine=engine, model_dir=model,
        model_rate=args.stt_model_rate, workers=args.stt_workers, own_lm=not args.stt_no_own_lm,
        prompt=args.stt_prompt,
    )
    from ..proofcal import CalibrationParams
    from ..secondpass import SecondPassParams
    from ..stt.constrained import ConstrainedParams

    second = SecondPassParams(enabled=not args.no_second_pass, max_rounds=args.second_pass_rounds,
                              decode=ConstrainedParams(min_mean_score=args.second_pass_min_score),
                              calibrate=CalibrationParams(enabled=not args.second_pass_no_calibrate),
                              seed=not args.second_pass_no_seed)
    import os

    run = RunOptions(force=args.force, show_progress=not args.no_progress, ignore_missing=args.ignore_missing,
                     workers=args.workers or os.cpu_count() or 1, executor=args.executor,
                     ray_address=args.ray_address,
                     lm_cache_dir=str(args.lm_cache_dir) if args.lm_cache_dir else None,
                     **({} if args.text_max_bytes is None else {"text_max_bytes": args.text_max_bytes}))
    from ..unaligned import UnalignedParams
    from ..words import WordParams

    formats = [f.strip() for f in args.formats.split(",") if f.strip()] + list(args.output_format)
    if args.output_textgrid or args.textgrid_dir is not None:
        formats.append("textgrid")
    if args.output_unaligned:
        formats.append("unaligned")
    words = WordParams(words=args.output_words or args.output_phones or "textgrid" in formats
                       or args.subtitle_timing != "chars",
                       phones=args.output_phones, refine_bounds=args.words_refine_bounds,
                       end_pad_ms=args.words_end_pad_ms, start_pad_ms=args.words_start_pad_ms,
                       downsample=args.words_downsample)
    unaligned = UnalignedParams(long_words=args.unaligned_long_words, min_audio_ms=args.unaligned_min_audio_ms)
    from ..bounds import BoundsParams

    bounds = BoundsParams(trim=not args.no_trim_edges, margin_db=args.trim_margin_db, spread_db=args.trim_spread_db,
                          start_pad_ms=args.trim_start_pad_ms, end_pad_ms=args.trim_end_pad_ms,
                          max_trim_ms=args.trim_max_ms, word_cap_ms=args.trim_word_cap_ms,
                          strong_db=args.trim_strong_db, noisy_db=args.trim_noisy_db)
    config = AlignConfig(align=params, vad=vad, stt=stt, alphabet=str(args.alphabet) if args.alphabet else None,
                       meaningful_newlines=True if args.text_meaningful_newlines else {"auto": None, "phrases": True, "wrapped": False}[args.text_lines],
                       start=args.start,
                       num_samples=args.num_samples, pretty=args.output_pretty, run=run,
                       audio_merge=not args.no_merge, max_utterance_s=args.max_utterance_duration,
                       second_pass=second, bounds=bounds,
                       formats=tuple(dict.fromkeys(formats)), words=words, unaligned=unaligned,
                       textgrid_dir=str(args.textgrid_dir) if args.textgrid_dir is not None else None,
                       subtitle_timing=args.subtitle_timing)
    if args.audio is not None or args.catalog is not None:  # logged once the options are known to be valid
        log.info("speech-to-text engine: %s (%s)", engine, why)
    return config


def _same_file(a: Optional[Path], b: Optional[Path]) -> bool:
    return a is not None and b is not None and Path(a).resolve() == Path(b).resolve()


def check_job_paths(job, where: str = "") -> None:
    """The output must not overwrite an input (compared as resolved paths)."""
    for key in ("script", "tlog", "audio"):
        if _same_file(job.aligned, getattr(job, key)):
            raise UsageError(f"{where}--aligned {job.aligned} is the same file as --{key}; give another output path")


def run_align(args: argparse.Namespace) -> int:
    from ..pipeline import EXIT_TEXT_MISMATCH, DocumentJob, align_document

    if args.catalog is not None:
        if any(v is not None for v in (args.audio, args.tlog, args.script, args.aligned)):
            raise UsageError("--catalog takes the inputs and outputs from the catalog; "
                             "drop --audio/--tlog/--script/--aligned")
    else:
        missing = [o for o, v in (("--script", args.script), ("--aligned", args.aligned)) if v is None]
        if args.audio is None and args.tlog is None:
            missing.insert(0, "--audio or --tlog")
        if missing:
            raise UsageError(f"missing {', '.join(missing)} (or use --catalog or --demo); see align --help")
    if args.catalog is None:
        for opt, v in (("--ignore-missing", args.ignore_missing), ("--workers", args.workers),
                       ("--report", args.report), ("--ray-address", args.ray_address),
                       ("--executor", args.executor != "process")):
            if v:
                raise UsageError(f"{opt} is an option of catalog runs (--catalog)")
    elif args.ray_address and args.executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    config = config_from_args(args)  # every option error here, before any work
    if args.catalog is None and args.audio is None and (config.words.words or config.words.phones):
        what = "--output-textgrid" if "textgrid" in config.formats and not args.output_words else "--output-words"
        raise UsageError(f"{what} needs the audio (word timings come from it); add --audio")
    alphabet = config.load_alphabet()
    if args.catalog is None:
        from ..resume import write_stamp

        job = DocumentJob(args.script, args.aligned, args.audio, args.tlog)
        check_job_paths(job)
        if job.aligned.is_dir():
            raise UsageError(f"--aligned {job.aligned} is a directory; give a file path")
        if job.aligned.exists() and not config.run.force:
            raise UsageError(f"{job.aligned} already exists; pass --force to overwrite it")
        result = align_document(job, config, alphabet=alphabet)
        write_stamp(job, result.config_hash, result.outputs, result.counts())
        return EXIT_TEXT_MISMATCH if result.text_mismatch else 0

    from ..batch import run_catalog
    from ..catalog import read_catalog
    from ..common.executors import make_executor

    from ..common.locks import output_lock

    jobs = read_catalog(args.catalog)
    log.info("catalog %s: %d entries, %s executor, %d worker(s)", args.catalog, len(jobs), config.run.executor,
             config.run.workers)
    # One run per catalog at a time: a second one would redo or race the first one's documents.
    with output_lock(args.catalog, f"catalog {args.catalog}", busy="is being aligned by"):
        with make_executor(config.run.executor, config.run.workers, config.run.ray_address) as executor:
            report = run_catalog(jobs, config, executor, loglevel=args.loglevel, report_path=args.report)
    print("\n".join(report.summary_lines()), file=sys.stderr)  # the table, whatever the log level
    if report.failed:
        return 1
    return EXIT_TEXT_MISMATCH if any(e.text_mismatch for e in report.entries) else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.loglevel)
    if args.demo:
        from ..demo import run_demo

        return run_main("align", lambda: run_demo(config_from_args(args), args.demo_dir, args.aligned), parser)
    return run_main("align", lambda: run_align(args), parser,
                    interrupted="interrupted (finished documents are stamped done; rerun to resume)")


if __name__ == "__main__":
    sys.exit(main())
