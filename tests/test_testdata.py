"""Tests that need the shared instrument files find them through KILN_TESTDATA, and without them
skip with one line (fail under KILN_REQUIRE_TESTDATA=1), so a fresh clone passes `make test`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.characterization.parser_reference import cycler_data_dir
from tests.testdata import DEFAULT_ROOT, REPO, missing_message, testdata_dir, testdata_root

THIS = Path(__file__).relative_to(REPO).as_posix()
NEEDING = [  # the two ways a test asks for the files: the marker, and the helper in its body
    f"{THIS}::test_a_marked_test_runs_when_the_cyclers_folder_is_there",
    f"{THIS}::test_cycler_data_dir_gives_the_folder_holding_reference_md",
]


@pytest.mark.testdata("cyclers")
def test_a_marked_test_runs_when_the_cyclers_folder_is_there():
    assert (testdata_root() / "cyclers").is_dir()


def test_cycler_data_dir_gives_the_folder_holding_reference_md():
    assert (cycler_data_dir() / "REFERENCE.md").is_file()


def test_the_default_root_is_the_shared_testdata_folder_next_to_the_checkout(monkeypatch):
    monkeypatch.delenv("KILN_TESTDATA", raising=False)
    assert testdata_root() == DEFAULT_ROOT == REPO.parent / "shared" / "testdata"


def test_kiln_testdata_may_name_the_root_or_the_cyclers_folder_itself(monkeypatch, tmp_path):
    (tmp_path / "cyclers").mkdir()
    monkeypatch.setenv("KILN_TESTDATA", str(tmp_path))
    assert testdata_dir("cyclers") == tmp_path / "cyclers"
    monkeypatch.setenv("KILN_TESTDATA", str(tmp_path / "cyclers"))
    assert testdata_root() == tmp_path
    assert testdata_dir("cyclers") == tmp_path / "cyclers"


def test_the_message_is_one_line_naming_the_folder_and_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("KILN_TESTDATA", str(tmp_path))
    (tmp_path / "thermal").mkdir()
    assert missing_message(["thermal"]) is None
    assert missing_message(["cyclers", "thermal", "impedance"]) == (
        f"needs the shared instrument files in {tmp_path} (cyclers/, impedance/); "
        "set KILN_TESTDATA to the testdata folder"
    )


def test_an_unknown_kind_is_an_error_not_a_skip():
    with pytest.raises(ValueError, match="unknown testdata kind 'cycler'"):
        testdata_dir("cycler")


def _pytest(env_changes: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KILN_REQUIRE_TESTDATA"}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsfE", "-p", "no:cacheprovider", *NEEDING],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_the_files_the_tests_skip_with_one_line_and_fail_when_required(tmp_path):
    empty = tmp_path / "testdata"
    empty.mkdir()
    line = (
        f"needs the shared instrument files in {empty} (cyclers/); "
        "set KILN_TESTDATA to the testdata folder"
    )

    skipped = _pytest({"KILN_TESTDATA": str(empty)})
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "2 skipped" in skipped.stdout
    reported = [ln for ln in skipped.stdout.splitlines() if ln.startswith("SKIPPED")]
    assert len(reported) == 1 and reported[0].startswith("SKIPPED [2] ")  # both tests, one line
    assert reported[0].endswith(f": {line}")

    required = _pytest({"KILN_TESTDATA": str(empty), "KILN_REQUIRE_TESTDATA": "1"})
    assert required.returncode == 1, required.stdout + required.stderr
    assert "1 failed" in required.stdout and "1 error" in required.stdout  # body; marker: setup
    assert required.stdout.count(f"required test data missing: {line}") >= 2
