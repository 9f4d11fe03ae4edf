"""XML as the diffraction formats use it (.xrdml, and the members of .rasx and .brml zips).

Parsed with defusedxml (no entity expansion, no external references: an uploaded file is not
trusted), namespaces dropped from tags and attribute names so one path works for every schema
version ("xrdMeasurement/scan", "type" for xsi:type). A truncated or damaged document becomes
a ParseError naming the file, the member and where the XML breaks.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .errors import ParseError, file_label

MAX_XML_BYTES = 512 << 20


def local(name: str) -> str:
    """'{http://www.xrdml.com/XRDMeasurement/2.1}scan' -> 'scan'."""
    return name.rsplit("}", 1)[-1]


def parse_xml(data: bytes, member: str | None, path: Path) -> Element:
    """The root element with namespaces dropped; ParseError for damaged or hostile XML."""
    where = f"{file_label(path)}" + (f" (member {member})" if member else "")
    if len(data) > MAX_XML_BYTES:
        raise ParseError(f"{where}: XML of {len(data) >> 20} MB, too large for one pattern.")
    if not data.strip():
        raise ParseError(f"{where}: the XML document is empty.")
    try:
        root = fromstring(data)
    except XmlSyntaxError as exc:
        line, column = getattr(exc, "position", (None, None))
        detail = getattr(exc, "msg", None) or str(exc)
        raise ParseError(
            f"{where}: the XML breaks at line {line}, column {column} ({detail}); "
            "the file is truncated or damaged. Upload the complete file again."
        ) from exc
    except DefusedXmlException as exc:
        raise ParseError(
            f"{where}: the XML declares entities or external references, which Kiln does not "
            "expand; instrument files have none."
        ) from exc
    for node in root.iter():
        node.tag = local(node.tag) if isinstance(node.tag, str) else node.tag
        if node.attrib:
            node.attrib = {local(k): v for k, v in node.attrib.items()}
    return root


def xml_text(node: Element | None) -> str | None:
    """Stripped text of a node, None for a missing node or empty text."""
    if node is None or node.text is None:
        return None
    text = node.text.strip()
    return text or None


def find_first(root: Element, tag: str) -> Element | None:
    """The first element named `tag` anywhere below `root`."""
    return next(root.iter(tag), None)
