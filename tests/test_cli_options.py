"""Command-line hygiene of both tools: one-line option errors with suggestions, finite numeric
options, --version, a --help without duplicated defaults, outputs that would overwrite inputs."""

import json
import re
import subprocess
import sys

import pytest

from tests.test_cli_align import doc  # noqa: F401 (fixture)


def cli(tool, *args):
    return subprocess.run([sys.executable, "-m", f"align.cli.{tool}", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("tool,typo,fix", [("align", "--align-strech-fraction", "--align-stretch-fraction"),
                                           ("align", "--merge-sentence", "--merge-sentences"),
                                           ("mine", "--exector", "--executor")])
def test_mistyped_option_is_one_line_with_a_suggestion(tool, typo, fix):
    r = cli(tool, typo, "1")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"unknown option {typo}; did you mean {fix}?" in lines[0]


@pytest.mark.parametrize("tool", ["align", "mine"])
def test_version(tool):
    from align import __version__

    r = cli(tool, "--version")
    assert r.returncode == 0 and r.stdout.strip() == f"{tool} {__version__}"


def test_help_has_no_duplicated_defaults_or_escaped_percent():
    r = cli("align", "--help")
    assert r.returncode == 0
    text = r.stdout
    assert "(default: None)" not in text and "%%" not in text
    assert "1.0 = 100%)" in text
    # no option line mentions its default twice
    for block in re.split(r"\n  (?=-)", text):
        assert block.lower().count("default") <= 1 + block.lower().count("defaults"), block
    stt = re.search(r"--stt-engine \{[^}]*\}\s+(.*?)\n  --", text, re.S)
    assert stt and "speech-to-text engine" in stt.group(1)


@pytest.mark.parametrize("opt,value", [("--align-stretch-fraction", "nan"), ("--audio-vad-offset", "inf"),
                                       ("--merge-max-pause", "nan"), ("--output-max-cer", "nan"),
                                       ("--audio-vad-tail", "-inf"), ("--align-shrink-fraction", "1.5"),
                                       ("--audio-vad-energy-margin", "0"), ("--stt-max-duration", "50"),
                                       ("--align-word-snap-factor", "-1"), ("--stt-model-rate", "0")])
def test_numeric_options_are_finite_and_in_range(doc, tmp_path, capsys, opt, value):  # noqa: F811
    from align.cli.align import main

    # in process (the subprocess path of one-line errors is covered above and in test_catalog_runs)
    try:
        code = main(["--no-progress", "--tlog", str(doc / "book.tlog"), "--script", str(doc / "book.txt"),
                     "--aligned", str(tmp_path / "o.aligned"), opt, value])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert opt in err
    assert not (tmp_path / "o.aligned").exists()


@pytest.mark.parametrize("same", ["script", "tlog"])
def test_aligned_must_not_be_an_input(doc, tmp_path, same):  # noqa: F811
    import shutil

    shutil.copy(doc / "book.txt", tmp_path / "book.txt")
    shutil.copy(doc / "book.tlog", tmp_path / "book.tlog")
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    target = tmp_path / f"book.{'txt' if same == 'script' else 'tlog'}"
    # spelled differently (./x/../): the paths are compared resolved
    alias = tmp_path / "sub" / ".." / target.name
    (tmp_path / "sub").mkdir()
    r = cli("align", "--no-progress", "--tlog", tmp_path / "book.tlog", "--script", tmp_path / "book.txt",
            "--aligned", alias, "--force")
    assert r.returncode == 2 and f"same file as --{same}" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in before} == before

    cat = tmp_path / "c.json"
    cat.write_text(json.dumps([{"tlog": "book.tlog", "script": "book.txt", "aligned": target.name}]))
    r = cli("align", "--no-progress", "--catalog", cat)
    assert r.returncode == 2 and "same file as" in r.stderr and "entry 0" in r.stderr
    assert {p: p.read_bytes() for p in before} == before
