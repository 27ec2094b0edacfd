"""Plain text: paragraphs as written, indented runs (logs, tracebacks) preformatted."""

from __future__ import annotations

import re

from migrator.markup.tree import Block, CodeBlock, Context, Para

_INDENTED = re.compile(r"(?: {4}|\t)")


def read(text: str, warnings: list[str], context: Context) -> list[Block]:
    """Paragraphs as written; runs of indented lines (logs, tracebacks) stay preformatted."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n[ \t]*\n", text.strip("\n")):
        if not chunk.strip():
            continue
        lines = chunk.split("\n")
        para: list[str] = []
        pre: list[str] = []
        for line in lines:
            if _INDENTED.match(line):
                if para:
                    blocks.append(Para(["\n".join(para)]))
                    para = []
                pre.append(line)
            else:
                if pre:
                    blocks.append(CodeBlock("\n".join(pre)))
                    pre = []
                para.append(line.strip())
        if para:
            blocks.append(Para(["\n".join(para)]))
        if pre:
            blocks.append(CodeBlock("\n".join(pre)))
    return blocks
