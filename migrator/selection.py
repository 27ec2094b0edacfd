"""``--where`` expressions: a small, safe filter language over staged tickets.

Migration leads select batches by project, type, status or date range
(``project = 'core' and created < '2020-01-01'``).  Expressions are parsed
into a tree and evaluated by walking it, never by ``eval``: the text comes
from a command line and must not be able to run code.

Grammar::

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "not" factor | "(" expr ")" | FIELD OP VALUE
            | FIELD ["not"] "in" "(" VALUE ("," VALUE)* ")"
            | FIELD "like" VALUE             (% and _ wildcards)
            | FIELD "is" ["not"] "null"
    OP     := = | != | < | <= | > | >=
    VALUE  := 'text' | "text" | number
    FIELD  := id | project | type | status | resolution | priority | severity
            | reporter | assignee | milestone | version | component | label
            | created | updated | closed | title | custom.NAME
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from migrator.errors import ConfigError
from migrator.model import Ticket

FIELDS = (
    "id",
    "project",
    "type",
    "status",
    "resolution",
    "priority",
    "severity",
    "reporter",
    "assignee",
    "milestone",
    "version",
    "component",
    "label",
    "created",
    "updated",
    "closed",
    "title",
)
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*))"
)
Predicate = Callable[[Ticket], bool]


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise _error(text, pos, "unexpected character")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace(value[0] * 2, value[0])
        out.append(_Tok(kind, value, m.start(kind)))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _error(text: str, pos: int, what: str) -> ConfigError:
    return ConfigError(
        f"--where: {what} at column {pos + 1}: {text[:pos]}»{text[pos:]}",
        remedy="e.g. --where \"project = 'core' and status in ('new', 'assigned')\" "
        "(see `migrator batch create -h`)",
    )


def _values(ticket: Ticket, name: str) -> list[str]:
    """A field's values as strings: several for components and labels, none when empty."""
    if name.startswith("custom."):
        v = ticket.custom.get(name[len("custom.") :])
        return [v] if v else []
    if name == "component":
        return list(ticket.components)
    if name == "label":
        return list(ticket.labels)
    if name == "id":
        return [ticket.source_id]
    v = getattr(ticket, name)
    return [str(v)] if v not in (None, "") else []


def _compare(op: str, left: str, right: str) -> bool:
    # Numbers compare as numbers (ids), everything else as text (ISO times sort as text).
    a: Any = left
    b: Any = right
    if re.fullmatch(r"-?\d+(\.\d+)?", left) and re.fullmatch(r"-?\d+(\.\d+)?", right):
        a, b = float(left), float(right)
    result: bool = {
        "=": a == b,
        "!=": a != b,
        "<>": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]
    return result


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, *words: str) -> bool:
        t = self.toks[self.i]
        return t.kind in ("word", "op") and t.text.lower() in words

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, word: str) -> None:
        if not self.peek(word):
            raise _error(self.text, self.toks[self.i].pos, f"expected {word!r}")
        self.take()

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.toks[self.i].kind != "end":
            raise _error(self.text, self.toks[self.i].pos, "unexpected text")
        return pred

    def expr(self) -> Predicate:
        return self._joined("or", self.term, any)

    def term(self) -> Predicate:
        return self._joined("and", self.factor, all)

    def _joined(
        self, word: str, part: Callable[[], Predicate], combine: Callable[[Iterator[bool]], bool]
    ) -> Predicate:
        """``part (word part)*``: one part as it is, several combined by ``any`` or ``all``."""
        parts = [part()]
        while self.peek(word):
            self.take()
            parts.append(part())
        return parts[0] if len(parts) == 1 else (lambda t: combine(p(t) for p in parts))

    def value(self) -> str:
        t = self.take()
        if t.kind not in ("str", "num"):
            raise _error(self.text, t.pos, "expected a quoted value or a number")
        return t.text

    def factor(self) -> Predicate:
        if self.peek("not"):
            self.take()
            inner = self.factor()
            return lambda t: not inner(t)
        if self.peek("("):
            self.take()
            inner = self.expr()
            self.expect(")")
            return inner
        t = self.take()
        name = t.text
        if t.kind != "word" or not (name in FIELDS or name.startswith("custom.")):
            raise _error(self.text, t.pos, f"expected a field ({', '.join(FIELDS)}, custom.NAME)")
        negate = False
        if self.peek("not"):
            self.take()
            negate = True
            if not self.peek("in"):
                raise _error(self.text, self.toks[self.i].pos, "expected 'in' after 'not'")
        if self.peek("in"):
            self.take()
            self.expect("(")
            options = {self.value()}
            while self.peek(","):
                self.take()
                options.add(self.value())
            self.expect(")")
            return lambda t: any(v in options for v in _values(t, name)) != negate
        if self.peek("like"):
            self.take()
            pattern = self.value()
            rx = re.compile(
                "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern),
                re.IGNORECASE | re.DOTALL,
            )
            return lambda t: any(rx.fullmatch(v) for v in _values(t, name))
        if self.peek("is"):
            self.take()
            want_null = True
            if self.peek("not"):
                self.take()
                want_null = False
            self.expect("null")
            return lambda t: (not _values(t, name)) == want_null
        op = self.take()
        if op.kind != "op" or op.text not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise _error(self.text, op.pos, "expected a comparison (=, !=, <, <=, >, >=, in)")
        right = self.value()
        if op.text in ("!=", "<>"):
            return lambda t: all(_compare(op.text, v, right) for v in _values(t, name))
        return lambda t: any(_compare(op.text, v, right) for v in _values(t, name))


def parse_where(text: str) -> Predicate:
    """A predicate over tickets; raises ConfigError (exit 2) naming the column of a mistake."""
    return _Parser(text).parse()
