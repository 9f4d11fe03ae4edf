"""Errors the parsers raise: each names the file and says what is wrong in a chemist's words."""

from __future__ import annotations

from pathlib import Path


class ParseError(ValueError):
    """The file cannot be read as a cycler file (unknown, damaged, truncated or empty)."""


class NotCyclingFileError(ParseError):
    """The file is a valid measurement but not galvanostatic cycling (EIS, potential step).

    `kind` is "eis" or "potential_step" so a caller can route the file elsewhere.
    """

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class MissingToolError(ParseError):
    """A system tool the format needs (mdbtools for Arbin .res) is not installed."""


def file_label(path: str | Path) -> str:
    """The name shown in messages: the file name only, not the server's storage path."""
    return Path(path).name


def read_nonempty_bytes(path: Path) -> bytes:
    """The file's bytes; ParseError naming the file when it cannot be opened or holds only
    whitespace (every text reader starts here)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if not raw.strip():
        raise ParseError(f"{file_label(path)}: the file is empty.")
    return raw
