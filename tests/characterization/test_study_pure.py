"""The study table's rules without a database (characterization.analysis.study): group syntax,
membership, which result gives a sample's value, flags, and the hand-worked aggregation."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest

from characterization.analysis import study

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
IDS = itertools.count(1)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


class Cell:
    """A small builder of one Subject: measurements and the results on them."""

    def __init__(self, code: str):
        self.code, self.measurements, self.results = code, [], []

    def measure(self, mtype: str, days: float) -> int:
        mid = next(IDS)
        self.measurements.append(study.Measured(mid, f"MEAS-{mid}", mtype, at(days)))
        return mid

    def result(self, mid: int, kind: str, summary: dict, *, warnings=(), finished: float = 0):
        rid = next(IDS)
        self.results.append(
            study.Result(study.JOB, rid, kind, mid, f"MEAS-{mid}", at(finished), summary, warnings)
        )
        return rid

    def subject(self) -> study.Subject:
        return study.Subject(self.code, "cell", tuple(self.measurements), tuple(self.results))


def group(name: str, *cells: Cell) -> study.Group:
    return study.Group(name, "x", ("CAT-1",), tuple(c.subject() for c in cells), {"cell": 1})


def row(table: study.StudyTable, key: str) -> study.Row:
    return next(r for r in table.rows if r.metric.key == key)


FLAG = {"code": "capacity_above_theoretical", "message": "above theory", "severity": "flag"}
NOTE = {"code": "incomplete_cycle", "message": "last cycle cut", "severity": "note"}


# --- group syntax ------------------------------------------------------------------------------


def test_a_group_of_sample_codes_reads_with_commas_or_spaces_and_upper_cases_them():
    spec = study.parse_group("Pristine: cat-2026-0001, CAT-2026-0002  CAT-2026-0001")
    assert spec.name == "Pristine" and spec.codes == ("CAT-2026-0001", "CAT-2026-0002")
    assert spec.text == "Pristine:CAT-2026-0001,CAT-2026-0002"


def test_a_group_of_batch_terms_reads_equals_or_colon_and_numbers_with_a_decimal_comma():
    spec = study.parse_group("NSO 1%:coating=Na2SiO3; calcination_temperature_c = 750,0")
    assert spec.terms == (("coating", "Na2SiO3"), ("calcination_temperature_c", "750"))
    assert study.parse_group("LSO:recipe:5").terms == (("recipe", "5"),)
    assert study.parse_group("L:recipe=lso-coating@2").terms == (("recipe", "lso-coating@2"),)


@pytest.mark.parametrize(
    "text, words",
    [
        ("CAT-2026-0001", "write a group as Name:selector"),
        ("Pristine:", "write a group as Name:selector"),
        ("=HYPERLINK(x):CAT-1", "starts with a letter or a digit"),
        ("P:CAT 1;2", "is not a sample code"),
        ("P:colour=red", "unknown selector 'colour'"),
        ("P:coating_wt_percent=lots", "coating_wt_percent must be a number"),
        ("P:recipe=a b", "is not a valid recipe"),
        ("P:recipe=5;recipe=6", "recipe is given twice"),
        ("P:;", "is not a sample code"),
    ],
)
def test_a_group_that_cannot_be_read_says_why(text, words):
    with pytest.raises(study.StudyInputError) as caught:
        study.parse_group(text)
    assert words in caught.value.messages[0]


def test_all_problems_of_the_groups_are_said_at_once_and_names_are_unique():
    with pytest.raises(study.StudyInputError) as caught:
        study.parse_groups(["A:CAT-1", "a:CAT-2", "B:colour=red", ""])
    assert caught.value.messages == [
        "B: unknown selector 'colour'; one of recipe, coating, coating_wt_percent, "
        "calcination_temperature_c, batch, operator",
        "a: two groups have this name",
    ]
    too_many = [f"G{i}:CAT-{i}" for i in range(study.MAX_GROUPS + 1)]
    with pytest.raises(study.StudyInputError, match="at most 12 groups"):
        study.parse_groups(too_many)


# --- members -----------------------------------------------------------------------------------


def test_members_are_everything_below_the_roots_each_under_its_nearest_root():
    # powder 1 -> electrode 2 -> cells 3, 4; electrode 5 of powder 1 -> cell 6; 7 is elsewhere
    edges = [(1, 2), (2, 3), (2, 4), (1, 5), (5, 6), (7, 8)]
    assert study.members_by_group([[1]], edges) == [{1, 2, 3, 4, 5, 6}]
    # electrode 5 chosen as its own group takes its cell from the powder's group
    assert study.members_by_group([[1], [5]], edges) == [{1, 2, 3, 4}, {5, 6}]
    # a root under another group stays its own; a tie counts in both groups
    assert study.members_by_group([[2], [5], [1]], edges) == [{2, 3, 4}, {5, 6}, {1}]
    assert study.members_by_group([[2], [2, 5]], edges) == [{2, 3, 4}, {2, 3, 4, 5, 6}]


# --- which result --------------------------------------------------------------------------


def first(charge: float, discharge: float, efficiency: float) -> dict:
    return {
        "cycle": 1,
        "charge_capacity_mah_g": charge,
        "discharge_capacity_mah_g": discharge,
        "first_cycle_efficiency": efficiency,
    }


def test_the_first_cycle_comes_from_the_earliest_measurement_and_its_newest_result():
    cell = Cell("CELL-A")
    formation = cell.measure("cycling", 1)
    long = cell.measure("cycling", 3)
    cell.result(long, "first_cycle", first(200.0, 150.0, 0.75), finished=4)
    cell.result(formation, "first_cycle", first(300.0, 240.0, 0.8), finished=2)
    cell.result(formation, "first_cycle", first(310.0, 248.0, 0.8), finished=2.5)  # rerun
    table = study.study_table([group("G", cell)])
    assert row(table, "first_charge_mah_g").cells[0].mean == 310.0
    assert row(table, "first_cycle_efficiency_percent").cells[0].mean == pytest.approx(80.0)


def test_a_flagged_newest_result_leaves_the_sample_out_and_an_older_one_does_not_stand_in():
    cell = Cell("CELL-F")
    formation = cell.measure("cycling", 1)
    cell.result(formation, "first_cycle", first(300.0, 240.0, 0.8), finished=2)
    rid = cell.result(
        formation, "first_cycle", first(900.0, 240.0, 0.8), warnings=[FLAG], finished=3
    )
    good = Cell("CELL-G")
    m = good.measure("cycling", 1)
    good.result(m, "first_cycle", first(280.0, 230.0, 0.82), warnings=[NOTE], finished=2)
    table = study.study_table([group("G", cell, good)])
    cell_stat = row(table, "first_charge_mah_g").cells[0]
    assert (cell_stat.mean, cell_stat.n, cell_stat.sd) == (280.0, 1, None)
    (left,) = table.left_out
    assert (left.group, left.subject, left.result.id) == ("G", "CELL-F", rid)
    assert left.reasons == (study.Reason("capacity_above_theoretical", "above theory"),)
    assert left.metrics == (
        "First charge capacity",
        "First discharge capacity",
        "First-cycle efficiency",
    )


def test_flags_come_from_severity_from_the_code_when_missing_from_unreliable_fits_and_refinements():
    def result(kind, warnings, summary=None):
        return study.Result(study.JOB, 1, kind, 1, "M", None, summary or {}, warnings)

    assert study.flag_reasons(result("x", [NOTE])) == ()
    assert study.flag_reasons(result("x", [{"code": "fade_unavailable", "message": "m"}])) == ()
    assert study.flag_reasons(result("x", [{"code": "new_code", "message": "m"}])) == (
        study.Reason("new_code", "m"),
    )
    unreliable = {"reliable": False, "unreliable_reason": "residual 9 % above 5 %"}
    assert study.flag_reasons(result("eis_fit", [], unreliable)) == (
        study.Reason("fit_unreliable", "residual 9 % above 5 %"),
    )
    assert study.flag_reasons(result("refinement", ["TM slab thicker"])) == (
        study.Reason("refinement_check", "TM slab thicker"),
    )


def test_retention_and_fade_come_from_the_widest_fade_window_and_its_measurements_summary():
    cell = Cell("CELL-L")
    short, long = cell.measure("cycling", 1), cell.measure("cycling", 2)
    fade = {"first_cycle": 2, "last_cycle": 4, "fade_mv_per_cycle": 0.5}
    cell.result(long, "voltage_fade", {**fade, "fitted_fade_mv_per_cycle": 0.45})
    cell.result(short, "voltage_fade", {"first_cycle": 1, "last_cycle": 2, "fade_mv_per_cycle": 9})
    cycles = [
        {"cycle": 1, "complete": True, "discharge_capacity_mah_g": 250.0},
        {"cycle": 2, "complete": True, "discharge_capacity_mah_g": 200.0},
        {"cycle": 4, "complete": True, "discharge_capacity_mah_g": 170.0},
    ]
    cell.result(long, "cycling_summary", {"cycles": cycles})
    table = study.study_table([group("G", cell)])
    assert row(table, "retention_percent").cells[0].mean == pytest.approx(85.0)  # 170 / 200
    assert row(table, "fade_mv_per_cycle").cells[0].mean == 0.5
    assert row(table, "fitted_fade_mv_per_cycle").cells[0].mean == 0.45


def test_r_ct_before_is_the_earliest_eis_before_cycling_and_after_the_latest_after_it():
    cell = Cell("CELL-E")
    ids = [cell.measure("eis", d) for d in (0, 0.5)]
    cell.measure("cycling", 1)
    ids += [cell.measure("eis", d) for d in (2, 3)]
    for mid, r_ct in zip(ids, (100.0, 110.0, 150.0, 180.0), strict=True):
        cell.result(mid, "eis_fit", {"r_ct_ohm": r_ct, "reliable": True})
    table = study.study_table([group("G", cell)])
    assert row(table, "r_ct_before_ohm").cells[0].mean == 100.0
    assert row(table, "r_ct_after_ohm").cells[0].mean == 180.0
    lonely = Cell("CELL-N")  # no cycling measurement: neither before nor after
    lonely.result(lonely.measure("eis", 0), "eis_fit", {"r_ct_ohm": 90.0, "reliable": True})
    assert row(study.study_table([group("G", lonely)]), "r_ct_before_ohm").cells[0].n == 0


# --- the hand-worked aggregation ---------------------------------------------------------------


def test_mean_sample_sd_and_n_over_the_groups_samples():
    cells = []
    for i, discharge in enumerate((250.0, 252.0, 248.0)):
        cell = Cell(f"CELL-{i}")
        cell.result(cell.measure("cycling", 1), "first_cycle", first(300.0, discharge, 0.8))
        cells.append(cell)
    stat = row(study.study_table([group("G", *cells)]), "first_discharge_mah_g").cells[0]
    # mean 250; sd = sqrt((0 + 4 + 4) / (3 - 1)) = 2
    assert (stat.mean, stat.sd, stat.n) == (250.0, pytest.approx(2.0), 3)
    assert study.cell_text(stat, 1) == "250.0 ± 2.0 (3)"
    assert study.cell_text(study.summarise([]), 1) == "–"


def test_d_li_is_log10_of_each_samples_median_and_the_range_of_all_steps_per_direction():
    def pitt(*steps):
        return {"steps": [{"direction": d, "d_cm2_per_s": v} for d, v in steps]}

    a, b = Cell("CELL-A"), Cell("CELL-B")
    a.result(
        a.measure("pitt", 1),
        "pitt_diffusion",
        pitt(("charge", 1e-11), ("charge", 4e-11), ("charge", 2e-11), ("discharge", 5e-12)),
    )
    b.result(b.measure("pitt", 1), "pitt_diffusion", pitt(("charge", 1e-12), ("charge", None)))
    table = study.study_table([group("G", a, b)])
    charge = row(table, "d_li_charge").cells[0]
    # medians 2e-11 and 1e-12: log10 -10.69897 and -12; mean -11.349485; sd 1.30103/√2 = 0.919967
    assert charge.mean == pytest.approx(-11.349485, abs=1e-6)
    assert charge.sd == pytest.approx(0.919967, abs=1e-6)
    assert (charge.low, charge.high, charge.n) == (1e-12, 4e-11, 2)
    assert study.cell_text(charge, 2) == "-11.35 ± 0.92 (2)"
    assert study.range_text(charge) == "1.00e-12 – 4.00e-11"
    discharge = row(table, "d_li_discharge").cells[0]
    assert (discharge.mean, discharge.n) == (pytest.approx(math.log10(5e-12)), 1)


def test_rate_rows_are_the_snapped_rates_found_and_a_rate_met_twice_is_its_first_step():
    cell = Cell("CELL-R")
    steps = [
        {"step": 1, "rate_c": 0.1, "mean_discharge_capacity_mah_g": 240.0},
        {"step": 2, "rate_c": 1.0, "mean_discharge_capacity_mah_g": 180.0},
        {"step": 3, "rate_c": 0.37, "rate_snapped": False, "mean_discharge_capacity_mah_g": 1.0},
        {"step": 4, "rate_c": 0.1, "mean_discharge_capacity_mah_g": 230.0},
    ]
    recovery = {"rate_c": 0.1, "reference_step": 1, "return_step": 4, "fraction": 0.95}
    cell.result(
        cell.measure("rate_test", 1), "rate_capability", {"steps": steps, "recovery": recovery}
    )
    table = study.study_table([group("G", cell)])
    keys = [r.metric.key for r in table.rows if r.metric.section == study.RATE]
    assert keys == ["rate_0.1c_mah_g", "rate_1c_mah_g", "rate_recovery_percent"]
    assert row(table, "rate_0.1c_mah_g").cells[0].mean == 240.0
    assert row(table, "rate_recovery_percent").cells[0].mean == pytest.approx(95.0)


def test_the_main_exotherm_is_the_exo_peak_with_the_most_heat():
    cell = Cell("ELE-1")
    peaks = [
        {"kind": "endo", "peak_temperature_c": 100.0, "enthalpy_j_per_g": 800.0},
        {"kind": "exo", "peak_temperature_c": 250.0, "enthalpy_j_per_g": 200.0},
        {"kind": "exo", "peak_temperature_c": 280.0, "enthalpy_j_per_g": 500.0},
    ]
    cell.result(cell.measure("dsc", 1), "dsc_peaks", {"peaks": peaks})
    table = study.study_table([group("G", cell)])
    assert row(table, "dsc_peak_temperature_c").cells[0].mean == 280.0
    assert row(table, "dsc_enthalpy_j_per_g").cells[0].mean == 500.0


def test_a_summary_without_the_number_gives_no_value_rather_than_a_wrong_one():
    cell = Cell("CELL-X")
    m = cell.measure("dems", 1)
    cell.result(m, "gas_evolution", {"gases": {"O2": {"micromol_per_mg": "n/a"}}})
    table = study.study_table([group("G", cell)])
    assert row(table, "o2_micromol_per_mg").cells[0].n == 0
    assert row(table, "co2_micromol_per_mg").cells[0].n == 0
