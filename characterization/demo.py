"""Demo electrode, four coin cells, a cycling measurement and a Rietveld result (idempotent).

Called by ``manage.py load_demo`` after the synthesis demo: the electrode is cast from the
newest cathode powder there is (one is registered when there is none). A second run finds the
demo electrode by name and changes nothing.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from characterization import services
from characterization.models import Electrode, MeasurementType, OriginSetting
from characterization.services import DiscRow
from lims.models import Sample, SampleKind
from lims.services import sample_register

DEMO_ELECTRODE = "Demo electrode 80:10:10"
DEMO_DISC_MASSES_MG = (12.05, 11.87, 12.31, 11.95)
DEMO_CYCLER_FILE = "neware_fastnda_nw4-120-1-6-53.ndax"  # 160 cycles


def _cycler_file() -> Path | None:
    """A real Neware file from the shared test data, when this checkout has it: KILN_TESTDATA
    names the testdata folder (or, as it used to, its cyclers/ folder); default
    <repo>/../shared/testdata."""
    root = Path(
        os.environ.get("KILN_TESTDATA") or Path(settings.BASE_DIR).parent / "shared" / "testdata"
    )
    for folder in (root / "cyclers", root):
        if (folder / DEMO_CYCLER_FILE).is_file():
            return folder / DEMO_CYCLER_FILE
    return None


@transaction.atomic
def load(stdout=None) -> None:
    write = stdout.write if stdout else (lambda _msg: None)
    if Electrode.objects.filter(sample__name=DEMO_ELECTRODE).exists():
        write(f"  demo electrode and cells: exist [{DEMO_ELECTRODE}]")
        return
    chemist = get_user_model().objects.filter(username="chemist").first()
    powder = _powder(chemist)
    electrode = services.electrode_build(
        active_material=powder,
        made_by=chemist,
        name=DEMO_ELECTRODE,
        active_mass_g=0.400,
        solid_content_percent=40.0,
        casting_thickness_um=200.0,
        collector_thickness_um=16.0,
        disc_diameter_mm=12.0,
        foil_disc_mass_mg=4.10,
        made_on=timezone.localdate() - datetime.timedelta(days=3),
    )
    cells = services.cell_build_batch(
        electrode=electrode,
        discs=[DiscRow(mass) for mass in DEMO_DISC_MASSES_MG],
        built_by=chemist,
        glovebox_o2_ppm=0.3,
        glovebox_h2o_ppm=0.2,
        built_on=timezone.localdate() - datetime.timedelta(days=2),
    )
    _cycling(cells[0], chemist)
    _refinement(powder, chemist)
    codes = ", ".join(cell.sample.code for cell in cells)
    write(f"  demo electrode {electrode.sample.code} from {powder.code}; cells {codes}  [created]")


def _powder(chemist) -> Sample:
    powder = Sample.objects.filter(kind=SampleKind.CATHODE).order_by("-created_at", "-id").first()
    return powder or sample_register(
        kind=SampleKind.CATHODE,
        name="NSO: 1 wt% Na2SiO3@LMNO (demo)",
        formula="Li1.2Mn0.6Ni0.2O2",
        owner=chemist,
        notes="Registered by the characterization demo (no synthesis batch yet).",
    )


def _cycling(cell, chemist) -> None:
    path = _cycler_file()
    uploads = []
    if path is not None:
        uploads.append(SimpleUploadedFile(path.name, path.read_bytes()))
    services.measurement_record(
        subject=cell.sample,
        measurement_type=MeasurementType.CYCLING,
        operator=chemist,
        instrument="Neware CT-4008",
        conditions={"voltage_window_v": [2.0, 4.8], "c_rates": [0.05], "temperature_c": 25.0},
        notes="Formation at 0.05C.",
        uploads=uploads,
    )


def _refinement(powder: Sample, chemist) -> None:
    measurement = services.measurement_record(
        subject=powder,
        measurement_type=MeasurementType.RIETVELD,
        operator=chemist,
        instrument="GSAS-II, joint XRD + neutron",
        conditions={"radiation": "Cu Kα + neutron TOF"},
    ).measurement
    services.refinement_record(
        measurement=measurement,
        origin=OriginSetting.TRANSITION_METAL,
        a_angstrom=2.8571,
        c_angstrom=14.2527,
        z_oxygen=0.2582,
        volume_angstrom3=100.76,
        rwp_percent=6.8,
        occupancies={"Li 3b": 0.96, "Ni 3b": 0.04},
        entered_by=chemist,
    )
