"""Analysis kinds for Kiln's own tests only - never registered in production.

Registered when the environment has KILN_TEST_ANALYSES=1 (characterization.jobs.apps reads it, so a
test can start a real worker that knows them) or when a test calls register_test_kinds().
``test_slow_steps`` sleeps in steps and reports progress after each, so a test can kill the
worker in the middle of a job; ``test_internal_error`` fails like a bug in analysis code.
"""

from __future__ import annotations

import time

import pandas as pd

from characterization.analysis import registry
from characterization.analysis.registry import (
    AnalysisContext,
    AnalysisKind,
    AnalysisOutput,
    Param,
)

ENV_FLAG = "KILN_TEST_ANALYSES"


def run_slow_steps(table: pd.DataFrame, params: dict, context: AnalysisContext) -> AnalysisOutput:
    steps = params["steps"]
    for step in range(1, steps + 1):
        time.sleep(params["step_s"])
        context.progress(100 * step / steps, f"test step {step} of {steps}")
    rows = table.groupby("cycle").size().rename("rows").reset_index()
    summary = {
        "rows": len(table),
        "steps": steps,
        "max_discharge_capacity_mah": float(table["discharge_capacity_mah"].max()),
    }
    return AnalysisOutput(summary=summary, tables={"rows_per_cycle": rows})


def run_internal_error(table, params, context) -> AnalysisOutput:
    raise KeyError("a bug in the analysis code")


TEST_KINDS = (
    AnalysisKind(
        "test_slow_steps",
        1,
        "Test: slow steps",
        (
            Param("steps", "Steps", "int", 10, 1, 10_000),
            Param("step_s", "Seconds per step", "float", 0.5, 0.0, 60.0),
        ),
        run_slow_steps,
        needs_active_mass=False,
        measurement_types=(),
    ),
    AnalysisKind(
        "test_internal_error",
        1,
        "Test: internal error",
        (),
        run_internal_error,
        needs_active_mass=False,
        measurement_types=(),
    ),
)


def register_test_kinds() -> None:
    for kind in TEST_KINDS:
        registry.register(kind)


def unregister_test_kinds() -> None:
    for kind in TEST_KINDS:
        registry._KINDS.pop(kind.key, None)  # the registry has no public removal: tests only
