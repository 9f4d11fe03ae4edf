"""The typed tables the parsers return: one schema per table kind, each documented here.

A measurement's files are read into the table of its kind (parsers.tables.read_table), and an
analysis declares the table kind it reads (analysis.registry.AnalysisKind.table_kind), so an
analysis never meets a table it was not written for. SCHEMAS gives each kind of TABLE_KINDS its
columns (units in the names) and its rules; a kind whose columns are still () is a placeholder
that its reader fills in (see tables.py for registering the reader).
"""

from __future__ import annotations

from dataclasses import dataclass

TABLE_KINDS: tuple[str, ...] = (
    "cycling",
    "impedance",
    "potential_steps",
    "thermal",
    "ion_current",
    "diffraction",
)


@dataclass(frozen=True)
class TableSchema:
    """The columns of one table kind, in order, and what they hold (`doc`)."""

    kind: str
    columns: tuple[str, ...]  # () : not defined yet
    doc: str
    exact: bool = (
        True  # False: `columns` are the required ones, first and in order; more may follow
    )

    @property
    def title(self) -> str:
        """ "potential steps": the kind in a sentence."""
        return self.kind.replace("_", " ")


# --- cycling ------------------------------------------------------------------------------------

CYCLING_DOC = """Galvanostatic cycling: one row per instrument record, in record order.

Columns (units in the names):

    time_s                  float  seconds since the start of the test
    cycle                   int    Kiln's cycle (cathode pairing, see below); analyses of an
                                   anode half-cell re-pair with cycles.paired(table, "anode")
    half_cycle              int    1, 2, ...: a run of steps of one direction (CC + CV charge is
                                   one half cycle); rests belong to the half cycle before them,
                                   leading rests to the first; 0 when no current ever flowed
    instrument_cycle        int    the instrument's own cycle index, kept as recorded (-1: the
                                   file records none); compared with Kiln's cycles, never used
    step                    int    running count of the instrument's steps (1, 2, ...)
    step_type               cat    STEP_TYPES, as the instrument named the step ("charge"
                                   includes CV charge); the resolved direction where the file
                                   names no step types
    direction               cat    DIRECTIONS: charge / discharge / rest, resolved per step from
                                   the step type, the current's sign and the voltage trend (see
                                   cycle_model; which source decided is in table.attrs["kiln"])
    current_ma              float  > 0 charging, < 0 discharging (after the file's sign
                                   convention is resolved: reversed and |I| files are re-signed)
    voltage_v               float  cell voltage
    charge_capacity_mah     float  charge passed so far in this row's charge half cycle (summed
                                   over its CC and CV steps); 0 on rows of any other direction
    discharge_capacity_mah  float  the same for discharge
    charge_energy_mwh       float  as capacity; NaN when the file has no energy
    discharge_energy_mwh    float  as capacity; NaN when the file has no energy

Cycles (one rule for every instrument, characterization.parsers.cycle_model): a cathode
half-cell charges first, so each charge half cycle opens a cycle numbered from 1 and takes the
discharge half cycle after it; an anode half-cell lithiates (discharges) first, so there each
discharge half cycle opens one. Whatever comes before the first opening half cycle (a leading
partial discharge of a cathode) is cycle 0. A cycle's capacity in a direction is the maximum
of that column within the cycle; Coulombic efficiency is second half / first half
(cathode: discharge / charge; anode: delithiation / lithiation = charge / discharge).

Completeness (one rule, characterization.parsers.cycles.cycle_table, used by every analysis):
a cycle is complete when both of its half cycles are present (capacity > 0) and its second
half cycle ended like its predecessors: it was not the file's last record (the instrument went
on to a rest or another step), or it reached the cut-off voltage that the earlier half cycles
of its direction reached (within END_VOLTAGE_TOLERANCE_V), or, with no earlier one, the limit
of the measurement's declared voltage window. A final half cycle that has neither an earlier
one nor a declared window to compare with is accepted but marked `end_unverified`. Fade, CE
statistics, retention, first-cycle metrics and comparisons use complete cycles only.
"""

COLUMNS: tuple[str, ...] = (  # the cycling table
    "time_s",
    "cycle",
    "half_cycle",
    "instrument_cycle",
    "step",
    "step_type",
    "direction",
    "current_ma",
    "voltage_v",
    "charge_capacity_mah",
    "discharge_capacity_mah",
    "charge_energy_mwh",
    "discharge_energy_mwh",
)

STEP_TYPES: tuple[str, ...] = ("charge", "discharge", "rest", "other")
DIRECTIONS: tuple[str, ...] = ("charge", "discharge", "rest")
ELECTRODES: tuple[str, ...] = ("cathode", "anode")
END_VOLTAGE_TOLERANCE_V = 0.05

# --- impedance ----------------------------------------------------------------------------------

IMPEDANCE_DOC = """Impedance (EIS: BioLogic PEIS/GEIS, Gamry): one row per frequency point.

Columns (units in the names), in record order:

    time_s      float  seconds since the start of the scan
    freq_hz     float  the frequency of the point
    z_real_ohm  float  Re(Z)
    z_imag_ohm  float  Im(Z), negative on a capacitive arc (the file's -Im(Z) re-signed)
    cycle       int    the impedance scan the point belongs to, from 1 (1 for a single scan)
"""
IMPEDANCE_COLUMNS: tuple[str, ...] = ("time_s", "freq_hz", "z_real_ohm", "z_imag_ohm", "cycle")

# --- placeholders: each is filled in with its reader (columns, then the doc) --------------------

POTENTIAL_STEPS_DOC = """Potential steps (PITT, chronoamperometry; parsers.potential_steps): one row
per record. time_s (s from the file's start), potential_v (the measured Ewe, V), current_a (A,
as recorded: > 0 is oxidation, the charge of a cathode), step (0-based index of the potential
step), set_potential_v (the step's set potential, NaN when the file does not record it)."""
POTENTIAL_STEPS_COLUMNS: tuple[str, ...] = ("time_s", "potential_v", "current_a", "step")
THERMAL_DOC = """Thermal (DSC, STA; parsers.thermal): one row per record. time_s, temperature_c
(the sample's, °C), heat_flow_mw (mW, Kiln's convention: exotherm POSITIVE, converted from the
file's declared convention); optional heat_flow_w_per_g (when the mass is known) and
mass_change_mg (a TG signal, relative to its first point)."""
THERMAL_COLUMNS: tuple[str, ...] = ("time_s", "temperature_c", "heat_flow_mw")
ION_CURRENT_DOC = """Ion current (DEMS, mass spectrometry; parsers.mass_spec): a long table, one
row per point of one channel (each channel has its own clock). time_s (s from the file's start;
the absolute start in the metadata), channel (its name in the file), mz (its m/z), signal and
unit ("A" for ion currents, "mbar" for partial pressures, converted from the file's units)."""
ION_CURRENT_COLUMNS: tuple[str, ...] = ("time_s", "channel", "mz", "signal", "unit")
DIFFRACTION_DOC = """Diffraction (XRD, in situ XRD; parsers.diffraction): one row per point.
two_theta_deg (strictly ascending within a scan), intensity (counts, cps or arbitrary: the
metadata's intensity_unit; attenuator factors applied), intensity_esd (NaN when unknown), scan
(0-based: an in situ series holds many patterns). Wavelengths (Kα1, Kα2, ratio) in metadata."""
DIFFRACTION_COLUMNS: tuple[str, ...] = ("two_theta_deg", "intensity", "intensity_esd", "scan")

SCHEMAS: dict[str, TableSchema] = {
    schema.kind: schema
    for schema in (
        TableSchema("cycling", COLUMNS, CYCLING_DOC),
        TableSchema("impedance", IMPEDANCE_COLUMNS, IMPEDANCE_DOC),
        TableSchema("potential_steps", POTENTIAL_STEPS_COLUMNS, POTENTIAL_STEPS_DOC, exact=False),
        TableSchema("thermal", THERMAL_COLUMNS, THERMAL_DOC, exact=False),
        TableSchema("ion_current", ION_CURRENT_COLUMNS, ION_CURRENT_DOC, exact=False),
        TableSchema("diffraction", DIFFRACTION_COLUMNS, DIFFRACTION_DOC, exact=False),
    )
}  # one per kind of TABLE_KINDS, in its order (tests/characterization/test_tables.py)


def schema_of(table_kind: str) -> TableSchema:
    """The schema of a table kind; ValueError naming the known kinds for any other."""
    try:
        return SCHEMAS[table_kind]
    except KeyError:
        known = ", ".join(TABLE_KINDS)
        raise ValueError(f"unknown table kind {table_kind!r}; known: {known}") from None
