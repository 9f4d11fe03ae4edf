"""An .eln Kiln exported comes back identical: samples, lineage edges, raw files (same sha256,
same bytes) and analysis results, in one transaction; other archives and clashing codes are
refused with a sentence and nothing written."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from characterization import storage
from characterization.jobs.models import AnalysisJob, AnalysisResult
from characterization.models import CoinCell, Electrode, Measurement, RawFile
from lims.eln_import import ElnImportError, eln_import
from lims.models import Sample, SampleCodeCounter, SampleEdge, StockCorrection
from lims.sample_queries import sample_lineage
from lims.services import sample_register
from lims.stock_queries import with_stock
from lims.stock_services import stock_correct
from synthesis.models import Batch, Lot
from tests.lims.test_eln_validation import build_lineage, export

pytestmark = [pytest.mark.django_db, pytest.mark.testdata("cyclers")]


def snapshot(codes: set[str]) -> dict:
    """What must come back, by code and checksum (never by database id)."""
    samples = Sample.objects.filter(code__in=codes).select_related("owner", "project")
    edges = SampleEdge.objects.filter(child__code__in=codes).select_related("parent", "child")
    measurements = Measurement.objects.filter(sample__code__in=codes).select_related("subject")
    jobs = AnalysisJob.objects.filter(measurement__sample__code__in=codes).select_related(
        "result", "raw_file", "definition", "measurement__sample"
    )
    return {
        "samples": {
            s.code: (s.kind, s.name, s.formula, s.status, s.location, s.notes, s.created_at,
                     s.owner.username if s.owner else None, s.project_id)
            for s in samples
        },
        "edges": sorted(
            (e.parent.code, e.child.code, e.role, e.amount, e.amount_unit) for e in edges
        ),
        "measurements": {
            m.sample.code: (m.subject.code, m.measurement_type, m.instrument, m.conditions,
                            m.measured_at, sorted(_files(m)))
            for m in measurements
        },
        "results": sorted(
            (j.measurement.sample.code, j.definition.name, j.raw_file.sha256, _result(j.result))
            for j in jobs
        ),
        "stock": {
            s.code: (s.stock_initial_g, s.stock_drawn_g, s.stock_corrected_g, s.stock_left_g)
            for s in with_stock(samples) if s.stock_initial_g is not None
        },
        "corrections": sorted(
            (c.sample.code, c.delta_g, c.reason, c.by.username, c.at)
            for c in StockCorrection.objects.filter(sample__code__in=codes).select_related(
                "sample", "by")
        ),
    }  # fmt: skip


def _files(measurement) -> list[tuple]:
    return [
        (r.original_name, r.sha256, r.size_bytes, storage.raw_path(r.sha256).read_bytes())
        for r in measurement.raw_files.all()
    ]


def _result(result: AnalysisResult) -> str:
    fields = ("cache_key", "kind", "kind_version", "parser_version", "parameters",
              "input_checksums", "active_mass_mg", "summary", "figures", "warnings",
              "artifacts")  # fmt: skip
    tables = [(Path(settings.MEDIA_ROOT) / a["path"]).read_bytes().hex() for a in result.artifacts]
    values = {f: getattr(result, f) for f in fields}
    return json.dumps({**values, "created_at": result.created_at.isoformat(), "tables": tables})


def forget(codes: set[str]) -> None:
    """Delete every record of the exported samples, their stored files and results, as if
    the archive were taken to another Kiln."""
    jobs = AnalysisJob.objects.filter(measurement__sample__code__in=codes)
    results = list(jobs.values_list("result_id", flat=True))
    raws = list(
        RawFile.objects.filter(measurements__sample__code__in=codes).values_list("pk", flat=True)
    )
    jobs.delete()
    AnalysisResult.objects.filter(pk__in=results).delete()
    Measurement.objects.filter(sample__code__in=codes).delete()
    RawFile.objects.filter(pk__in=raws).delete()
    CoinCell.objects.filter(sample__code__in=codes).delete()
    Electrode.objects.filter(sample__code__in=codes).delete()
    Batch.objects.filter(product__code__in=codes).delete()
    Lot.objects.filter(sample__code__in=codes).delete()
    SampleEdge.objects.filter(child__code__in=codes).delete()
    StockCorrection.objects.filter(sample__code__in=codes).delete()
    Sample.objects.filter(code__in=codes).delete()
    SampleCodeCounter.objects.update(last=0)  # a Kiln that never numbered these
    for folder in ("raw", "results"):
        shutil.rmtree(Path(settings.MEDIA_ROOT) / folder, ignore_errors=True)


@pytest.fixture
def exported(chemist, manager, tmp_path):
    lineage = build_lineage(chemist, manager)
    stock_correct(sample=lineage.lmno.product, user=chemist, delta_g=-0.25,
                  reason="0.25 g taken for XRD")  # fmt: skip
    codes = {s.code for s in sample_lineage(lineage.cell.sample).samples.values()}
    path = export(lineage, chemist, tmp_path / "export.eln")
    return path, codes


def test_an_exported_lineage_comes_back_identical(exported, chemist):
    path, codes = exported
    before = snapshot(codes)
    assert len(before["samples"]) == len(codes) and before["measurements"] and before["results"]
    # 9.42 g made, what the coating weighed drawn, 0.25 g taken for XRD: the rest comes back
    ((powder, *_),) = before["corrections"]
    initial, drawn, corrected, left = before["stock"][powder]
    assert (initial, corrected) == (9.42, -0.25) and 1.9 < drawn < 2.1
    assert left == pytest.approx(9.42 - drawn - 0.25, abs=1e-9)
    forget(codes)
    assert not Sample.objects.filter(code__in=codes).exists()

    report = eln_import(path=path, user=chemist)

    assert sorted(report.samples) == sorted(codes)
    assert (report.raw_files, report.results, report.jobs) == (1, 1, 1)
    assert snapshot(codes) == before
    fresh = sample_register(kind="cathode", name="after the import")  # counters moved past them
    assert fresh.code not in codes


def test_an_archive_whose_codes_exist_is_refused_and_nothing_is_written(exported):
    path, codes = exported
    count = Sample.objects.count()
    with pytest.raises(ElnImportError, match=f"{len(codes)} of its {len(codes)} samples exist"):
        eln_import(path=path)
    assert Sample.objects.count() == count


def test_a_dry_run_reports_and_writes_nothing(exported, chemist):
    path, codes = exported
    forget(codes)
    report = eln_import(path=path, user=chemist, dry_run=True)
    assert report.dry_run and len(report.samples) == len(codes)
    assert report.lines()[0].startswith(f"would import {len(codes)} samples")
    assert not Sample.objects.filter(code__in=codes).exists()
    assert not AnalysisResult.objects.exists()


def test_the_command_imports_and_refuses_with_one_line(exported, chemist, capsys):
    path, codes = exported
    with pytest.raises(CommandError, match="exist here already"):
        call_command("eln_import", str(path))
    forget(codes)
    call_command("eln_import", str(path), "--user", chemist.username)
    assert f"imported {len(codes)} samples" in capsys.readouterr().out
    assert Sample.objects.filter(code__in=codes).count() == len(codes)


def test_an_archive_kiln_did_not_write_is_refused(tmp_path):
    path = tmp_path / "other.eln"
    graph = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}},
        {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "./CAT-2026-0001/"}]},
        {"@id": "./CAT-2026-0001/", "@type": "Dataset", "identifier": "CAT-2026-0001"},
    ]  # fmt: skip
    with zipfile.ZipFile(path, "w") as zf:
        metadata = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}
        zf.writestr("other/ro-crate-metadata.json", json.dumps(metadata))
    with pytest.raises(ElnImportError, match="was not exported by Kiln"):
        eln_import(path=path)
    assert not Sample.objects.filter(code="CAT-2026-0001").exists()


def test_a_file_whose_bytes_changed_is_refused(exported, tmp_path):
    path, codes = exported
    forget(codes)
    tampered = tmp_path / "tampered.eln"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[:-1] + b"!" if info.filename.endswith(".ndax") else data)
    with pytest.raises(ElnImportError, match="sha256 does not match"):
        eln_import(path=tampered)
    assert not Sample.objects.filter(code__in=codes).exists()
