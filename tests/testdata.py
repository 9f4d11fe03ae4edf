"""Where the shared instrument files live, and what a test does when they are not there.

KILN_TESTDATA names the testdata folder (the one holding cyclers/, impedance/,
potential_steps/, thermal/, mass_spec/, diffraction/); unset, it is <repo>/../shared/testdata,
as CI lays it out. For compatibility it may also name the cyclers/ folder itself. A fresh clone
has no such folder: tests that need it skip with one line saying so, or fail when
KILN_REQUIRE_TESTDATA=1 (set by CI, where the files must be there).

Importing this module needs only the standard library (the benchmarks use it too); pytest is
imported where a test is skipped or failed.
"""

from __future__ import annotations

import os
from pathlib import Path

KINDS = ("cyclers", "impedance", "potential_steps", "thermal", "mass_spec", "diffraction")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO.parent / "shared" / "testdata"


def testdata_root() -> Path:
    """KILN_TESTDATA (or the default); a path naming the cyclers/ folder gives its parent."""
    env = os.environ.get("KILN_TESTDATA", "").strip()
    if not env:
        return DEFAULT_ROOT
    folder = Path(env).expanduser().absolute()
    if folder.name == "cyclers" and not (folder / "cyclers").is_dir():
        return folder.parent  # KILN_TESTDATA used to name the cyclers folder
    return folder


def testdata_path(kind: str) -> Path:
    """The folder of one kind of instrument file, whether it exists or not."""
    if kind not in KINDS:
        raise ValueError(f"unknown testdata kind {kind!r}; one of {', '.join(KINDS)}")
    return testdata_root() / kind


def missing_message(kinds: tuple[str, ...] | list[str]) -> str | None:
    """None when every kind's folder is there, else the one line a skip or failure gives."""
    missing = [kind for kind in kinds if not testdata_path(kind).is_dir()]
    if not missing:
        return None
    subfolders = ", ".join(f"{kind}/" for kind in missing)
    return (
        f"needs the shared instrument files in {testdata_root()} ({subfolders}); "
        "set KILN_TESTDATA to the testdata folder"
    )


def require_testdata(*kinds: str) -> None:
    """Skip the running test when a kind's folder is missing; fail under KILN_REQUIRE_TESTDATA=1."""
    message = missing_message(kinds)
    if message is None:
        return
    import pytest

    if os.environ.get("KILN_REQUIRE_TESTDATA") == "1":
        pytest.fail(f"required test data missing: {message}", pytrace=False)
    pytest.skip(message)


def testdata_dir(kind: str) -> Path:
    """The folder of one kind, for use inside a test: skips (or fails) when it is missing."""
    require_testdata(kind)
    return testdata_path(kind)


# pytest collects any function named test* that a test module imports; these are helpers.
for _helper in (testdata_root, testdata_path, testdata_dir):
    _helper.__test__ = False  # type: ignore[attr-defined]
