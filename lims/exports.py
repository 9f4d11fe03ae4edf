"""Sample exports: the .eln archive of a sample with its lineage, records and raw files.

Apps that hold files or records of samples register providers here in AppConfig.ready():
    files_provider(sample_ids) -> {sample_id: [CrateFile, ...]}
    properties_provider(sample_ids) -> {sample_id: {"name": "value", ...}}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from lims.rocrate import CrateFile, CrateSample, Progress, write_eln
from lims.sample_queries import Lineage

_file_providers: list[Callable] = []
_property_providers: list[Callable] = []


def register_files(provider: Callable) -> Callable:
    if provider not in _file_providers:
        _file_providers.append(provider)
    return provider


def register_properties(provider: Callable) -> Callable:
    if provider not in _property_providers:
        _property_providers.append(provider)
    return provider


def eln_write(
    out: BinaryIO | Path, lineage: Lineage, author: str, progress: Progress | None = None
) -> None:
    """The whole lineage of the focus sample as an .eln archive (built on the worker:
    lims.transfers; `progress(bytes done, bytes in all)`)."""
    samples = eln_samples(lineage)
    write_eln(out, lineage.focus.code, lineage.focus.code, samples, author, progress)


def eln_samples(lineage: Lineage) -> list[CrateSample]:
    """Every sample of the lineage with its properties, parents and files."""
    ids = list(lineage.samples)
    files: dict[int, list] = defaultdict(list)
    for provider in _file_providers:
        for sample_id, entries in provider(ids).items():
            files[sample_id].extend(entries)
    properties: dict[int, dict] = defaultdict(dict)
    for provider in _property_providers:
        for sample_id, values in provider(ids).items():
            properties[sample_id].update(values)
    parents: dict[int, list[str]] = defaultdict(list)
    for edge in lineage.edges:
        parents[edge.child_id].append(lineage.samples[edge.parent_id].code)
    samples = [
        CrateSample(
            code=s.code, name=s.name, kind=s.get_kind_display(), created=s.created_at.isoformat(),
            description=s.notes, parents=tuple(parents[s.pk]),
            properties={"formula": s.formula, "status": s.status, **_void(s), **properties[s.pk]},
            files=_unique_names(files[s.pk]),
        )
        for s in lineage.samples.values()
    ]  # fmt: skip
    return samples


def _void(sample) -> dict[str, str]:
    """A void sample stays in the lineage, marked (lims.voiding)."""
    if getattr(sample, "voided_at", None) is None:
        return {}
    return {"void": f"voided {sample.voided_at:%Y-%m-%d} because {sample.void_reason}"}


def _unique_names(files: list[CrateFile]) -> tuple[CrateFile, ...]:
    """Two files of one sample with the same name keep both: the later ones get their
    checksum's start in front ("3f2a91c0-cycle.csv")."""
    seen: set[str] = set()
    unique = []
    for crate_file in files:
        if crate_file.name in seen:
            crate_file = replace(crate_file, name=f"{crate_file.sha256[:8]}-{crate_file.name}")
        seen.add(crate_file.name)
        unique.append(crate_file)
    return tuple(unique)
