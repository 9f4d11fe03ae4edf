"""benchmarks/sample_import.py runs (on a fresh SQLite file) and prints its figures; it checks
itself that the dry run saved nothing and the real run every row. Not a timed test: the
figures are read by people (README of benchmarks/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_import_benchmark_runs_and_prints_its_figures(tmp_path):
    env = {**os.environ, "MEDIA_ROOT": str(tmp_path / "media")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "benchmarks/sample_import.py", "--rows", "300",
         "--sqlite", str(tmp_path / "bench.sqlite3")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "database: sqlite" in out and "300 rows (csv" in out, out
    for phase in ("read", "dry run", "real run"):
        assert f"  {phase} " in out, out
