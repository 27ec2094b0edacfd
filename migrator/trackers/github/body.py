"""An issue body as the GitHub target writes it, and where the files it links are kept.

GitHub issues have no custom field for the origin and cannot hold files, so
the body carries both: the description, then (when there are files) a list
linking each one in the attachment branch, then a hidden line with the origin
marker.  Each part is written so that it reads back exactly, which is what
finding a ticket by origin, editing its description in place, and verify rely on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MARKER = "<!-- migrator-origin: {origin} -->"
_MARKER = re.compile(r"^<!-- migrator-origin: (?P<origin>.*?) -->[ \t]*\r?$", re.M)
ATTACHMENTS = "<!-- migrator-attachments -->"
_ATTACHMENT = re.compile(r"^- \[(?P<name>(?:\\.|[^\\\]])*)\]\((?P<url>[^)\s]*)\)", re.M)
_ESCAPED = re.compile(r"\\(.)", re.S)
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def _escape(text: str) -> str:
    """Markdown link text that shows ``text`` as written (and reads back exactly)."""
    return _SPECIAL.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def _segment(text: str, fallback: str) -> str:
    """One path segment of a repository file: no separators, no dot-names, not too long."""
    safe = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", text).strip(" .")
    if len(safe.encode("utf-8")) > 120:
        _, dot, ext = safe.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        safe = safe.encode("utf-8")[: 110 - len(ext)].decode("utf-8", "ignore") + (
            f".{ext}" if ext else ""
        )
    return safe or fallback


def attachment_path(origin: str, sha256: str, name: str) -> str:
    """Where an attachment's bytes are kept in the repository: by origin, then by content.

    The same bytes under the same name are one file, so storing one again is
    a no-op, whatever happened to the previous attempt.
    """
    return f"{_segment(re.sub(r'[^A-Za-z0-9._-]+', '-', origin), 'ticket')}/{sha256}/" + _segment(
        name, "attachment"
    )


def git_blob_sha(data: bytes) -> str:
    """The id git gives these bytes: what the contents API reports as a file's ``sha``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def attachment_line(name: str, link: str, size: int, description: str) -> str:
    """One file in the attachment list; :meth:`Body.parse` reads its name and link back."""
    note = " ".join(description.split())
    return f"- [{_escape(name)}]({link}) · {size:,} bytes" + (f" · {note}" if note else "")


def attachments_footer(branch: str, lines: list[str]) -> str:
    """The attachment list that follows the description; empty without files."""
    if not lines:
        return ""
    return "\n".join(
        [
            ATTACHMENTS,
            f"**Attachments** (kept in the `{branch}` branch: GitHub issues cannot hold files)",
            "",
            *lines,
        ]
    )


@dataclass
class Body:
    """An issue body taken apart: the description, the attachment list, the origin."""

    description: str
    attachments: list[tuple[str, str]]  # (name, url) as linked
    origin: str | None
    footer: str  # the attachment list as written, kept when the description is edited

    @classmethod
    def parse(cls, body: str | None) -> Body:
        text = body or ""
        origin = None
        markers = list(_MARKER.finditer(text))
        if markers:
            last = markers[-1]
            origin = last.group("origin")
            text = text[: last.start()] + text[last.end() :]
        footer = ""
        at = text.rfind(ATTACHMENTS)
        if at >= 0:
            text, footer = text[:at], text[at:]
        attachments = [
            (_unescape(m.group("name")), m.group("url")) for m in _ATTACHMENT.finditer(footer)
        ]
        return cls(_trim(text), attachments, origin, footer.strip())

    def render(self) -> str:
        parts = [self.description]
        if self.footer:
            parts.append(self.footer)
        if self.origin is not None:
            parts.append(MARKER.format(origin=self.origin))
        return "\n\n".join(parts)


def _trim(text: str) -> str:
    """The description as composed: the blank line before the footer is the footer's."""
    if text.endswith("\r\n\r\n"):
        return text[:-4]
    return text[:-2] if text.endswith("\n\n") else text
