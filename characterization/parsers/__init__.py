"""Cycler file parsers: one module per instrument format -> one normalised table.

Pure Python (no Django). Entry points:

    detect_format(path) -> str           format from the file's content, never its extension
    read_cycler_file(path, fmt="auto")   -> ParsedFile(format, table, metadata)
    read_eis_file(path, fmt="auto")      -> ParsedFile with an EIS table (BioLogic PEIS)
    read_mapped_file(path, mapping)      -> ParsedFile of a generic CSV/XLSX table read through
                                            the ColumnMapping saved for its instrument
    cycle_capacities(table)              -> per-cycle charge/discharge capacity (mAh), energy (mWh)
    complete_cycles(table)               -> labels of cycles with both charge and discharge

The table follows schema.COLUMNS (units in the names: s, mA, V, mAh, mWh; every Ah/Wh/A a
file stores is converted explicitly). Errors are ParseError (a ValueError naming the file);
EIS and potential-step (CA) files raise its subclass NotCyclingFileError, whose .kind says
which, because a cycling analysis cannot use them.

Capacity rule: charge_capacity_mah is the charge passed so far in the cycle's charge, summed
over all its charge steps (CC + CV), non-zero only on charge rows; likewise for discharge. So
a cycle's capacity is the maximum of its column. Instruments differ in how they count:
- Neware (.nda/.ndax, BTSDA CSV) and Maccor restart capacity at every step: steps are summed;
- Arbin (.res, and .xlsx read with python-calamine) accumulates until its cycle index
  advances: taken as is;
- BioLogic restarts at every half cycle (EC-Lab's Q charge/discharge): taken per half cycle.

Cycle labels: the instrument's count where it has one, otherwise from 1 in charge ->
discharge pairs with a leading partial discharge as cycle 0:
- Neware .nda/.ndax: fastnda/NewareNDA cycle_mode "chg" (a charge after a discharge starts a
  cycle, so a leading discharge is cycle 1);
- Neware BTSDA CSV: its "Cycle Index"; Arbin (.res, .xlsx): Cycle_Index (from 1); Maccor: Cyc#
  (from 0);
- BioLogic (.mpr/.mpt count half cycles only): each charge half cycle opens a cycle numbered
  from 1 and takes the discharge after it; a leading discharge from open circuit is cycle 0.

"No complete cycle" (a rest-only or charge-only file) is not an error here: the table parses,
and complete_cycles() returns [] so the analysis can fail the job with that message.
"""

from .cycles import complete_cycles, cycle_capacities
from .detect import FORMATS, detect_format
from .errors import MissingToolError, NotCyclingFileError, ParseError
from .mapped import ColumnMapping, MappingError, read_mapped_file
from .reader import ParsedFile, read_cycler_file, read_eis_file
from .schema import COLUMNS, STEP_TYPES

__all__ = [
    "COLUMNS",
    "ColumnMapping",
    "FORMATS",
    "STEP_TYPES",
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
]
