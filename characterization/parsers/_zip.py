"""Zip-based uploads (Neware .ndax, .xlsx) opened without trusting them.

A zip archive states how big each member unpacks; a damaged or hostile one lies, or unpacks a
few MB into gigabytes (a "zip bomb"), and the libraries that read .ndax (fastnda, NewareNDA)
and .xlsx (python-calamine) unpack whole members into memory. So, before any library sees the
file:

- `open_archive` reads the end record first and refuses a central directory too large to hold
  in memory, then checks every member's declared size against the caps (UnpackLimits): the
  total unpacked size (`max_mb`) and each member's compression ratio (`max_ratio`, for members
  above RATIO_FLOOR_BYTES: small ones can legitimately be all zeros);
- `verify_archive` additionally unpacks every member in CHUNK_BYTES steps, counting, and
  refuses one that unpacks to more than it declared (a lying header slips past the check
  above, and calamine's zip reader does not stop at the declared size) or fails its CRC-32;
- `read_member_head` reads at most a given number of bytes of one member (format detection).

Every decoding error of a damaged archive (BadZipFile, zlib.error, a CRC mismatch, EOFError,
UnicodeDecodeError from a bit-flipped file name, struct.error, NotImplementedError for an
unknown compression method, ...) becomes a ParseError with one sentence naming the file. The
caps are parameters; their values come from Kiln's settings (KILN_UNPACK_MAX_MB,
KILN_UNPACK_MAX_RATIO), passed in by callers, and default to DEFAULT_LIMITS.
"""

from __future__ import annotations

import contextlib
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import ParseError, file_label

try:  # fastnda replaces zlib.decompressobj with python-isal's, process-wide, when imported
    from isal.isal_zlib import error as _isal_error
except ImportError:  # pragma: no cover - isal comes with fastnda
    _isal_error = zlib.error

DEFAULT_MAX_MB = 1024
# Measured: large members of real files pack 2-3.4:1 (.ndax ndc records, also the 1M-row
# benchmark) and 5.6-11:1 (.xlsx sheet XML, 10.8 for a rest with constant columns); deflate
# cannot exceed ~1030:1, which is what zip bombs use.
DEFAULT_MAX_RATIO = 200
RATIO_FLOOR_BYTES = 1 << 20  # real 8 KB .ndc members pack up to 92:1 (mostly zero records)
MAX_MEMBERS = 10_000  # real .ndax files hold ~10 members, .xlsx files ~10 + 1 per sheet
MAX_DIRECTORY_BYTES = 4 << 20
CHUNK_BYTES = 1 << 20

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

# What zipfile, zlib and the decompressors raise on a damaged archive. ValueError covers
# UnicodeDecodeError (a bit-flipped UTF-8 file name) and negative seeks from flipped offsets;
# RuntimeError a flipped "encrypted" flag; OSError a short read.
DAMAGE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    _isal_error,
    lzma.LZMAError,
    EOFError,
    struct.error,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    ValueError,
    OSError,
)

# Errors of decoding damaged bytes in any reader (zip or not): reader.guarded reports them as a
# damaged file. Narrower than DAMAGE_ERRORS: a ValueError or OSError from a library is not
# necessarily about the bytes.
DECODING_ERRORS: tuple[type[BaseException], ...] = (
    UnicodeError,
    zipfile.BadZipFile,
    zlib.error,
    _isal_error,
    lzma.LZMAError,
    EOFError,
    struct.error,
    OverflowError,
)


@dataclass(frozen=True)
class UnpackLimits:
    """How much Kiln unpacks from one archive: `max_mb` in total, each member above
    RATIO_FLOOR_BYTES at most `max_ratio` times its packed size."""

    max_mb: int = DEFAULT_MAX_MB
    max_ratio: int = DEFAULT_MAX_RATIO

    def __post_init__(self) -> None:
        if self.max_mb < 1 or self.max_ratio < 1:
            raise ValueError(f"unpack limits must be positive, got {self}")

    @property
    def max_bytes(self) -> int:
        return self.max_mb << 20


DEFAULT_LIMITS = UnpackLimits()


def damaged_message(path: str | Path) -> str:
    return (
        f"{file_label(path)}: a zip archive (as Neware .ndax and .xlsx files are) that is "
        "damaged or truncated; upload the complete file again."
    )


def human_size(n_bytes: int) -> str:
    """4.1 GB, 1 GB, 730 MB, 12 KB (binary multiples, as the MB settings are)."""
    for unit, shift in (("GB", 30), ("MB", 20), ("KB", 10)):
        if n_bytes >= 1 << shift:
            return f"{round(n_bytes / (1 << shift), 1):g} {unit}"
    return f"{n_bytes} bytes"


@contextlib.contextmanager
def open_archive(
    path: str | Path, limits: UnpackLimits = DEFAULT_LIMITS
) -> Iterator[zipfile.ZipFile]:
    """The archive, its directory checked against `limits` before any member is read.

    A decoding error inside the `with` block (reading a member) also becomes the damaged-file
    ParseError; ParseError for an unreadable file, a damaged archive or one over the caps.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    with handle:
        try:
            _check_directory_size(path, handle)
            with zipfile.ZipFile(handle) as archive:
                check_members(path, archive.infolist(), limits)
                yield archive
        except ParseError:
            raise
        except DAMAGE_ERRORS as exc:
            raise ParseError(damaged_message(path)) from exc


def verify_archive(path: str | Path, limits: UnpackLimits = DEFAULT_LIMITS) -> list[str]:
    """Check the directory against `limits`, then unpack every member in bounded chunks
    (nothing is kept) to prove it unpacks to exactly its declared size with a good CRC-32.

    Call before a library unpacks the archive itself. Returns the member names; raises
    ParseError (damaged, or over the caps) otherwise. Costs one pass of inflate over at most
    `limits.max_mb` (0.2 s for the 1M-row benchmark .ndax, 0.6 s for a 100k-row .xlsx).
    """
    path = Path(path)
    with open_archive(path, limits) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            _verify_member(path, raw, info)
        return archive.namelist()


def read_member_head(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    """At most `max_bytes` of the member, unpacked in small steps (never the whole member)."""
    with archive.open(name) as member:
        return member.read(max_bytes)


def check_members(path: Path, members: list[zipfile.ZipInfo], limits: UnpackLimits) -> None:
    """Refuse an archive whose members, as declared, unpack beyond `limits`, or that use a
    compression method or encryption no cycler writes (a flipped bit in a damaged file)."""
    total = 0
    for info in members:
        if info.compress_type not in _METHODS or info.flag_bits & 0x1:
            raise ParseError(damaged_message(path))
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise ParseError(damaged_message(path))
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
            raise ParseError(
                f"{file_label(path)}: its member {info.filename!r} unpacks to "
                f"{human_size(info.file_size)} from {human_size(info.compress_size)}, "
                f"{ratio:.0f} times its packed size, more than the {limits.max_ratio} times "
                "Kiln accepts; instrument files do not pack that tightly, so it is not read "
                "(if it is genuine, ask the lab manager to raise KILN_UNPACK_MAX_RATIO)."
            )
    if total > limits.max_bytes:
        raise ParseError(
            f"{file_label(path)}: unpacks to {human_size(total)}, more than the "
            f"{human_size(limits.max_bytes)} Kiln unpacks; split the test into shorter files "
            "or ask the lab manager to raise KILN_UNPACK_MAX_MB."
        )


def _check_directory_size(path: Path, handle: BinaryIO) -> None:
    """zipfile.ZipFile builds an object per member of the central directory; read its size
    from the end record first so that millions of members cannot exhaust memory."""
    entries, directory_bytes = _end_record(handle)
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise ParseError(
            f"{file_label(path)}: a zip archive of {entries} files; Neware .ndax and .xlsx "
            f"files hold a few dozen, and Kiln opens none with more than {MAX_MEMBERS}."
        )


def _end_record(handle: BinaryIO) -> tuple[int, int]:
    """(member count, central directory bytes) from the end of central directory record (or
    its zip64 version); BadZipFile when there is none (a truncated file)."""
    size = handle.seek(0, 2)
    tail_bytes = min(size, 22 + 0xFFFF)  # the record and the longest comment
    handle.seek(size - tail_bytes)
    tail = handle.read(tail_bytes)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise zipfile.BadZipFile("no end of central directory record")
    entries, directory_bytes = struct.unpack_from("<HL", tail, at + 10)
    if entries != 0xFFFF and directory_bytes != 0xFFFFFFFF:
        return entries, directory_bytes
    locator_at = size - tail_bytes + at - 20
    handle.seek(max(locator_at, 0))
    locator = handle.read(20)
    if locator_at < 0 or len(locator) < 20 or not locator.startswith(_EOCD64_LOCATOR):
        raise zipfile.BadZipFile("zip64 end record without its locator")
    (record_at,) = struct.unpack_from("<Q", locator, 8)
    handle.seek(record_at)
    record = handle.read(56)
    if len(record) < 56 or not record.startswith(_EOCD64):
        raise zipfile.BadZipFile("zip64 end record missing")
    return struct.unpack_from("<QQ", record, 32)


def _verify_member(path: Path, raw: BinaryIO, info: zipfile.ZipInfo) -> None:
    """Unpack one member from its raw bytes, counting, and compare with its header."""
    unpacked, crc = 0, 0
    for data in _unpacked_chunks(raw, info):
        unpacked += len(data)
        if unpacked > info.file_size:  # the header lies about the size: a bomb or damage
            raise ParseError(damaged_message(path))
        crc = zlib.crc32(data, crc)
    if unpacked != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"bad size or CRC-32 for {info.filename!r}")


def _unpacked_chunks(raw: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's content, at most CHUNK_BYTES at a time, read from its local header on."""
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
    name_len, extra_len = _LOCAL_HEADER.unpack(header)[-2:]
    raw.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
    packed_left = info.compress_size
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while packed_left > 0 or (inflate is not None and not inflate.eof):
        if inflate is not None and inflate.unconsumed_tail:
            source = inflate.unconsumed_tail
        elif packed_left > 0:
            source = raw.read(min(CHUNK_BYTES, packed_left))
            if not source:
                raise EOFError(f"{info.filename!r} is cut short")
            packed_left -= len(source)
        else:
            source = b""  # all read: drain what the decompressor still holds
        if inflate is None:
            yield source
            continue
        data = inflate.decompress(source, CHUNK_BYTES)
        if not data and not source:
            raise EOFError(f"{info.filename!r} ends inside its compressed stream")
        yield data
