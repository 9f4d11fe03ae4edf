"""Correction forms of cells, measurements and refinements: the recorded values to change, and
a reason. The measurement and refinement forms are their entry forms without what never
changes (the sample measured, the type, the files)."""

from __future__ import annotations

import json

from django import forms

from characterization.forms import KilnFormMixin, MeasurementForm, RefinementForm, _number
from characterization.models import CoinCell, Measurement, RefinementResult
from lims.correction_forms import reason_field


class CellCorrectionForm(KilnFormMixin, forms.Form):
    disc_mass_mg = _number("Disc mass (mg)", bound="disc_mass_mg", step="0.001")
    foil_disc_mass_mg = _number("Bare foil disc mass (mg)", bound="foil_disc_mass_mg", step="0.001")
    reason = reason_field()

    @staticmethod
    def initial_of(cell: CoinCell) -> dict:
        return {"disc_mass_mg": cell.disc_mass_mg, "foil_disc_mass_mg": cell.foil_disc_mass_mg}


class MeasurementCorrectionForm(MeasurementForm):
    subject = measurement_type = measured_at = files = None
    reason = reason_field()

    def __init__(self, *args, **kwargs):
        forms.Form.__init__(self, *args, **kwargs)  # the entry form's defaults do not apply

    @staticmethod
    def initial_of(measurement: Measurement) -> dict:
        conditions = dict(measurement.conditions or {})
        window = conditions.pop("voltage_window_v", None) or [None, None]
        rates = conditions.pop("c_rates", None) or []
        return {
            "instrument": measurement.instrument,
            "voltage_min_v": window[0],
            "voltage_max_v": window[1],
            "c_rates": ", ".join(f"{rate:g}" for rate in rates),
            "temperature_c": conditions.pop("temperature_c", None),
            "sample_mass_mg": conditions.pop("sample_mass_mg", None),
            "other_conditions": "\n".join(f"{k}: {_text(v)}" for k, v in conditions.items()),
            "notes": measurement.sample.notes,
        }


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class RefinementCorrectionForm(RefinementForm):
    reason = reason_field()

    @staticmethod
    def initial_of(result: RefinementResult) -> dict:
        return {
            "phase": result.phase,
            "origin": result.origin,
            "a_angstrom": result.a_text,
            "c_angstrom": result.c_text,
            "volume_angstrom3": result.volume_text,
            "z_oxygen": result.z_text,
            "rwp_percent": result.rwp_percent,
            "occupancies": "\n".join(f"{k}: {v:g}" for k, v in (result.occupancies or {}).items()),
        }
