"""Factories for characterization records; they go through the services, as the pages do."""

from __future__ import annotations

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from characterization import services
from characterization.models import CoinCell, Electrode, Measurement, MeasurementType
from lims.models import Sample, SampleKind
from lims.services import sample_register


class PowderFactory(factory.Factory):
    """A cathode powder sample (what a synthesis batch registers)."""

    class Meta:
        model = Sample

    kind = SampleKind.CATHODE
    name = factory.Sequence(lambda n: f"NSO powder {n}")
    formula = "Li1.2Mn0.6Ni0.2O2"
    owner = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return sample_register(**kwargs)


class ElectrodeFactory(factory.Factory):
    """An 80:10:10 electrode sheet, 12 mm discs, bare foil disc 4.00 mg."""

    class Meta:
        model = Electrode

    active_material = factory.SubFactory(PowderFactory)
    made_by = None
    active_mass_g = 0.400
    solid_content_percent = 40.0
    casting_thickness_um = 200.0
    ratio = (80.0, 10.0, 10.0)
    disc_diameter_mm = 12.0
    foil_disc_mass_mg = 4.00

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.electrode_build(**kwargs)


class CellFactory(factory.Factory):
    """One coin cell from a 12.00 mg disc of an ElectrodeFactory sheet."""

    class Meta:
        model = CoinCell

    electrode = factory.SubFactory(ElectrodeFactory)
    disc_mass_mg = 12.00
    built_by = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.cell_build(**kwargs)


class MeasurementFactory(factory.Factory):
    class Meta:
        model = Measurement

    subject = factory.LazyFunction(lambda: CellFactory().sample)
    measurement_type = MeasurementType.CYCLING
    operator = None
    instrument = "Neware CT-4008"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.measurement_record(**kwargs).measurement


def upload(name: str = "cycle.csv", content: bytes = b"time,voltage\n0,3.2\n1,3.3\n"):
    return SimpleUploadedFile(name, content, content_type="text/csv")
