"""Characterization models: electrodes and coin cells, measurements and their raw files,
column mappings of instruments' generic tables, the files cycler PCs' harvesters send
(analysis jobs: characterization.jobs)."""

from characterization.models.cells import (
    CastingMethod,
    CellFormat,
    CoinCell,
    Electrode,
    ElectrodeRole,
    default_drying_steps,
)
from characterization.models.harvest import (
    ChannelAssignment,
    HarvestedFile,
    HarvestVersion,
    Placement,
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
    "ChannelAssignment",
    "ElectrodeRole",
    "CoinCell",
    "Electrode",
    "HarvestedFile",
    "HarvestVersion",
    "InstrumentMapping",
    "Measurement",
    "MeasurementFile",
    "MeasurementType",
    "OriginSetting",
    "Placement",
    "RawFile",
    "ReadState",
    "RefinementResult",
    "default_drying_steps",
]
