"""Formats are recognised from content; unknown, empty and damaged files raise ParseError."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from characterization.parsers import ParseError, detect_format, read_cycler_file

from .parser_reference import ALL_FILES, cycler_data_dir


@pytest.mark.parametrize(("name", "fmt"), sorted(ALL_FILES.items()))
def test_every_fixture_is_recognised_from_its_content(name: str, fmt: str) -> None:
    assert detect_format(cycler_data_dir() / name) == fmt


@pytest.mark.parametrize(("name", "fmt"), sorted(ALL_FILES.items()))
def test_detection_ignores_the_file_name(name: str, fmt: str, tmp_path: Path) -> None:
    renamed = tmp_path / "upload.dat"
    shutil.copyfile(cycler_data_dir() / name, renamed)
    assert detect_format(renamed) == fmt


def test_a_renamed_neware_file_still_parses(tmp_path: Path) -> None:
    # fastnda chooses its decoder by extension; the parser links the file under the right one.
    renamed = tmp_path / "cell 12 (copy).bin"
    shutil.copyfile(cycler_data_dir() / "neware_navani_test.ndax", renamed)
    assert len(read_cycler_file(renamed).table) == 1464


def test_unknown_content_is_rejected_naming_the_file(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("sample,mass_mg\nA1,12.3\n")
    with pytest.raises(ParseError, match=r"notes\.txt: not a cycler file"):
        detect_format(odd)


def test_an_empty_file_is_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ndax"
    empty.write_bytes(b"")
    with pytest.raises(ParseError, match="empty"):
        read_cycler_file(empty)


def test_a_zip_without_neware_data_is_not_a_cycler_file(tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ParseError, match="no data.ndc"):
        detect_format(archive)


def test_an_explicit_unknown_format_name_is_rejected() -> None:
    with pytest.raises(ParseError, match="unknown format"):
        read_cycler_file(cycler_data_dir() / "neware_navani_test.ndax", fmt="gamry")


def test_maccor_is_recognised_by_name_and_channel_lines(tmp_path: Path) -> None:
    export = tmp_path / "cell.txt"
    export.write_text("Name: cell 7\nChannel: 3\nRec#\tCyc#\tStep\tAmp-hr\n1\t0\t1\t0\n")
    assert detect_format(export) == "maccor_txt"
