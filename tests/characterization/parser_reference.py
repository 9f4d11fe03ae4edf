"""Expected figures for the shared cycler fixtures, from shared/testdata/cyclers/REFERENCE.md.

Capacities are mAh, per cycle label, from the reference library REFERENCE.md names for each
file. `labels` / `complete` are REFERENCE.md's counts in *our* convention; where the reference
library labels differently the mapping is explained next to the entry.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from characterization.parsers import ParsedFile, read_cycler_file

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


@dataclass(frozen=True)
class NonCyclingReference:
    file: str
    format: str
    kind: str  # NotCyclingFileError.kind
    points: int


CYCLING: tuple[CyclingReference, ...] = (
    CyclingReference(
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
        # NewareNDA's "chg" mode, which we adopt: the leading discharge is cycle 1, not 0.
        file="neware_navani_test.nda",
        format="neware_nda",
        library="NewareNDA 2026.6.11",
        rows=439,
        labels=2,
        complete=1,
        cycles={1: (0.0, 6.53056e-05), 2: (0.000696528, 0.00700919)},
    ),
    CyclingReference(
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
        file="biologic_yadg_gcpl_4p6V.mpr",
        format="biologic_mpr",
        library="datalab-org-galvani 0.6.0",
        rows=10914,
        labels=12,
        complete=11,
        cycles={1: (1.94221, 1.66638), 2: (1.69591, 1.65445), 3: (1.67302, 1.63459)},
    ),
    CyclingReference(
        file="arbin_navani_example.res",
        format="arbin_res",
        library="datalab-org-galvani 0.6.0",
        rows=2150,
        labels=5,
        complete=4,
        cycles={1: (0.483515, 0.475156), 2: (0.476751, 0.474353), 3: (0.476185, 0.474002)},
    ),
    CyclingReference(
        # BTSDA's "Cycle Index" passed through, as cellpy does (a discharge-first anode cell).
        file="neware_btsda_export_uio.csv",
        format="neware_btsda_csv",
        library="cellpy 1.0.3",
        rows=9065,
        labels=4,
        complete=4,
        cycles={1: (4.24934, 5.08628), 2: (4.24668, 4.36841), 3: (7.83477, 7.97423)},
    ),
    CyclingReference(
        # beep lists 1 label (cycle 0): its summary leaves out the final cycle, which the
        # truncation cut one record into its discharge. We keep Maccor's label 1 (4773 mAh
        # charge, 0.004 mAh discharge), so 2 labels; complete_cycles() leaves it out by the
        # final-cycle sliver rule, so 1 complete as in REFERENCE.md.
        file="maccor_beep_PreDiag_000229_truncated.034",
        format="maccor_txt",
        library="beep 2026.2.7",
        rows=4061,
        labels=2,
        complete=1,
        cycles={0: (3852.9, 4762.61)},
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
    """KILN_TESTDATA if set, else <repo>/../shared/testdata/cyclers (as CI lays it out)."""
    env = os.environ.get("KILN_TESTDATA")
    repo = Path(__file__).resolve().parents[2]
    folder = Path(env) if env else repo.parent / "shared" / "testdata" / "cyclers"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"cycler fixtures not found at {folder}; set KILN_TESTDATA to the folder holding "
            "REFERENCE.md and the instrument files"
        )
    return folder


@functools.cache
def parsed(name: str) -> ParsedFile:
    """Each fixture parsed once per test run; tests must not modify the returned table."""
    return read_cycler_file(cycler_data_dir() / name)
