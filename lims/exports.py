"""Sample exports: the .eln archive of a sample with its lineage, records and raw files.

Apps that hold files or records of samples register providers here in AppConfig.ready():
    files_provider(sample_ids) -> {sample_id: [CrateFile, ...]}
    properties_provider(sample_ids) -> {sample_id: {"name": "value", ...}}
lims.eln_content adds what the synthesis and characterization records say (plans and actuals,
build records, conditions, analysis results). Who publishes the archive and under which
licence: settings KILN_ELN_PUBLISHER (name), KILN_ELN_PUBLISHER_URL, KILN_ELN_LICENSE (URL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth import get_user_model

from lims import eln_content
from lims.models import Project
from lims.rocrate import (
    CrateFile,
    CrateLicense,
    CrateLink,
    CratePerson,
    CratePublisher,
    CrateSample,
    CrateValue,
    Progress,
    write_eln,
)
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
    lims.transfers; `author` is the username of who asked; `progress(bytes done, in all)`)."""
    samples = eln_samples(lineage)
    write_eln(
        out, lineage.focus.code, lineage.focus.code, samples, _exporter(author), progress,
        publisher=publisher(), license=licence(),
    )  # fmt: skip


def publisher() -> CratePublisher:
    return CratePublisher(
        name=getattr(settings, "KILN_ELN_PUBLISHER", "") or "Kiln",
        url=getattr(settings, "KILN_ELN_PUBLISHER_URL", ""),
    )


def licence() -> CrateLicense:
    url = getattr(settings, "KILN_ELN_LICENSE", "")
    return CrateLicense(id=url, name=url, description=f"See {url}") if url else CrateLicense()


def eln_samples(lineage: Lineage) -> list[CrateSample]:
    """Every sample of the lineage with its values, parents (with the edges' roles and
    amounts), author and files."""
    ids = list(lineage.samples)
    files = _provided_files(ids)
    properties = _provided_properties(ids)
    content = eln_content.sample_content(ids)
    projects = Project.objects.in_bulk({s.project_id for s in lineage.samples.values()} - {None})
    parents: dict[int, list[CrateLink]] = defaultdict(list)
    for edge in lineage.edges:
        code = lineage.samples[edge.parent_id].code
        parents[edge.child_id].append(CrateLink(code, edge.role, edge.amount, edge.amount_unit))
    return [
        CrateSample(
            code=s.code, name=s.name, kind=s.get_kind_display(), created=s.created_at.isoformat(),
            description=s.notes, parents=tuple(parents[s.pk]), properties=properties[s.pk],
            files=_unique_names(files[s.pk] + content[s.pk].files),
            values=(*_registry_values(s, projects.get(s.project_id)), *content[s.pk].values),
            author=_person(s.owner) if s.owner_id else None,
            actions=tuple(content[s.pk].actions),
        )
        for s in lineage.samples.values()
    ]  # fmt: skip


def _provided_files(ids: list[int]) -> dict[int, list[CrateFile]]:
    files: dict[int, list] = defaultdict(list)
    for provider in _file_providers:
        for sample_id, entries in provider(ids).items():
            files[sample_id].extend(entries)
    return files


def _provided_properties(ids: list[int]) -> dict[int, dict[str, str]]:
    properties: dict[int, dict] = defaultdict(dict)
    for provider in _property_providers:
        for sample_id, values in provider(ids).items():
            properties[sample_id].update(values)
    return properties


def _registry_values(sample, project) -> list[CrateValue]:
    """The sample's own fields (kind as Kiln names it, for eln_import), and void marks."""
    values = eln_content.values_of("", {
        "kind": sample.kind, "formula": sample.formula, "status": sample.status,
        "location": sample.location, "project": project.code if project else "",
    })  # fmt: skip
    values = [replace(v, name=v.name.lstrip(".")) for v in values]
    if getattr(sample, "voided_at", None) is not None:
        values += eln_content.values_of("void", {
            "at": sample.voided_at.isoformat(), "reason": sample.void_reason,
            "by": sample.voided_by.get_username() if sample.voided_by else "",
        })  # fmt: skip
    return values


def _person(user) -> CratePerson:
    return CratePerson(user.get_username(), user.get_full_name() or user.get_username())


def _exporter(username: str) -> CratePerson:
    user = get_user_model().objects.filter(username=username).first()
    return _person(user) if user is not None else CratePerson(username)


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
