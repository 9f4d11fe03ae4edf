"""Synthesis models: inventory (chemicals, lots), recipes, batches."""

from synthesis.models.batches import (
    DEFAULT_TOLERANCE_PERCENT,
    OPEN_STATUSES,
    TRANSITIONS,
    Batch,
    BatchReagent,
    BatchStatus,
    BatchStepLog,
    Series,
    SeriesParameter,
)
from synthesis.models.inventory import AmountUnit, Chemical, Lot
from synthesis.models.recipes import (
    CoatingBasis,
    LineRole,
    ReagentLine,
    Recipe,
    RecipeKind,
    RecipeStep,
)

__all__ = [
    "DEFAULT_TOLERANCE_PERCENT",
    "OPEN_STATUSES",
    "TRANSITIONS",
    "AmountUnit",
    "Batch",
    "BatchReagent",
    "BatchStatus",
    "BatchStepLog",
    "Chemical",
    "CoatingBasis",
    "LineRole",
    "Lot",
    "ReagentLine",
    "Recipe",
    "RecipeKind",
    "RecipeStep",
    "Series",
    "SeriesParameter",
]
