"""The front door for every table kind: `read_table(path, table_kind)` -> ParsedFile.

Each kind of schema.TABLE_KINDS is read by one reader function, registered in READERS:
cycling files by read_cycler_file, the others by parsers.material_readers. A kind without a reader
yet raises ParseError ("Kiln cannot read thermal files yet"). A reader is called as
`reader(path, fmt, **options)` (fmt "auto": from the file's content; options such as `limits`
pass through) and returns a ParsedFile whose table has its kind's columns, in order; its
metadata is handed to the analyses (AnalysisContext.file_metadata: a DSC file's sample mass).

A new kind's reader is registered here, next to the others:

    from .dsc import read_dsc_file
    READERS["thermal"] = read_dsc_file        # or register_reader("thermal", read_dsc_file)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import material_readers
from .errors import ParseError, file_label
from .reader import ParsedFile, read_cycler_file
from .schema import schema_of

TableReader = Callable[..., ParsedFile]

READERS: dict[str, TableReader] = {
    "cycling": read_cycler_file,
    **material_readers.READERS,  # impedance (BioLogic, Gamry and text), potential steps, ...
}


def register_reader(table_kind: str, reader: TableReader) -> TableReader:
    """Read files of `table_kind` with `reader` from now on (ValueError for an unknown kind)."""
    schema_of(table_kind)
    READERS[table_kind] = reader
    return reader


def read_table(
    path: str | Path, table_kind: str, fmt: str = "auto", **options: object
) -> ParsedFile:
    """The file read as a table of `table_kind` (schema.SCHEMAS), by that kind's reader.

    Raises ParseError (naming the file) when the file cannot be read as that kind, or when
    Kiln has no reader for the kind yet; ValueError for a kind that does not exist.
    """
    schema = schema_of(table_kind)
    reader = READERS.get(table_kind)
    if reader is None:
        raise ParseError(f"{file_label(path)}: Kiln cannot read {schema.title} files yet.")
    parsed = reader(path, fmt, **options)
    columns = tuple(parsed.table.columns)
    if not schema.exact:
        columns = columns[: len(schema.columns)]
    if schema.columns and columns != schema.columns:  # a reader's bug
        raise AssertionError(
            f"the {table_kind} reader returned columns {list(parsed.table.columns)}"
        )
    return parsed
