"""Generic diffraction tables (comma, semicolon or tab separated text) read through a
DiffractionColumnMapping saved once per instrument. Pure Python, no Django.

For exports the text-pattern reader (diffraction_xy) does not recognise: it needs 2θ in the
first column rising in equal steps, and takes every other numeric column for an intensity.

- two_theta_deg = the 2θ column (degrees); intensity = the intensity column, in
  `intensity_unit` ("counts", "cps" or "arbitrary"); intensity_esd = the esd column when
  mapped, else Poisson from counts (or from cps with `counting_time_s`), else NaN
  (diffraction_scan.esd_of); the usual scan checks apply (diffraction_scan.check_scan);
- columns are matched by name, exactly, else ignoring case and surrounding spaces; the names
  are on line `header_row` (0-based); delimiter and decimal mark as potential_steps_text
  finds them;
- an empty or non-numeric cell is damage (ParseError naming the line); a last line cut short
  is refused (copy the file again once the instrument has finished writing it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .diffraction_scan import INTENSITY_UNITS, Scan, common_metadata, scans_frame
from .errors import ParseError, file_label
from .mapped import _match_columns
from .mapping_record import MappingError, StoredMapping
from .potential_steps_text import numeric_columns, read_lines, split_header

MAPPED_DIFFRACTION = "mapped_diffraction"


@dataclass(frozen=True)
class DiffractionColumnMapping(StoredMapping):
    """Which columns of a generic diffraction table hold 2θ, intensity and its esd."""

    NOT_TEXT = frozenset({"header_row", "counting_time_s"})

    name: str
    two_theta_column: str
    intensity_column: str
    esd_column: str = ""
    intensity_unit: str = "arbitrary"
    counting_time_s: float | None = None  # per step: the esd of a cps pattern
    header_row: int = 0

    def __post_init__(self) -> None:
        self._check_text()
        self._check_required(("name", "two_theta_column", "intensity_column"))
        self._check_choices((("intensity_unit", INTENSITY_UNITS),))
        self._check_distinct_columns()
        time = self.counting_time_s
        if time is not None and (
            isinstance(time, bool)
            or not isinstance(time, (int, float))
            or not (math.isfinite(time) and 0 < time < 1e5)
        ):
            raise MappingError("counting_time_s must be a number of seconds > 0 (or empty)")
        self._check_header_row(most=1000)

    def columns(self) -> dict[str, str]:
        """quantity -> column name, for the columns this mapping uses."""
        names = {
            "two_theta": self.two_theta_column,
            "intensity": self.intensity_column,
            "esd": self.esd_column,
        }
        return {q: c for q, c in names.items() if c.strip()}


def read_mapped_diffraction(
    path: str | Path, mapping: DiffractionColumnMapping
) -> tuple[pd.DataFrame, dict]:
    """The diffraction table (DIFFRACTION_COLUMNS, one scan) and metadata of a text table read
    through `mapping`; ParseError naming the file for a missing column or damaged line."""
    path = Path(path)
    lines = read_lines(path)
    if mapping.header_row >= len(lines):
        raise ParseError(
            f"{file_label(path)}: has {len(lines)} lines, no header at line "
            f"{mapping.header_row + 1}."
        )
    header, delimiter = split_header(lines[mapping.header_row])
    found = _match_columns(header, mapping.columns(), mapping, path)
    values = numeric_columns(lines, mapping.header_row, header, delimiter, found, path)
    data_lines = [n for n, ln in enumerate(lines) if n > mapping.header_row and ln.strip()]
    for quantity, numbers in values.items():
        bad = np.flatnonzero(~np.isfinite(numbers))
        if bad.size:
            raise ParseError(
                f"{file_label(path)}: line {data_lines[bad[0]] + 1}: the {found[quantity]!r} "
                "cell is empty or not a number; the file is damaged or the mapping does not fit."
            )
    scan = Scan(
        two_theta_deg=values["two_theta"],
        intensity=values["intensity"],
        unit=mapping.intensity_unit,
        esd=values.get("esd"),
        counting_time_s=mapping.counting_time_s,
        label=f"column '{found['intensity']}'",
        info={"column": found["intensity"]},
    )
    table = scans_frame([scan], path)
    own = {
        "mapping": mapping.name,
        "columns": list(found.values()),
        "separator": {"\t": "tab", ",": "comma", ";": "semicolon"}[delimiter],
    }
    return table, common_metadata(MAPPED_DIFFRACTION, [scan], own)
