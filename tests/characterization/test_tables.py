"""Typed tables: one documented schema per table kind, one front door that reads any kind, and
analyses that declare the table kind they read."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from characterization.analysis import registry
from characterization.analysis.kinds import BUILTIN_KINDS
from characterization.parsers import (
    ParsedFile,
    ParseError,
    read_cycler_file,
    read_eis_file,
    schema,
    tables,
)
from characterization.parsers.biologic import EIS_COLUMNS
from tests.characterization.parser_reference import cycler_data_dir

NW4 = "neware_fastnda_nw4-120-1-6-53.ndax"
EIS_MPT = "eis_impedancepy_biologic.mpt"


def test_every_table_kind_has_one_documented_schema_in_order():
    assert schema.TABLE_KINDS == (
        "cycling",
        "impedance",
        "potential_steps",
        "thermal",
        "ion_current",
        "diffraction",
    )
    assert tuple(schema.SCHEMAS) == schema.TABLE_KINDS
    assert all(s.kind == kind and s.doc.strip() for kind, s in schema.SCHEMAS.items())
    assert schema.schema_of("cycling").columns == schema.COLUMNS
    assert schema.schema_of("impedance").columns == EIS_COLUMNS
    assert "time_s" in schema.CYCLING_DOC and "z_imag_ohm" in schema.IMPEDANCE_DOC
    with pytest.raises(ValueError, match="unknown table kind 'nmr'"):
        schema.schema_of("nmr")


@pytest.mark.testdata("cyclers")
def test_read_table_reads_cycling_and_impedance_files_with_their_readers():
    cycling = tables.read_table(cycler_data_dir() / NW4, "cycling")
    assert cycling.table.equals(read_cycler_file(cycler_data_dir() / NW4).table)
    impedance = tables.read_table(cycler_data_dir() / EIS_MPT, "impedance")
    assert tuple(impedance.table.columns) == schema.IMPEDANCE_COLUMNS
    assert impedance.table.equals(read_eis_file(cycler_data_dir() / EIS_MPT).table)


@pytest.mark.parametrize("kind", ["potential_steps", "thermal", "ion_current", "diffraction"])
def test_a_kind_without_its_reader_yet_says_so(tmp_path, monkeypatch, kind):
    monkeypatch.delitem(tables.READERS, kind, raising=False)
    path = tmp_path / "scan.txt"
    path.write_text("x\n")
    title = kind.replace("_", " ")
    with pytest.raises(ParseError, match=f"^scan.txt: Kiln cannot read {title} files yet"):
        tables.read_table(path, kind)


def test_a_registered_reader_is_used_and_its_columns_checked(tmp_path, monkeypatch):
    thermal = dataclasses.replace(schema.SCHEMAS["thermal"], columns=("time_s", "heat_flow_mw"))
    monkeypatch.setitem(schema.SCHEMAS, "thermal", thermal)
    calls = []

    def read_dsc(path, fmt, **options):
        calls.append((path, fmt, options))
        table = pd.DataFrame({"time_s": [0.0, 1.0], "heat_flow_mw": [0.1, 0.2]})
        return ParsedFile("dsc", table, {"sample_mass_mg": 5.1})

    monkeypatch.setitem(tables.READERS, "thermal", None)
    tables.register_reader("thermal", read_dsc)
    parsed = tables.read_table(tmp_path / "run.txt", "thermal", limits="L")
    assert parsed.metadata == {"sample_mass_mg": 5.1}
    assert calls == [(tmp_path / "run.txt", "auto", {"limits": "L"})]
    tables.READERS["thermal"] = lambda path, fmt, **o: ParsedFile("dsc", pd.DataFrame({"t": [1]}))
    with pytest.raises(AssertionError, match="thermal reader returned columns"):
        tables.read_table(tmp_path / "run.txt", "thermal")
    with pytest.raises(ValueError, match="unknown table kind"):
        tables.register_reader("nmr", read_dsc)


def test_analyses_declare_the_table_kind_they_read():
    assert {kind.table_kind for kind in BUILTIN_KINDS} == set(schema.TABLE_KINDS)
    assert registry.AnalysisKind("k", 1, "K", (), lambda *a: None).table_kind == "cycling"
    odd = dataclasses.replace(BUILTIN_KINDS[0], key="odd", table_kind="nmr")
    with pytest.raises(ValueError, match="unknown table kind 'nmr'"):
        registry.register(odd)
    assert "odd" not in registry.kinds()


def test_the_context_carries_the_readers_metadata_and_defaults_to_none():
    assert dict(registry.AnalysisContext(active_mass_mg=None).file_metadata) == {}
    context = registry.AnalysisContext(active_mass_mg=None, file_metadata={"sample_mass_mg": 5})
    assert context.file_metadata["sample_mass_mg"] == 5
