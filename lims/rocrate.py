"""The ELN consortium's .eln archive (RO-Crate 1.1 in a zip), built from plain dicts (no Django).

Layout: <root>/ro-crate-metadata.json, and per sample a folder <root>/<CODE>/ with its files.
Each sample is a Dataset whose `isBasedOn` names its parents, so other ELNs can rebuild the
lineage; files are File entities with their sha256 and size.

The archive is written to a file (on the worker), each member copied from its stored file in
chunks, so memory stays flat whatever the size of the raw files; each file's SHA-256 is checked
on the way, so the archive never claims a checksum its content does not have.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
# (bytes of raw files written so far, bytes in all)
Progress = Callable[[int, int], None]


class CrateError(ValueError):
    """A stored file cannot go into the archive as described; the message names it."""


CONTEXT = "https://w3id.org/ro/crate/1.1/context"
CONFORMS = {"@id": "https://w3id.org/ro/crate/1.1"}


@dataclass(frozen=True)
class CrateFile:
    name: str
    source: Path
    sha256: str
    size: int
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class CrateSample:
    code: str
    name: str
    kind: str
    created: str  # ISO 8601
    description: str = ""
    parents: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    files: tuple[CrateFile, ...] = ()


def crate_metadata(root: str, focus: str, samples: Iterable[CrateSample], author: str) -> dict:
    """The ro-crate-metadata.json document."""
    samples = list(samples)
    graph: list[dict] = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": CONFORMS},
        {"@id": "./", "@type": "Dataset", "name": f"Kiln export of {focus}",
         "hasPart": [{"@id": f"./{s.code}/"} for s in samples]},
        {"@id": "#kiln", "@type": "SoftwareApplication", "name": "Kiln"},
        {"@id": f"#author-{author}", "@type": "Person", "name": author},
    ]  # fmt: skip
    for sample in samples:
        graph.append(_dataset(sample, author))
        graph.extend(_file(sample.code, f) for f in sample.files)
    return {"@context": CONTEXT, "@graph": graph}


def write_eln(
    out: BinaryIO | Path,
    root: str,
    focus: str,
    samples: list[CrateSample],
    author: str,
    progress: Progress | None = None,
) -> None:
    """Write the zip: metadata first, then each sample's files under <root>/<CODE>/."""
    total = sum(f.size for s in samples for f in s.files)
    done = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        metadata = crate_metadata(root, focus, samples, author)
        archive.writestr(f"{root}/ro-crate-metadata.json", json.dumps(metadata, indent=2))
        for sample in samples:
            for crate_file in sample.files:
                name = f"{root}/{sample.code}/{crate_file.name}"
                for written in _copy_member(archive, crate_file, name):
                    done += written
                    if progress is not None:
                        progress(done, total)


def _copy_member(archive: zipfile.ZipFile, crate_file: CrateFile, name: str):
    """Copy one stored file into the archive in chunks (yields the bytes of each chunk)."""
    if not crate_file.source.is_file():
        raise CrateError(f"{crate_file.name}: the stored file is missing from the file store")
    info = zipfile.ZipInfo.from_file(crate_file.source, name)
    info.compress_type = zipfile.ZIP_DEFLATED
    digest = hashlib.sha256()
    with crate_file.source.open("rb") as source, archive.open(info, "w") as member:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            member.write(chunk)
            yield len(chunk)
    if crate_file.sha256 and digest.hexdigest() != crate_file.sha256:
        raise CrateError(
            f"{crate_file.name}: the stored file no longer has its recorded SHA-256 "
            f"({crate_file.sha256[:12]}…); run `manage.py storage_check`"
        )


def _dataset(sample: CrateSample, author: str) -> dict:
    props = [
        {"@type": "PropertyValue", "propertyID": key, "value": value}
        for key, value in sorted(sample.properties.items())
    ]
    return {
        "@id": f"./{sample.code}/",
        "@type": "Dataset",
        "identifier": sample.code,
        "name": sample.name,
        "genre": sample.kind,
        "dateCreated": sample.created,
        "text": sample.description,
        "author": {"@id": f"#author-{author}"},
        "isBasedOn": [{"@id": f"./{code}/"} for code in sample.parents],
        "variableMeasured": props,
        "hasPart": [{"@id": f"./{sample.code}/{f.name}"} for f in sample.files],
    }


def _file(code: str, crate_file: CrateFile) -> dict:
    return {
        "@id": f"./{code}/{crate_file.name}",
        "@type": "File",
        "name": crate_file.name,
        "contentSize": crate_file.size,
        "encodingFormat": crate_file.content_type,
        "sha256": crate_file.sha256,
    }
