"""`align`: align long audio (or its transcript log) with the original text."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from ..common.errors import UsageError, UserError
from ..common.fileio import atomic_write_json
from ..common.progress import progress
from ..text.metrics import INT_METRICS, METRIC_IDS, METRIC_NAMES, Bound, FilterParams
from .common import add_logging_options, run_main, setup_logging

log = logging.getLogger("align")

DEFAULT_ALPHABET = Path(__file__).resolve().parents[2] / "models" / "en" / "alphabet.txt"


def _frame_length(v: str) -> int:
    n = int(v)
    if n not in (10, 20, 30):
        raise argparse.ArgumentTypeError(f"must be 10, 20 or 30 (ms), got {v}")
    return n


def _fraction(v: str) -> float:
    x = float(v)
    if not 0.0 <= x <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {v}")
    return x


def _positive_int(v: str) -> int:
    n = int(v)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return n


def _open_fraction(v: str) -> float:
    x = float(v)
    if not 0.0 <= x < 1.0:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {v}")
    return x


def _tail(v: str):
    if v.lower() == "none":
        return None
    x = float(v)
    if x < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 ms or 'none', got {v}")
    return x


def build_parser() -> argparse.ArgumentParser:
    from ..audio.vad import VadParams
    from ..text.similarity import SIMILARITY_ALGOS

    p = argparse.ArgumentParser(
        prog="align", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Align long speech audio (or its .tlog transcript log) with its original text; "
        "writes an .aligned JSON list of utterances.",
    )
    g = p.add_argument_group("input and output")
    g.add_argument("--audio", type=Path, help="speech audio (WAV/FLAC/OGG, or anything ffmpeg reads)")
    g.add_argument("--tlog", type=Path, help="transcript log: read if valid, else written after speech-to-text "
                   "(default with --audio: the audio path with suffix .tlog)")
    g.add_argument("--script", type=Path, help="original text: plain text, or a .script JSON list of {text, ...meta}")
    g.add_argument("--aligned", type=Path, help="output .aligned JSON file")
    g.add_argument("--catalog", type=Path, help="align many documents: a JSON list of {audio, tlog, script, aligned} "
                   "(paths relative to the catalog); finished documents are skipped unless --force")
    g.add_argument("--force", action="store_true", help="overwrite an existing --aligned file")
    g.add_argument("--alphabet", type=Path, default=None,
                   help=f"alphabet file of the speech-to-text model (default: {DEFAULT_ALPHABET.relative_to(DEFAULT_ALPHABET.parents[2])})")
    g.add_argument("--start", type=int, default=0, help="skip this many transcript fragments")
    g.add_argument("--num-samples", type=int, default=None, help="align at most this many fragments (after --start)")
    g.add_argument("--demo", action="store_true", help="synthesise a short sample, align it and print the result")
    add_logging_options(g)
    g.add_argument("--text-context", type=int, default=10, help="clean characters of context shown around matches in DEBUG logs")

    g = p.add_argument_group("audio and voice activity detection")
    vad = VadParams()
    g.add_argument("--vad-engine", choices=("webrtc", "silero"), default=vad.engine,
                   help="webrtc (webrtcvad), or silero (pip install 'align[silero]')")
    g.add_argument("--audio-vad-aggressiveness", type=int, choices=(0, 1, 2, 3), default=vad.aggressiveness,
                   help="webrtcvad mode: 3 filters non-speech most aggressively")
    g.add_argument("--audio-vad-padding", type=_positive_int, default=vad.padding, help="VAD ring buffer length in frames")
    g.add_argument("--audio-vad-threshold", type=_open_fraction, default=vad.threshold,
                   help="fraction of voiced (unvoiced) frames in the ring that starts (ends) a fragment")
    g.add_argument("--audio-vad-frame-length", type=_frame_length, default=vad.frame_ms, help="VAD frame length: 10, 20 or 30 ms")
    g.add_argument("--audio-vad-tail", type=_tail, default=vad.tail_ms,
                   help="ms kept after a fragment's last voiced or above-floor frame ('none': keep the whole tail)")
    g.add_argument("--audio-vad-onset", type=_tail, default=vad.onset_ms,
                   help="how far (ms) a fragment's start may move back over sound above the local noise floor "
                   "that the VAD missed, e.g. weak first consonants ('none': no edge refinement)")
    g.add_argument("--audio-vad-offset", type=float, default=vad.offset_ms,
                   help="how far (ms) a fragment's end may move forward over such sound")
    g.add_argument("--audio-vad-energy-margin", type=float, default=vad.energy_margin_db, metavar="DB",
                   help="dB above the local noise floor that counts as sound for the edge refinement")

    g = p.add_argument_group("speech-to-text")
    g.add_argument("--stt-engine", choices=("pocketsphinx", "deepspeech", "whisper", "vosk"), default="pocketsphinx")
    g.add_argument("--stt-model-dir", type=Path, default=None,
                   help="model directory (default: pocketsphinx's bundled US-English model; models/en for deepspeech)")
    g.add_argument("--stt-model-rate", type=int, default=16000, help="sample rate the model expects (Hz)")
    g.add_argument("--stt-workers", type=_positive_int, default=1, help="speech-to-text worker processes")
    g.add_argument("--stt-no-own-lm", action="store_true", help="do not build a language model from the document")
    g.add_argument("--stt-min-duration", type=float, default=100, help="fragments shorter than this (ms) are not transcribed")
    g.add_argument("--stt-max-duration", type=float, default=None,
                   help="fragments longer than this (ms) are cut at their quietest points")
    g.add_argument("--lm-cache-dir", type=Path, default=None, help="where document language models are cached "
                   "(default: $ALIGN_CACHE_DIR/lm or ~/.cache/align/lm)")

    g = p.add_argument_group("text normalisation")
    g.add_argument("--text-meaningful-newlines", action="store_true", help="plain text: each line is a phrase")
    g.add_argument("--text-keep-dashes", action="store_true", help="do not turn dashes into spaces")
    g.add_argument("--text-keep-ws", action="store_true", help="do not collapse whitespace")
    g.add_argument("--text-keep-casing", action="store_true", help="do not lower-case")

    g = p.add_argument_group("alignment")
    g.add_argument("--align-max-candidates", type=_positive_int, default=10, help="candidate windows searched per transcript")
    g.add_argument("--align-candidate-threshold", type=_fraction, default=0.92,
                   help="a further candidate window needs this fraction of the previous one's shared 3-grams")
    g.add_argument("--align-match-score", type=int, default=100, help="Smith-Waterman score of a matching character (> 0)")
    g.add_argument("--align-mismatch-score", type=int, default=-100, help="Smith-Waterman score of a substitution (<= 0)")
    g.add_argument("--align-gap-score", type=int, default=-100, help="Smith-Waterman score of a gap character (< 0)")
    g.add_argument("--align-min-sws", type=_fraction, default=0.5,
                   help="minimum normalised Smith-Waterman score for a transcript to be placed")
    g.add_argument("--align-min-run", type=_positive_int, default=2,
                   help="a placed transcript needs this many placed neighbours in a row (itself included) whose "
                   "text follows closely; isolated matches are dropped (1: keep them)")
    g.add_argument("--align-run-gap", type=int, default=600,
                   help="most text characters between two matches that still continue a run")
    g.add_argument("--align-solo-sws", type=_fraction, default=0.8,
                   help="a transcript of 30+ characters matching at least this well needs no neighbours")
    g.add_argument("--align-ambiguity", type=_fraction, default=0.9,
                   help="a transcript fitting elsewhere at least this well (relative) anchors only if nothing else can")
    g.add_argument("--align-shrink-fraction", type=_fraction, default=0.1, help="how far a boundary may move inward")
    g.add_argument("--align-stretch-fraction", type=float, default=0.25, help="how far a boundary may move outward")
    g.add_argument("--align-word-snap-factor", type=float, default=1.5, help="score factor for a boundary at a word boundary")
    g.add_argument("--align-phrase-snap-factor", type=float, default=1.0, help="score factor for a boundary at a phrase boundary")
    g.add_argument("--align-similarity-algo", default="levenshtein", metavar="ALGO",
                   help=f"similarity used by gap alignment: {', '.join(SIMILARITY_ALGOS)}")
    g.add_argument("--align-wng-min-size", type=_positive_int, default=1, help="wng: smallest n-gram size")
    g.add_argument("--align-wng-max-size", type=_positive_int, default=3, help="wng: largest n-gram size")
    g.add_argument("--align-wng-size-factor", type=float, default=1.0, help="wng: weight of the n-gram size")
    g.add_argument("--align-wng-position-factor", type=float, default=2.5, help="wng: weight of the n-gram position")

    g = p.add_argument_group("sentences")
    g.add_argument("--merge-sentences", action="store_true",
                   help="join consecutive utterances that continue one sentence of the text (the VAD splits at "
                   "commas and breaths; the text's punctuation tells where sentences end)")
    g.add_argument("--merge-max-pause", type=float, default=2000.0, metavar="MS", help="never join across a longer pause")
    g.add_argument("--merge-max-duration", type=float, default=30000.0, metavar="MS", help="never make a longer utterance")

    g = p.add_argument_group("output", "metrics are fractions (1.0 = 100%%), tlen/mlen are character counts; "
                             "a bound of 0 is a real bound")
    g.add_argument("--output-pretty", action="store_true", help="indent the JSON output")
    for m in METRIC_IDS:
        kind = int if m in INT_METRICS else float
        g.add_argument(f"--output-{m}", action="store_true", help=f"add the {METRIC_NAMES[m]} to every utterance")
        g.add_argument(f"--output-min-{m}", type=kind, default=None, metavar="V", help=f"drop utterances with {m} < V")
        g.add_argument(f"--output-max-{m}", type=kind, default=None, metavar="V", help=f"drop utterances with {m} > V")
    return p


def params_from_args(args: argparse.Namespace):
    """The library's parameter dataclasses from parsed options (validated here, once)."""
    from ..text.engine import AlignParams, MergeParams
    from ..text.gap import GapParams
    from ..text.normalise import TextParams
    from ..text.rough import RoughParams
    from ..text.search import SearchParams
    from ..text.similarity import SIMILARITY_ALGOS, WngParams
    from ..text.sw import SwParams

    algo = args.align_similarity_algo.lower()
    if algo not in SIMILARITY_ALGOS:
        raise UsageError(f"--align-similarity-algo: unknown algorithm {args.align_similarity_algo!r}; "
                         f"choose one of {', '.join(SIMILARITY_ALGOS)}")
    if args.align_match_score <= 0 or args.align_mismatch_score > 0 or args.align_gap_score >= 0:
        raise UsageError("Smith-Waterman scores: --align-match-score must be > 0, --align-mismatch-score <= 0 "
                         "and --align-gap-score < 0")
    if args.align_wng_min_size > args.align_wng_max_size:
        raise UsageError("--align-wng-min-size must not exceed --align-wng-max-size")
    wng = WngParams(args.align_wng_min_size, args.align_wng_max_size, args.align_wng_size_factor,
                    args.align_wng_position_factor)
    bounds = []
    for m in METRIC_IDS:
        lo, hi = getattr(args, f"output_min_{m}"), getattr(args, f"output_max_{m}")
        if lo is not None or hi is not None:
            if lo is not None and hi is not None and lo > hi:
                raise UsageError(f"--output-min-{m} ({lo}) is greater than --output-max-{m} ({hi})")
            bounds.append(Bound(m, lo, hi))
    output = tuple(m for m in METRIC_IDS if getattr(args, f"output_{m}"))
    return AlignParams(
        text=TextParams(args.text_keep_dashes, args.text_keep_ws, args.text_keep_casing),
        rough=RoughParams(
            SearchParams(args.align_max_candidates, args.align_candidate_threshold,
                         SwParams(args.align_match_score, args.align_mismatch_score, args.align_gap_score)),
            min_score=args.align_min_sws, min_run=args.align_min_run, run_gap=args.align_run_gap,
            max_ambiguity=args.align_ambiguity, solo_score=args.align_solo_sws,
        ),
        gap=GapParams(args.align_shrink_fraction, args.align_stretch_fraction, args.align_word_snap_factor,
                      args.align_phrase_snap_factor, algo, wng),
        filters=FilterParams(output, tuple(bounds), wng),
        merge=MergeParams(args.merge_sentences, args.merge_max_pause, args.merge_max_duration),
        text_context=args.text_context,
    )


def default_alphabet():
    from ..text.alphabet import ENGLISH_LABELS, Alphabet, load_alphabet

    return load_alphabet(DEFAULT_ALPHABET) if DEFAULT_ALPHABET.exists() else Alphabet.from_labels(ENGLISH_LABELS)


def _check_output(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise UserError(f"{path} already exists; pass --force to overwrite it")
    if path.is_dir():
        raise UserError(f"--aligned {path} is a directory; give a file path")


def run_align(args: argparse.Namespace) -> int:
    from ..catalog import Job, read_catalog
    from ..text.alphabet import load_alphabet

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
    if args.start < 0 or (args.num_samples is not None and args.num_samples < 0):
        raise UsageError("--start and --num-samples must not be negative")
    params = params_from_args(args)
    alphabet = default_alphabet() if args.alphabet is None else load_alphabet(args.alphabet)
    if args.catalog is None:
        job = Job(args.script, args.aligned, args.audio, args.tlog)
        _check_output(job.aligned, args.force)
        align_job(job, args, params, alphabet)
        return 0

    jobs = read_catalog(args.catalog)
    done, skipped, failed = 0, 0, []
    for k, job in enumerate(progress(jobs, enabled=not args.no_progress, desc="documents", unit="doc")):
        if job.aligned.exists() and not args.force:
            skipped += 1  # already aligned: a rerun resumes where the last one stopped
            continue
        try:
            align_job(job, args, params, alphabet)
            done += 1
        except UserError as e:
            failed.append((k, job, str(e)))
            log.error("entry %d (%s) skipped: %s", k, job.name, e)
        except Exception as e:  # a bug or an engine crash on one document must not stop the batch
            failed.append((k, job, f"unexpected {type(e).__name__}: {e}"))
            log.exception("entry %d (%s) skipped after an unexpected error", k, job.name)
    log.info("catalog %s: %d documents aligned, %d already done (kept; --force redoes them), %d failed",
             args.catalog, done, skipped, len(failed))
    for k, job, msg in failed:
        log.info("  failed entry %d (%s): %s", k, job.name, msg)
    return 1 if failed else 0


def align_job(job, args: argparse.Namespace, params, alphabet):
    """Align one document (the single-file mode and each catalog entry)."""
    from ..text.engine import align_transcripts
    from ..text.normalise import normalise
    from ..text.script import read_script
    from ..tlog import load_tlog

    original, phrases = read_script(job.script, args.text_meaningful_newlines)
    if not original.strip():
        raise UserError(f"{job.script}: the text file is empty")
    ct = normalise(original, phrases, alphabet, params.text)
    if not ct.clean.strip():
        raise UserError(f"{job.script}: the text has no character of the alphabet "
                        f"({args.alphabet or 'English'}); is it the right file and language?")

    t0 = time.perf_counter()
    if job.audio is not None:
        entries = _transcribe(args, job, ct.clean)
    else:
        if not job.tlog.exists():
            raise UserError(f"transcript log not found: {job.tlog} (give --audio to create it)")
        entries, _ = load_tlog(job.tlog)
    t_stt = time.perf_counter() - t0

    end = None if not args.num_samples else args.start + args.num_samples
    entries = entries[args.start:end]

    # Searches outnumber fragments (retries in sub-intervals, neighbour confirmations): a count, no total.
    with progress(enabled=not args.no_progress, desc="align", unit="search") as bar:
        result = align_transcripts(entries, ct, alphabet, params, on_search=lambda: bar.update(1))
    atomic_write_json(job.aligned, [u.to_dict() for u in result.utterances], pretty=args.output_pretty)

    for line in result.summary_lines():
        log.info("%s", line)
    t = result.timings
    log.info("wrote %d utterances to %s (speech-to-text %.2f s, alignment %.2f s: rough %.2f s, gap %.2f s)",
             len(result.utterances), job.aligned, t_stt, sum(t.values()), t["rough"], t["gap"])
    return result


def _transcribe(args: argparse.Namespace, job, clean: str):
    from ..audio.vad import VadParams
    from ..stt.base import SttParams
    from ..transcribe import transcribe_audio

    if args.stt_min_duration < 0 or (args.stt_max_duration is not None and args.stt_max_duration <= args.stt_min_duration):
        raise UsageError("--stt-max-duration must be greater than --stt-min-duration (both in ms)")
    vad = VadParams(
        engine=args.vad_engine, aggressiveness=args.audio_vad_aggressiveness, padding=args.audio_vad_padding,
        threshold=args.audio_vad_threshold, frame_ms=args.audio_vad_frame_length,
        min_duration_ms=args.stt_min_duration, max_duration_ms=args.stt_max_duration, tail_ms=args.audio_vad_tail,
        onset_ms=args.audio_vad_onset, offset_ms=args.audio_vad_offset, energy_margin_db=args.audio_vad_energy_margin,
    )
    stt = SttParams(
        engine=args.stt_engine, model_dir=str(args.stt_model_dir) if args.stt_model_dir else None,
        model_rate=args.stt_model_rate, workers=args.stt_workers, own_lm=not args.stt_no_own_lm,
    )
    tlog = job.tlog or job.audio.with_suffix(".tlog")
    return transcribe_audio(job.audio, tlog, clean, vad, stt, lm_cache_dir=args.lm_cache_dir,
                            pretty=args.output_pretty, show_progress=not args.no_progress)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.loglevel)
    if args.demo:
        from ..demo import run_demo

        return run_main("align", lambda: run_demo(args), parser)
    return run_main("align", lambda: run_align(args), parser)


if __name__ == "__main__":
    sys.exit(main())
