"""Content-addressed storage of raw instrument files under MEDIA_ROOT/raw/.

A file lives at raw/<sha256[:2]>/<sha256> and is never overwritten: the upload is written to
raw/.staging/ (same file system) while it is hashed in chunks (`stage`), then hard-linked to its
final name, which fails instead of replacing an existing file; if that name already exists the
content is already stored and the staged copy is dropped. Stored files are made read-only.
Re-hashing a stored file (`verify`) proves it is still the uploaded content.

A stored name belongs to a committed RawFile row (`keep_with_transaction`): the name an upload
gives is readable at once in its transaction and removed again if that transaction rolls back.
A process killed in between leaves a staged copy or a name without a row, which
`storage_check` reports and sweeps after KILN_STORAGE_GRACE_S. Django spools large uploads to
MEDIA_ROOT/tmp/uploads/ (swept the same way), not the system's temporary folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.db import transaction

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
RAW_DIR = "raw"
STAGING_DIR = ".staging"
UPLOAD_TEMP_DIR = Path("tmp") / "uploads"


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


@dataclass(frozen=True)
class Staged:
    """An upload written and hashed under raw/.staging/, not yet under its final name."""

    sha256: str
    size_bytes: int
    path: Path

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def raw_root() -> Path:
    return Path(settings.MEDIA_ROOT) / RAW_DIR


def staging_root() -> Path:
    return raw_root() / STAGING_DIR


def raw_path(sha256: str) -> Path:
    """Where the content with this SHA-256 is stored."""
    if not is_sha256(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return raw_root() / sha256[:2] / sha256


def is_sha256(name: str) -> bool:
    return len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)


def max_upload_bytes() -> int:
    return int(settings.KILN_MAX_UPLOAD_MB) * 1024 * 1024


def stage(chunks: Iterable[bytes], *, name: str = "file") -> Staged:
    """Write and hash the bytes of `chunks` under raw/.staging/; refuse empty and over-limit
    files, leaving nothing behind."""
    folder = staging_root()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix="upload-")
    tmp = Path(tmp_name)
    try:
        digest, size = _write_hashing(fd, chunks, limit=max_upload_bytes(), name=name)
        if size == 0:
            raise StorageError(f"{name} is empty: nothing to store.")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.chmod(tmp, 0o444)
    return Staged(sha256=digest, size_bytes=size, path=tmp)


def store_chunks(chunks: Iterable[bytes], *, name: str = "file") -> StoredBlob:
    """Store the bytes of `chunks` once, by content, now (no database row involved)."""
    staged = stage(chunks, name=name)
    try:
        return publish(staged)
    finally:
        staged.discard()


def publish(staged: Staged) -> StoredBlob:
    """Give the staged content its final name unless that exists (the staged copy stays)."""
    final = raw_path(staged.sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    created = _link_once(staged.path, final)
    if not created and final.stat().st_size != staged.size_bytes:
        raise StorageError(
            f"a stored file named {staged.sha256[:12]}… has a different size than its content: "
            "the store is damaged; ask the lab manager to run `manage.py storage_check`."
        )
    return StoredBlob(staged.sha256, staged.size_bytes, final, created)


def keep_with_transaction(staged: Staged) -> StoredBlob:
    """Store staged content whose RawFile row the caller's transaction has just created (the
    caller still discards its staged copy).

    The final name is given now (readable in this transaction). If the transaction rolls back,
    a name this call gave is removed again. If the name existed already without a committed
    row (another upload of the same bytes still in its transaction, or an orphan, perhaps
    damaged), a copy of the staged content is kept and takes the name on commit, so that a
    rollback elsewhere cannot take the content of this committed row away.
    """
    final = raw_path(staged.sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    created = _link_once(staged.path, final)
    if created:
        inode = _inode(final)
        _on_transaction_end(
            committed=lambda: None, rolled_back=lambda: _unlink_if_inode(final, inode)
        )
    else:
        kept = staged.path.with_suffix(".kept")
        os.link(staged.path, kept)
        _on_transaction_end(
            committed=lambda: _adopt(kept, final),
            rolled_back=lambda: kept.unlink(missing_ok=True),
        )
    return StoredBlob(staged.sha256, staged.size_bytes, final, created)


def _on_transaction_end(*, committed: Callable[[], None], rolled_back: Callable[[], None]):
    """Run `committed` after the caller's transaction commits, `rolled_back` once it rolled
    back. Django has no rollback hook: it drops the commit callback on rollback (also of a
    savepoint), and the callback's finalizer then runs; after a commit it finds the flag set.
    The finalizer touches files only, never the database (it runs inside Django's rollback)."""
    state = {"committed": False}

    def on_commit() -> None:
        state["committed"] = True
        committed()

    transaction.on_commit(on_commit, robust=True)
    weakref.finalize(on_commit, _unless_committed, state, rolled_back)


def _unless_committed(state: dict, rolled_back: Callable[[], None]) -> None:
    if not state["committed"]:
        try:
            rolled_back()
        except OSError as exc:  # storage_check sweeps what is left
            logger.warning("could not remove a rolled-back upload: %s", exc)


def _adopt(kept: Path, final: Path) -> None:
    """The committed row's content takes the final name (the same bytes, by their hash)."""
    with shard_lock(final.parent):
        os.replace(kept, final)


def _unlink_if_inode(path: Path, inode: tuple[int, int]) -> None:
    with shard_lock(path.parent), contextlib.suppress(FileNotFoundError):
        if _inode(path) == inode:
            path.unlink()


def _inode(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


@contextlib.contextmanager
def shard_lock(shard: Path) -> Iterator[None]:
    """An exclusive lock on a shard folder raw/<xx>/ (flock on the directory: no lock file),
    for changes to a stored name that check before they act."""
    fd = os.open(shard, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # a file system without flock: no lock
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def lock_file(path: Path) -> Iterator[None]:
    """An exclusive advisory lock between processes, held on a file that is removed again on
    release. A waiter that wakes to find the file removed or replaced locks the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        except BaseException:
            handle.close()
            raise
        handle.close()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # while still held: no waiter can lock the old file
        handle.close()


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


def _link_once(source: Path, final: Path) -> bool:
    """Give `source` the name `final` too unless that exists; True when this call created it."""
    try:
        os.link(source, final)  # atomic, and never replaces an existing file
    except FileExistsError:
        return False
    except OSError:
        # File systems without hard links: claim the name exclusively, then copy into it.
        try:
            os.close(os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        _copy_into(source, final)
    os.chmod(final, 0o444)
    return True


def _copy_into(source: Path, final: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".copy-")
    try:
        with source.open("rb") as src, os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK_BYTES):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def open_raw(sha256: str):
    """The stored file, opened for binary reading."""
    return raw_path(sha256).open("rb")


def iter_raw(sha256: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    with open_raw(sha256) as fh:
        while chunk := fh.read(chunk_bytes):
            yield chunk


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            sha.update(chunk)
    return sha.hexdigest()


def verify(sha256: str) -> bool:
    """True when the stored file still hashes to its name."""
    try:
        return file_sha256(raw_path(sha256)) == sha256
    except FileNotFoundError:
        return False


def upload_temp_dir() -> Path:
    """Where Django spools large uploads: MEDIA_ROOT/tmp/uploads/ (swept by storage_check)."""
    return Path(settings.MEDIA_ROOT) / UPLOAD_TEMP_DIR


class SpooledUploadedFile(TemporaryUploadedFile):
    """Django's TemporaryUploadedFile, spooled to upload_temp_dir() (created when missing)
    rather than the system's temporary folder, where storage_check cannot see what a killed
    web worker leaves behind. Removed, as Django's, when the request is done."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None) -> None:
        folder = upload_temp_dir()
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".upload" + os.path.splitext(name)[1]
        # The upload object owns the open file (closed, and so removed, with the request).
        file = tempfile.NamedTemporaryFile(suffix=suffix, dir=folder)  # noqa: SIM115
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class UploadTempFileHandler(TemporaryFileUploadHandler):
    """Django's handler for large uploads, writing a SpooledUploadedFile (FILE_UPLOAD_HANDLERS)."""

    def new_file(self, *args, **kwargs) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = SpooledUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
