"""Expected figures for the shared cycler fixtures, from shared/testdata/cyclers/REFERENCE.md.

Capacities are mAh, per cycle label, from the reference library REFERENCE.md names for each
file. `labels` / `complete` are REFERENCE.md's counts in *Kiln's* convention (one cycle model
for every instrument: half cycles paired for the electrode's role, a leading partial half
cycle as cycle 0, the completeness rule of schema.py); where the reference library labels or
counts differently the mapping is explained next to the entry.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from characterization.parsers import ParsedFile, read_cycler_file
from tests.testdata import testdata_dir

REL_TOL = 5e-3  # 0.5 %


@dataclass(frozen=True)
class CyclingReference:
    file: str
    format: str
    library: str
    rows: int
    labels: int
    complete: int
    # cycle label -> (charge mAh, discharge mAh)
    cycles: dict[int, tuple[float, float]] = field(default_factory=dict)
    electrode: str = "cathode"


@dataclass(frozen=True)
class NonCyclingReference:
    file: str
    format: str
    kind: str  # NotCyclingFileError.kind
    points: int


CYCLING: tuple[CyclingReference, ...] = (
    CyclingReference(
        # Ends with a rest after the discharge: the instrument went on, so cycle 1 is complete.
        file="neware_navani_test.ndax",
        format="neware_ndax",
        library="NewareNDA 2026.6.11",
        rows=1464,
        labels=1,
        complete=1,
        cycles={1: (0.593039, 0.625451)},
    ),
    CyclingReference(
        file="neware_fastnda_nw4-120-1-6-53.ndax",
        format="neware_ndax",
        library="NewareNDA 2026.6.11",
        rows=18700,
        labels=160,
        complete=160,
        # Charge = CC_Chg + CV_Chg step maxima (navani/cellpy's 1.64055 is the CV step alone).
        cycles={1: (1.69654, 0.32362), 2: (0.320648, 0.232165), 3: (0.248621, 0.171967)},
    ),
    CyclingReference(
        # NewareNDA's "chg" mode calls the leading discharge cycle 1 and the C/D pair cycle 2;
        # Kiln's one rule makes the leading partial discharge cycle 0 for every instrument.
        file="neware_navani_test.nda",
        format="neware_nda",
        library="NewareNDA 2026.6.11",
        rows=439,
        labels=2,
        complete=1,
        cycles={0: (0.0, 6.53056e-05), 1: (0.000696528, 0.00700919)},
    ),
    CyclingReference(
        # No current ever flows: one label (0) and no complete cycle.
        file="neware_newarenda_unit27_rest_only.ndax",
        format="neware_ndax",
        library="NewareNDA 2026.6.11",
        rows=301,
        labels=1,
        complete=0,
    ),
    CyclingReference(
        # REFERENCE.md pairs galvani's half cycles as we do: leading discharge = cycle 0.
        file="biologic_navani_gcpl_5cycles.mpr",
        format="biologic_mpr",
        library="datalab-org-galvani 0.6.0",
        rows=46102,
        labels=7,
        complete=6,
        cycles={0: (0.0, 0.206529), 1: (0.986781, 0.852855), 2: (0.93709, 0.87633)},
    ),
    CyclingReference(
        # The last label (12) is a 2-record charge the file stops in: incomplete.
        file="biologic_yadg_gcpl_4p6V.mpr",
        format="biologic_mpr",
        library="datalab-org-galvani 0.6.0",
        rows=10914,
        labels=12,
        complete=11,
        cycles={1: (1.94221, 1.66638), 2: (1.69591, 1.65445), 3: (1.67302, 1.63459)},
    ),
    CyclingReference(
        # Arbin's Cycle_Index 5 holds only a 2-record rest after cycle 4's discharge: no half
        # cycle, so it joins cycle 4 (4 labels where galvani lists 5; 4 complete in both).
        file="arbin_navani_example.res",
        format="arbin_res",
        library="datalab-org-galvani 0.6.0",
        rows=2150,
        labels=4,
        complete=4,
        cycles={1: (0.483515, 0.475156), 2: (0.476751, 0.474353), 3: (0.476185, 0.474002)},
    ),
    CyclingReference(
        # An anode half-cell (lithiation = discharge first), analysed as one: Kiln's cycles 1
        # and 2 are cellpy's. BTSDA's Cycle Index 3 holds two discharge/charge pairs, which
        # cellpy sums (7.83 / 7.97 mAh); Kiln pairs the half cycles itself (cycles 3 and 4,
        # and a cycle_index_inconsistent warning). The file stops in cycle 5's charge at
        # 0.43 V (earlier charges reached 1.0 V): incomplete, where cellpy counts it.
        file="neware_btsda_export_uio.csv",
        format="neware_btsda_csv",
        library="cellpy 1.0.3",
        rows=9065,
        labels=5,
        complete=4,
        cycles={1: (4.24934, 5.08628), 2: (4.24668, 4.36841)},
        electrode="anode",
    ),
    CyclingReference(
        # beep calls the complete cycle 0 (Maccor's Cyc#, kept as instrument_cycle); Kiln's
        # first charge-first cycle is 1. The truncation cut cycle 2 one record into its
        # discharge (4.18 V, where cycle 1's ended at 2.70 V): incomplete, as beep leaves it out.
        file="maccor_beep_PreDiag_000229_truncated.034",
        format="maccor_txt",
        library="beep 2026.2.7",
        rows=4061,
        labels=2,
        complete=1,
        cycles={1: (3852.9, 4762.61)},
    ),
)

NON_CYCLING: tuple[NonCyclingReference, ...] = (
    NonCyclingReference("biologic_yadg_peis.mpr", "biologic_mpr", "eis", 32),
    NonCyclingReference("eis_impedancepy_biologic.mpt", "biologic_mpt", "eis", 43),
    NonCyclingReference(
        "biologic_yadg_ca_potential_step.mpr", "biologic_mpr", "potential_step", 721
    ),
    NonCyclingReference(
        "biologic_yadg_ca_potential_step.mpt", "biologic_mpt", "potential_step", 721
    ),
)

# EIS: frequency range (Hz) and Z (Re, Im) in Ohm at the highest and lowest frequency.
EIS = {
    "biologic_yadg_peis.mpr": {
        "f_max": 2e5,
        "f_min": 1.0,
        "z_f_max": (10.512, -0.7305),
        "z_f_min": (18.024, -2.696),
    },
    "eis_impedancepy_biologic.mpt": {
        "f_max": 1000.3,
        "f_min": 0.0169,
        "z_f_max": (65.471, -0.39),
        "z_f_min": (110.97, -2.346),
    },
}

ALL_FILES: dict[str, str] = {r.file: r.format for r in (*CYCLING, *NON_CYCLING)}


def cycler_data_dir() -> Path:
    """The shared cyclers/ folder (KILN_TESTDATA, see tests/testdata.py); inside a test, a
    missing folder skips it with one line, or fails it under KILN_REQUIRE_TESTDATA=1."""
    return testdata_dir("cyclers")


@functools.cache
def parsed(name: str) -> ParsedFile:
    """Each fixture parsed once per test run; tests must not modify the returned table."""
    return read_cycler_file(cycler_data_dir() / name)
