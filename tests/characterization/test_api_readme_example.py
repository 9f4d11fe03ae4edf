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

# The README's snippet, word for word (only KILN, TOKEN and CELL are set by the test).
README_SNIPPET = """
import io

import pandas as pd
import requests

api = requests.Session()
api.headers["Authorization"] = f"Token {TOKEN}"

# the cell's newest cycling summary names its measurement
jobs = api.get(f"{KILN}/api/v1/jobs/", params={
    "cell": CELL, "kind": "cycling_summary", "status": "succeeded", "limit": 1,
}).json()["results"]
measurement = jobs[0]["measurement"]

# the latest result in use of that analysis lists its tables with their URLs
result = api.get(f"{KILN}/api/v1/measurements/{measurement}/results/cycling_summary").json()
table = next(t for t in result["tables"] if t["name"] == "cycle_summary")
cycles = pd.read_parquet(io.BytesIO(api.get(table["parquet"]).content))
same = pd.read_csv(io.BytesIO(api.get(table["csv"]).content))  # or as CSV
print(cycles[["cycle", "discharge_capacity_mah_g", "coulombic_efficiency"]])
"""


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
    exec(compile(README_SNIPPET, "README.md", "exec"), names)  # noqa: S102 (our own text)

    job = measurement.analysis_jobs.get(kind="cycling_summary")
    artifact = job.result.artifact("cycle_summary")
    expected = pd.read_csv(Path(settings.MEDIA_ROOT) / artifact["path"])
    assert names["measurement"] == measurement.sample.code
    assert names["result"]["id"] == job.result_id
    pd.testing.assert_frame_equal(names["cycles"], expected)
    pd.testing.assert_frame_equal(names["same"], expected)
    assert names["cycles"]["discharge_capacity_mah_g"].notna().sum() >= 5
