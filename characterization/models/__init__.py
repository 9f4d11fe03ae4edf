"""Characterization models: electrodes and coin cells, measurements and their raw files,
column mappings of instruments' generic tables (analysis jobs: characterization.jobs)."""

from characterization.models.cells import (
    CastingMethod,
    CellFormat,
    CoinCell,
    Electrode,
    ElectrodeRole,
    default_drying_steps,
)
from characterization.models.mappings import InstrumentMapping
from characterization.models.measurements import (
    Measurement,
    MeasurementFile,
    MeasurementType,
    OriginSetting,
    RawFile,
    ReadState,
    RefinementResult,
)

__all__ = [
    "CastingMethod",
    "CellFormat",
    "ElectrodeRole",
    "CoinCell",
    "Electrode",
    "InstrumentMapping",
    "Measurement",
    "MeasurementFile",
    "MeasurementType",
    "OriginSetting",
    "RawFile",
    "ReadState",
    "RefinementResult",
    "default_drying_steps",
]
