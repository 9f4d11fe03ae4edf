"""A cell's .eln export carries its measurements' raw files unchanged and its numbers."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.characterization.factories import CellFactory, MeasurementFactory, upload
from tests.lims.transfer_helpers import eln_archive

pytestmark = pytest.mark.django_db

CONTENT = b"time_s,voltage_v\n0,3.20\n1,3.31\n"


def test_the_eln_archive_of_a_cell_holds_its_raw_file_and_active_mass(client, chemist):
    cell = CellFactory()
    measurement = MeasurementFactory(subject=cell.sample, uploads=[upload("c1.csv", CONTENT)])
    client.force_login(chemist)

    archive = eln_archive(client, cell.sample.code)  # built on the worker (lims.transfers)
    root, code = cell.sample.code, measurement.sample.code
    assert archive.read(f"{root}/{code}/c1.csv") == CONTENT
    graph = json.loads(archive.read(f"{root}/ro-crate-metadata.json"))["@graph"]
    entities = {e["@id"]: e for e in graph}
    assert entities[f"./{code}/c1.csv"]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    refs = entities[f"./{root}/"]["variableMeasured"]  # flattened: PropertyValues by @id
    values = {entities[r["@id"]]["propertyID"]: entities[r["@id"]]["value"] for r in refs}
    assert values["active_mass_mg"] == f"{cell.active_mass_mg:.4f}"
