"""The .eln export passes the ELN consortium's checks and carries what Kiln knows.

A realistic lineage (precursor lots -> LMNO batch -> NSO-coated batch -> electrode -> coin cell
-> cycling measurement of a real Neware file, analysed) is exported and checked three ways:
ro-crate-py reads it, roc-validator finds no REQUIRED issue of RO-Crate 1.1, and
lims.eln_checks finds every expectation of the consortium met. Then its content is read back.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from characterization import services as cells
from characterization.jobs import run, seed
from characterization.jobs.models import AnalysisJob, AnalysisResult, JobStatus
from lims import exports
from lims.eln_checks import eln_problems
from lims.rocrate import refs, unit_of
from lims.sample_queries import sample_lineage
from synthesis import demo, queries
from synthesis import services as synthesis
from synthesis.planning import PlanInputs
from tests.characterization.factories import CellFactory, ElectrodeFactory
from tests.characterization.parser_reference import cycler_data_dir
from tests.synthesis.factories import make_chemicals, make_lots, make_nso

NW4 = "neware_fastnda_nw4-120-1-6-53.ndax"
CONDITIONS = {"voltage_window_v": [2.0, 4.8], "c_rates": [0.05], "temperature_c": 25.0}


# --- the lineage, shared with test_eln_import ----------------------------------------------------


def _weigh(batch, chemist, factor: float = 1.004):
    """Record what was weighed (a little over the plan) and tick the final calcination."""
    synthesis.batch_record_actuals(
        user=chemist, batch=batch,
        actuals={r.pk: synthesis.Actual(mass_g=round(r.planned_mass_g * factor, 4))
                 for r in batch.reagents.all() if r.planned_mass_g},
    )  # fmt: skip
    calcine = batch.step_logs.filter(step__kind="calcine").order_by("-order").first()
    synthesis.batch_log_step(user=chemist, batch=batch, step_log=calcine, done=True,
                             equipment="muffle furnace", actual_temperature_c=748.0)  # fmt: skip


def build_lineage(chemist, manager) -> SimpleNamespace:
    """Lots -> LMNO (solid state, 10 g) -> NSO (1 wt% on 2 g) -> electrode -> cell -> cycling."""
    chem = make_chemicals(manager)
    make_lots(chem, chemist)
    pristine = synthesis.recipe_create(user=manager, data=demo.pristine_recipe(chem), family="lmno")
    lmno = synthesis.batch_create(
        user=chemist, recipe=pristine,
        inputs=PlanInputs(target_mass_g=10.0, lots=queries.default_lots(pristine)),
    )  # fmt: skip
    _weigh(lmno, chemist)
    lmno = synthesis.batch_complete(user=chemist, batch=lmno, yield_mass_g=9.42)
    nso = make_nso(chem, manager)
    coated = synthesis.batch_create(
        user=chemist, recipe=nso,
        inputs=PlanInputs(substrate=lmno.product, substrate_mass_g=2.0,
                          lots=queries.default_lots(nso)),
    )  # fmt: skip
    _weigh(coated, chemist)
    coated = synthesis.batch_complete(user=chemist, batch=coated, yield_mass_g=1.95)
    electrode = ElectrodeFactory(active_material=coated.product, made_by=chemist)
    cell = CellFactory(electrode=electrode, built_by=chemist)
    raw = (cycler_data_dir() / NW4).read_bytes()
    seed.analysis_definitions_seed()  # a transactional test's flush may have removed them
    measurement = cells.measurement_record(
        subject=cell.sample, measurement_type="cycling", operator=chemist,
        instrument="Neware CT-4008", conditions=CONDITIONS, notes="Formation at 0.05C.",
        uploads=[SimpleUploadedFile(NW4, raw)],
    ).measurement  # fmt: skip
    job = AnalysisJob.objects.filter(measurement=measurement, kind="cycling_summary").get()
    assert run.analysis_job_run(job_id=job.pk, worker="test@local") == "succeeded"
    AnalysisJob.objects.filter(measurement=measurement, status=JobStatus.QUEUED).delete()
    return SimpleNamespace(
        lmno=lmno, coated=coated, electrode=electrode, cell=cell, measurement=measurement,
        raw=raw, result=AnalysisResult.objects.get(jobs__pk=job.pk),
    )  # fmt: skip


def export(lineage: SimpleNamespace, user, path: Path) -> Path:
    exports.eln_write(path, sample_lineage(lineage.cell.sample), user.get_username())
    return path


def unpack(archive: Path, into: Path) -> Path:
    """The archive's root folder, extracted (what the consortium's tools validate)."""
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(into)
        (root,) = {Path(n).parts[0] for n in zf.namelist()}
    return into / root


def graph_of(archive: Path) -> dict[str, dict]:
    with zipfile.ZipFile(archive) as zf:
        name = next(n for n in zf.namelist() if n.endswith("/ro-crate-metadata.json"))
        return {node["@id"]: node for node in json.loads(zf.read(name))["@graph"]}


def values_of(graph: dict[str, dict], code: str) -> dict[str, dict]:
    """propertyID -> PropertyValue node of a sample's Dataset."""
    refs = graph[f"./{code}/"].get("variableMeasured", [])
    return {graph[r["@id"]]["propertyID"]: graph[r["@id"]] for r in refs}


@pytest.fixture
def lineage(db, chemist, manager):
    return build_lineage(chemist, manager)


@pytest.fixture
def archive(lineage, chemist, tmp_path) -> Path:
    return export(lineage, chemist, tmp_path / "export.eln")


# --- the three checks ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_the_export_meets_every_expectation_of_the_consortium(archive):
    assert eln_problems(archive) == []


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_ro_crate_py_reads_the_export(archive, lineage, tmp_path):
    from rocrate.rocrate import ROCrate

    crate = ROCrate(unpack(archive, tmp_path / "unpacked"))
    for sample in sample_lineage(lineage.cell.sample).samples.values():
        dataset = crate.dereference(f"./{sample.code}/")
        assert dataset.type == "Dataset" and dataset["identifier"] == sample.code
    measured = crate.dereference(f"./{lineage.measurement.sample.code}/{NW4}")
    assert measured.type == "File" and measured["sha256"] == hashlib.sha256(lineage.raw).hexdigest()
    assert crate.root_dataset["license"].id == "https://creativecommons.org/licenses/by/4.0/"


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_roc_validator_finds_no_required_issue(archive, tmp_path, monkeypatch):
    import rocrate_validator as validator  # a requirement: the check runs, never skips
    from rocrate_validator import models, services

    _offline_context(monkeypatch)
    settings = services.ValidationSettings(
        rocrate_uri=str(unpack(archive, tmp_path / "unpacked")),
        profile_identifier="ro-crate-1.1",
        requirement_severity=models.Severity.REQUIRED,
    )
    result = services.validate(settings)
    issues = [f"{i.check.identifier}: {i.message}" for i in result.get_issues()]
    assert issues == [], validator.__name__


def _offline_context(monkeypatch) -> None:
    """The validator fetches the RO-Crate JSON-LD context; offline (CI has no network) it gets
    the one ro-crate-py ships (RO-Crate 1.3: the 1.1 terms, same IRIs, and a few more)."""
    import rocrate
    from rocrate_validator.utils import document_loader, http

    context = (Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_bytes()

    def get(self, url, *args, **kwargs):
        response = requests.Response()
        response.url, response.status_code, response._content = url, 404, b""
        if url.startswith("https://w3id.org/ro/crate/"):
            response.status_code, response._content = 200, context
            response.headers["Content-Type"] = "application/ld+json"
        return response

    monkeypatch.setattr(http.HttpRequester, "get", get, raising=False)
    monkeypatch.setattr(document_loader, "_fetch_json_ld", lambda url: get(None, url).json())


# --- what it carries ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_a_batch_product_carries_recipe_plan_actuals_and_calcination(archive, lineage):
    graph = graph_of(archive)
    code = lineage.coated.product.code
    values = values_of(graph, code)
    assert values["recipe.name"]["value"] == "NSO: 1 wt% Na2SiO3@LMNO"
    assert values["recipe.version"]["value"] == 1
    teos = next(r for r in lineage.coated.reagents.all() if r.line.name == "TEOS")
    planned = values[f"reagents.{teos.order}.planned_mass_g"]
    assert planned["value"] == pytest.approx(teos.planned_mass_g)
    assert (planned["unitText"], planned["unitCode"]) == ("g", "GRM")
    actual = values[f"reagents.{teos.order}.actual_mass_g"]["value"]
    assert actual == pytest.approx(round(teos.planned_mass_g * 1.004, 4))
    assert values[f"reagents.{teos.order}.planned_volume_ml"]["unitText"] == "mL"
    calcination = values["batch.calcination.temperature_c"]
    assert (calcination["value"], calcination["unitCode"]) == (750.0, "CEL")
    assert values["batch.calcination.duration_h"]["unitText"] == "h"
    assert values["lineage.0.role"]["value"] == "substrate"
    assert graph[f"./{code}/"]["isBasedOn"][0] == {"@id": f"./{lineage.lmno.product.code}/"}
    plan = next(graph[r["@id"]] for r in graph[f"./{code}/"]["hasPart"])
    assert plan["name"].endswith("-plan.json") and plan["encodingFormat"] == "application/json"


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_the_cell_and_electrode_carry_masses_and_loading(archive, lineage):
    graph = graph_of(archive)
    cell = values_of(graph, lineage.cell.sample.code)
    assert cell["active_mass_mg"]["value"] == f"{lineage.cell.active_mass_mg:.4f}"
    assert cell["active_mass_mg"]["unitCode"] == "MGM"
    assert cell["areal_loading_mg_per_cm2"]["unitText"] == "mg/cm²"
    assert cell["cell.disc_mass_mg"]["value"] == pytest.approx(12.0)
    electrode = values_of(graph, lineage.electrode.sample.code)
    assert electrode["electrode.ratio.active_percent"]["value"] == 80.0
    assert electrode["electrode.ratio.active_percent"]["unitCode"] == "P1"


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_the_measurement_carries_conditions_raw_file_and_result_with_provenance(archive, lineage):
    graph = graph_of(archive)
    code = lineage.measurement.sample.code
    values = values_of(graph, code)
    assert values["measurement.type"]["value"] == "cycling"
    window = values["conditions.voltage_window_v.1"]
    assert (window["value"], window["unitText"]) == (4.8, "V")
    with zipfile.ZipFile(archive) as zf:
        root = lineage.cell.sample.code
        assert zf.read(f"{root}/{code}/{NW4}") == lineage.raw  # unchanged bytes
        result = lineage.result
        payload_name = f"analysis-cycling_summary-{result.cache_key[:12]}.json"
        payload = json.loads(zf.read(f"{root}/{code}/{payload_name}"))
    assert payload["summary"] == result.summary
    assert (payload["kind"], payload["kind_version"]) == ("cycling_summary", result.kind_version)
    assert payload["parameters"] == result.parameters
    assert values["analyses.0.kind"]["value"] == "cycling_summary"
    assert values["analyses.0.input_sha256"]["value"] == hashlib.sha256(lineage.raw).hexdigest()
    first = values["analyses.0.summary.cycles.first.discharge_capacity_mah_g"]
    assert first["value"] == pytest.approx(result.summary["cycles"][0]["discharge_capacity_mah_g"])
    assert first["unitText"] == "mAh/g"
    action = next(n for n in graph.values() if n["@type"] == "CreateAction"
                  and n.get("object") == {"@id": f"./{code}/{NW4}"})  # fmt: skip
    assert f"./{code}/{payload_name}" in refs(action["result"])
    software = graph[action["instrument"]["@id"]]
    assert software["softwareVersion"] == str(result.kind_version)


# --- the consortium's checks catch what they should -----------------------------------------------


def _crate(tmp_path: Path, graph: list[dict], files: dict[str, bytes] | None = None) -> Path:
    path = tmp_path / "hand.eln"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "hand/ro-crate-metadata.json", json.dumps({"@context": CONTEXT, "@graph": graph})
        )
        for name, content in (files or {}).items():
            zf.writestr(name, content)
    return path


CONTEXT = "https://w3id.org/ro/crate/1.1/context"


def test_a_hand_made_crate_lists_each_unmet_expectation(tmp_path):
    graph = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}},
        {"@id": "./", "@type": "Dataset", "name": "x", "hasPart": [{"@id": "./A/"}]},
        {"@id": "./A/", "@type": "Dataset", "name": "A", "hasPart": [{"@id": "./A/a.csv"}],
         "variableMeasured": [{"@type": "PropertyValue", "propertyID": "t", "value": 1}]},
        {"@id": "./A/a.csv", "@type": "File", "name": "a.csv", "encodingFormat": "text/csv",
         "contentSize": 3, "sha256": "0" * 64},
    ]  # fmt: skip
    problems = eln_problems(_crate(tmp_path, graph, {"hand/A/a.csv": b"abc", "stray.txt": b"x"}))
    expected = [
        "'stray.txt' is not inside the archive's root folder",
        "./A/: variableMeasured embeds an entity (not flattened)",
        "ro-crate-metadata.json needs a version (a string)",
        "ro-crate-metadata.json needs an sdPublisher: an Organization node with a name",
        'the root Dataset needs "description"',
        "the root Dataset needs datePublished (an ISO 8601 date)",
        "the root Dataset needs a license (a node with a name, or a URL)",
        "./A/: author must refer to a Person or Organization node",
        "./A/a.csv: contentSize must be a string of digits (bytes, no unit)",
        "./A/a.csv: its sha256 does not match its bytes",
    ]
    assert problems == expected


def test_a_dataset_without_its_folder_or_a_file_outside_is_named(tmp_path):
    graph = [
        {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "./B/"}]},
        {"@id": "./B/", "@type": "Dataset", "name": "B", "hasPart": [{"@id": "./C/"}]},
        {"@id": "./C/", "@type": "Dataset", "name": "C"},
    ]
    problems = eln_problems(_crate(tmp_path, graph))
    assert "./B/: its folder is missing from the archive" in problems
    assert "./B/: a Dataset must not hold another Dataset in hasPart" in problems
    assert "the metadata descriptor (ro-crate-metadata.json) is missing from @graph" in problems


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("reagents.3.actual_mass_g", "g"),
        ("summary.cycles.first.discharge_capacity_mah_g", "mAh/g"),
        ("conditions.voltage_window_v.1", "V"),
        ("batch.calcination.temperature_c", "°C"),
        ("discharge_rate_c", "C"),
        ("areal_loading_mg_per_cm2", "mg/cm²"),
        ("summary.r_s", ""),
        ("recipe.version", ""),
    ],
)
def test_a_value_takes_its_unit_from_the_end_of_its_name(name, unit):
    assert unit_of(name) == unit
