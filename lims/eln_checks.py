"""What the ELN consortium expects of an .eln archive, checked without Django or the network.

`eln_problems(path)` lists every unmet expectation as a sentence (an empty list: none). It
covers the consortium's specification and its own checks (archive structure, the
`ro-crate-metadata.json` conventions, the JSON schema's types) and the RO-Crate 1.1 rules
Kiln relies on: one root folder holding everything; RO-Crate 1.1 context; the metadata
descriptor with `conformsTo`, `version` and an `sdPublisher` that names an organisation; a root
Dataset with `name`, `description`, `datePublished`, `license` and `hasPart`; a flattened graph
(nested entities only as {"@id"} references, PropertyValues at the top level); one folder per
Dataset holding its files; Files with name, type, size and a sha256 that matches their bytes;
authors that are Person (or Organization) nodes.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote

METADATA = "ro-crate-metadata.json"
CONTEXT = "https://w3id.org/ro/crate/1.1/context"
PROFILE = "https://w3id.org/ro/crate/1.1"
AGENTS = {"Person", "Organization"}
CHUNK = 1 << 20


def eln_problems(archive: Path | BinaryIO) -> list[str]:
    """Every expectation the archive does not meet, one sentence each."""
    try:
        with zipfile.ZipFile(archive) as zf:
            return _archive_problems(zf)
    except zipfile.BadZipFile:
        return ["the file is not a ZIP archive"]


def _archive_problems(zf: zipfile.ZipFile) -> list[str]:
    problems, root = _structure(zf)
    if root is None:
        return problems
    try:
        document = json.loads(zf.read(f"{root}/{METADATA}"))
    except KeyError:
        return [*problems, f"{root}/{METADATA} is missing"]
    except ValueError as exc:
        return [*problems, f"{METADATA} is not valid JSON ({exc})"]
    graph = document.get("@graph") if isinstance(document, dict) else None
    if not isinstance(graph, list) or not all(_is_node(n) for n in graph):
        return [*problems, "@graph must be a list of nodes, each with a string @id and @type"]
    nodes = {n["@id"]: n for n in graph}
    problems += _graph_problems(document, graph, nodes)
    problems += _descriptor_problems(nodes)
    problems += _root_problems(nodes)
    problems += _entity_problems(nodes, zf, root)
    return problems


def _structure(zf: zipfile.ZipFile) -> tuple[list[str], str | None]:
    """Exactly one folder at the root of the zip, every member inside it."""
    problems, roots = [], set()
    for info in zf.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or (len(path.parts) == 1 and not info.is_dir()):
            problems.append(f"{info.filename!r} is not inside the archive's root folder")
        elif path.parts:
            roots.add(path.parts[0])
    if len(roots) != 1:
        problems.append(f"the archive must hold exactly one root folder, not {len(roots)}")
        return problems, None
    return problems, roots.pop()


def _is_node(node) -> bool:
    return (
        isinstance(node, dict)
        and isinstance(node.get("@id"), str)
        and isinstance(node.get("@type"), str)  # the consortium's schema: one type, a string
    )


def _graph_problems(document: dict, graph: list[dict], nodes: dict[str, dict]) -> list[str]:
    problems = []
    if document.get("@context") != CONTEXT:
        problems.append(f"@context must be {CONTEXT!r}")
    if len(nodes) != len(graph):
        problems.append("@graph holds two nodes with the same @id")
    for node in graph:
        for key, value in node.items():
            problems += _flat_problems(node["@id"], key, value, nodes)
        if isinstance(node.get("keywords"), list):
            problems.append(f"{node['@id']}: keywords must be one comma-separated string")
        if "identifier" in node and not isinstance(node["identifier"], str):
            problems.append(f"{node['@id']}: identifier must be a string")
    return problems


def _flat_problems(node_id: str, key: str, value, nodes: dict[str, dict]) -> list[str]:
    """A nested object is only a reference {"@id": ...} to a node of the graph."""
    items = value if isinstance(value, list) else [value]
    problems = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if set(item) != {"@id"}:
            problems.append(f"{node_id}: {key} embeds an entity (not flattened)")
        elif key != "conformsTo" and not _resolves(item["@id"], key, nodes):
            problems.append(f"{node_id}: {key} refers to {item['@id']!r}, not in the graph")
    return problems


def _resolves(target: str, key: str, nodes: dict[str, dict]) -> bool:
    external = target.startswith(("http://", "https://")) and key in {"license", "url"}
    return target in nodes or external


def _descriptor_problems(nodes: dict[str, dict]) -> list[str]:
    descriptor = nodes.get(METADATA)
    if descriptor is None:
        return [f"the metadata descriptor ({METADATA}) is missing from @graph"]
    problems = []
    if descriptor["@type"] != "CreativeWork":
        problems.append(f"{METADATA} must be a CreativeWork")
    if descriptor.get("about") != {"@id": "./"}:
        problems.append(f'{METADATA} must be "about" the root "./"')
    if descriptor.get("conformsTo") != {"@id": PROFILE}:
        problems.append(f"{METADATA} must conform to {PROFILE}")
    if not isinstance(descriptor.get("version"), str) or not descriptor["version"]:
        problems.append(f"{METADATA} needs a version (a string)")
    publisher = nodes.get(_ref(descriptor.get("sdPublisher")) or "", {})
    if not publisher.get("name") or publisher.get("@type") not in {"Organization", "Person"}:
        problems.append(f"{METADATA} needs an sdPublisher: an Organization node with a name")
    return problems


def _root_problems(nodes: dict[str, dict]) -> list[str]:
    root = nodes.get("./")
    if root is None or root["@type"] != "Dataset":
        return ['the root Dataset "./" is missing']
    problems = [f'the root Dataset needs "{k}"' for k in ("name", "description") if not root.get(k)]
    if not _is_date(root.get("datePublished")):
        problems.append("the root Dataset needs datePublished (an ISO 8601 date)")
    licence = _ref(root.get("license"))
    if not licence or (licence in nodes and not nodes[licence].get("name")):
        problems.append("the root Dataset needs a license (a node with a name, or a URL)")
    parts = root.get("hasPart")
    if not isinstance(parts, list) or not parts:
        problems.append("the root Dataset needs hasPart, a list of its Datasets and Files")
    return problems


def _entity_problems(nodes: dict[str, dict], zf: zipfile.ZipFile, root: str) -> list[str]:
    members = {info.filename: info for info in zf.infolist()}
    folders = {str(PurePosixPath(n).parent) + "/" for n in members} | {
        n for n in members if n.endswith("/")
    }
    reached = _reachable(nodes)
    problems = []
    for node in nodes.values():
        kind = node["@type"]
        if kind == "Dataset" and node["@id"] != "./":
            problems += _dataset_problems(node, nodes, folders, root)
        elif kind == "File":
            problems += _file_problems(node, zf, members, root)
        elif kind == "PropertyValue" and not {"propertyID", "value"} <= set(node):
            problems.append(f"{node['@id']}: a PropertyValue needs a propertyID and a value")
        if kind in {"Dataset", "File"} and node["@id"] not in reached:
            problems.append(f"{node['@id']} is not reached from the root through hasPart")
    return problems


def _dataset_problems(node: dict, nodes: dict[str, dict], folders: set[str], root: str):
    node_id = node["@id"]
    problems = [] if node.get("name") else [f"{node_id}: a Dataset needs a name"]
    if not node_id.startswith("./") or not node_id.endswith("/"):
        problems.append(f"{node_id}: a Dataset's @id must be its folder, ./<name>/")
    elif f"{root}/{unquote(node_id[2:])}" not in folders:
        problems.append(f"{node_id}: its folder is missing from the archive")
    author = nodes.get(_ref(node.get("author")) or "", {})
    if author.get("@type") not in AGENTS:
        problems.append(f"{node_id}: author must refer to a Person or Organization node")
    for part in _refs(node.get("hasPart")):
        if nodes.get(part, {}).get("@type") == "Dataset":
            problems.append(f"{node_id}: a Dataset must not hold another Dataset in hasPart")
    for value in _refs(node.get("variableMeasured")):
        if nodes.get(value, {}).get("@type") != "PropertyValue":
            problems.append(f"{node_id}: variableMeasured {value!r} is not a PropertyValue node")
    return problems


def _file_problems(node: dict, zf: zipfile.ZipFile, members: dict, root: str) -> list[str]:
    node_id = node["@id"]
    problems = [
        f"{node_id}: a File needs {key}"
        for key in ("name", "encodingFormat", "sha256")
        if not node.get(key)
    ]
    size = node.get("contentSize")
    if not isinstance(size, str) or not size.isdigit():
        problems.append(f"{node_id}: contentSize must be a string of digits (bytes, no unit)")
    member = f"{root}/{unquote(node_id.removeprefix('./'))}"
    if member not in members:
        return [*problems, f"{node_id}: the file is missing from the archive"]
    if isinstance(size, str) and size.isdigit() and int(size) != members[member].file_size:
        problems.append(
            f"{node_id}: contentSize {size} but the file has {members[member].file_size}"
        )
    if node.get("sha256") and _sha256(zf, member) != node["sha256"]:
        problems.append(f"{node_id}: its sha256 does not match its bytes")
    return problems


def _reachable(nodes: dict[str, dict]) -> set[str]:
    seen, todo = set(), ["./"]
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo += _refs(nodes.get(node_id, {}).get("hasPart"))
    return seen


def _sha256(zf: zipfile.ZipFile, member: str) -> str:
    digest = hashlib.sha256()
    with zf.open(member) as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _ref(value) -> str | None:
    return value.get("@id") if isinstance(value, dict) else None


def _refs(value) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [i["@id"] for i in items if isinstance(i, dict) and isinstance(i.get("@id"), str)]


def _is_date(value) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True
