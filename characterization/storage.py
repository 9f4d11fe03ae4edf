"""Content-addressed storage of raw instrument files under MEDIA_ROOT/raw/.

A file lives at raw/<sha256[:2]>/<sha256> and is never overwritten: the upload is written to a
temporary file in raw/ (same file system) while it is hashed in chunks, then hard-linked to its
final name, which fails instead of replacing an existing file; if that name already exists the
content is already stored and the temporary copy is dropped. Stored files are made read-only.
Re-hashing a stored file (`verify`) proves it is still the uploaded content.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CHUNK_BYTES = 1024 * 1024
RAW_DIR = "raw"


class StorageError(ValueError):
    """A file that cannot be stored (empty, too large); `field` names the form input."""

    def __init__(self, message: str, field: str = "files") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size_bytes: int
    path: Path
    created: bool  # False when the same content was already stored


def raw_root() -> Path:
    return Path(settings.MEDIA_ROOT) / RAW_DIR


def raw_path(sha256: str) -> Path:
    """Where the content with this SHA-256 is stored."""
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return raw_root() / sha256[:2] / sha256


def max_upload_bytes() -> int:
    return int(settings.KILN_MAX_UPLOAD_MB) * 1024 * 1024


def store_chunks(chunks: Iterable[bytes], *, name: str = "file") -> StoredBlob:
    """Store the bytes of `chunks` once, by content; refuse empty and over-limit files.

    Nothing is left behind when the file is refused: the temporary copy is removed.
    """
    root = raw_root()
    root.mkdir(parents=True, exist_ok=True)
    limit = max_upload_bytes()
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        digest, size = _write_hashing(fd, chunks, limit=limit, name=name)
        if size == 0:
            raise StorageError(f"{name} is empty: nothing to store.")
        final = raw_path(digest)
        final.parent.mkdir(exist_ok=True)
        created = _link_once(tmp, final)
        if not created and final.stat().st_size != size:
            raise StorageError(
                f"a stored file named {digest[:12]}… has a different size than its content: "
                "the store is damaged; ask the lab manager to check it."
            )
        return StoredBlob(sha256=digest, size_bytes=size, path=final, created=created)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _write_hashing(fd: int, chunks: Iterable[bytes], *, limit: int, name: str) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise StorageError(
                    f"{name} is larger than the upload limit of "
                    f"{settings.KILN_MAX_UPLOAD_MB} MB: nothing was stored."
                )
            sha.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return sha.hexdigest(), size


def _link_once(tmp: Path, final: Path) -> bool:
    """Give `tmp` the name `final` unless that exists; True when this call created it."""
    try:
        os.link(tmp, final)  # atomic, and never replaces an existing file
    except FileExistsError:
        return False
    except OSError:
        # File systems without hard links: claim the name exclusively, then move into it.
        try:
            os.close(os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        os.replace(tmp, final)
    os.chmod(final, 0o444)
    return True


def open_raw(sha256: str):
    """The stored file, opened for binary reading."""
    return raw_path(sha256).open("rb")


def iter_raw(sha256: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    with open_raw(sha256) as fh:
        while chunk := fh.read(chunk_bytes):
            yield chunk


def verify(sha256: str) -> bool:
    """True when the stored file still hashes to its name."""
    try:
        sha = hashlib.sha256()
        for chunk in iter_raw(sha256):
            sha.update(chunk)
    except FileNotFoundError:
        return False
    return sha.hexdigest() == sha256
