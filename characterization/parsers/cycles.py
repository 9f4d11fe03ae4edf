"""Per-cycle capacities from a normalised table, and which cycles are complete.

A cycle's charge (discharge) capacity is the maximum of its charge_capacity_mah
(discharge_capacity_mah) column, in mAh; the parsers already summed CC and CV steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The last cycle of a file stopped or exported mid-test often ends with a sliver: a Maccor
# export cut one record into a discharge shows 0.004 mAh after a 4773 mAh charge. A final
# cycle counts as complete only when its smaller half is at least this share of the larger.
FINAL_CYCLE_MIN_RATIO = 0.01


def cycle_capacities(table: pd.DataFrame) -> pd.DataFrame:
    """One row per cycle label: cycle, charge_capacity_mah, discharge_capacity_mah (mAh),
    charge_energy_mwh, discharge_energy_mwh (mWh, NaN when the file has no energy)."""
    columns = [
        "charge_capacity_mah",
        "discharge_capacity_mah",
        "charge_energy_mwh",
        "discharge_energy_mwh",
    ]
    per_cycle = table.groupby("cycle", sort=True)[columns].max()
    return per_cycle.reset_index()


def complete_cycles(table: pd.DataFrame) -> list[int]:
    """Cycle labels with both charge and discharge capacity > 0, in order.

    The final cycle also needs min/max of its two capacities >= FINAL_CYCLE_MIN_RATIO. An empty
    list means the file holds no complete cycle (a rest-only or charge-only file); analyses
    should fail the job with that message rather than report nothing.
    """
    caps = cycle_capacities(table)
    complete = complete_mask(caps["charge_capacity_mah"], caps["discharge_capacity_mah"])
    return [int(c) for c in caps.loc[complete, "cycle"]]


def complete_mask(charge_mah: pd.Series, discharge_mah: pd.Series) -> np.ndarray:
    """Per cycle (in order): both capacities > 0, and for the final cycle
    min(charge, discharge) >= FINAL_CYCLE_MIN_RATIO * max(charge, discharge)."""
    charge, discharge = charge_mah.fillna(0.0).to_numpy(), discharge_mah.fillna(0.0).to_numpy()
    complete = (charge > 0) & (discharge > 0)
    if len(complete) and complete[-1]:
        low, high = sorted((charge[-1], discharge[-1]))
        complete[-1] = low >= FINAL_CYCLE_MIN_RATIO * high
    return complete
