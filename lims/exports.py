"""Sample exports: the .eln archive of a sample with its lineage, records and raw files.

Apps that hold files or records of samples register providers here in AppConfig.ready():
    files_provider(sample_ids) -> {sample_id: [CrateFile, ...]}
    properties_provider(sample_ids) -> {sample_id: {"name": "value", ...}}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import BinaryIO

from lims.rocrate import CrateSample, write_eln
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


def eln_write(out: BinaryIO, lineage: Lineage, author: str) -> None:
    """The whole lineage of the focus sample as an .eln archive."""
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
            properties={"formula": s.formula, "status": s.status, **properties[s.pk]},
            files=tuple(files[s.pk]),
        )
        for s in lineage.samples.values()
    ]  # fmt: skip
    write_eln(out, lineage.focus.code, lineage.focus.code, samples, author)
