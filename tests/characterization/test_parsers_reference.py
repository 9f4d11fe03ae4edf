"""Every cycling fixture agrees with REFERENCE.md's per-cycle capacities within 0.5 %."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from characterization.parsers import (
    COLUMNS,
    STEP_TYPES,
    complete_cycles,
    cycle_capacities,
)
from characterization.parsers.cycles import paired
from characterization.parsers.neware_nda import _via_fastnda, _via_newarenda
from characterization.parsers.schema import DIRECTIONS

from .parser_reference import CYCLING, REL_TOL, CyclingReference, cycler_data_dir, parsed

pytestmark = pytest.mark.testdata("cyclers")

IDS = [ref.file for ref in CYCLING]


@pytest.mark.parametrize("ref", CYCLING, ids=IDS)
def test_per_cycle_capacities_match_the_reference_library(ref: CyclingReference) -> None:
    caps = cycle_capacities(parsed(ref.file).table, ref.electrode).set_index("cycle")
    for label, (charge_mah, discharge_mah) in ref.cycles.items():
        got = caps.loc[label]
        assert got["charge_capacity_mah"] == pytest.approx(charge_mah, rel=REL_TOL, abs=1e-12)
        assert got["discharge_capacity_mah"] == pytest.approx(discharge_mah, rel=REL_TOL, abs=1e-12)


@pytest.mark.parametrize("ref", CYCLING, ids=IDS)
def test_row_and_cycle_counts_match_the_reference(ref: CyclingReference) -> None:
    result = parsed(ref.file)
    assert result.format == ref.format
    assert len(result.table) == ref.rows
    labels = paired(result.table, ref.electrode)["cycle"].nunique()
    assert labels == ref.labels
    assert len(complete_cycles(result.table, ref.electrode)) == ref.complete


@pytest.mark.parametrize("ref", CYCLING, ids=IDS)
def test_table_follows_the_schema(ref: CyclingReference) -> None:
    table = parsed(ref.file).table
    assert tuple(table.columns) == COLUMNS
    ints = ("cycle", "half_cycle", "instrument_cycle", "step")
    assert all(table[c].dtype == np.int64 for c in ints)
    assert set(table["step_type"]) <= set(STEP_TYPES)
    assert set(table["direction"]) <= set(DIRECTIONS)
    floats = [c for c in COLUMNS if c not in (*ints, "step_type", "direction")]
    assert all(table[c].dtype == np.float64 for c in floats)
    assert table["time_s"].is_monotonic_increasing
    assert table["step"].is_monotonic_increasing


@pytest.mark.parametrize("ref", CYCLING, ids=IDS)
def test_capacity_sits_only_on_rows_of_its_own_direction(ref: CyclingReference) -> None:
    table = parsed(ref.file).table
    assert (table.loc[table["direction"] != "charge", "charge_capacity_mah"] == 0).all()
    assert (table.loc[table["direction"] != "discharge", "discharge_capacity_mah"] == 0).all()
    assert (table["charge_capacity_mah"] >= 0).all()
    assert (table["discharge_capacity_mah"] >= 0).all()


@pytest.mark.parametrize("ref", CYCLING, ids=IDS)
def test_current_sign_follows_the_direction(ref: CyclingReference) -> None:
    table = parsed(ref.file).table
    assert (table.loc[table["direction"] == "charge", "current_ma"] >= 0).all()
    assert (table.loc[table["direction"] == "discharge", "current_ma"] <= 0).all()


@pytest.mark.parametrize("ref", CYCLING, ids=IDS)
def test_the_instrument_cycle_index_is_kept_as_recorded(ref: CyclingReference) -> None:
    table = parsed(ref.file).table
    recorded = table["instrument_cycle"]
    if ref.format.startswith("biologic"):
        assert (recorded == -1).all()  # GCPL exports without "cycle number"
    else:
        assert (recorded >= 0).all() and recorded.is_monotonic_increasing


def test_cc_and_cv_charge_steps_are_summed_within_a_cycle() -> None:
    table = parsed("neware_fastnda_nw4-120-1-6-53.ndax").table
    first = table[table["cycle"] == 1]
    # The CV step continues from where the CC step ended rather than restarting at 0.
    cv_start = first[first["step"] == 2]["charge_capacity_mah"].iloc[0]
    assert cv_start == pytest.approx(0.055994, rel=1e-4)


NEWARE_BINARY = [r.file for r in CYCLING if r.format in ("neware_nda", "neware_ndax")]


@pytest.mark.parametrize("name", NEWARE_BINARY)
def test_fastnda_and_newarenda_agree(name: str) -> None:
    fast, _ = _via_fastnda(cycler_data_dir() / name)
    slow, _ = _via_newarenda(cycler_data_dir() / name)
    pd.testing.assert_frame_equal(
        cycle_capacities(fast), cycle_capacities(slow), rtol=1e-6, atol=1e-9
    )
    assert (fast["step_type"] == slow["step_type"]).all()
    np.testing.assert_allclose(fast["time_s"], slow["time_s"], atol=1e-3)


def test_energy_is_converted_to_mwh_where_the_file_has_it() -> None:
    caps = cycle_capacities(parsed("arbin_navani_example.res").table).set_index("cycle")
    # ~0.48 mAh at ~4 V: about 1.9 mWh; the file stores 0.00194 Wh.
    assert caps.loc[1, "charge_energy_mwh"] == pytest.approx(1.941, rel=1e-3)


def test_biologic_files_have_no_energy() -> None:
    table = parsed("biologic_yadg_gcpl_4p6V.mpr").table
    assert table["charge_energy_mwh"].isna().all()


def test_metadata_names_the_library_and_version() -> None:
    meta = parsed("neware_navani_test.ndax").metadata
    assert meta["source_library"] == "fastnda" and meta["source_version"]
    assert "charge first" in meta["cycle_rule"]
    assert parsed("arbin_navani_example.res").metadata["units_seen"]["capacity"] == "Ah"
