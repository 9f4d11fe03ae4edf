"""The normalised cycling table every parser returns and every analysis reads.

One row per instrument record, in record order. Columns (units in the names):

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

from __future__ import annotations

COLUMNS: tuple[str, ...] = (
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
