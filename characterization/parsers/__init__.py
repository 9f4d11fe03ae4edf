"""Measurement file parsers: one module per instrument format -> a typed table per kind.

Pure Python (no Django). Entry points:

    read_table(path, table_kind)         -> ParsedFile with the table of that kind (tables.py;
                                            the kinds and their schemas: schema.py)
    detect_format(path) -> str           format from the file's content, never its extension
    read_cycler_file(path, fmt="auto")   -> ParsedFile(format, table, metadata)
    read_eis_file(path, fmt="auto")      -> ParsedFile with an EIS table (BioLogic PEIS)
    read_mapped_file(path, mapping)      -> ParsedFile of a generic CSV/XLSX table read through
                                            the ColumnMapping saved for its instrument
    cycle_capacities(table)              -> per-cycle charge/discharge capacity (mAh), energy (mWh)
    complete_cycles(table)               -> labels of cycles with both charge and discharge

The cycling table follows schema.COLUMNS (units in the names: s, mA, V, mAh, mWh; every
Ah/Wh/A a file stores is converted explicitly). Errors are ParseError (a ValueError naming the
file); EIS and potential-step (CA) files raise its subclass NotCyclingFileError, whose .kind
says which, because a cycling analysis cannot use them.

One cycle model for every format (cycle_model.normalise, rules in schema.py): each reader
gathers its file's records (time, voltage, current as recorded, the instrument's steps, step
types and cycle index where it has them, and its capacity counters with their restart rule:
Neware and Maccor restart per step, Arbin per cycle index, BioLogic per half cycle); the model
resolves each step's direction (step type, current sign, voltage trend), forms half cycles,
pairs them into cycles (a leading partial half cycle is cycle 0 for every instrument; the
instrument's own index is kept as instrument_cycle) and gives each row the charge passed so
far in its half cycle. cycles.cycle_table applies the one completeness rule.

"No complete cycle" (a rest-only or charge-only file) is not an error here: the table parses,
and complete_cycles() returns [] so the analysis can fail the job with that message.
"""

from ._zip import UnpackLimits
from .cycles import complete_cycles, cycle_capacities
from .detect import FORMATS, detect_format
from .errors import MissingToolError, NotCyclingFileError, ParseError
from .mapped import ColumnMapping, MappingError, read_mapped_file
from .reader import ParsedFile, read_cycler_file, read_eis_file
from .schema import COLUMNS, SCHEMAS, STEP_TYPES, TABLE_KINDS
from .tables import read_table

__all__ = [
    "COLUMNS",
    "ColumnMapping",
    "FORMATS",
    "SCHEMAS",
    "STEP_TYPES",
    "TABLE_KINDS",
    "UnpackLimits",
    "MappingError",
    "MissingToolError",
    "NotCyclingFileError",
    "ParseError",
    "ParsedFile",
    "complete_cycles",
    "cycle_capacities",
    "detect_format",
    "read_cycler_file",
    "read_eis_file",
    "read_mapped_file",
    "read_table",
]
