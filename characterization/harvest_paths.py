"""Where a harvested file belongs, read from its path on the cycler PC (pure: no Django).

A harvester names a file by its path relative to a watched folder, as the PC spells it
(`Neware\\unit3-ch5\\CELL-2026-0042_0.1C.ndax`). Lab habit puts the cell's code in the file
name or in a folder name; the file name is asked first, then the folders from the innermost out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_PATH_CHARS = 500


class HarvestPathError(ValueError):
    """A path a harvester sent that names no file; `field` names the API input."""

    def __init__(self, message: str, field: str = "path") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def path_clean(path: str) -> str:
    """The path with "/" between its parts, no empty parts and no leading or trailing slash."""
    parts = [part.strip() for part in re.split(r"[\\/]+", path or "")]
    parts = [part for part in parts if part]
    if not parts:
        raise HarvestPathError("path: give the file's path relative to the watched folder")
    cleaned = "/".join(parts)
    if len(cleaned) > MAX_PATH_CHARS:
        raise HarvestPathError(f"path: at most {MAX_PATH_CHARS} characters, got {len(cleaned)}")
    return cleaned


def code_pattern(prefixes: Iterable[str]) -> re.Pattern[str]:
    """Kiln's sample codes with these prefixes (CELL-2026-0042), in any case, standing alone:
    not inside a longer word or number."""
    alternatives = "|".join(sorted(map(re.escape, prefixes), key=len, reverse=True))
    return re.compile(
        rf"(?<![A-Za-z0-9])(?:{alternatives})-\d{{4}}-\d{{4,}}(?![A-Za-z0-9])", re.IGNORECASE
    )


def code_candidates(path: str, prefixes: Iterable[str]) -> list[str]:
    """The codes in a cleaned path, upper case, without repeats: those of the file name first,
    then of each folder from the innermost out."""
    pattern = code_pattern(prefixes)
    found: dict[str, None] = {}
    for part in reversed(path.split("/")):
        for match in pattern.finditer(part):
            found.setdefault(match.group(0).upper())
    return list(found)
