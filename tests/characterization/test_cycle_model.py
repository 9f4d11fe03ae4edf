"""One cycle model for every instrument: the same cycles and capacities whatever the file's
sign convention, cycle column, cycle labels or counters, and no complete cycle made up by a
cut. Properties run on the real shared fixtures (Hypothesis), observations as plain tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from characterization.analysis.rate import rate_capability
from characterization.parsers import ColumnMapping, read_cycler_file, read_mapped_file
from characterization.parsers.cycle_model import Counter, Records, normalise
from characterization.parsers.cycles import (
    complete_cycles,
    cycle_capacities,
    cycle_table,
    instrument_index_check,
)

from .parser_reference import cycler_data_dir, parsed
from .synthetic import rate_test_table

pytestmark = pytest.mark.testdata("cyclers")

FIXTURES = (
    "neware_fastnda_nw4-120-1-6-53.ndax",
    "biologic_navani_gcpl_5cycles.mpr",
    "biologic_yadg_gcpl_4p6V.mpr",
    "arbin_navani_example.res",
    "maccor_beep_PreDiag_000229_truncated.034",
    "neware_btsda_export_uio.csv",
)
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def records_from(
    table: pd.DataFrame,
    *,
    current: str = "as recorded",
    step_types: bool = True,
    cycle_labels: str = "kept",
    counter: str = "per half cycle",
    seed: int = 0,
) -> Records:
    """The records an instrument could have written for `table`, in another convention:
    current "as recorded" / "negated" / "magnitude"; step types kept or dropped; the cycle
    column "kept", "dropped", "shuffled" (labels permuted) or "constant" (never increments);
    the capacity counter restarting "per half cycle" or "never" (a running total)."""
    running = table["charge_capacity_mah"] + table["discharge_capacity_mah"]
    # an instrument's counter holds its value through a rest inside a half cycle
    running = running.groupby(table["half_cycle"]).cummax().to_numpy()
    half = table["half_cycle"].to_numpy()
    if counter == "never":
        total = np.zeros(len(running))
        starts = np.r_[True, half[1:] != half[:-1]]
        offsets = np.cumsum(np.where(starts, np.r_[0.0, running[:-1]], 0.0))
        total = running + offsets
        capacity = Counter(total, segments=None)
    else:
        capacity = Counter(running, segments=half)
    amps = table["current_ma"].to_numpy()
    amps = {"as recorded": amps, "negated": -amps, "magnitude": np.abs(amps)}[current]
    labels = table["instrument_cycle"].to_numpy()
    if cycle_labels == "shuffled":
        unique = np.unique(labels)
        mapping = dict(zip(unique, np.random.default_rng(seed).permutation(unique), strict=True))
        labels = np.array([mapping[v] for v in labels])
    elif cycle_labels == "constant":
        labels = np.ones(len(labels), dtype=np.int64)
    return Records(
        time_s=table["time_s"].to_numpy(),
        voltage_v=table["voltage_v"].to_numpy(),
        current_ma=amps,
        step=table["step"].to_numpy(),
        step_type=table["step_type"].to_numpy(dtype=object) if step_types else None,
        instrument_cycle=None if cycle_labels == "dropped" else labels,
        capacity=(capacity,),
    )


def per_step_counter(table: pd.DataFrame) -> pd.Series:
    """The table's capacity as a Neware/Maccor counter restarting at every step."""
    running = table["charge_capacity_mah"] + table["discharge_capacity_mah"]
    reached = running.groupby(table["half_cycle"]).cummax()
    first = table["step"] != table["step"].shift()
    same_half = table["half_cycle"] == table["half_cycle"].shift()
    base = reached.shift(fill_value=0.0).where(first & same_half, 0.0).where(first)
    return (running - base.ffill()).clip(lower=0.0)


def capacities(table: pd.DataFrame) -> pd.DataFrame:
    return cycle_capacities(table)[["cycle", "charge_capacity_mah", "discharge_capacity_mah"]]


@PROPERTY
@given(
    name=st.sampled_from(FIXTURES),
    current=st.sampled_from(["as recorded", "negated", "magnitude"]),
    step_types=st.booleans(),
    cycle_labels=st.sampled_from(["kept", "dropped", "shuffled", "constant"]),
    counter=st.sampled_from(["per half cycle", "never"]),
    seed=st.integers(0, 1000),
)
def test_conventions_of_the_file_do_not_change_the_per_cycle_capacities(
    name, current, step_types, cycle_labels, counter, seed
):
    original = parsed(name).table
    if current == "magnitude" and not step_types and "biologic" in name:
        step_types = True  # |I| without steps or types: covered by the voltage-turn test below
    variant = normalise(
        records_from(
            original,
            current=current,
            step_types=step_types,
            cycle_labels=cycle_labels,
            counter=counter,
            seed=seed,
        )
    )
    pd.testing.assert_frame_equal(capacities(variant), capacities(original), rtol=1e-9, atol=1e-9)
    assert (variant["direction"] == original["direction"]).all()


@PROPERTY
@given(name=st.sampled_from(FIXTURES), fraction=st.floats(0.02, 0.999))
def test_cutting_a_file_anywhere_never_makes_a_complete_cycle_the_whole_file_lacks(name, fraction):
    whole = parsed(name).table
    cut_at = max(2, int(len(whole) * fraction))
    cut = normalise(records_from(whole.iloc[:cut_at].reset_index(drop=True)))
    complete_whole = set(complete_cycles(whole))
    complete_cut = cycle_table(cut)
    complete_cut = complete_cut[complete_cut["complete"]]
    assert set(complete_cut["cycle"]) <= complete_whole
    # every complete cycle before the one the cut fell in has the whole file's numbers
    last = int(cut["cycle"].iloc[-1])
    before = complete_cut[complete_cut["cycle"] < last].set_index("cycle")
    reference = cycle_table(whole).set_index("cycle").loc[before.index]
    np.testing.assert_allclose(
        before["discharge_capacity_mah"], reference["discharge_capacity_mah"], rtol=1e-9
    )


def test_an_export_recording_only_current_magnitudes_and_no_steps_is_split_by_the_voltage():
    original = parsed("arbin_navani_example.res").table
    records = records_from(original, current="magnitude", step_types=False)
    records.step = None
    variant = normalise(records)
    got = capacities(variant).set_index("cycle")
    want = capacities(original).set_index("cycle")
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(
        got["discharge_capacity_mah"], want["discharge_capacity_mah"], rtol=0.02
    )
    assert "magnitude" in variant.attrs["kiln"]["direction"]["current"]


def test_a_reversed_sign_is_detected_and_reported_per_file():
    original = parsed("neware_fastnda_nw4-120-1-6-53.ndax").table
    variant = normalise(records_from(original, current="negated", step_types=False))
    direction = variant.attrs["kiln"]["direction"]
    assert direction["current"].startswith("signed with charge negative")
    assert direction["decided_by"] == "current sign"
    assert (variant.loc[variant["direction"] == "charge", "current_ma"] >= 0).all()


def test_step_types_win_over_a_disagreeing_current_and_the_voltage_settles_conflicts():
    original = parsed("neware_fastnda_nw4-120-1-6-53.ndax").table
    variant = normalise(records_from(original, current="negated"))
    sources = variant.attrs["kiln"]["direction"]["steps_by_source"]
    assert sources.get("step type", 0) > 300  # types decide; the file's sign is reversed
    assert (variant["direction"] == original["direction"]).all()


def test_an_instrument_index_that_never_increments_is_not_trusted_and_is_reported():
    # Before: an Arbin export whose cycle index never increments was one "cycle", CE 1.94.
    original = parsed("arbin_navani_example.res").table
    variant = normalise(records_from(original, cycle_labels="constant", counter="never"))
    caps = cycle_table(variant)
    assert caps["cycle"].tolist() == [1, 2, 3, 4]
    assert caps["complete"].all()
    ce = caps["discharge_capacity_mah"] / caps["charge_capacity_mah"]
    assert ce.between(0.97, 1.0).all()
    check = instrument_index_check(variant)
    assert not check.consistent and check.cycles == [1, 2, 3, 4]
    assert "instrument cycle 1 holds Kiln cycles 1, 2, 3, 4" in check.detail


def test_a_mapped_table_without_a_cycle_column_keeps_cc_and_cv_in_one_charge(tmp_path):
    # Before: every charge step opened a new cycle, splitting CC from CV (CE 25 in cycle 1).
    table = parsed("neware_fastnda_nw4-120-1-6-53.ndax").table
    frame = pd.DataFrame(
        {
            "t": table["time_s"],
            "U": table["voltage_v"],
            "I": table["current_ma"] / 1000.0,
            "Step": table["step"],
            "Q": per_step_counter(table) / 1000.0,
            "Cycle": table["instrument_cycle"],
        }
    )
    base = {
        "name": "export",
        "time_column": "t",
        "voltage_column": "U",
        "current_column": "I",
        "step_column": "Step",
        "capacity_column": "Q",
    }
    frame.to_csv(tmp_path / "with.csv", index=False)
    frame.drop(columns="Cycle").to_csv(tmp_path / "without.csv", index=False)
    with_cycles = read_mapped_file(
        tmp_path / "with.csv", ColumnMapping(**base, cycle_column="Cycle")
    )
    without = read_mapped_file(tmp_path / "without.csv", ColumnMapping(**base))
    pd.testing.assert_frame_equal(capacities(without.table), capacities(with_cycles.table))
    first = capacities(without.table).set_index("cycle").loc[1]
    assert first["charge_capacity_mah"] == pytest.approx(1.69654, rel=5e-3)  # CC + CV
    assert first["discharge_capacity_mah"] / first["charge_capacity_mah"] == pytest.approx(
        0.1908, abs=1e-3
    )


def test_a_leading_discharge_is_cycle_0_for_neware_as_for_biologic():
    neware = capacities(parsed("neware_navani_test.nda").table)
    biologic = capacities(parsed("biologic_navani_gcpl_5cycles.mpr").table)
    for caps in (neware, biologic):
        first = caps.iloc[0]
        assert first["cycle"] == 0
        assert first["charge_capacity_mah"] == 0 and first["discharge_capacity_mah"] > 0


def test_a_negated_current_does_not_turn_a_rate_test_into_one_step():
    # Before: the rate analysis took the current's sign: "one 0.1C step of 41 cycles".
    steps = [(0.1, 3, 250.0), (0.5, 3, 200.0), (2.0, 3, 150.0), (0.1, 2, 245.0)]
    table = rate_test_table(active_mass_mg=4.0, steps=steps)
    negated = normalise(records_from(table, current="negated", step_types=False))
    for variant in (table, negated):
        rate = rate_capability(variant, active_mass_mg=4.0)
        assert rate.steps["rate_c"].tolist() == [0.1, 0.5, 2.0, 0.1]
        assert rate.recovery is not None and rate.recovery.fraction == pytest.approx(0.98)


def test_the_rate_uses_the_cells_own_1c():
    # Before: 1C = 200 mA/g cells came out as 0.04/0.08/…/8C (the 250 mA/g default was used).
    steps = [(0.2, 2, 250.0), (1.0, 2, 200.0), (5.0, 2, 120.0)]
    table = rate_test_table(active_mass_mg=4.0, steps=steps, one_c_ma_per_g=200.0)
    rate = rate_capability(table, active_mass_mg=4.0, one_c_ma_per_g=200.0)
    assert rate.steps["rate_c"].tolist() == [0.2, 1.0, 5.0]


def test_the_table_owns_its_columns_even_from_read_only_reader_arrays():
    """normalise builds the table without copying its arrays (a million-row file): arrays a
    reader hands over read-only (fastnda's zero-copy polars buffers) are copied first, so the
    table can be edited and the reader's memory is never written."""
    time_s = np.arange(6, dtype=float)
    volts = np.array([3.0, 3.5, 4.0, 4.2, 3.8, 3.2])
    for array in (time_s, volts):
        array.flags.writeable = False
    current = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])
    table = normalise(
        Records(
            time_s=time_s,
            voltage_v=volts,
            current_ma=current,
            capacity=(Counter(np.array([0, 1, 2, 0, 1, 2.0]), kind="net"),),
        )  # fmt: skip
    )
    table.loc[0, ["time_s", "voltage_v"]] = [-1.0, 0.0]
    assert time_s[0] == 0.0 and volts[0] == 3.0
    assert list(table["direction"]) == ["charge"] * 3 + ["discharge"] * 3


def test_a_neware_table_read_through_fastnda_can_be_edited_in_place():
    table = read_cycler_file(cycler_data_dir() / "neware_fastnda_nw4-120-1-6-53.ndax").table
    table.loc[table.index[:3], "time_s"] = 0.0
    table["voltage_v"] *= 2.0
    assert (table["time_s"].iloc[:3] == 0.0).all() and table["voltage_v"].max() > 8.0
