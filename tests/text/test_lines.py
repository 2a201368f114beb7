"""Plain texts that read line by line (verse, prompt lists) make one phrase per line by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from align.text.script import lines_are_phrases, read_script

VERSE = """Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
"""
PROSE = """The licenses for most software and other practical works are designed
to take away your freedom to share and change the works.  By contrast,
the GNU General Public License is intended to guarantee your freedom to
share and change all versions of a program--to make sure it remains free
software for all its users.  We, the Free Software Foundation, use the
GNU General Public License for most of our software; it applies also to
any other work released specifically by its authors.  You can apply it to
your programs, too.
"""


def test_verse_and_prompts_read_by_line():
    assert lines_are_phrases(VERSE)
    assert lines_are_phrases("  \"Yes,\" he said.\n(Then) A pause.\n- Begin here.\nOne more prompt.\n")


def test_wrapped_prose_short_texts_and_caseless_scripts_do_not():
    assert not lines_are_phrases(PROSE)
    assert not lines_are_phrases("One line.\nTwo lines.\nThree lines.\n")   # too few lines to tell
    assert not lines_are_phrases("\n".join(["你好世界"] * 6))                  # no case to read
    # one line in five without a capital is allowed, two in six are not
    assert lines_are_phrases(VERSE + "and often is his gold complexion dimm'd;\n")
    assert not lines_are_phrases(VERSE + "sometime too hot the eye of heaven shines,\nand often is his gold complexion dimm'd;\n")


@pytest.mark.parametrize("setting,want", [(None, 4), (True, 4), (False, 1)])
def test_read_script_phrases(tmp_path: Path, setting, want):
    p = tmp_path / "verse.txt"
    p.write_text("\n" + VERSE + "\n", encoding="utf-8")
    original, phrases = read_script(p, setting)
    assert len(phrases) == want
    if want == 4:
        assert [original[ph.start:ph.end] for ph in phrases] == VERSE.splitlines()
    p.write_text(PROSE, encoding="utf-8")
    assert len(read_script(p, None)[1]) == 1


def test_a_wrapped_preface_stays_one_phrase_among_verse_lines(tmp_path: Path):
    """A poetry book's prose preface (wrapped, lines mostly starting lower case) is one phrase;
    the verse around it is a phrase per line."""
    preface = ("This little book gathers the sonnets as they were printed\nin the first edition, with "
               "the spelling of that time kept\nwhere it changes the sound of a line.\n")
    text = "Sonnets\n\n" + preface + "\n" + VERSE + "\n" + VERSE
    assert lines_are_phrases(text)
    p = tmp_path / "book.txt"
    p.write_text(text, encoding="utf-8")
    original, phrases = read_script(p, None)
    got = [original[ph.start:ph.end] for ph in phrases]
    assert got == ["Sonnets", preface.rstrip("\n")] + VERSE.splitlines() * 2
    # forced line phrases keep every line apart
    assert len(read_script(p, True)[1]) == 1 + 3 + 8


def test_prompts_that_start_with_numbers_read_by_line():
    """Prompt lists write numbers as digits ("10 of clubs", "2 9 3 4 0"); such lines start a
    prompt like a capital does, but a text needs capitals on half its lines to qualify."""
    prompts = ("Go forward 10 meters.\n2 9 3 4 0\n10 of clubs.\n4, queen of clubs.\n7 of clubs.\n"
               "Front Left.\nFront Right.\nSide Left.\n")
    assert lines_are_phrases(prompts)
    assert not lines_are_phrases("1\n2\n3\n4\n5\n")
    # prose wrapped so that a line starts with a number now and then stays prose
    assert not lines_are_phrases(PROSE.replace("share and change all", "share and change\n3 versions"))


def test_a_prompt_list_with_utterance_ids_reads_by_line_with_ids_as_meta(tmp_path: Path):
    text = "spk1_0001 Go forward 10 meters.\nspk1_0002 Front Left.\nspk1_0003 2 9 3 4 0\nspk1_0004 Rear Right.\n"
    assert lines_are_phrases(text)
    p = tmp_path / "text"
    p.write_text(text, encoding="utf-8")
    original, phrases = read_script(p, None)
    assert [ph.meta for ph in phrases] == [{"id": f"spk1_000{k}"} for k in range(1, 5)]
    assert [original[ph.start:ph.end] for ph in phrases] == text.splitlines()
