"""The normalised cycling table every parser returns and every analysis reads.

One row per instrument record, sorted by time. Columns (units in the names):

    time_s                  float  seconds since the start of the test
    cycle                   int    cycle label: the instrument's count where it has one, else
                                   from 1 in charge -> discharge pairs; a leading partial
                                   discharge is cycle 0
    step                    int    running count of step changes (1, 2, ...; monotonic per file,
                                   as Neware's step_count; instruments that reuse step numbers
                                   are renumbered)
    step_type               str    one of STEP_TYPES ("charge" includes CV charge)
    current_ma              float  signed: > 0 charging, < 0 discharging
    voltage_v               float  cell voltage
    charge_capacity_mah     float  charge passed so far in this cycle's charge (resets each cycle,
                                   summed over CC and CV steps); 0 on rows of any other type
    discharge_capacity_mah  float  the same for discharge; 0 during charge rows
    charge_energy_mwh       float  as capacity; NaN when the file has no energy
    discharge_energy_mwh    float  as capacity; NaN when the file has no energy

Per-cycle capacity is therefore the maximum of the capacity column within the cycle.
"""

from __future__ import annotations

COLUMNS: tuple[str, ...] = (
    "time_s",
    "cycle",
    "step",
    "step_type",
    "current_ma",
    "voltage_v",
    "charge_capacity_mah",
    "discharge_capacity_mah",
    "charge_energy_mwh",
    "discharge_energy_mwh",
)

STEP_TYPES: tuple[str, ...] = ("charge", "discharge", "rest", "other")
