"""Attachment bytes, content-addressed beside the staging database.

Files are named by their sha256, so a blob is written once however many
tickets or extract runs refer to it, and a torn write can never pass for a
complete one: bytes go to a temporary file, are fsynced, then renamed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class BlobStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_chunks(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store a stream of bytes; returns (sha256, size).  Memory stays at one chunk."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path(sha)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha, size

    def put_file(self, f: BinaryIO) -> tuple[str, int]:
        return self.put_chunks(iter(lambda: f.read(CHUNK), b""))

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put_chunks([data])

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")


def blob_root(staging_url: str, configured: str | None, base: Path) -> Path:
    """``[staging] blobs`` if set, else ``blobs/`` beside an SQLite staging file."""
    if configured:
        p = Path(configured).expanduser()
        return p if p.is_absolute() else base / p
    if staging_url.startswith("sqlite:///"):
        return Path(staging_url[len("sqlite:///") :]).parent / "blobs"
    return base / "blobs"
