"""HTML inside ticket text, read as the trackers show it: sanitised, as structure and text.

Trac's ``{{{#!html}}}`` blocks, Markdown's HTML blocks and Textile's HTML
tags are shown by their trackers as HTML, after a sanitiser has removed what
could run (scripts, styles, forms' behaviour).  So they are read like a
browser reads them: known elements become the tree's blocks and inlines,
unknown ones give their content, scripts and styles give nothing (they show
nothing), and a comment is kept as one (hidden where the target can hide
it).  Attributes are dropped, except a link's target, an image's source and
a cell's column span.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Final

from migrator.markup.tree import (
    BREAK,
    RULE,
    Block,
    Cell,
    Code,
    CodeBlock,
    Comment,
    Heading,
    Image,
    Inline,
    Link,
    ListBlock,
    Para,
    Quote,
    Styled,
    Table,
    add_text,
)


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


_VOID: Final = _tags("br img hr input meta link col wbr source area base param")
_HIDDEN: Final = _tags("script style head title template noscript iframe object")
INLINE_STYLES: Final = {
    "b": "strong",
    "strong": "strong",
    "i": "em",
    "em": "em",
    "cite": "em",
    "dfn": "em",
    "var": "em",
    "u": "u",
    "ins": "u",
    "s": "del",
    "del": "del",
    "strike": "del",
    "sup": "sup",
    "sub": "sub",
}
CODE_TAGS: Final = _tags("code tt kbd samp")
_BLOCKS: Final = _tags(
    "p div h1 h2 h3 h4 h5 h6 ul ol li blockquote pre table thead tbody tfoot tr td th "
    "hr dl dt dd section article aside header footer nav main figure figcaption "
    "details summary address center form fieldset"
)


class _Element:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Element | str] = []


class _Dom(HTMLParser):
    """A forgiving tree builder: unclosed elements close with their parent, as browsers do."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p" or (tag in _BLOCKS and tag not in ("li", "td", "th", "tr")):
            self._close_open("p")
        if tag == "li":
            self._close_sibling("li", ("ul", "ol"))
        elif tag in ("td", "th"):
            self._close_sibling("td", ("tr",))
            self._close_sibling("th", ("tr",))
        elif tag == "tr":
            self._close_sibling("tr", ("table", "thead", "tbody", "tfoot"))
        elif tag in ("dt", "dd"):
            self._close_sibling("dt", ("dl",))
            self._close_sibling("dd", ("dl",))
        el = _Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(el)
        if tag not in _VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        self._close_open(tag)

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        self.stack[-1].children.append(_Element("!--", {"text": data}))

    def _close_open(self, tag: str) -> None:
        for k in range(len(self.stack) - 1, 0, -1):
            if self.stack[k].tag == tag:
                del self.stack[k:]
                return

    def _close_sibling(self, tag: str, parents: tuple[str, ...]) -> None:
        for k in range(len(self.stack) - 1, 0, -1):
            t = self.stack[k].tag
            if t in parents:
                return
            if t == tag:
                del self.stack[k:]
                return


def read_html(html: str) -> list[Block]:
    """The blocks a tracker shows for ``html`` (a fragment; nothing is executed or fetched)."""
    dom = _Dom()
    dom.feed(html)
    dom.close()
    return _Blocks().blocks(dom.root.children)


def read_inline_html(html: str) -> list[Inline]:
    """The inlines of an HTML fragment that holds no blocks (a Textile or Markdown phrase)."""
    dom = _Dom()
    dom.feed(html)
    dom.close()
    out: list[Inline] = []
    _Blocks().inlines(dom.root.children, out)
    return out


class _Blocks:
    def blocks(self, nodes: list[_Element | str]) -> list[Block]:
        out: list[Block] = []
        inline: list[Inline] = []

        def flush() -> None:
            _strip(inline)
            if inline:
                out.append(Para(list(inline)))
            inline.clear()

        for node in nodes:
            if isinstance(node, _Element) and node.tag in _BLOCKS:
                flush()
                out.extend(self.block(node))
            elif isinstance(node, _Element) and node.tag == "!--":
                flush()  # shown by nothing; kept, hidden where the target can hide it
                if node.attrs["text"].strip():
                    out.append(Comment(node.attrs["text"].strip("\n")))
            else:
                self.inlines([node], inline)
        flush()
        return out

    def block(self, el: _Element) -> list[Block]:
        tag = el.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            inl: list[Inline] = []
            self.inlines(el.children, inl)
            _strip(inl)
            return [Heading(int(tag[1]), inl)] if inl else []
        if tag == "pre":
            text = "".join(_text(el))
            return [CodeBlock(text[1:] if text.startswith("\n") else text.rstrip("\n"))]
        if tag == "hr":
            return [RULE]
        if tag in ("ul", "ol"):
            items = [self.blocks(li.children) for li in _children(el, "li")]
            start = el.attrs.get("start", "1")
            number = int(start) if start.lstrip("-").isdigit() else 1
            return [ListBlock(tag == "ol", items or [[]], number)]
        if tag == "blockquote":
            return [Quote(self.blocks(el.children))]
        if tag == "table":
            rows: list[list[Cell]] = []
            for tr in _rows(el):
                row: list[Cell] = []
                for cell in _children(tr, "td", "th"):
                    inl = []
                    self.inlines(cell.children, inl, cell=True)
                    _strip(inl)
                    span = cell.attrs.get("colspan", "1")
                    colspan = int(span) if span.isdigit() and int(span) > 0 else 1
                    row.append(Cell(inl, cell.tag == "th", colspan))
                rows.append(row)
            return [Table(rows)] if rows else []
        if tag in ("dt", "summary"):
            inl = []
            self.inlines(el.children, inl)
            _strip(inl)
            if tag == "summary":  # a disclosure's title, shown as a line of its own
                return [Para(inl)] if inl else []
            return [Para([Styled("strong", inl)])] if inl else []
        return self.blocks(el.children)  # div, section, dd, li outside a list...

    def inlines(self, nodes: list[_Element | str], out: list[Inline], cell: bool = False) -> None:
        for node in nodes:
            if isinstance(node, str):
                add_text(out, " ".join(node.split("\n")) if "\n" in node else node)
                continue
            tag = node.tag
            if tag in _HIDDEN or tag == "!--":
                continue
            if tag == "br":
                out.append(BREAK)
            elif tag == "img":
                src = node.attrs.get("src", "")
                if src:
                    out.append(Image(src, node.attrs.get("alt", "")))
            elif tag == "a" and node.attrs.get("href"):
                children: list[Inline] = []
                self.inlines(node.children, children, cell)
                href = node.attrs["href"]
                out.append(Link(href, [] if children == [href] else children))
            elif tag in CODE_TAGS:
                text = "".join(_text(node))
                if text:
                    out.append(Code(text))
            elif tag in INLINE_STYLES:
                children = []
                self.inlines(node.children, children, cell)
                if children:
                    out.append(Styled(INLINE_STYLES[tag], children))
            elif tag in _BLOCKS and cell:
                if out and not isinstance(out[-1], type(BREAK)):
                    out.append(BREAK)
                self.inlines(node.children, out, cell)
            else:  # span, abbr, font, block elements in a phrase...: their content shows
                self.inlines(node.children, out, cell)


def _children(el: _Element, *tags: str) -> list[_Element]:
    return [c for c in el.children if isinstance(c, _Element) and c.tag in tags]


def _rows(table: _Element) -> list[_Element]:
    rows: list[_Element] = []
    for c in table.children:
        if isinstance(c, _Element):
            if c.tag == "tr":
                rows.append(c)
            elif c.tag in ("thead", "tbody", "tfoot"):
                rows.extend(_children(c, "tr"))
    return rows


def _text(el: _Element) -> list[str]:
    out: list[str] = []
    for c in el.children:
        if isinstance(c, str):
            out.append(c)
        elif c.tag == "br":
            out.append("\n")
        elif c.tag not in _HIDDEN:
            out.extend(_text(c))
    return out


def _strip(inlines: list[Inline]) -> None:
    """White space at the ends of a block shows nothing; HTML collapses it."""
    while inlines and isinstance(inlines[0], str) and not inlines[0].strip():
        inlines.pop(0)
    while inlines and isinstance(inlines[-1], str) and not inlines[-1].strip():
        inlines.pop()
    if inlines and isinstance(inlines[0], str):
        inlines[0] = inlines[0].lstrip()
    if inlines and isinstance(inlines[-1], str):
        inlines[-1] = inlines[-1].rstrip()
