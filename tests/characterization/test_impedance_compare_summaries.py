"""Comparing stored eis_fit summaries (no refit): the same rows and warnings as
compare_impedance, checked with hand-worked numbers."""

from __future__ import annotations

import math

import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.impedance_compare import (
    UNKNOWN_CIRCUIT,
    FitValues,
    compare_impedance_summaries,
)

CIRCUIT = "R0-p(R1,CPE1)-W1"


def fit(r_s=3.0, r_ct=50.0, circuit=CIRCUIT, reliable=True) -> dict:
    return {"r_s_ohm": r_s, "r_ct_ohm": r_ct, "circuit": circuit, "reliable": reliable}


def test_r_ct_from_50_to_120_ohm_is_plus_70_ohm_and_plus_140_percent() -> None:
    comparison = compare_impedance_summaries(
        [("before", fit(r_s=3.0, r_ct=50.0)), ("after", fit(r_s=3.6, r_ct=120.0))]
    )
    first, second = comparison.rows
    assert comparison.reference == "before"
    assert first["r_ct_change_ohm"] is None and first["r_ct_change_pct"] is None
    assert second["r_ct_change_ohm"] == pytest.approx(70.0)
    assert second["r_ct_change_pct"] == pytest.approx(140.0)  # 100 × 70 / 50
    # R_s 3.0 → 3.6 Ω: +0.6 Ω, +20 %
    assert second["r_s_change_ohm"] == pytest.approx(0.6)
    assert second["r_s_change_pct"] == pytest.approx(20.0)
    assert comparison.warnings == ()


def test_every_later_row_is_compared_with_the_first() -> None:
    rows = compare_impedance_summaries(
        [("a", fit(r_ct=80.0)), ("b", fit(r_ct=60.0)), ("c", fit(r_ct=100.0))]
    ).rows
    # 60 − 80 = −20 Ω, −25 %; 100 − 80 = +20 Ω, +25 % (not against b)
    assert [r["r_ct_change_ohm"] for r in rows] == [None, pytest.approx(-20.0), pytest.approx(20.0)]
    assert [r["r_ct_change_pct"] for r in rows] == [None, pytest.approx(-25.0), pytest.approx(25.0)]


def test_a_different_circuit_is_warned() -> None:
    comparison = compare_impedance_summaries(
        [("before", fit()), ("after", fit(circuit="R0-p(R1,C1)"))]
    )
    (only,) = comparison.warnings
    assert only["code"] == "circuits_differ" and only["severity"] == "flag"
    assert "R0-p(R1,C1), R0-p(R1,CPE1)-W1" in only["message"]


def test_an_unreliable_fit_is_flagged_by_its_label() -> None:
    comparison = compare_impedance_summaries([("before", fit()), ("after", fit(reliable=False))])
    assert [r["reliable"] for r in comparison.rows] == [True, False]
    (only,) = comparison.warnings
    assert only["code"] == "unreliable_fit" and only["severity"] == "flag"
    assert "after" in only["message"] and "before" not in only["message"]


def test_a_missing_value_leaves_its_change_empty_with_a_note() -> None:
    comparison = compare_impedance_summaries(
        [("before", fit(r_s=None)), ("after", fit(r_s=4.0, r_ct=None))]
    )
    second = comparison.rows[1]
    assert second["r_s_change_ohm"] is None  # the reference's R_s is missing
    assert second["r_ct_ohm"] is None and second["r_ct_change_ohm"] is None
    assert second["r_ct_change_pct"] is None
    (only,) = comparison.warnings
    assert only["code"] == "value_missing" and only["severity"] == "note"
    assert "before, after" in only["message"]


def test_a_reference_of_zero_gives_a_change_in_ohm_but_no_percentage() -> None:
    second = compare_impedance_summaries([("a", fit(r_ct=0.0)), ("b", fit(r_ct=5.0))]).rows[1]
    assert second["r_ct_change_ohm"] == pytest.approx(5.0)
    assert second["r_ct_change_pct"] is None


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ({}, FitValues(None, None, UNKNOWN_CIRCUIT, False)),
        (
            {"r_s_ohm": "3", "r_ct_ohm": math.nan, "circuit": "", "reliable": "yes"},
            FitValues(None, None, UNKNOWN_CIRCUIT, False),
        ),
        (
            {"r_s_ohm": 2, "r_ct_ohm": True, "circuit": CIRCUIT, "reliable": True},
            FitValues(2.0, None, CIRCUIT, True),
        ),
    ],
)
def test_a_summary_is_read_strictly(summary, expected) -> None:
    assert FitValues.of_summary(summary) == expected


@pytest.mark.parametrize(
    ("summaries", "field"),
    [
        ([], "results"),
        ({"a": {}}, "results"),
        ([("a", "not a summary")], "results[0]"),
        ([(" ", fit())], "results[0]"),
        ([("a", fit()), ("a", fit())], "results[1]"),
    ],
)
def test_a_bad_list_of_summaries_is_refused(summaries, field) -> None:
    with pytest.raises(AnalysisError) as caught:
        compare_impedance_summaries(summaries)
    assert caught.value.field == field
