"""The README's "Using the API" example runs as written: a read token made as the profile page
makes it, `requests` against a live Kiln, one cell's per-cycle table into pandas (Parquet and
CSV), the same numbers as the stored result."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings

from characterization.jobs import seed
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import CellFactory
from tests.characterization.test_jobs import NW4, cycler_upload, record, run_all

ROOT = Path(__file__).resolve().parents[2]


def readme_snippet() -> str:
    """The ```python block of the README's "Using the API", without its first lines that set
    KILN, TOKEN and CELL (the test sets those)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Using the API", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert [line.split(" =")[0] for line in lines[:3]] == ["KILN", "TOKEN", "CELL"]
    return "\n".join(lines[3:])


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: None
    )


@pytest.mark.testdata("cyclers")
@pytest.mark.django_db(transaction=True)
def test_the_readme_example_loads_a_cells_per_cycle_table_into_pandas(live_server, chemist):
    seed.analysis_definitions_seed()
    cell = CellFactory().sample
    measurement = record(cell, cycler_upload(NW4), operator=chemist)
    assert run_all(measurement)["cycling_summary"] == "succeeded"
    _, key = api_token_create(user=chemist, name="notebook", scope=TokenScope.READ, expires_at=None)

    names = {"KILN": live_server.url, "TOKEN": key, "CELL": cell.code}
    exec(compile(readme_snippet(), "README.md", "exec"), names)  # noqa: S102 (our own text)

    job = measurement.analysis_jobs.get(kind="cycling_summary")
    artifact = job.result.artifact("cycle_summary")
    expected = pd.read_csv(Path(settings.MEDIA_ROOT) / artifact["path"])
    assert names["measurement"] == measurement.sample.code
    assert names["result"]["id"] == job.result_id
    pd.testing.assert_frame_equal(names["cycles"], expected)
    pd.testing.assert_frame_equal(names["same"], expected)
    assert names["cycles"]["discharge_capacity_mah_g"].notna().sum() >= 5
