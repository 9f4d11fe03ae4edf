"""Damaged files, non-cycling measurements and files without a complete cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from characterization.parsers import (
    NotCyclingFileError,
    ParseError,
    complete_cycles,
    read_cycler_file,
    read_eis_file,
)
from characterization.parsers.biologic import load_biologic

from .parser_reference import EIS, NON_CYCLING, REL_TOL, NonCyclingReference, cycler_data_dir

pytestmark = pytest.mark.testdata("cyclers")

TRUNCATABLE = [
    "neware_navani_test.ndax",
    "neware_fastnda_nw4-120-1-6-53.ndax",
    "biologic_navani_gcpl_5cycles.mpr",
    "biologic_yadg_peis.mpr",
    "arbin_navani_example.res",
]


def _truncated_copy(name: str, fraction: float, tmp_path: Path) -> Path:
    data = (cycler_data_dir() / name).read_bytes()
    copy = tmp_path / name
    copy.write_bytes(data[: int(len(data) * fraction)])
    return copy


@pytest.mark.parametrize("fraction", [0.5, 0.999])
@pytest.mark.parametrize("name", TRUNCATABLE)
def test_a_truncated_file_raises_parse_error_naming_it(
    name: str, fraction: float, tmp_path: Path
) -> None:
    with pytest.raises(ParseError, match=name.replace(".", r"\.")) as caught:
        read_cycler_file(_truncated_copy(name, fraction, tmp_path))
    assert "truncated" in str(caught.value) or "damaged" in str(caught.value)


def test_a_legacy_nda_cut_inside_its_header_raises_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot be read"):
        read_cycler_file(_truncated_copy("neware_navani_test.nda", 0.5, tmp_path))


def test_a_text_export_cut_mid_line_drops_only_the_cut_record(tmp_path: Path) -> None:
    name = "maccor_beep_PreDiag_000229_truncated.034"
    text = (cycler_data_dir() / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(text[: text.rindex(b"\t4.18020")])  # inside the last record
    assert len(read_cycler_file(cut).table) == 4060


def test_a_text_export_with_a_damaged_line_is_rejected(tmp_path: Path) -> None:
    lines = (cycler_data_dir() / "neware_btsda_export_uio.csv").read_text().splitlines()
    lines[100] = lines[100].replace(",", ";")
    damaged = tmp_path / "damaged.csv"
    damaged.write_text("\n".join(lines))
    with pytest.raises(ParseError, match="damaged.csv"):
        read_cycler_file(damaged)


@pytest.mark.parametrize("ref", NON_CYCLING, ids=[r.file for r in NON_CYCLING])
def test_eis_and_potential_step_files_are_not_cycling_files(ref: NonCyclingReference) -> None:
    with pytest.raises(NotCyclingFileError, match="not a cycling file") as caught:
        read_cycler_file(cycler_data_dir() / ref.file)
    assert caught.value.kind == ref.kind


@pytest.mark.parametrize("ref", NON_CYCLING, ids=[r.file for r in NON_CYCLING])
def test_non_cycling_files_hold_the_reference_number_of_points(ref: NonCyclingReference) -> None:
    data, meta = load_biologic(cycler_data_dir() / ref.file, ref.format)
    assert len(data) == ref.points
    assert meta["measurement"] == ref.kind


@pytest.mark.parametrize("name", sorted(EIS))
def test_eis_table_matches_the_reference_spectrum(name: str) -> None:
    expected = EIS[name]
    table = read_eis_file(cycler_data_dir() / name).table
    high, low = table.loc[table["freq_hz"].idxmax()], table.loc[table["freq_hz"].idxmin()]
    assert high["freq_hz"] == pytest.approx(expected["f_max"], rel=REL_TOL)
    assert low["freq_hz"] == pytest.approx(expected["f_min"], rel=REL_TOL)
    assert (high["z_real_ohm"], high["z_imag_ohm"]) == pytest.approx(expected["z_f_max"], rel=1e-3)
    assert (low["z_real_ohm"], low["z_imag_ohm"]) == pytest.approx(expected["z_f_min"], rel=1e-3)


def test_a_cycling_file_is_not_an_eis_file() -> None:
    with pytest.raises(ParseError, match="not an impedance"):
        read_eis_file(cycler_data_dir() / "biologic_yadg_gcpl_4p6V.mpr")


def test_the_rest_only_file_parses_but_has_no_complete_cycle() -> None:
    table = read_cycler_file(cycler_data_dir() / "neware_newarenda_unit27_rest_only.ndax").table
    assert len(table) == 301
    assert set(table["step_type"]) == {"rest"}
    assert table["charge_capacity_mah"].max() == 0
    assert table["discharge_capacity_mah"].max() == 0
    assert complete_cycles(table) == []


def test_the_mdbtools_tool_is_reported_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from characterization.parsers import MissingToolError, arbin_res

    monkeypatch.setattr(arbin_res.shutil, "which", lambda _name: None)
    with pytest.raises(MissingToolError, match="mdbtools"):
        read_cycler_file(cycler_data_dir() / "arbin_navani_example.res")
