"""Characterization models: electrodes and coin cells, measurements and their raw files,
analysis definitions, jobs and results, column mappings of instruments' generic tables."""

from characterization.models.cells import (
    CastingMethod,
    CellFormat,
    CoinCell,
    Electrode,
    ElectrodeRole,
    default_drying_steps,
)
from characterization.models.jobs import (
    ACTIVE_STATUSES,
    AnalysisDefinition,
    AnalysisJob,
    AnalysisResult,
    JobStatus,
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
    "ACTIVE_STATUSES",
    "AnalysisDefinition",
    "AnalysisJob",
    "AnalysisResult",
    "JobStatus",
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
