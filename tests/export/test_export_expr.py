"""The safe expression language of --filter/--criteria: semantics against Python, and its errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from align.export.expr import ExprEvalError, ExprSyntaxError, MissingField, compile_expr

FIELDS = ("cer", "wer", "duration", "aligned", "start")


def ev(src: str, **values):
    return compile_expr(src, FIELDS).evaluate_mapping(values)


@pytest.mark.parametrize("src,expected", [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("2 ** 3 ** 2", 2 ** 3 ** 2),
    ("-2 ** 2", -(2 ** 2)),
    ("7 % 3 - 10 / 4", 7 % 3 - 10 / 4),
    ("1 < 2 < 3", True),
    ("3 > 2 > 2", False),
    ("not 1 == 1 or 2 != 3 and true", True),
    ("'ab' in 'cab'", True),
    ("'x' not in 'cab'", True),
    ("max(1, 5, 3) + min(4, 2) + abs(-1) + len('abc')", 11),
    ("round(2.567, 1)", 2.6),
    ("words('a b  c')", 3),
    ("lower('AbC') == 'abc'", True),
    ("1e-3 * 1000", 1.0),
    ("null == null", True),
])
def test_values(src, expected):
    assert ev(src) == expected


def test_fields_and_meta():
    e = compile_expr("cer < 0.1 and meta.speaker == 'bob' and duration >= 2", FIELDS)
    assert e.fields == {"cer", "meta.speaker", "duration"}
    assert e.evaluate_mapping({"cer": 0.05, "meta.speaker": "bob", "duration": 2.0}) is True
    assert e.evaluate_mapping({"cer": 0.05, "meta.speaker": "ann", "duration": 2.0}) is False
    # short-circuit: a field that is not read is not needed
    assert compile_expr("cer > 1 and wer > 1", FIELDS).evaluate_mapping({"cer": 0.0}) is False
    with pytest.raises(MissingField):
        compile_expr("wer > 1", FIELDS).evaluate_mapping({"cer": 0.0})


def test_null_ordering_is_false():
    assert ev("meta.x < 3", **{"meta.x": None}) is False
    assert ev("meta.x >= 3", **{"meta.x": None}) is False
    assert ev("meta.x != 3", **{"meta.x": None}) is True


@pytest.mark.parametrize("src,needle,pos", [
    ("cre < 0.1", "unknown field 'cre'", 1),
    ("cer < 0.1 and durration > 1", "unknown field 'durration'", 15),
    ("cer <", "unexpected end", 6),
    ("cer < 0.1)", "unexpected ')'", 10),
    ("(cer < 0.1", "expected ')'", 11),
    ("cer @ 1", "unexpected character '@'", 5),
    ("'abc", "unterminated string", 1),
    ("foo(1)", "unknown function 'foo'", 1),
    ("len(1, 2)", "len() takes 1", 1),
    ("", "empty expression", 1),
    ("cer < and", "unexpected keyword 'and'", 7),
    ("__import__('os')", "unknown function '__import__'", 1),
    ("cer.__class__", "unknown field 'cer.__class__'", 1),
])
def test_syntax_errors_name_the_problem_and_position(src, needle, pos):
    with pytest.raises(ExprSyntaxError) as ei:
        compile_expr(src, FIELDS, "--filter")
    msg = str(ei.value)
    assert msg.startswith("--filter: ")
    assert needle in msg
    assert f"position {pos}" in msg


def test_unknown_field_suggests():
    with pytest.raises(ExprSyntaxError, match="did you mean 'cer'"):
        compile_expr("cre > 1", FIELDS)


def test_eval_errors_are_user_errors():
    with pytest.raises(ExprEvalError, match=r"'/' at position 5"):
        ev("cer / 0", cer=1.0)
    with pytest.raises(ExprEvalError, match="position 9"):
        ev("aligned + 1", aligned="x")


def test_no_python_eval_escape():
    # Attribute access and subscripts are not in the language at all.
    for src in ("aligned.__class__", "aligned[0]", "lambda: 1", "x if y else z", "a; b"):
        with pytest.raises(ExprSyntaxError):
            compile_expr(src, FIELDS)


_ops = st.sampled_from(["+", "-", "*", "<", "<=", ">", ">=", "==", "!=", "and", "or"])


@st.composite
def _exprs(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return str(draw(st.integers(-5, 5))) if draw(st.booleans()) else draw(st.sampled_from(["cer", "wer"]))
    if draw(st.integers(0, 4)) == 0:
        return f"(not {draw(_exprs(depth - 1))})"
    return f"({draw(_exprs(depth - 1))} {draw(_ops)} {draw(_exprs(depth - 1))})"


@settings(max_examples=150, deadline=None)
@given(_exprs(), st.integers(-3, 3), st.integers(-3, 3))
def test_agrees_with_python_on_the_common_subset(src, cer, wer):
    # Oracle: Python evaluates the same fully parenthesised text identically (and/or as truth values).
    expected = eval(src, {"__builtins__": {}}, {"cer": cer, "wer": wer})  # noqa: S307 - test oracle only
    got = compile_expr(src, FIELDS).evaluate_mapping({"cer": cer, "wer": wer})
    assert bool(got) == bool(expected)
    if not isinstance(expected, bool) and not isinstance(got, bool):
        assert math.isclose(got, expected)
