"""The ELN consortium's .eln archive (RO-Crate 1.1 in a zip), built from plain dicts (no Django).

Layout: <root>/ro-crate-metadata.json, and per sample a folder <root>/<CODE>/ with its files.
Each sample is a Dataset whose `isBasedOn` names its parents, so other ELNs can rebuild the
lineage; files are File entities with their sha256 and size.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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


def write_eln(out: BinaryIO, root: str, focus: str, samples: list[CrateSample], author: str):
    """Write the zip: metadata first, then each sample's files under <root>/<CODE>/."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        metadata = crate_metadata(root, focus, samples, author)
        archive.writestr(f"{root}/ro-crate-metadata.json", json.dumps(metadata, indent=2))
        for sample in samples:
            for crate_file in sample.files:
                archive.write(crate_file.source, f"{root}/{sample.code}/{crate_file.name}")


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
