"""A small, safe expression language over an utterance's fields (`--filter`, `--criteria`).

The reference exporter `eval`'d user text as Python; here a tokenizer and a recursive-descent
parser build a tree of closures, so the only things an expression can do are the operators and
functions listed below. Grammar (loosest binding first):

    expr   := or
    or     := and ("or" and)*
    and    := not ("and" not)*
    not    := "not" not | cmp
    cmp    := sum (("<" | "<=" | ">" | ">=" | "==" | "!=" | "in" | "not" "in") sum)*   (chained)
    sum    := prod (("+" | "-") prod)*
    prod   := unary (("*" | "/" | "%") unary)*
    unary  := "-" unary | "+" unary | power
    power  := atom ("**" unary)?
    atom   := NUMBER | STRING | "true" | "false" | "null" | NAME ("." NAME)*
            | FUNC "(" [expr ("," expr)*] ")" | "(" expr ")"

Names are checked when the expression is compiled: an unknown field is an error naming it and its
position, with the closest known names. `meta.KEY` is any meta key (its first value, or null).
Ordering comparisons with null are false; `==`/`!=` compare null normally. `and`/`or`
short-circuit and give an operand's value, as in Python.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Collection, Mapping

from ..common.errors import UsageError, UserError


class ExprSyntaxError(UsageError):
    """A malformed expression or an unknown field (reported with its character position)."""


class ExprEvalError(UserError):
    """An expression that fails on one utterance (wrong types, a missing metric, division by zero)."""


class MissingField(Exception):
    """Raised by a field lookup when the utterance lacks the field (e.g. a metric not written)."""


FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # name: (function, min args, max args)
    "abs": (abs, 1, 1),
    "min": (min, 1, 16),
    "max": (max, 1, 16),
    "round": (round, 1, 2),
    "len": (len, 1, 1),
    "sqrt": (math.sqrt, 1, 1),
    "log": (math.log, 1, 2),
    "exp": (math.exp, 1, 1),
    "lower": (lambda s: s.lower(), 1, 1),
    "upper": (lambda s: s.upper(), 1, 1),
    "words": (lambda s: len(s.split()), 1, 1),
}
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|==|!=|[-+*/%<>(),.])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str   # num str name op end
    text: str
    pos: int    # 0-based character offset


def tokenize(source: str, option: str = "expression") -> list[Token]:
    tokens, pos = [], 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            if source[pos] in "\"'":
                raise ExprSyntaxError(f"{option}: unterminated string starting at position {pos + 1}: {source!r}")
            raise ExprSyntaxError(f"{option}: unexpected character {source[pos]!r} at position {pos + 1}: {source!r}")
        kind = m.lastgroup
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


def _unescape(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


Node = Callable[[Callable[[str], Any]], Any]   # lookup -> value


def _cmp(op: str) -> Callable[[Any, Any], bool]:
    def ordered(f: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
        def g(a: Any, b: Any) -> bool:
            if a is None or b is None:
                return False
            return f(a, b)
        return g

    return {
        "<": ordered(lambda a, b: a < b), "<=": ordered(lambda a, b: a <= b),
        ">": ordered(lambda a, b: a > b), ">=": ordered(lambda a, b: a >= b),
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
        "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
    }[op]


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "%": lambda a, b: a % b, "**": lambda a, b: a ** b,
}


class _Parser:
    def __init__(self, source: str, fields: Collection[str], option: str):
        self.source = source
        self.fields = set(fields)
        self.option = option
        self.tokens = tokenize(source, option)
        self.i = 0
        self.used: set[str] = set()

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, msg: str, tok: Token | None = None) -> ExprSyntaxError:
        tok = tok or self.tok
        return ExprSyntaxError(f"{self.option}: {msg} at position {tok.pos + 1}: {self.source!r}")

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, text: str, what: str) -> Token:
        t = self.accept(kind, text)
        if t is None:
            found = "the end of the expression" if self.tok.kind == "end" else repr(self.tok.text)
            raise self.error(f"expected {what}, found {found}")
        return t

    def wrap(self, tok: Token, f: Callable[..., Any], *args: Node) -> Node:
        """Apply `f` to evaluated args; Python's own errors become ExprEvalError naming the position."""
        option = self.option

        def node(lookup: Callable[[str], Any]) -> Any:
            vals = [a(lookup) for a in args]
            try:
                return f(*vals)
            except (TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
                shown = ", ".join(repr(v) for v in vals)
                raise ExprEvalError(f"{option}: {tok.text!r} at position {tok.pos + 1} failed on ({shown}): {e}") from None
        return node

    # -- grammar
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.error("empty expression")
        node = self.or_()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.accept("name", "or"):
            left, right = node, self.and_()
            node = (lambda l, r: lambda env: l(env) or r(env))(left, right)
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.accept("name", "and"):
            left, right = node, self.not_()
            node = (lambda l, r: lambda env: l(env) and r(env))(left, right)
        return node

    def not_(self) -> Node:
        if self.accept("name", "not"):
            inner = self.not_()
            return lambda env: not inner(env)
        return self.cmp()

    def cmp_op(self) -> tuple[Token, str] | None:
        t = self.tok
        if t.kind == "op" and t.text in ("<", "<=", ">", ">=", "==", "!="):
            self.i += 1
            return t, t.text
        if t.kind == "name" and t.text == "in":
            self.i += 1
            return t, "in"
        if t.kind == "name" and t.text == "not" and self.tokens[self.i + 1].text == "in":
            self.i += 2
            return t, "not in"
        return None

    def cmp(self) -> Node:
        first = self.sum()
        parts: list[Node] = []
        left = first
        while (found := self.cmp_op()) is not None:
            tok, op = found
            right = self.sum()
            parts.append(self.wrap(tok, _cmp(op), left, right))
            left = right
        if not parts:
            return first
        if len(parts) == 1:
            return parts[0]
        return lambda env: all(p(env) for p in parts)

    def sum(self) -> Node:
        node = self.prod()
        while self.tok.kind == "op" and self.tok.text in "+-":
            tok = self.tok
            self.i += 1
            node = self.wrap(tok, _ARITH[tok.text], node, self.prod())
        return node

    def prod(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "%"):
            tok = self.tok
            self.i += 1
            node = self.wrap(tok, _ARITH[tok.text], node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.tok
        if self.accept("op", "-"):
            return self.wrap(tok, lambda a: -a, self.unary())
        if self.accept("op", "+"):
            return self.wrap(tok, lambda a: +a, self.unary())
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        tok = self.tok
        if self.accept("op", "**"):
            node = self.wrap(tok, _ARITH["**"], node, self.unary())
        return node

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            v = float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
            return lambda env: v
        if t.kind == "str":
            self.i += 1
            s = _unescape(t.text)
            return lambda env: s
        if self.accept("op", "("):
            node = self.or_()
            self.expect("op", ")", "')'")
            return node
        if t.kind == "name":
            if t.text in ("true", "false", "null"):
                self.i += 1
                c = {"true": True, "false": False, "null": None}[t.text]
                return lambda env: c
            if t.text in KEYWORDS:
                raise self.error(f"unexpected keyword {t.text!r}")
            if self.tokens[self.i + 1].kind == "op" and self.tokens[self.i + 1].text == "(":
                return self.call()
            return self.field()
        if t.kind == "end":
            raise self.error("unexpected end of expression")
        raise self.error(f"unexpected {t.text!r}")

    def call(self) -> Node:
        t = self.tok
        if t.text not in FUNCTIONS:
            near = difflib.get_close_matches(t.text, FUNCTIONS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; functions: {', '.join(sorted(FUNCTIONS))}"
            raise self.error(f"unknown function {t.text!r}{hint}", t)
        self.i += 2
        args: list[Node] = []
        if not self.accept("op", ")"):
            args.append(self.or_())
            while self.accept("op", ","):
                args.append(self.or_())
            self.expect("op", ")", "',' or ')'")
        f, lo, hi = FUNCTIONS[t.text]
        if not lo <= len(args) <= hi:
            raise self.error(f"{t.text}() takes {lo}" + (f" to {hi}" if hi != lo else "") +
                             f" argument(s), got {len(args)}", t)
        return self.wrap(t, f, *args)

    def field(self) -> Node:
        t = self.tok
        self.i += 1
        name = t.text
        while self.tok.kind == "op" and self.tok.text == ".":
            self.i += 1
            part = self.tok
            if part.kind != "name":
                raise self.error("expected a name after '.'")
            self.i += 1
            name += "." + part.text
        if name.startswith("meta.") and name.count(".") == 1:
            pass
        elif name not in self.fields:
            near = difflib.get_close_matches(name, sorted(self.fields), n=3)
            hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
            raise ExprSyntaxError(f"{self.option}: unknown field {name!r} at position {t.pos + 1}{hint} "
                                  f"(fields: {', '.join(sorted(self.fields))}, meta.<key>)")
        self.used.add(name)
        return lambda lookup: lookup(name)


@dataclass(frozen=True)
class Expression:
    """A compiled expression: call `evaluate(lookup)` with a function from field name to value."""

    source: str
    option: str
    fields: frozenset[str]      # the fields it reads
    _node: Node

    def evaluate(self, lookup: Callable[[str], Any]) -> Any:
        return self._node(lookup)

    def evaluate_mapping(self, values: Mapping[str, Any]) -> Any:
        def lookup(name: str) -> Any:
            if name in values:
                return values[name]
            raise MissingField(name)
        return self._node(lookup)


def compile_expr(source: str, fields: Collection[str], option: str = "expression") -> Expression:
    """Parse `source`; syntax errors and unknown fields raise ExprSyntaxError (exit 2) with the position."""
    p = _Parser(source, fields, option)
    node = p.parse()
    return Expression(source, option, frozenset(p.used), node)
