"""The front-door readers of the five new table kinds (parsers.material_readers): every shared
file of a kind reads to its schema, and a file of another kind is refused with a sentence that
names the file and what Kiln reads instead, never another exception."""

from __future__ import annotations

import pytest

from characterization.parsers.errors import ParseError
from characterization.parsers.material_readers import READERS
from tests.testdata import testdata_path

FILES = {
    "impedance": [
        ("impedance", "relaxis_hybriddrt_lpscl.txt", "relaxis_txt"),
        ("impedance", "autolab_z60w_impedancepy.txt", "zview_z60w"),
        ("impedance", "chinstruments_impedancepy.txt", "chi_txt"),
        ("cyclers", "eis_impedancepy_biologic.mpt", "biologic_mpt"),
        ("cyclers", "biologic_yadg_peis.mpr", "biologic_mpr"),
    ],
    "potential_steps": [
        ("potential_steps", "biologic_ixdat_ca_3steps.mpt", "biologic_mpt"),
        ("cyclers", "biologic_yadg_ca_potential_step.mpr", "biologic_mpr"),
    ],
    "thermal": [
        ("thermal", "ta_universal_analysis_pkynetics.txt", "ta_universal_text"),
        ("thermal", "netzsch_sta_pyngb_probe_g.ngb-ds3", "netzsch_ngb"),
    ],
    "ion_current": [
        ("mass_spec", "zilien_v1_ixdat_full_set.tsv", "zilien_tsv"),
        ("mass_spec", "pfeiffer_quadera_datalab_tgams.asc", "pfeiffer_quadera_asc"),
    ],
    "diffraction": [
        ("diffraction", "rigaku_ras_pyscattdata_tio2.ras", "rigaku_ras"),
        ("diffraction", "bruker_brml_datalab_tiof.brml", "bruker_brml"),
        ("diffraction", "panalytical_xrdml15_datalab.xrdml", "panalytical_xrdml"),
        ("diffraction", "rigaku_rasx_fairmat_powder.rasx", "rigaku_rasx"),
    ],
}
COLUMNS = {
    "impedance": {"freq_hz", "z_real_ohm", "z_imag_ohm"},
    "potential_steps": {"time_s", "potential_v", "current_a", "step"},
    "thermal": {"time_s", "temperature_c", "heat_flow_mw"},
    "ion_current": {"time_s", "channel", "mz", "signal", "unit"},
    "diffraction": {"two_theta_deg", "intensity", "scan"},
}
CASES = [
    pytest.param(kind, *entry, marks=pytest.mark.testdata(entry[0]), id=entry[1])
    for kind, entries in FILES.items()
    for entry in entries
]


@pytest.mark.parametrize(("kind", "folder", "name", "fmt"), CASES)
def test_each_shared_file_reads_to_its_kinds_schema(kind, folder, name, fmt):
    path = testdata_path(folder) / name
    parsed = READERS[kind](path)
    assert parsed.format == fmt
    assert COLUMNS[kind] <= set(parsed.table.columns)
    assert len(parsed.table) > 10
    assert parsed.metadata["parser_version"]


@pytest.mark.parametrize("kind", sorted(READERS))
@pytest.mark.testdata("cyclers")
def test_a_cycler_file_is_refused_by_every_other_kind_with_a_sentence(kind):
    path = testdata_path("cyclers") / "maccor_beep_PreDiag_000229_truncated.034"
    with pytest.raises(ParseError) as caught:
        READERS[kind](path)
    assert str(caught.value).startswith(path.name)


@pytest.mark.parametrize("kind", sorted(READERS))
def test_an_empty_or_garbage_file_is_refused_by_every_kind(kind, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.dat"
    garbage.write_bytes(bytes(range(256)) * 40)
    for path in (empty, garbage):
        with pytest.raises(ParseError) as caught:
            READERS[kind](path)
        assert path.name in str(caught.value)


@pytest.mark.parametrize(("kind", "folder", "name", "fmt"), CASES)
def test_each_format_is_recognised_by_its_content_not_its_name(kind, folder, name, fmt, tmp_path):
    """Kiln stores raw files under their SHA-256, without the original extension."""
    stored = tmp_path / "9f2c4e01ab"
    stored.write_bytes((testdata_path(folder) / name).read_bytes())
    assert READERS[kind](stored).format == fmt
