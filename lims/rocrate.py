"""The ELN consortium's .eln archive (RO-Crate 1.1 in a zip), built from plain data (no Django).

Layout: <root>/ro-crate-metadata.json, and per sample a folder <root>/<CODE>/ with its files.
The JSON-LD is flattened, as the consortium asks: every entity (sample Datasets, Files,
PropertyValues, people, the publisher, the licence, actions) is a node of @graph, and nodes
refer to each other only by {"@id"}. Each sample is a Dataset whose `isBasedOn` names its
parents (and `lineage.N.*` values give each edge's role and amount), so other ELNs can rebuild
the lineage; its numbers are PropertyValues with units; files are File entities with their
sha256 and size; how a file was computed from another (an analysis) is a CreateAction.

The archive is written to a file (on the worker), each member copied from its stored file in
chunks, so memory stays flat whatever the size of the raw files; each file's SHA-256 is checked
on the way, so the archive never claims a checksum its content does not have.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

CHUNK = 1 << 20
# (bytes of raw files written so far, bytes in all)
Progress = Callable[[int, int], None]
Scalar = str | int | float | bool


class CrateError(ValueError):
    """A stored file cannot go into the archive as described; the message names it."""


CONTEXT = "https://w3id.org/ro/crate/1.1/context"
CONFORMS = {"@id": "https://w3id.org/ro/crate/1.1"}
METADATA = "ro-crate-metadata.json"
ELN_VERSION = "1.0"  # the consortium's `version` on the metadata descriptor
KILN = "#kiln"
KILN_FORMAT = "kiln-eln-1"  # softwareVersion of #kiln: what eln_import knows how to read back
EXPORT = "#kiln-export"

# UN/CEFACT Recommendation 20 codes (unitCode) of the units Kiln names its numbers in
UNIT_CODES = {
    "g": "GRM", "mg": "MGM", "mL": "MLT", "µL": "4G", "°C": "CEL", "h": "HUR", "min": "MIN",
    "s": "SEC", "%": "P1", "mm": "MMT", "µm": "4H", "cm²": "CMK", "V": "VLT", "mV": "2Z",
    "mA": "4K", "mAh": "E09", "rpm": "RPM", "ppm": "59", "Å": "A11", "mol": "C34", "Ω": "OHM",
    "Hz": "HTZ", "°": "DD",
}  # fmt: skip
# the unit a name ends in (house style: mass_g, active_mass_mg, areal_loading_mg_per_cm2);
# the more specific endings first ("capacity_mah_g" is mAh/g, not g)
UNIT_SUFFIXES = (
    ("_mah_per_g", "mAh/g"), ("_mah_g", "mAh/g"), ("_mwh_per_g", "mWh/g"), ("_mwh_g", "mWh/g"),
    ("_ma_per_g", "mA/g"), ("_mah_per_v", "mAh/V"), ("_j_per_g", "J/g"),
    ("micromol_per_mg", "µmol/mg"), ("_umol_per_mg", "µmol/mg"), ("_cm2_per_s", "cm²/s"),
    ("_mg_per_cm2", "mg/cm²"), ("_g_per_ml", "g/mL"), ("_g_per_mol", "g/mol"),
    ("_mv_per_cycle", "mV/cycle"), ("_angstrom3", "Å³"), ("_angstrom", "Å"), ("_percent", "%"),
    ("rate_c", "C"), ("_cm2", "cm²"), ("_mah", "mAh"), ("_mwh", "mWh"), ("_ppm", "ppm"),
    ("_rpm", "rpm"), ("_ohm", "Ω"), ("_hz", "Hz"), ("_deg", "°"), ("_min", "min"),
    ("_mol", "mol"), ("_mg", "mg"), ("_ml", "mL"), ("_ul", "µL"), ("_um", "µm"), ("_mm", "mm"),
    ("_ma", "mA"), ("_mv", "mV"), ("_g", "g"), ("_c", "°C"), ("_h", "h"), ("_s", "s"),
    ("_v", "V"),
)  # fmt: skip
NO_UNIT = {"r_s", "r_ct"}  # resistances named without their unit


@dataclass(frozen=True)
class CrateFile:
    name: str
    source: Path | None  # the stored file; None when `content` holds the bytes
    sha256: str
    size: int
    content_type: str = "application/octet-stream"
    description: str = ""
    content: bytes | None = None  # small generated files (a result's JSON), written as they are


@dataclass(frozen=True)
class CrateValue:
    """A PropertyValue: `name` nests with dots (reagents.2.actual_mass_g); unit "" = from the
    name's suffix (see unit_of)."""

    name: str
    value: Scalar
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class CrateLink:
    """A parent in the lineage, with the edge's role and the amount consumed."""

    code: str
    role: str = ""
    amount: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class CratePerson:
    key: str  # the username: unique in the archive
    name: str = ""


@dataclass(frozen=True)
class CrateAction:
    """A file computed from others by software (an analysis): inputs and outputs are the
    SHA-256 of files of the same sample."""

    key: str
    name: str
    software: str
    version: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    when: str = ""


@dataclass(frozen=True)
class CrateSample:
    code: str
    name: str
    kind: str
    created: str  # ISO 8601
    description: str = ""
    parents: tuple[str | CrateLink, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    files: tuple[CrateFile, ...] = ()
    values: tuple[CrateValue, ...] = ()
    author: CratePerson | None = None
    actions: tuple[CrateAction, ...] = ()


@dataclass(frozen=True)
class CratePublisher:
    """The organisation that publishes the archive (the consortium's sdPublisher)."""

    name: str = "Kiln"
    url: str = ""

    @property
    def id(self) -> str:
        return self.url or "#publisher"


@dataclass(frozen=True)
class CrateLicense:
    id: str = "https://creativecommons.org/licenses/by/4.0/"
    name: str = "CC BY 4.0"
    description: str = "Creative Commons Attribution 4.0 International"


def unit_of(name: str) -> str:
    """The unit a value's name ends in ("" if none): list items (voltage_window_v.0) take
    the unit of their list."""
    parts = [p for p in name.split(".") if not p.isdigit()]
    last = parts[-1].lower() if parts else ""
    if last in NO_UNIT:
        return ""
    return next((unit for suffix, unit in UNIT_SUFFIXES if last.endswith(suffix)), "")


def crate_metadata(
    root: str,
    focus: str,
    samples: Iterable[CrateSample],
    author: str | CratePerson,
    *,
    publisher: CratePublisher | None = None,
    license: CrateLicense | None = None,
    published: str = "",
) -> dict:
    """The ro-crate-metadata.json document (flattened: every entity at the top of @graph)."""
    samples = list(samples)
    exporter = author if isinstance(author, CratePerson) else CratePerson(author)
    publisher, license = publisher or CratePublisher(), license or CrateLicense()
    published = published or datetime.now(UTC).isoformat(timespec="seconds")
    graph = _header(focus, samples, exporter, publisher, license, published)
    graph += _provenance(focus, exporter, published, publisher)
    for sample in samples:
        graph += _sample_nodes(sample, sample.author or exporter, publisher)
    return {"@context": CONTEXT, "@graph": _unique(graph)}


def write_eln(
    out: BinaryIO | Path,
    root: str,
    focus: str,
    samples: list[CrateSample],
    author: str | CratePerson,
    progress: Progress | None = None,
    **metadata,
) -> None:
    """Write the zip: the root folder, metadata, then a folder per sample with its files
    (`metadata`: publisher, license, published, as crate_metadata takes them)."""
    total = sum(f.size for s in samples for f in s.files)
    done = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        document = crate_metadata(root, focus, samples, author, **metadata)
        archive.writestr(f"{root}/", b"")
        archive.writestr(f"{root}/{METADATA}", json.dumps(document, indent=2, ensure_ascii=False))
        for sample in samples:
            archive.writestr(f"{root}/{sample.code}/", b"")  # one folder per dataset, always
            for crate_file in sample.files:
                name = f"{root}/{sample.code}/{crate_file.name}"
                for written in _copy_member(archive, crate_file, name):
                    done += written
                    if progress is not None:
                        progress(done, total)


def _copy_member(archive: zipfile.ZipFile, crate_file: CrateFile, name: str):
    """Copy one stored file into the archive in chunks (yields the bytes of each chunk)."""
    if crate_file.content is not None:
        yield from _write_content(archive, crate_file, name)
        return
    if crate_file.source is None or not crate_file.source.is_file():
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


def _write_content(archive: zipfile.ZipFile, crate_file: CrateFile, name: str):
    if hashlib.sha256(crate_file.content).hexdigest() != crate_file.sha256:
        raise CrateError(f"{crate_file.name}: its SHA-256 does not match its content")
    archive.writestr(name, crate_file.content)
    yield len(crate_file.content)


# --- the graph ---------------------------------------------------------------------------------


def ref(node_id: str) -> dict:
    return {"@id": node_id}


def dataset_id(code: str) -> str:
    return f"./{code}/"


def file_id(code: str, name: str) -> str:
    return f"./{code}/{quote(name)}"


def person_id(key: str) -> str:
    return f"#person-{quote(key, safe='')}"


def _header(
    focus: str,
    samples: list[CrateSample],
    exporter: CratePerson,
    publisher: CratePublisher,
    license: CrateLicense,
    published: str,
) -> list[dict]:
    """The metadata descriptor, the root Dataset (its author: who exported it), the publisher,
    the licence, Kiln."""
    return [
        {"@id": METADATA, "@type": "CreativeWork", "about": ref("./"), "conformsTo": CONFORMS,
         "version": ELN_VERSION, "dateCreated": published, "sdPublisher": ref(publisher.id)},
        {"@id": "./", "@type": "Dataset", "identifier": focus,
         "name": f"{focus} with its lineage (Kiln export)",
         "description": f"{focus} and every sample it was made from or that was made from it, "
                        f"one folder per sample ({len(samples)} in all), exported by Kiln.",
         "datePublished": published, "license": ref(license.id),
         "publisher": ref(publisher.id), "author": ref(person_id(exporter.key)),
         "keywords": "Kiln, battery materials, lineage",
         "hasPart": [ref(dataset_id(s.code)) for s in samples],
         "mentions": [ref(EXPORT)] + [ref(_action_id(a)) for s in samples for a in s.actions]},
        {"@id": publisher.id, "@type": "Organization", "name": publisher.name,
         **({"url": publisher.url} if publisher.url else {})},
        {"@id": license.id, "@type": "CreativeWork", "name": license.name,
         "description": license.description},
        {"@id": KILN, "@type": "SoftwareApplication", "name": "Kiln",
         "softwareVersion": KILN_FORMAT},
    ]  # fmt: skip


def _provenance(
    focus: str, exporter: CratePerson, published: str, publisher: CratePublisher
) -> list[dict]:
    """The export itself, as a CreateAction by Kiln on behalf of the person who asked."""
    return [
        {"@id": EXPORT, "@type": "CreateAction", "name": f"Kiln .eln export of {focus}",
         "agent": ref(person_id(exporter.key)), "instrument": ref(KILN),
         "object": ref(dataset_id(focus)), "result": ref("./"), "endTime": published},
        _person(exporter, publisher),
    ]  # fmt: skip


def _person(person: CratePerson, publisher: CratePublisher) -> dict:
    return {"@id": person_id(person.key), "@type": "Person", "name": person.name or person.key,
            "identifier": person.key, "affiliation": ref(publisher.id)}  # fmt: skip


def _sample_nodes(
    sample: CrateSample, author: CratePerson, publisher: CratePublisher
) -> list[dict]:
    values = _values(sample)
    nodes = [_dataset(sample, author, values), _person(author, publisher)]
    nodes += [_property_value(sample.code, value) for value in values]
    nodes += [_file(sample.code, f) for f in sample.files]
    for action in sample.actions:
        nodes += _action(sample, action)
    return nodes


def _values(sample: CrateSample) -> list[CrateValue]:
    """The sample's values, then its lineage edges, then the providers' plain properties (the
    first of a name wins)."""
    links = [p if isinstance(p, CrateLink) else CrateLink(p) for p in sample.parents]
    values = list(sample.values)
    for i, link in enumerate(links):
        values += [CrateValue(f"lineage.{i}.parent", link.code)]
        values += [CrateValue(f"lineage.{i}.role", link.role)] if link.role else []
        if link.amount is not None:
            values += [CrateValue(f"lineage.{i}.amount", link.amount, link.unit)]
    values += [CrateValue(k, v) for k, v in sorted(sample.properties.items())]
    seen: set[str] = set()
    return [v for v in values if not (v.name in seen or seen.add(v.name))]


def _dataset(sample: CrateSample, author: CratePerson, values: list[CrateValue]) -> dict:
    parents = [p.code if isinstance(p, CrateLink) else p for p in sample.parents]
    node = {
        "@id": dataset_id(sample.code),
        "@type": "Dataset",
        "identifier": sample.code,
        "name": sample.name,
        "genre": sample.kind,
        "dateCreated": sample.created,
        "text": sample.description,
        "author": ref(person_id(author.key)),
        "isBasedOn": _one_or_list([ref(dataset_id(code)) for code in dict.fromkeys(parents)]),
        "variableMeasured": [ref(_value_id(sample.code, v.name)) for v in values],
        "hasPart": [ref(file_id(sample.code, f.name)) for f in sample.files],
    }
    return {key: value for key, value in node.items() if value not in ("", [])}


def _value_id(code: str, name: str) -> str:
    return f"#{code}/{quote(name, safe='.')}"


def _property_value(code: str, value: CrateValue) -> dict:
    unit = value.unit or unit_of(value.name)
    node = {"@id": _value_id(code, value.name), "@type": "PropertyValue",
            "propertyID": value.name, "name": value.name, "value": value.value}  # fmt: skip
    if unit:
        node["unitText"] = unit
        if unit in UNIT_CODES:
            node["unitCode"] = UNIT_CODES[unit]
    if value.description:
        node["description"] = value.description
    return node


def _file(code: str, crate_file: CrateFile) -> dict:
    node = {
        "@id": file_id(code, crate_file.name),
        "@type": "File",
        "name": crate_file.name,
        "contentSize": str(crate_file.size),  # the consortium's form: a string of bytes
        "encodingFormat": crate_file.content_type,
        "sha256": crate_file.sha256,
    }
    if crate_file.description:
        node["description"] = crate_file.description
    return node


def _action_id(action: CrateAction) -> str:
    return f"#action-{quote(action.key, safe='')}"


def _software_id(action: CrateAction) -> str:
    return f"#software-{quote(action.software, safe='')}-{quote(action.version, safe='')}"


def _action(sample: CrateSample, action: CrateAction) -> list[dict]:
    """The CreateAction and the software it ran (inputs and outputs found by checksum)."""
    by_sha = {f.sha256: file_id(sample.code, f.name) for f in sample.files}
    node = {
        "@id": _action_id(action), "@type": "CreateAction", "name": action.name,
        "instrument": ref(_software_id(action)),
        "object": _one_or_list([ref(by_sha[s]) for s in action.inputs if s in by_sha]),
        "result": _one_or_list([ref(by_sha[s]) for s in action.outputs if s in by_sha]),
        "endTime": action.when,
    }  # fmt: skip
    software = {"@id": _software_id(action), "@type": "SoftwareApplication",
                "name": action.software, "softwareVersion": action.version}  # fmt: skip
    return [{k: v for k, v in node.items() if v not in ("", [])}, software]


def _one_or_list(items: list):
    """RO-Crate 1.1 prefers a single value to a list of one (hasPart stays a list: the
    consortium's schema wants it so)."""
    return items[0] if len(items) == 1 else items


def _unique(graph: list[dict]) -> list[dict]:
    """One node per @id (a person who owns several samples appears once)."""
    seen: set[str] = set()
    return [n for n in graph if not (n["@id"] in seen or seen.add(n["@id"]))]


# --- reading back (eln_import) -------------------------------------------------------------------


def crate_nodes(document: dict) -> dict[str, dict]:
    """@id -> node of a flattened document."""
    return {node["@id"]: node for node in document.get("@graph", []) if "@id" in node}


def made_by_kiln(document: dict) -> bool:
    """True for an archive Kiln wrote in the format this module reads."""
    kiln = crate_nodes(document).get(KILN, {})
    return kiln.get("name") == "Kiln" and kiln.get("softwareVersion") == KILN_FORMAT


def refs(value) -> list[str]:
    """The @ids of a reference or a list of references."""
    items = value if isinstance(value, list) else [value] if value else []
    return [item["@id"] for item in items if isinstance(item, dict) and "@id" in item]


def sample_values(document: dict, dataset: dict) -> dict[str, Scalar]:
    """propertyID -> value of a Dataset's PropertyValues."""
    nodes = crate_nodes(document)
    found = (nodes.get(i, {}) for i in refs(dataset.get("variableMeasured")))
    return {n["propertyID"]: n.get("value") for n in found if "propertyID" in n}


def unflatten(values: dict[str, Scalar], prefix: str) -> dict:
    """The nested mapping under `prefix.` (a.0, a.1 become a list), as flattened by flatten."""
    tree: dict = {}
    for name, value in values.items():
        if not name.startswith(prefix + "."):
            continue
        *path, last = name[len(prefix) + 1 :].split(".")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return _lists(tree)


def _lists(node):
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node) and sorted(map(int, node)) == list(range(len(node))):
        return [node[str(i)] for i in range(len(node))]
    return node


def flatten(prefix: str, value) -> list[tuple[str, Scalar]]:
    """(dotted name, scalar) pairs of a JSON value; None is left out."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in flatten(f"{prefix}.{k}", v)]
    if isinstance(value, list | tuple):
        return [pair for i, v in enumerate(value) for pair in flatten(f"{prefix}.{i}", v)]
    if value is None:
        return []
    return [(prefix, value if isinstance(value, bool | int | float) else str(value))]


SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name that needs no escaping anywhere ("cycle 1.csv" -> "cycle_1.csv")."""
    return SAFE_NAME.sub("_", name).strip("._") or "file"
