"""Damaged copies of the shared instrument files: truncated at several points, bit-flipped with
fixed seeds, emptied and renamed; and how to tell whether a report "says something" when its
numbers differ from the clean file's."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .parser_reference import ALL_FILES

NAMES = tuple(sorted(ALL_FILES))
TRUNCATE_AT = (0.25, 0.5, 0.9, -1)  # fractions of the bytes; -1: the last byte lost
FLIP_SEEDS = (1, 2, 3)
FLIPS = 16  # bytes flipped per copy, anywhere in the file (headers, zip directories included)


@dataclass(frozen=True)
class Variant:
    source: str
    label: str  # "truncated-50%", "flipped-seed-2", "emptied", "renamed-.txt"
    file_name: str
    data: bytes


def variants(source: str, data: bytes) -> list[Variant]:
    stem = source.rsplit(".", 1)[0]
    out = []
    for fraction in TRUNCATE_AT:
        size = len(data) - 1 if fraction == -1 else int(len(data) * fraction)
        label = "truncated-last-byte" if fraction == -1 else f"truncated-{fraction:.0%}"
        out.append(Variant(source, label, source, data[:size]))
    for seed in FLIP_SEEDS:
        out.append(Variant(source, f"flipped-seed-{seed}", source, flipped(data, seed)))
    out.append(Variant(source, "emptied", source, b""))
    out.append(Variant(source, "renamed-.txt", f"{stem}.txt", data))
    out.append(Variant(source, "renamed-no-extension", stem.replace(".", "_"), data))
    return out


def flipped(data: bytes, seed: int, flips: int = FLIPS) -> bytes:
    """`flips` single-bit flips at positions and bits drawn from `seed`."""
    rng = random.Random(seed)
    copy = bytearray(data)
    for _ in range(flips):
        position = rng.randrange(len(copy))
        copy[position] ^= 1 << rng.randrange(8)
    return bytes(copy)


def numbers(report: dict) -> dict[int, tuple]:
    """What a reader of a cycling report takes away: each cycle's completeness and capacities
    (rounded to 1e-9 mAh)."""
    return {
        c["cycle"]: (
            c["complete"],
            round(c["charge_capacity_mah"] or 0.0, 9),
            round(c["discharge_capacity_mah"] or 0.0, 9),
        )
        for c in report["cycles"]
    }


def differs(variant: dict, clean: dict) -> list[int]:
    """Cycles whose numbers in the variant's report are not the clean file's (a cycle the
    clean file does not have counts; cycles the variant lacks do not: it reports less, not
    something wrong)."""
    mine, theirs = numbers(variant), numbers(clean)
    return sorted(c for c, value in mine.items() if theirs.get(c) != value)
